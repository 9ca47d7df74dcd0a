package demo

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/internal/olevent"
)

// Namespaces of the demo's ETL jobs: an Airflow deployment that copies
// production into the warehouse, and the dbt project that builds the marts.
const (
	airflowNS = "airflow://etl.acme.internal"
	dbtNS     = "dbt://analytics"
)

// history is how far back the demo's runs go: long enough for daily jobs
// to have the five updates that inferred freshness learns from.
const history = 10 * 24 * time.Hour

// job is one ETL job of the demo and how it runs.
type job struct {
	ns, name, typ, desc, sql string
	owners                   []string
	ins, outs                []string // dataset names; see datasetName
	cols                     []string // column lineage: "out <- table.col, =table.col" (= marks DIRECT/IDENTITY, + AGGREGATION, ? INDIRECT/FILTER)
	copyColumns              bool     // column lineage: every column of the output read as is from the input
	every                    time.Duration
	at                       time.Duration // start after the period boundary
	took                     time.Duration
	parent                   string // the job whose runs contain this job's runs
	failing                  int    // its most recent runs failed
	stopped                  int    // it was switched off: its most recent periods have no run
	failure                  string
	checks                   []quarry.Check // dbt tests on its output, in its latest run
}

func etlJobs() []job {
	copyJob := func(table string, took time.Duration) job {
		return job{ns: airflowNS, name: "shop_to_warehouse.copy_" + table, typ: "BATCH/AIRFLOW/TASK",
			desc: "Copies shop.public." + table + " into the warehouse's raw schema (full refresh).",
			sql:  "COPY analytics.raw." + table + " FROM 's3://acme-staging/shop/" + table + "/' IAM_ROLE default FORMAT PARQUET;",
			ins:  []string{"shop.public." + table}, outs: []string{"analytics.raw." + table}, copyColumns: true,
			every: 6 * time.Hour, at: 5 * time.Minute, took: took, parent: "shop_to_warehouse", owners: []string{"team:data-platform"}}
	}
	dbt := func(model string, ins []string, cols []string, took time.Duration) job {
		return job{ns: dbtNS, name: "analytics." + model, typ: "BATCH/DBT/MODEL",
			desc: "dbt model " + model + ".", ins: ins, outs: []string{"analytics." + model}, cols: cols,
			sql:   "-- models/" + strings.ReplaceAll(model, ".", "/") + ".sql\nselect ... from " + strings.Join(ins, ", "),
			every: 24 * time.Hour, at: 2*time.Hour + 10*time.Minute, took: took, parent: "dbt_run", owners: []string{"team:analytics-eng"}}
	}
	jobs := []job{
		{ns: airflowNS, name: "shop_to_warehouse", typ: "BATCH/AIRFLOW/DAG", desc: "Every 6 hours: copy the shop's production tables into analytics.raw.",
			every: 6 * time.Hour, at: 5 * time.Minute, took: 14 * time.Minute, owners: []string{"team:data-platform"}},
		copyJob("users", 2*time.Minute), copyJob("orders", 6*time.Minute), copyJob("order_items", 9*time.Minute),
		copyJob("payments", 4*time.Minute), copyJob("refunds", time.Minute), copyJob("products", time.Minute), copyJob("categories", 30*time.Second),
		{ns: airflowNS, name: "billing_to_warehouse", typ: "BATCH/AIRFLOW/DAG", desc: "Every 6 hours: copy the billing service's active subscriptions (MySQL) into analytics.raw.",
			every: 6 * time.Hour, at: 20 * time.Minute, took: 3 * time.Minute, owners: []string{"team:data-platform"}},
		{ns: airflowNS, name: "billing_to_warehouse.copy_active_subscriptions", typ: "BATCH/AIRFLOW/TASK",
			desc: "Copies the billing.active_subscriptions view of the MySQL billing database into analytics.raw.subscriptions (full refresh).",
			sql:  "SELECT subscription_id, user_id, plan_code, status, monthly_price, currency, current_period_end FROM billing.active_subscriptions",
			ins:  []string{"billing.active_subscriptions"}, outs: []string{"analytics.raw.subscriptions"}, copyColumns: true,
			every: 6 * time.Hour, at: 20 * time.Minute, took: 2 * time.Minute, parent: "billing_to_warehouse", owners: []string{"team:data-platform"}},
		{ns: dbtNS, name: "dbt_run", typ: "BATCH/DBT/JOB", desc: "Nightly `dbt run` of the analytics project.",
			every: 24 * time.Hour, at: 2*time.Hour + 10*time.Minute, took: 41 * time.Minute, owners: []string{"team:analytics-eng"}},
		dbt("marts.dim_customers", []string{"analytics.staging.stg_users", "analytics.staging.stg_orders"}, []string{
			"customer_key <- =analytics.staging.stg_users.user_id", "email <- =analytics.staging.stg_users.email",
			"first_order_date <- +analytics.staging.stg_orders.placed_at"}, 3*time.Minute),
		dbt("marts.dim_products", []string{"analytics.staging.stg_products"}, []string{
			"sku <- =analytics.staging.stg_products.sku", "product_name <- =analytics.staging.stg_products.product_name",
			"category_name <- =analytics.staging.stg_products.category_name"}, time.Minute),
		dbt("marts.fct_orders", []string{"analytics.staging.stg_orders", "analytics.staging.stg_payments", "analytics.marts.dim_customers", "analytics.marts.dim_date"}, []string{
			"order_key <- =analytics.staging.stg_orders.order_id", "order_number <- =analytics.staging.stg_orders.order_number",
			"customer_key <- =analytics.marts.dim_customers.customer_key", "order_date_key <- analytics.marts.dim_date.date_key, analytics.staging.stg_orders.placed_at",
			"status <- =analytics.staging.stg_orders.status", "is_cancelled <- =analytics.staging.stg_orders.is_cancelled",
			"gross_amount_eur <- analytics.staging.stg_orders.total_eur", "discount_amount_eur <- =analytics.staging.stg_orders.discount_total_eur",
			"refunded_amount_eur <- +analytics.staging.stg_payments.refunded_eur",
			"net_amount_eur <- analytics.staging.stg_orders.total_eur, +analytics.staging.stg_payments.refunded_eur",
			"placed_at <- =analytics.staging.stg_orders.placed_at"}, 8*time.Minute),
		dbt("marts.fct_order_items", []string{"analytics.staging.stg_order_items", "analytics.marts.fct_orders", "analytics.marts.dim_products"}, []string{
			"order_item_key <- =analytics.staging.stg_order_items.order_item_id", "order_key <- =analytics.marts.fct_orders.order_key",
			"quantity <- =analytics.staging.stg_order_items.quantity", "line_amount_eur <- =analytics.staging.stg_order_items.line_total_eur"}, 11*time.Minute),
		dbt("marts.fct_payments", []string{"analytics.staging.stg_payments", "analytics.marts.fct_orders"}, []string{
			"payment_key <- =analytics.staging.stg_payments.payment_id", "order_key <- =analytics.marts.fct_orders.order_key",
			"provider <- =analytics.staging.stg_payments.provider", "method <- =analytics.staging.stg_payments.method",
			"amount_eur <- =analytics.staging.stg_payments.amount_eur", "refunded_eur <- =analytics.staging.stg_payments.refunded_eur",
			"net_eur <- analytics.staging.stg_payments.amount_eur, analytics.staging.stg_payments.refunded_eur"}, 5*time.Minute),
		dbt("reporting.daily_revenue", []string{"analytics.marts.fct_orders", "analytics.marts.fct_payments"}, []string{
			"revenue_date <- analytics.marts.fct_orders.placed_at",
			"gross_revenue <- +analytics.marts.fct_orders.gross_amount_eur", "net_revenue <- +analytics.marts.fct_orders.net_amount_eur",
			"refunds <- +analytics.marts.fct_payments.refunded_eur", "orders_count <- +analytics.marts.fct_orders.order_key",
			"average_order_value <- +analytics.marts.fct_orders.gross_amount_eur, +analytics.marts.fct_orders.order_key",
			" <- ?analytics.marts.fct_orders.is_cancelled"}, 2*time.Minute),
		dbt("reporting.monthly_revenue_by_category", []string{"analytics.marts.fct_order_items", "analytics.marts.dim_products"}, nil, 4*time.Minute),
		dbt("reporting.cohort_retention", []string{"analytics.marts.fct_orders", "analytics.marts.dim_customers", "analytics.raw.subscriptions"}, nil, 6*time.Minute),
		dbt("reporting.customer_orders_summary", []string{"analytics.marts.fct_orders", "analytics.marts.dim_customers"}, nil, 3*time.Minute),
		dbt("reporting.weekly_active_users", []string{"analytics.staging.stg_users", "analytics.raw.users"}, nil, 2*time.Minute),
		{ns: airflowNS, name: "finance_export.revenue_csv", typ: "BATCH/AIRFLOW/TASK", desc: "Exports daily revenue for the finance team's spreadsheet.",
			ins: []string{"analytics.reporting.daily_revenue"}, outs: []string{"s3:finance/revenue_export.csv"},
			every: 24 * time.Hour, at: 6 * time.Hour, took: 40 * time.Second, owners: []string{"team:finance-analytics"}},
		{ns: "flink://streaming", name: "order_events_to_raw", typ: "STREAMING/FLINK/JOB", desc: "Streams order events into the warehouse every 15 minutes.",
			ins: []string{"kafka:shop.order_events"}, outs: []string{"analytics.raw.orders"}, every: 24 * time.Hour, at: 0, took: 23*time.Hour + 59*time.Minute,
			owners: []string{"team:data-platform"}},
	}
	for i := range jobs {
		switch jobs[i].name {
		case "analytics.reporting.weekly_active_users":
			// The table that is late: its last runs fail, so it has not been
			// refreshed for days.
			jobs[i].failing = 3
			jobs[i].failure = `relation "analytics.staging.stg_sessions" does not exist`
		case "finance_export.revenue_csv":
			// Late against the policy set on its output: its last two
			// daily runs could not write to the bucket.
			jobs[i].failing = 2
			jobs[i].failure = "s3://acme-exports/finance/revenue_export.csv: AccessDenied: the role airflow-finance may not s3:PutObject"
		case "analytics.reporting.customer_orders_summary":
			// Deprecated (see Load) and switched off since the marts
			// migration: late, and nobody is alerted.
			jobs[i].stopped = 5
		case "analytics.marts.fct_orders":
			jobs[i].checks = []quarry.Check{
				{Name: "not_null_fct_orders_order_key", Column: "order_key", Status: quarry.CheckPass},
				{Name: "unique_fct_orders_order_key", Column: "order_key", Status: quarry.CheckPass},
				{Name: "relationships_fct_orders_customer_key", Column: "customer_key", Status: quarry.CheckWarn,
					Observed: "2", Expected: "0", Severity: "warn", Message: "2 orders reference customers missing from dim_customers"},
			}
		case "analytics.marts.fct_payments":
			jobs[i].checks = []quarry.Check{
				{Name: "accepted_values_fct_payments_method", Column: "method", Status: quarry.CheckFail, Message: "3 rows with method 'crypto'"},
				{Name: "not_null_fct_payments_payment_key", Column: "payment_key", Status: quarry.CheckPass},
			}
		case "analytics.reporting.daily_revenue":
			jobs[i].checks = []quarry.Check{{Name: "not_null_daily_revenue_revenue_date", Column: "revenue_date", Status: quarry.CheckPass}}
		}
	}
	return jobs
}

