package demo_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The demo's Airflow tasks carry their DAG's facts, as the provider sends
// them, and the DAG index groups a DAG's tasks with the DAG.
func TestAirflowFacts(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	st, _ := openStore(t, now)
	load(t, st, now)
	ctx := context.Background()
	const ns = "airflow://etl.acme.internal"
	j, err := st.JobByName(ctx, ns, "shop_to_warehouse.copy_orders")
	if err != nil {
		t.Fatal(err)
	}
	f := j.Facts
	if f == nil || f.Integration != "airflow" || f.DAG != "shop_to_warehouse" || f.Task != "copy_orders" || f.Owner != "data-platform" ||
		f.Schedule != "5 */6 * * *" || f.FileLocation != "/opt/airflow/dags/shop_to_warehouse.py" || fmt.Sprint(f.Tags) != "[ingest warehouse]" {
		t.Fatalf("facts %+v", f)
	}
	ids, err := st.DAGJobs(ctx, ns, "shop_to_warehouse")
	if err != nil || len(ids) != 8 { // the DAG and its seven tasks
		t.Fatalf("DAG jobs %v %v", ids, err)
	}
}
