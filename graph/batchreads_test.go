package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/graph/graphtest"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// storeReads is the real store, counting its reads of datasets, jobs,
// freshness policies and checks, by method.
type storeReads struct {
	*store.Store
	mu    sync.Mutex
	calls map[string]int
}

func (s *storeReads) count(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
}

func (s *storeReads) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = map[string]int{}
	return c
}

func (s *storeReads) Dataset(ctx context.Context, id string) (*quarry.Dataset, error) {
	s.count("Dataset")
	return s.Store.Dataset(ctx, id)
}

func (s *storeReads) DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error) {
	s.count("DatasetsByID")
	return s.Store.DatasetsByID(ctx, ids)
}

func (s *storeReads) Job(ctx context.Context, id string) (*quarry.Job, error) {
	s.count("Job")
	return s.Store.Job(ctx, id)
}

func (s *storeReads) JobsByID(ctx context.Context, ids []string) ([]*quarry.Job, error) {
	s.count("JobsByID")
	return s.Store.JobsByID(ctx, ids)
}

func (s *storeReads) FreshnessPolicy(ctx context.Context, id string) (*quarry.FreshnessPolicy, error) {
	s.count("FreshnessPolicy")
	return s.Store.FreshnessPolicy(ctx, id)
}

func (s *storeReads) FreshnessPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error) {
	s.count("FreshnessPolicies")
	return s.Store.FreshnessPolicies(ctx, ids)
}

func (s *storeReads) InferredPolicy(ctx context.Context, id string) (*quarry.FreshnessPolicy, error) {
	s.count("InferredPolicy")
	return s.Store.InferredPolicy(ctx, id)
}

func (s *storeReads) InferredPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error) {
	s.count("InferredPolicies")
	return s.Store.InferredPolicies(ctx, ids)
}

func (s *storeReads) Checks(ctx context.Context, id string) ([]quarry.Check, error) {
	s.count("Checks")
	return s.Store.Checks(ctx, id)
}

func (s *storeReads) ChecksOf(ctx context.Context, ids []string) ([][]quarry.Check, error) {
	s.count("ChecksOf")
	return s.Store.ChecksOf(ctx, ids)
}