// checksOf returns the check results of the run age runs before the
// latest: a check that is not passing now started to in the last two runs
// (a warning in the last one only), and passed before, so its history
// shows when it broke.
func (j *job) checksOf(age int) []quarry.Check {
	out := slices.Clone(j.checks)
	for i := range out {
		switch {
		case out[i].Status == quarry.CheckWarn && age >= 1, out[i].Status != quarry.CheckPass && age >= 2:
			out[i].Status, out[i].Message, out[i].Observed = quarry.CheckPass, "", ""
		}
	}
	return out
}

// runID is the ID of the job's run that started at start: a UUIDv5 of
// the job and that time, so that every load names a run the same way and a
// loader can tell the runs it has from the new ones.
func runID(ns, name string, start time.Time) string {
	return quarry.NewID("run", ns+"/"+name, start.UTC().Format(time.RFC3339))
}

// run is one run of a demo job that has ended, as its producer reports it.
type run struct {
	id     string
	events []json.RawMessage // its START and its COMPLETE or FAIL, OpenLineage 2-0-2 RunEvents
	// warnings are its dbt tests that failed with severity warn: the
	// dataQualityAssertions facet says only success or not, and a failed
	// assertion is a failed check, so these are reported as the
	// reportCheck mutation reports them.
	warnings []quarry.Check
}

