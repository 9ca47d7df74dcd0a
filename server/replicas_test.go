package server_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
	"github.com/quarrydata/quarry/store/storetest"
)

// Two servers in replicas mode on one PostgreSQL schema, each with its own
// search index and lineage graph: a dataset written through one is read at
// once through the other, and found by the other's search within the
// follow delay, which the test logs (no timing is asserted).
func TestReplicasSearchEachOthersWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	pg := pgtest.New(t)
	schema := storetest.Schema(t, pg.DSN("postgres"))
	o := &server.Options{StorePostgres: schema, StoreReplicas: true}
	a, b := servertest.New(t, o), servertest.New(t, o)
	ctx := context.Background()

	var delays []time.Duration
	for i := range 20 {
		name := fmt.Sprintf("shop.public.replicated_%d", i)
		start := time.Now()
		res, err := a.Store.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: "postgres://shop-db.internal:5432", Name: name}})
		if err != nil {
			t.Fatal(err)
		}
		committed := time.Since(start)
		if _, err := b.Store.Dataset(ctx, res.IDs[0]); err != nil {
			t.Fatalf("read on the other replica right after the write: %v", err)
		}
		for {
			r, err := b.Index.Search(ctx, search.Query{Text: fmt.Sprintf("replicated_%d", i), NoMatches: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total == 1 {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s is not found by the other replica's search after 10s", name)
			}
			time.Sleep(2 * time.Millisecond)
		}
		delays = append(delays, time.Since(start)-committed)
	}
	seq, err := a.Store.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); b.Lineage.Applied() < seq; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the other replica's lineage graph applied %d of %d", b.Lineage.Applied(), seq)
		}
	}
	slices.Sort(delays)
	t.Logf("follow delay (commit to searchable on the other replica), 20 writes: median %s, max %s", delays[len(delays)/2], delays[len(delays)-1])
}