// A page of search hits, of datasets or of runs reads each field of its
// elements in one read for the whole page, and answers what reading each
// element alone answers.
func TestListsReadTheirElementsFieldsOnce(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	st := storetest.MustOpen(t, nil)

	// Six datasets whose freshness comes from each place it can: a policy
	// set, a default, one learned from daily or hourly updates, too few
	// updates to learn from, no update at all; some with checks.
	var in []quarry.Dataset
	for i := range 6 {
		d := quarry.Dataset{Namespace: "postgres://shop:5432", Name: fmt.Sprintf("shop.public.orders_%d", i), Kind: quarry.KindTable,
			Provided: quarry.Metadata{Description: "One row per order.", Tags: []string{"tier2"}}}
		if i == 3 {
			d.Provided.Tags = []string{"tier1"}
		}
		in = append(in, d)
	}
	res, err := st.UpsertDatasets(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	ids := res.IDs
	now := time.Now().UTC().Truncate(time.Second)
	updates := map[int]time.Duration{1: 24 * time.Hour, 2: time.Hour, 3: time.Hour}
	for i, every := range updates {
		for n := 5; n >= 1; n-- {
			if _, err := st.RecordDataChange(ctx, ids[i], now.Add(-time.Duration(n)*every), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.RecordDataChange(ctx, ids[4], now.Add(-time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if err := st.SetFreshnessPolicy(ctx, ids[0], &quarry.FreshnessPolicy{WarnAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []quarry.Check{
		{Name: "row_count", Status: quarry.CheckPass},
		{Column: "id", Name: "unique", Status: quarry.CheckFail},
		{Name: "row_count", Status: quarry.CheckWarn},
	} {
		c.DatasetID = ids[[]int{0, 0, 2}[i]]
		if _, err := st.PutCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := search.Open(ctx, t.TempDir(), st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}

	reads := &storeReads{Store: st, calls: map[string]int{}}
	resolver := &graph.Resolver{DatasetStore: reads, JobStore: reads, QualityStore: reads, AlertStore: st, SourceStore: st, Index: idx, Log: quiet,
		Now:               func() time.Time { return now },
		FreshnessDefaults: []quarry.PolicyDefault{{Tag: "tier1", Policy: quarry.FreshnessPolicy{ErrorAfter: 2 * time.Hour}}}}
	served := httptest.NewServer(graph.NewHandler(resolver, nil))
	defer served.Close()
	// The bare executor, without the handler's loaders: each dataset's
	// fields read alone.
	bare := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: resolver}))
	bare.AddTransport(transport.POST{})
	alone := httptest.NewServer(bare)
	defer alone.Close()

	// Two jobs loading the orders, with two runs each.
	for _, job := range []string{"load_orders_a", "load_orders_b"} {
		for range 2 {
			(&graphtest.Client{URL: served.URL}).Query(t, `mutation($in: RunInput!) { reportRun(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"job": map[string]any{"namespace": "airflow", "name": job, "type": "BATCH"}, "state": "COMPLETE",
				"outputs": []any{map[string]any{"namespace": "postgres://shop:5432", "name": "shop.public.orders_0"}},
			}})
		}
	}
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	job, err := st.JobByName(ctx, "airflow", "load_orders_a")
	if err != nil {
		t.Fatal(err)
	}
	const summary = `id name freshness { status origin inferred expectedBy policy { warnAfter errorAfter } } health { status checks } checks { column name status }`
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		want        map[string]int // reads
	}{
		// The UI's search page, its hits' datasets read by the search.
		{"search", `query($q: String!) { search(query: $q, first: 20) { total hits { dataset { ` + summary + ` } matches { field text } } } }`, map[string]any{"q": "orders"},
			map[string]int{"FreshnessPolicies": 1, "InferredPolicies": 1, "ChecksOf": 1}},
		// Without matches too: ranking by relevance reads the page's
		// datasets (to demote the deprecated ones).
		{"search without matches", `query($q: String!) { search(query: $q) { hits { dataset { ` + summary + ` } } } }`, map[string]any{"q": "orders"},
			map[string]int{"FreshnessPolicies": 1, "InferredPolicies": 1, "ChecksOf": 1}},
		{"health only", `query($q: String!) { search(query: $q) { hits { dataset { name health { status checks } } } } }`, map[string]any{"q": "orders"},
			map[string]int{"ChecksOf": 1}},
		// Two pages side by side (root fields run concurrently) of the
		// same datasets: at most a read a page, one when the second is
		// primed before the first is read; a dataset of both is read
		// once (or the answers would differ).
		{"two pages", `query($q: String!) { a: search(query: $q) { hits { dataset { name health { status } } } } b: search(query: $q, first: 3) { hits { dataset { name health { checks } } } } }`, map[string]any{"q": "orders"},
			map[string]int{"DatasetsByID": 2, "ChecksOf": 2}},
		{"list", `{ datasets(first: 10) { nodes { ` + summary + ` } edges { node { name health { status } } } } }`, nil,
			map[string]int{"FreshnessPolicies": 1, "InferredPolicies": 1, "ChecksOf": 1}},
		// Suggestions and job hits read each element alone, which costs
		// less than reading them at once (gqlgen.yml says how much).
		{"autocomplete", `query($p: String!) { autocomplete(prefix: $p, limit: 10) { text kind dataset { id name } } }`, map[string]any{"p": "orders"},
			map[string]int{"Dataset": 6}},
		{"job search", `query($q: String!) { searchJobs(query: $q) { job { id name } } }`, map[string]any{"q": "load_orders"},
			map[string]int{"Job": 2}},
		{"runs", `query($id: ID!) { job(id: $id) { runs { nodes { id job { id name } } } } }`, map[string]any{"id": job.ID},
			map[string]int{"Job": 1, "JobsByID": 1}},
		// One dataset, in no list: each field read for it alone, as
		// before, and again when asked again (a mutation's answer reads
		// what it wrote).
		{"one dataset", `query($id: ID!) { dataset(id: $id) { ` + summary + ` } }`, map[string]any{"id": ids[1]},
			map[string]int{"Dataset": 1, "FreshnessPolicy": 1, "InferredPolicy": 1, "Checks": 2}},
	} {
		reads.take()
		got := (&graphtest.Client{URL: served.URL}).Query(t, c.query, c.vars)
		if r := reads.take(); !maps.Equal(r, c.want) && !(c.name == "two pages" && atMost(r, c.want)) {
			t.Errorf("%s: reads %v, want %v", c.name, r, c.want)
		}
		want := (&graphtest.Client{URL: alone.URL}).Query(t, c.query, c.vars)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: answer\n%v\nread alone:\n%v", c.name, got, want)
		}
		if c.name == "search" { // the answer has what the page is made of
			var origins, checks []string
			for _, h := range got["search"].(map[string]any)["hits"].([]any) {
				d := h.(map[string]any)["dataset"].(map[string]any)
				origins = append(origins, fmt.Sprint(d["freshness"].(map[string]any)["origin"]))
				checks = append(checks, fmt.Sprint(d["health"].(map[string]any)["checks"]))
			}
			slices.Sort(origins)
			slices.Sort(checks)
			if fmt.Sprint(origins) != "[<nil> <nil> DEFAULT INFERRED INFERRED SET]" || fmt.Sprint(checks) != "[0 0 0 0 1 2]" {
				t.Errorf("search: freshness origins %v, checks %v", origins, checks)
			}
		}
	}
}

// atMost reports whether each count of got is at most that of want.
func atMost(got, want map[string]int) bool {
	for k, n := range got {
		if n > want[k] {
			return false
		}
	}
	return true
}

// jobsFail is the real store, whose reads of jobs by id fail.
type jobsFail struct{ *store.Store }

func (jobsFail) JobsByID(context.Context, []string) ([]*quarry.Job, error) {
	return nil, errors.New("disk on fire")
}

// A batch resolver's failure is each parent's error, where a resolver of
// one parent puts it: at the parent's path and the field's place in the
// query.
func TestBatchErrorsArePerParent(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	st := storetest.MustOpen(t, nil)
	res := graph.StoreResolver(st)
	res.JobStore, res.Log = jobsFail{st}, quiet
	served := httptest.NewServer(graph.NewHandler(res, nil))
	defer served.Close()
	c := &graphtest.Client{URL: served.URL}
	type gqlErr struct {
		Message    string
		Path       []any
		Locations  []struct{ Line, Column int }
		Extensions map[string]any
	}
	errorsOf := func(query string, vars map[string]any) []gqlErr {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		resp, err := http.Post(served.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ Errors []gqlErr }
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		return got.Errors
	}
	check := func(what string, got []gqlErr, paths []string, line, column int) {
		t.Helper()
		if len(got) != len(paths) {
			t.Fatalf("%s: %d errors, want %d: %+v", what, len(got), len(paths), got)
		}
		for i, e := range got {
			if e.Message != "internal error" || e.Extensions["code"] != "internal" || fmt.Sprint(e.Path) != paths[i] ||
				len(e.Locations) != 1 || e.Locations[0].Line != line || e.Locations[0].Column != column {
				t.Errorf("%s: error %d: %+v, want at %s, %d:%d", what, i, e, paths[i], line, column)
			}
		}
	}
	run := map[string]any{"in": map[string]any{"job": map[string]any{"namespace": "airflow", "name": "load_orders"}, "state": "COMPLETE"}}
	// One parent: the run a mutation reports.
	check("reportRun", errorsOf("mutation($in: RunInput!) {\n  reportRun(input: $in) { id job { id } }\n}", run), []string{"[reportRun job]"}, 2, 30)
	c.Query(t, `mutation($in: RunInput!) { reportRun(input: $in) { id } }`, run)
	j, err := st.JobByName(context.Background(), "airflow", "load_orders")
	if err != nil {
		t.Fatal(err)
	}
	// A list of runs: all of them read at once, each with its error.
	check("runs", errorsOf("query($id: ID!) {\n  job(id: $id) {\n    runs { nodes { id job { name } } }\n  }\n}", map[string]any{"id": j.ID}),
		[]string{"[job runs nodes 0 job]", "[job runs nodes 1 job]"}, 3, 23)
}