// runs returns the runs of the demo's ETL jobs over the ten days before
// now: an Airflow DAG copying production every 6 hours and its tasks, a
// nightly dbt run and its models with column lineage and tests, an export,
// a streaming job, and a model whose last runs failed. Run times fall on
// fixed period boundaries and run IDs derive from them, so a loader that
// skips the runs it has (as Load does) adds only the runs that happened
// since. Which runs failed is relative to now: a loaded run must keep its
// story, which is why the loader skips rather than resends.
func runs(now time.Time) ([]run, error) {
	now = now.UTC()
	catalog := map[string]*quarry.Dataset{}
	ds := Datasets()
	for i := range ds {
		catalog[ds[i].Namespace+" "+ds[i].Name] = &ds[i]
	}
	all := etlJobs()
	byName := map[string]*job{}
	for i := range all {
		byName[all[i].name] = &all[i]
	}
	var out []run
	for i := range all {
		j := &all[i]
		var periods []time.Time
		for t := now.Add(-history).Truncate(j.every); !t.Add(j.at + j.took).After(now); t = t.Add(j.every) {
			periods = append(periods, t)
		}
		periods = periods[:max(0, len(periods)-j.stopped)]
		for n, period := range periods {
			start, end := period.Add(j.at), period.Add(j.at+j.took)
			r := run{id: runID(j.ns, j.name, start)}
			runFacets := map[string]any{"nominalTime": nominalTimeFacet{facet: newFacet("NominalTimeRunFacet", "1-0-1"), NominalStartTime: stamp(start)}}
			j.addAirflowFacet(runFacets)
			if p := byName[j.parent]; p != nil {
				f := parentFacet{facet: newFacet("ParentRunFacet", "1-2-0")}
				f.Run.RunID = runID(p.ns, p.name, period.Add(p.at))
				f.Job.Namespace, f.Job.Name = p.ns, p.name
				runFacets["parent"] = f
			}
			ins, outs := j.datasets(catalog)
			failed := n >= len(periods)-j.failing
			doneFacets, doneOuts, state := runFacets, outs, "COMPLETE"
			if failed {
				state = "FAIL"
				end = start.Add(20 * time.Second)
				doneFacets = withFacet(runFacets, "errorMessage", errorMessageFacet{facet: newFacet("ErrorMessageRunFacet", "1-0-1"), Message: j.failure, ProgrammingLanguage: j.language()})
			} else if len(j.checks) > 0 { // dbt tests run after the model, every run
				var asserted []assertion
				for _, c := range j.checksOf(len(periods) - 1 - n) {
					if c.Status == quarry.CheckWarn {
						id, err := quarry.DatasetID(outs[0].Namespace, outs[0].Name)
						if err != nil {
							return nil, err
						}
						c.DatasetID, c.ObservedAt, c.RunID = id, end, r.id
						r.warnings = append(r.warnings, c)
						continue
					}
					asserted = append(asserted, assertion{Assertion: c.Name, Column: c.Column, Success: c.Status == quarry.CheckPass,
						Description: c.Message, Expected: c.Expected, Actual: c.Observed, Severity: c.Severity})
				}
				doneOuts = slices.Clone(outs)
				doneOuts[0].Facets = withFacet(outs[0].Facets, "dataQualityAssertions", assertionsFacet{facet: newFacet("DataQualityAssertionsDatasetFacet", "1-1-0"), Assertions: asserted})
			}
			for _, ev := range []olevent.RunEvent{
				{EventType: "START", EventTime: stamp(start), Run: olevent.Run{RunID: r.id, Facets: runFacets}, Inputs: ins, Outputs: outs},
				{EventType: state, EventTime: stamp(end), Run: olevent.Run{RunID: r.id, Facets: doneFacets}, Inputs: ins, Outputs: doneOuts},
			} {
				ev.Producer, ev.SchemaURL, ev.Job = producer, olevent.RunEventSchema, j.eventJob()
				raw, err := json.Marshal(ev)
				if err != nil {
					return nil, err
				}
				r.events = append(r.events, raw)
			}
			out = append(out, r)
		}
	}
	cron, err := cronRuns(now)
	return append(out, cron...), err
}

