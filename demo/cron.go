package demo

import (
	"encoding/json"
	"time"

	"github.com/quarrydata/quarry/internal/runreport"
)

// The demo's cron job: a nightly script on the ETL host that refreshes the
// customer lifetime value materialized view, wrapped in `quarry run` as
//
//	quarry run --job cron/refresh_customer_ltv \
//	  --input redshift://...:analytics.marts.fct_orders ... \
//	  --output redshift://...:analytics.reporting.customer_lifetime_value \
//	  -- /opt/etl/bin/refresh_customer_ltv.sh --dsn redshift://etl:PASSWORD@... --since yesterday
//
// Its events are the ones quarry run sends (runreport builds both), so its
// runs show on the view's Runs tab and move its freshness as any
// orchestrator's do. One night the warehouse was in recovery and the
// script failed: that run is a FAIL with the script's stderr.
const (
	cronNS    = "cron"
	cronJob   = "refresh_customer_ltv"
	cronAt    = 4*time.Hour + 30*time.Minute
	cronTook  = 2*time.Minute + 13*time.Second
	cronHost  = "etl-1.acme.internal"
	cronFails = 3 // the run this many nights ago failed
)

func cronRuns(now time.Time) ([]run, error) {
	argv := []string{"/opt/etl/bin/refresh_customer_ltv.sh", "--dsn", "redshift://etl:s3cr3t-pw@analytics.us-east-1:5439/analytics", "--since", "yesterday"}
	var ins, outs []runreport.Dataset
	for _, n := range []string{"analytics.marts.fct_orders", "analytics.marts.dim_customers"} {
		ns, name := datasetName(n)
		ins = append(ins, runreport.Dataset{Namespace: ns, Name: name})
	}
	ns, name := datasetName("analytics.reporting.customer_lifetime_value")
	outs = append(outs, runreport.Dataset{Namespace: ns, Name: name})

	var periods []time.Time
	for t := now.Add(-history).Truncate(24 * time.Hour); !t.Add(cronAt + cronTook).After(now); t = t.Add(24 * time.Hour) {
		periods = append(periods, t)
	}
	var out []run
	for n, period := range periods {
		start := period.Add(cronAt)
		r := &runreport.Run{
			ID: runID(cronNS, cronJob, start), JobNamespace: cronNS, JobName: cronJob, Inputs: ins, Outputs: outs,
			Command: runreport.RedactArgs(argv), Host: cronHost, User: "etl", Version: "v1.4.0",
			Start: start, End: start.Add(cronTook),
		}
		if n == len(periods)-1-cronFails {
			r.End, r.ExitCode = start.Add(4*time.Second), 2
			r.StderrTail = "refreshing analytics.reporting.customer_lifetime_value\n" +
				"psql: error: connection to server at \"analytics.us-east-1\" (10.0.4.12), port 5439 failed: FATAL:  the database system is in recovery mode"
		}
		rr := run{id: r.ID}
		for _, ev := range []runreport.Event{r.StartEvent(), r.EndEvent()} {
			rr.events = append(rr.events, json.RawMessage(ev.JSON))
		}
		out = append(out, rr)
	}
	return out, nil
}
