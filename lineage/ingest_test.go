package lineage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

func ingestStore(t *testing.T) *store.Store {
	t.Helper()
	return storetest.MustOpen(t, &store.Options{NoSync: true})
}

func runEvent(runID, job string) string {
	return fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T09:00:00Z","producer":"test","run":{"runId":%q},
		"job":{"namespace":"test","name":%q},"outputs":[{"namespace":"postgres://db:5432","name":"db.public.t"}]}`, runID, job)
}

// A batch answers per event, by index: a parse error, an event the store
// refuses (a run id another job's run has), and accepted ones, which are
// applied once the lineage log is synced.
func TestIngestBatch(t *testing.T) {
	ctx := context.Background()
	st := ingestStore(t)
	const taken = "00000000-0000-4000-8000-000000000001"
	if err := lineage.Ingest(ctx, st, []byte(runEvent(taken, "a"))); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	const fresh = "00000000-0000-4000-8000-000000000002"
	batch := fmt.Sprintf(`[%s, {"eventType":"COMPLETE"}, %s]`, runEvent(taken, "b"), runEvent(fresh, "b"))
	errs, err := lineage.IngestBatch(ctx, st, []byte(batch))
	if err != nil || len(errs) != 3 {
		t.Fatalf("IngestBatch: %v %v", errs, err)
	}
	if quarry.ErrorCode(errs[0]) != quarry.ECONFLICT || quarry.ErrorCode(errs[1]) != quarry.EINVALID || errs[2] != nil {
		t.Fatalf("per event: %v", errs)
	}
	if err := st.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := st.Run(ctx, fresh); err != nil || r.State != quarry.RunComplete {
		t.Fatalf("the accepted run: %+v %v", r, err)
	}

	if _, err := lineage.IngestBatch(ctx, st, []byte(runEvent(fresh, "b"))); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Fatalf("a batch that is not an array: %v", err)
	}
	if err := lineage.Ingest(ctx, st, []byte(`{"eventType":"COMPLETE"}`)); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Fatalf("Ingest of a bad event: %v", err)
	}
}