// withFacet returns facets with one more, name, leaving facets as they
// are: a run's START and final event share the facets they have in common.
func withFacet(facets map[string]any, name string, f any) map[string]any {
	out := maps.Clone(facets)
	if out == nil {
		out = map[string]any{}
	}
	out[name] = f
	return out
}

// stamp writes a time as OpenLineage producers do.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// language is what the job's failures are raised in, for the errorMessage
// facet, which requires it.
func (j *job) language() string {
	if j.ns == dbtNS {
		return "SQL"
	}
	return "python"
}

// eventJob is the job as its events name it, with its facets.
func (j *job) eventJob() olevent.Job {
	ej := olevent.Job{Namespace: j.ns, Name: j.name, Facets: map[string]any{}}
	parts := strings.SplitN(j.typ, "/", 3)
	ej.Facets["jobType"] = jobTypeFacet{facet: newFacet("JobTypeJobFacet", "2-0-4"), ProcessingType: parts[0], Integration: parts[1], JobType: parts[2]}
	if j.desc != "" {
		ej.Facets["documentation"] = documentationFacet{facet: newFacet("DocumentationJobFacet", "1-1-0"), Description: j.desc}
	}
	if j.sql != "" {
		ej.Facets["sql"] = sqlFacet{facet: newFacet("SQLJobFacet", "1-1-0"), Query: j.sql}
	}
	if len(j.owners) > 0 {
		f := ownershipFacet{facet: newFacet("OwnershipJobFacet", "1-0-1")}
		for _, o := range j.owners {
			f.Owners = append(f.Owners, owner{Name: o})
		}
		ej.Facets["ownership"] = f
	}
	return ej
}

