package graph_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/store/storetest"
)

// A fragment marked @defer is answered in full over POST, which has no way
// to send the rest later, as it is without @defer. (When gqlgen resolved
// fields with resolvers in goroutines of their own, it deferred those, and
// only those: the answer had them null and "hasNext": true, and the rest
// never came.)
func TestDeferIsAnsweredInFull(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	st := storetest.MustOpen(t, nil)
	res, err := st.UpsertDatasets(context.Background(), []quarry.Dataset{{Namespace: "postgres://shop-db.internal:5432", Name: "shop.public.users", Kind: "TABLE",
		Provided: quarry.Metadata{Description: "People who ordered."}}})
	if err != nil {
		t.Fatal(err)
	}
	resolver := graph.StoreResolver(st)
	resolver.Log, resolver.Now = quiet, time.Now
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: resolver}))
	srv.AddTransport(transport.POST{})
	ask := func(q string) string {
		t.Helper()
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "query($id: ID) { dataset(id: $id) { `+q+` } }", "variables": {"id": "`+res.IDs[0]+`"}}`))
		r.Header.Set("Content-Type", "application/json")
		srv.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", q, w.Code, w.Body)
		}
		return w.Body.String()
	}
	want := ask("name description health { status } freshness { status }")
	if !strings.Contains(want, `"freshness":{"status":`) || !strings.Contains(want, `"description":"People who ordered."`) {
		t.Fatalf("without @defer: %s", want)
	}
	if got := ask("name ... @defer { description health { status } freshness { status } }"); got != want {
		t.Errorf("with @defer:\n%s\nwant\n%s", got, want)
	}
}
