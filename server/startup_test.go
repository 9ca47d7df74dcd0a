package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph/graphtest"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/server"
)

// A server answers searches and dataset reads while its lineage graph is
// still loading (seconds at a million datasets); a lineage query waits for
// the load, then answers from the whole graph.
func TestServesWhileTheLineageGraphLoads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := &server.Options{Logger: slog.New(slog.DiscardHandler)}
	const ns = "postgres://wh.internal:5432"
	orders, revenue := quarry.NewID(quarry.EntityDataset, ns, "shop.public.orders"), quarry.NewID(quarry.EntityDataset, ns, "shop.public.daily_revenue")

	// A catalog with lineage, indexed, as a first server left it.
	first, err := server.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Store.UpsertDatasets(ctx, []quarry.Dataset{
		{Namespace: ns, Name: "shop.public.orders", Kind: quarry.KindTable, Provided: quarry.Metadata{Description: "One row per order."}},
		{Namespace: ns, Name: "shop.public.daily_revenue", Kind: quarry.KindTable, Provided: quarry.Metadata{Description: "Revenue by day."}},
	}); err != nil {
		t.Fatal(err)
	}
	edge := quarry.Edge{From: orders, To: revenue, Origin: quarry.OriginManual}
	if err := first.Store.ReplaceEdges(ctx, quarry.OriginManual, map[string][]quarry.Edge{revenue: {edge}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := first.Index.Search(ctx, search.Query{Text: "revenue"}); err == nil && res.Total == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the first server's index did not take the datasets: %v", err)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	// The next start: its graph's load waits until release.
	srv, err := server.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	server.DelayLineageLoadForTest(srv, func(ctx context.Context) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	})
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c := &graphtest.Client{URL: hs.URL + "/graphql", HTTP: hs.Client()}

	data := c.Query(t, `query($q: String!) { search(query: $q) { total hits { dataset { name } } } }`, map[string]any{"q": "revenue"})
	if got := data["search"].(map[string]any)["total"]; got != 1.0 {
		t.Fatalf("search while the graph loads: total %v; want 1", got)
	}
	data = c.Query(t, `query($id: ID!) { dataset(id: $id) { name description } }`, map[string]any{"id": revenue})
	if got := data["dataset"].(map[string]any)["description"]; got != "Revenue by day." {
		t.Fatalf("dataset read while the graph loads: %v", data)
	}
	if srv.Lineage.Loaded() {
		t.Fatal("the graph says it is loaded while its load waits")
	}

	lineageQuery := `query($id: ID!) { lineage(nodeId: $id, direction: DOWNSTREAM) { edges { from to } } }`
	answered := make(chan string, 1) // its edges, or what went wrong
	go func() {
		body, _ := json.Marshal(map[string]any{"query": lineageQuery, "variables": map[string]any{"id": orders}})
		resp, err := hs.Client().Post(c.URL, "application/json", strings.NewReader(string(body)))
		if err != nil {
			answered <- err.Error()
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		answered <- resp.Status + " " + string(raw)
	}()
	// The traversal waits (for as long as the load takes; here until
	// release): the graph it would answer from now has no edges.
	select {
	case a := <-answered:
		t.Fatalf("a lineage query answered before the graph loaded: %s", a)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	want := `200 OK {"data":{"lineage":{"edges":[{"from":"` + orders + `","to":"` + revenue + `"}]}}}`
	if a := <-answered; a != want {
		t.Fatalf("the lineage query that waited answered %s; want %s", a, want)
	}
}

// The lineage graph's load begins once the search index has warmed up:
// at a million datasets the two took 2 s of CPU, which the first searches
// after a start waited behind.
func TestTheLineageGraphLoadsAfterTheIndexWarmsUp(t *testing.T) {
	srv, err := server.Open(t.TempDir(), &server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	warmed := make(chan bool, 1)
	server.DelayLineageLoadForTest(srv, func(context.Context) {
		select {
		case <-srv.Index.Warmed():
			warmed <- true
		default:
			warmed <- false
		}
	})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	select {
	case w := <-warmed:
		if !w {
			t.Fatal("the lineage graph began to load before the search index warmed up")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lineage graph did not begin to load")
	}
	for deadline := time.Now().Add(10 * time.Second); !srv.Lineage.Loaded(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the lineage graph did not load")
		}
	}
}