// datasets returns the job's inputs and outputs as its events name them:
// an output that a crawler reads carries the schema the job wrote (a
// crawl owns its columns, so the facet changes nothing there), and the
// first output its column lineage.
func (j *job) datasets(catalog map[string]*quarry.Dataset) (ins, outs []olevent.Dataset) {
	for _, n := range j.ins {
		ns, name := datasetName(n)
		ins = append(ins, olevent.Dataset{Namespace: ns, Name: name})
	}
	for _, n := range j.outs {
		ns, name := datasetName(n)
		out := olevent.Dataset{Namespace: ns, Name: name}
		if d := catalog[ns+" "+name]; d != nil && d.Source != "" {
			f := schemaFacet{facet: newFacet("SchemaDatasetFacet", "1-2-0")}
			for _, c := range d.Columns {
				f.Fields = append(f.Fields, schemaField{Name: c.Name, Type: c.Type, Description: c.Description})
			}
			out.Facets = map[string]any{"schema": f}
		}
		outs = append(outs, out)
	}
	if len(outs) == 0 {
		return ins, outs
	}
	cl := columnLineageFacet{facet: newFacet("ColumnLineageDatasetFacet", "1-2-0"), Fields: map[string]columnInputs{}}
	if j.copyColumns && len(ins) == 1 {
		in := catalog[ins[0].Namespace+" "+ins[0].Name]
		for _, c := range catalog[outs[0].Namespace+" "+outs[0].Name].Columns {
			if in.Column(c.Name) != nil {
				cl.Fields[c.Name] = columnInputs{InputFields: []inputField{{Namespace: ins[0].Namespace, Name: ins[0].Name, Field: c.Name,
					Transformations: []transformation{{Type: "DIRECT", Subtype: "IDENTITY"}}}}}
			}
		}
	}
	for _, spec := range j.cols {
		col, srcs, _ := strings.Cut(spec, " <- ")
		var fields []inputField
		for _, src := range strings.Split(srcs, ", ") {
			t := transformation{Type: "DIRECT", Subtype: "TRANSFORMATION"}
			switch src[0] {
			case '=':
				t.Subtype, src = "IDENTITY", src[1:]
			case '+':
				t.Subtype, src = "AGGREGATION", src[1:]
			case '?':
				t, src = transformation{Type: "INDIRECT", Subtype: "FILTER"}, src[1:]
			}
			i := strings.LastIndexByte(src, '.')
			ns, name := datasetName(src[:i])
			fields = append(fields, inputField{Namespace: ns, Name: name, Field: src[i+1:], Transformations: []transformation{t}})
		}
		if col = strings.TrimSpace(col); col == "" {
			cl.Dataset = append(cl.Dataset, fields...) // what the whole output depends on: filters, joins
		} else {
			cl.Fields[col] = columnInputs{InputFields: fields}
		}
	}
	if len(cl.Fields) > 0 || len(cl.Dataset) > 0 {
		outs[0].Facets = withFacet(outs[0].Facets, "columnLineage", cl)
	}
	return ins, outs
}
