package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
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

// PostgreSQL restarted under a replica: while it is down, OpenLineage
// events are refused with 503 and an error that says so, the store's
// reads and writes are unavailable alike, and /healthz says why it answers
// 503; once it is back
// the replica accepts again without being restarted, and every event it
// answered 201 is applied.
func TestReplicaLivesThroughAPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	pg := pgtest.New(t)
	schema := storetest.Schema(t, pg.DSN("postgres"))
	srv := servertest.New(t, &server.Options{StorePostgres: schema, StoreReplicas: true})
	ctx := context.Background()
	var acked []string
	n := 0
	post := func() (int, string) {
		n++
		id := fmt.Sprintf("0193a4d2-7b1e-7c3a-9d2e-%012x", n)
		ev := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/restart-test",
			"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
			"run":{"runId":%q},"job":{"namespace":"cron","name":"copy"},
			"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.copied"}]}`, id)
		resp, err := http.Post(srv.URL+"/api/v1/lineage", "application/json", strings.NewReader(ev))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusCreated {
			acked = append(acked, id)
		}
		return resp.StatusCode, string(body)
	}
	if code, body := post(); code != http.StatusCreated {
		t.Fatalf("before the restart: %d %s", code, body)
	}
	pg.Down()
	code, body := post()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "PostgreSQL store cannot be reached") {
		t.Fatalf("while PostgreSQL is down: %d %s, want 503 saying so", code, body)
	}
	t.Logf("while down: %s", strings.TrimSpace(body))
	// The store's reads and other writes say so too, rather than fail as
	// an internal error.
	if _, err := srv.Store.Dataset(ctx, "0193a4d2-0000-4000-8000-000000000000"); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Errorf("a read while PostgreSQL is down: %v, want unavailable", err)
	}
	if _, err := srv.Store.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: "postgres://db:5432", Name: "shop.public.down"}}); quarry.ErrorCode(err) != quarry.EUNAVAILABLE ||
		!strings.Contains(err.Error(), "PostgreSQL store cannot be reached") {
		t.Errorf("a write while PostgreSQL is down: %v, want unavailable saying so", err)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	health, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(health), "PostgreSQL store cannot be reached") {
		t.Errorf("/healthz while PostgreSQL is down: %d %s, want 503 saying why", resp.StatusCode, health)
	}
	if err := pg.Up(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		code, body = post()
		if code == http.StatusCreated {
			break
		}
		if code != http.StatusServiceUnavailable || time.Since(start) > 30*time.Second {
			t.Fatalf("after PostgreSQL came back: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("accepting again %s after PostgreSQL was up", time.Since(start).Round(time.Millisecond))
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := srv.Store.SyncLineage(sctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		if _, err := srv.Store.Run(ctx, id); err != nil {
			t.Errorf("run %s answered 201: %v", id, err)
		}
	}
}
