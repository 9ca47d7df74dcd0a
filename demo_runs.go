package quarry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Namespaces of the demo's ETL jobs: an Airflow deployment that copies
// production into the warehouse, and the dbt project that builds the marts.
const (
	demoAirflowNS = "airflow://etl.acme.internal"
	demoDbtNS     = "dbt://analytics"
)

// demoHistory is how far back the demo's runs go: long enough for daily
// jobs to have the five updates that inferred freshness learns from.
const demoHistory = 10 * 24 * time.Hour

// demoJob is one ETL job of the demo and how it runs.
type demoJob struct {
	ns, name, typ, desc, sql string
	owners                   []string
	ins, outs                []string // dataset names; see demoDataset
	cols                     []string // column lineage: "out <- table.col, =table.col" (= marks DIRECT/IDENTITY, + AGGREGATION, ? INDIRECT/FILTER)
	copyColumns              bool     // column lineage: every column of the output read as is from the input
	every                    time.Duration
	at                       time.Duration // start after the period boundary
	took                     time.Duration
	parent                   string // the job whose runs contain this job's runs
	failing                  int    // its most recent runs failed
	failure                  string
	checks                   []Check // dbt tests on its output, in its latest run
}

var demoJobs = func() []demoJob {
	copyJob := func(table string, took time.Duration) demoJob {
		return demoJob{ns: demoAirflowNS, name: "shop_to_warehouse.copy_" + table, typ: "BATCH/AIRFLOW/TASK",
			desc: "Copies shop.public." + table + " into the warehouse's raw schema (full refresh).",
			sql:  "COPY analytics.raw." + table + " FROM 's3://acme-staging/shop/" + table + "/' IAM_ROLE default FORMAT PARQUET;",
			ins:  []string{"shop.public." + table}, outs: []string{"analytics.raw." + table}, copyColumns: true,
			every: 6 * time.Hour, at: 5 * time.Minute, took: took, parent: "shop_to_warehouse", owners: []string{"team:data-platform"}}
	}
	dbt := func(model string, ins []string, cols []string, took time.Duration) demoJob {
		return demoJob{ns: demoDbtNS, name: "analytics." + model, typ: "BATCH/DBT/MODEL",
			desc: "dbt model " + model + ".", ins: ins, outs: []string{"analytics." + model}, cols: cols,
			sql:   "-- models/" + strings.ReplaceAll(model, ".", "/") + ".sql\nselect ... from " + strings.Join(ins, ", "),
			every: 24 * time.Hour, at: 2*time.Hour + 10*time.Minute, took: took, parent: "dbt_run", owners: []string{"team:analytics-eng"}}
	}
	jobs := []demoJob{
		{ns: demoAirflowNS, name: "shop_to_warehouse", typ: "BATCH/AIRFLOW/DAG", desc: "Every 6 hours: copy the shop's production tables into analytics.raw.",
			every: 6 * time.Hour, at: 5 * time.Minute, took: 14 * time.Minute, owners: []string{"team:data-platform"}},
		copyJob("users", 2*time.Minute), copyJob("orders", 6*time.Minute), copyJob("order_items", 9*time.Minute),
		copyJob("payments", 4*time.Minute), copyJob("refunds", time.Minute), copyJob("products", time.Minute), copyJob("categories", 30*time.Second),
		{ns: demoDbtNS, name: "dbt_run", typ: "BATCH/DBT/JOB", desc: "Nightly `dbt run` of the analytics project.",
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
		dbt("reporting.cohort_retention", []string{"analytics.marts.fct_orders", "analytics.marts.dim_customers"}, nil, 6*time.Minute),
		dbt("reporting.customer_orders_summary", []string{"analytics.marts.fct_orders", "analytics.marts.dim_customers"}, nil, 3*time.Minute),
		dbt("reporting.weekly_active_users", []string{"analytics.staging.stg_users", "analytics.raw.users"}, nil, 2*time.Minute),
		{ns: demoAirflowNS, name: "finance_export.revenue_csv", typ: "BATCH/AIRFLOW/TASK", desc: "Exports daily revenue for the finance team's spreadsheet.",
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
		case "analytics.marts.fct_orders":
			jobs[i].checks = []Check{
				{Name: "not_null_fct_orders_order_key", Column: "order_key", Status: CheckPass},
				{Name: "unique_fct_orders_order_key", Column: "order_key", Status: CheckPass},
				{Name: "relationships_fct_orders_customer_key", Column: "customer_key", Status: CheckWarn,
					Observed: "2", Expected: "0", Severity: "warn", Message: "2 orders reference customers missing from dim_customers"},
			}
		case "analytics.marts.fct_payments":
			jobs[i].checks = []Check{
				{Name: "accepted_values_fct_payments_method", Column: "method", Status: CheckFail, Message: "3 rows with method 'crypto'"},
				{Name: "not_null_fct_payments_payment_key", Column: "payment_key", Status: CheckPass},
			}
		case "analytics.reporting.daily_revenue":
			jobs[i].checks = []Check{{Name: "not_null_daily_revenue_revenue_date", Column: "revenue_date", Status: CheckPass}}
		}
	}
	return jobs
}()

// checksOf returns the check results of the run age runs before the
// latest: a check that is not passing now started to in the last two runs
// (a warning in the last one only), and passed before, so its history
// shows when it broke.
func (j *demoJob) checksOf(age int) []Check {
	out := slices.Clone(j.checks)
	for i := range out {
		switch {
		case out[i].Status == CheckWarn && age >= 1, out[i].Status != CheckPass && age >= 2:
			out[i].Status, out[i].Message, out[i].Observed = CheckPass, "", ""
		}
	}
	return out
}

// DemoFreshnessPolicies are the policies the demo sets, by dataset: the
// finance export is due daily, and late since its runs started failing.
func DemoFreshnessPolicies() []DemoPolicy {
	ns, name := demoDataset("s3:finance/revenue_export.csv")
	return []DemoPolicy{{Namespace: ns, Name: name, Policy: FreshnessPolicy{WarnAfter: 26 * time.Hour, ErrorAfter: 36 * time.Hour}}}
}

// DemoPolicy is a freshness policy the demo sets on one of its datasets.
type DemoPolicy struct {
	Namespace, Name string
	Policy          FreshnessPolicy
}

// demoDataset names a demo dataset from its short form: shop.* is the
// production database, analytics.* the warehouse, kafka: a topic, s3: a file.
func demoDataset(name string) (namespace, qualified string) {
	switch {
	case strings.HasPrefix(name, "shop."):
		return demoShopNS, name
	case strings.HasPrefix(name, "kafka:"):
		return demoKafkaNS, strings.TrimPrefix(name, "kafka:")
	case strings.HasPrefix(name, "s3:"):
		return demoS3NS, strings.TrimPrefix(name, "s3:")
	}
	return demoWarehouseNS, name
}

// DemoLineageEvents returns the runs of the demo's ETL jobs over the ten days
// before now, as the OpenLineage events their producers would send: an
// Airflow DAG copying production every 6 hours and its tasks, a nightly dbt
// run and its models with column lineage and tests, an export, a streaming
// job, and a model whose last runs failed. Run times fall on fixed period
// boundaries and run IDs derive from them: a loader that skips the runs it
// has (as quarry serve --demo does) adds only the runs that happened since.
func DemoLineageEvents(now time.Time) []LineageEvent {
	now = now.UTC()
	columns := map[string][]Column{}
	for _, d := range DemoDatasets() {
		columns[d.Name] = d.Columns
	}
	byName := map[string]*demoJob{}
	for i := range demoJobs {
		byName[demoJobs[i].name] = &demoJobs[i]
	}
	var out []LineageEvent
	for _, j := range demoJobs {
		var periods []time.Time
		for t := now.Add(-demoHistory).Truncate(j.every); !t.Add(j.at + j.took).After(now); t = t.Add(j.every) {
			periods = append(periods, t)
		}
		for n, period := range periods {
			start, end := period.Add(j.at), period.Add(j.at+j.took)
			runID := NewID("run", j.ns+"/"+j.name, start.Format(time.RFC3339))
			job := &Job{Namespace: j.ns, Name: j.name, Type: j.typ, Description: j.desc, SQL: j.sql, Owners: j.owners}
			rep := func(state RunState) *RunReport {
				r := &RunReport{ID: runID, State: state}
				if p := byName[j.parent]; p != nil {
					r.ParentRunID = NewID("run", p.ns+"/"+p.name, period.Add(p.at).Format(time.RFC3339))
					r.ParentJob = &Job{Namespace: p.ns, Name: p.name}
				}
				return r
			}
			ins, outs := j.datasets(columns)
			failed := n >= len(periods)-j.failing
			done := rep(RunComplete)
			if failed {
				done = rep(RunFail)
				done.ErrorMessage = j.failure
				end = start.Add(20 * time.Second)
			}
			doneOuts := outs
			if !failed && len(j.checks) > 0 { // dbt tests run after the model, every run
				doneOuts = append([]DatasetReport(nil), outs...)
				doneOuts[0].Checks = j.checksOf(len(periods) - 1 - n)
			}
			for _, ev := range []LineageEvent{
				{Kind: RunEvent, EventTime: start, Job: job, Run: rep(RunStart), Inputs: ins, Outputs: outs},
				{Kind: RunEvent, EventTime: end, Job: job, Run: done, Inputs: ins, Outputs: doneOuts},
			} {
				ev.Producer = "https://github.com/quarrydata/quarry/demo"
				sum := sha256.Sum256(fmt.Appendf(nil, "%s %s %s %s %d", ev.Producer, runID, ev.Run.State, ev.EventTime.Format(time.RFC3339Nano), len(ev.Outputs)))
				ev.Digest = hex.EncodeToString(sum[:])
				out = append(out, ev)
			}
		}
	}
	return out
}

// datasets returns the job's inputs and outputs as an event reports them,
// with the outputs' column lineage.
func (j *demoJob) datasets(columns map[string][]Column) (ins, outs []DatasetReport) {
	for _, n := range j.ins {
		ns, name := demoDataset(n)
		ins = append(ins, DatasetReport{Namespace: ns, Name: name})
	}
	for _, n := range j.outs {
		ns, name := demoDataset(n)
		outs = append(outs, DatasetReport{Namespace: ns, Name: name})
	}
	if len(outs) == 0 {
		return ins, outs
	}
	if j.copyColumns && len(ins) == 1 {
		have := map[string]bool{}
		for _, c := range columns[ins[0].Name] {
			have[c.Name] = true
		}
		for _, c := range columns[outs[0].Name] {
			if have[c.Name] {
				outs[0].ColumnLineage = append(outs[0].ColumnLineage, ColumnLineage{Column: c.Name,
					Inputs: []ColumnSource{{Namespace: ins[0].Namespace, Name: ins[0].Name, Field: c.Name, Transformation: "DIRECT/IDENTITY"}}})
			}
		}
	}
	for _, spec := range j.cols {
		col, srcs, _ := strings.Cut(spec, " <- ")
		cl := ColumnLineage{Column: strings.TrimSpace(col)}
		for _, src := range strings.Split(srcs, ", ") {
			t := "DIRECT/TRANSFORMATION"
			switch src[0] {
			case '=':
				t, src = "DIRECT/IDENTITY", src[1:]
			case '+':
				t, src = "DIRECT/AGGREGATION", src[1:]
			case '?':
				t, src = "INDIRECT/FILTER", src[1:]
			}
			i := strings.LastIndexByte(src, '.')
			ns, name := demoDataset(src[:i])
			cl.Inputs = append(cl.Inputs, ColumnSource{Namespace: ns, Name: name, Field: src[i+1:], Transformation: t})
		}
		outs[0].ColumnLineage = append(outs[0].ColumnLineage, cl)
	}
	return ins, outs
}
