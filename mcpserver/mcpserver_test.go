package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/mcpserver"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

const warehouse = "redshift://analytics.us-east-1:5439"

// demoServer is the real server with the demo catalog, its alerts
// evaluated and its search index and lineage graph caught up, and API
// tokens for a viewer and an editor. With access, requests need a token.
func demoServer(t testing.TB, access *server.Access) (s *servertest.Server, viewer, editor string) {
	t.Helper()
	ctx := context.Background()
	s = servertest.New(t, &server.Options{Access: access})
	if _, err := demo.Load(ctx, s.Store, time.Now()); err != nil {
		t.Fatal(err)
	}
	// One evaluator pass opens the demo's alerts (a late table, a
	// warning check), which upstream problems are made of.
	if _, err := alert.New(s.Store, &alert.Options{Logger: slog.New(slog.DiscardHandler)}).Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	last, err := s.Store.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.Index.Applied() < last || s.Lineage.Applied() < last {
		if time.Now().After(deadline) {
			t.Fatalf("the index (%d) and the lineage graph (%d) did not reach %d", s.Index.Applied(), s.Lineage.Applied(), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if viewer, _, err = s.Tokens.Create(ctx, "viewer-bot", auth.Viewer, 0); err != nil {
		t.Fatal(err)
	}
	if editor, _, err = s.Tokens.Create(ctx, "editor-bot", auth.Editor, 0); err != nil {
		t.Fatal(err)
	}
	return s, viewer, editor
}

// bearer sends a token with every request.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.base.RoundTrip(r)
}

// connect is the go-sdk's own client, over real HTTP, with a token.
func connect(t testing.TB, s *servertest.Server, token string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "quarry-test", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   s.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token, s.Client().Transport}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool and decodes its structured answer into out; it fails
// the test on a tool error.
func call(t testing.TB, cs *mcp.ClientSession, tool string, args map[string]any, out any) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if res.IsError {
		t.Fatalf("%s: tool error: %s", tool, text(res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v in %s", tool, err, raw)
	}
}

// toolError calls a tool that should fail and returns its error text; a
// protocol error fails the test.
func toolError(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: a protocol error, not a tool error: %v", tool, err)
	}
	if !res.IsError {
		t.Fatalf("%s %v: no error, got %v", tool, args, res.StructuredContent)
	}
	return text(res)
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || tool.InputSchema == nil {
			t.Errorf("%s has no description or input schema", tool.Name)
		}
	}
	slices.Sort(names)
	return names
}

var readTools = []string{"get_dataset", "get_job", "get_lineage", "impact", "list_alerts", "search_datasets", "search_jobs"}

type hit struct {
	ID, Namespace, Name, Freshness, Health string
}

func TestTools(t *testing.T) {
	s, viewer, editor := demoServer(t, &server.Access{})
	cs := connect(t, s, viewer)

	t.Run("ListedByRole", func(t *testing.T) {
		if got := toolNames(t, cs); !slices.Equal(got, readTools) {
			t.Errorf("a viewer's tools: %v, want %v", got, readTools)
		}
		want := slices.Sorted(slices.Values(append(slices.Clone(readTools), "add_tag", "update_description")))
		if got := toolNames(t, connect(t, s, editor)); !slices.Equal(got, want) {
			t.Errorf("an editor's tools: %v, want %v", got, want)
		}
	})

	var revenue hit
	t.Run("SearchDatasets", func(t *testing.T) {
		var res struct {
			Total int
			Hits  []hit
			Next  string
		}
		call(t, cs, "search_datasets", map[string]any{"query": "daily revenue"}, &res)
		if len(res.Hits) == 0 || res.Hits[0].Name != "analytics.reporting.daily_revenue" || res.Hits[0].Namespace != warehouse {
			t.Fatalf("daily revenue: %+v", res.Hits)
		}
		revenue = res.Hits[0]
		if revenue.Freshness == "" || revenue.ID == "" {
			t.Errorf("the hit says nothing of its freshness: %+v", revenue)
		}
		call(t, cs, "search_datasets", map[string]any{"query": "", "limit": 2, "kind": []string{"VIEW"}}, &res)
		if len(res.Hits) != 2 || res.Next == "" || res.Total <= 2 {
			t.Errorf("a page of 2 views: %+v", res)
		}
	})
	if revenue.ID == "" {
		t.FailNow()
	}

	t.Run("GetDataset", func(t *testing.T) {
		var d struct {
			Name, Description, URI string
			Owners                 []string
			Columns                []struct{ Name, Type string }
			FreshnessDetail        struct{ Status, Policy, WarnAfter string }
			UpstreamProblems       []struct{ Kind, Dataset, Check, Message string }
			WrittenBy              []struct{ Name string }
		}
		call(t, cs, "get_dataset", map[string]any{"namespace": warehouse, "name": "analytics.reporting.daily_revenue"}, &d)
		if d.Name != "analytics.reporting.daily_revenue" || d.Description == "" || len(d.Owners) == 0 || len(d.Columns) == 0 || len(d.WrittenBy) == 0 {
			t.Errorf("daily_revenue: %+v", d)
		}
		if d.URI != "quarry://dataset/"+revenue.ID {
			t.Errorf("uri %q", d.URI)
		}
		if d.FreshnessDetail.Status != "FRESH" || d.FreshnessDetail.Policy == "" || d.FreshnessDetail.WarnAfter == "" {
			t.Errorf("freshness: %+v", d.FreshnessDetail)
		}
		// The demo's fct_orders has a warning relationships check: a
		// problem upstream of daily_revenue.
		i := slices.IndexFunc(d.UpstreamProblems, func(p struct{ Kind, Dataset, Check, Message string }) bool {
			return p.Kind == "CHECK_FAILING" && p.Dataset == "analytics.marts.fct_orders" && p.Check == "relationships_fct_orders_customer_key"
		})
		if i < 0 {
			t.Errorf("no failing check of fct_orders upstream: %+v", d.UpstreamProblems)
		}
		var byID struct{ Name string }
		call(t, cs, "get_dataset", map[string]any{"id": revenue.ID}, &byID)
		if byID.Name != d.Name {
			t.Errorf("by id: %+v", byID)
		}
	})

	// The demo's shop.public.orders was used every day of the last two
	// weeks (demo/usage.go): 1,200 reads a day and more, by four users,
	// with two queries.
	t.Run("GetDatasetUsage", func(t *testing.T) {
		const shop = "postgres://shop-db.internal:5432"
		type query struct {
			Text   string
			Calls  int64
			MeanMs float64
			User   string
		}
		var d struct {
			ID    string
			Usage struct {
				Available            bool
				Reason               string
				Reads, Writes, Calls int64
				Users                []struct {
					Name  string
					Calls int64
				}
				UsersTotal           int
				Queries              []query
				PopularityPercentile float64
			}
		}
		call(t, cs, "get_dataset", map[string]any{"namespace": shop, "name": "shop.public.orders"}, &d)
		u := d.Usage
		// 14 days of 1,200 + (i*7 mod 13) * 60 reads and 30 writes.
		if !u.Available || u.Reads != 21_480 || u.Writes != 420 || u.Calls != 25_200 || u.UsersTotal != 4 {
			t.Errorf("orders' usage: %+v", u)
		}
		users := fmt.Sprint(u.Users)
		if want := "[{ana 8400} {ben 5600} {carla 4200} {etl_loader 3360}]"; users != want {
			t.Errorf("users %s, want %s", users, want)
		}
		want := []query{
			{"SELECT id, status, total_cents FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2", 16_800, 1.5, "ana"},
			{"SELECT date_trunc($1, created_at) AS day, sum(total_cents) FROM orders WHERE created_at >= $2 GROUP BY 1", 8_400, 2.5, "ben"},
		}
		if !slices.Equal(u.Queries, want) {
			t.Errorf("queries %+v, want %+v", u.Queries, want)
		}
		// The percentile search ranks with, over the same store.
		pct, err := search.NewPopularity(s.Store, time.Now).Popularity(context.Background(), d.ID)
		if err != nil || pct <= 0 || u.PopularityPercentile != pct {
			t.Errorf("popularity %v, want the search's %v (%v)", u.PopularityPercentile, pct, err)
		}

		// The warehouse's usage was never read: get_dataset says so in a
		// line, with no empty lists.
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_dataset", Arguments: map[string]any{"id": revenue.ID}})
		if err != nil || res.IsError {
			t.Fatalf("get_dataset: %v %s", err, text(res))
		}
		raw, _ := json.Marshal(res.StructuredContent.(map[string]any)["usage"])
		var none map[string]any
		if err := json.Unmarshal(raw, &none); err != nil {
			t.Fatal(err)
		}
		reason, _ := none["reason"].(string)
		delete(none, "popularityPercentile") // the jobs that read it count
		if len(none) != 2 || none["available"] != false || !strings.Contains(reason, "no crawl has read the usage of its database") || len(raw) > 300 {
			t.Errorf("daily_revenue's usage: %s", raw)
		}
	})

	t.Run("Impact", func(t *testing.T) {
		var res struct {
			Datasets []struct {
				Name     string
				Distance int
				Columns  []string
			}
		}
		call(t, cs, "impact", map[string]any{"namespace": warehouse, "name": "analytics.marts.fct_orders"}, &res)
		if !slices.ContainsFunc(res.Datasets, func(d struct {
			Name     string
			Distance int
			Columns  []string
		}) bool {
			return d.Name == "analytics.reporting.daily_revenue"
		}) {
			t.Errorf("fct_orders's impact: %+v", res.Datasets)
		}
	})

	t.Run("GetLineage", func(t *testing.T) {
		var res struct {
			Nodes []struct{ Kind, Name, Column string }
			Edges []struct{ From, To, Job string }
		}
		call(t, cs, "get_lineage", map[string]any{"id": revenue.ID, "direction": "upstream", "depth": 1}, &res)
		if len(res.Nodes) < 3 || res.Nodes[0].Name != "analytics.reporting.daily_revenue" {
			t.Fatalf("lineage: %+v", res.Nodes)
		}
		if !slices.ContainsFunc(res.Edges, func(e struct{ From, To, Job string }) bool { return e.To == "analytics.reporting.daily_revenue" }) {
			t.Errorf("no edge into daily_revenue: %+v", res.Edges)
		}
		call(t, cs, "get_lineage", map[string]any{"id": revenue.ID, "direction": "upstream", "columnLevel": true, "depth": 1}, &res)
		if !slices.ContainsFunc(res.Nodes, func(n struct{ Kind, Name, Column string }) bool {
			return n.Kind == "COLUMN" && n.Name == "analytics.marts.fct_orders" && n.Column == "net_amount_eur"
		}) || !slices.Contains(res.Edges, struct{ From, To, Job string }{"analytics.marts.fct_orders.net_amount_eur", "analytics.reporting.daily_revenue.net_revenue", "analytics.reporting.daily_revenue"}) {
			t.Errorf("column level: %+v", res)
		}
	})

	t.Run("NoLineage", func(t *testing.T) {
		if _, err := s.Store.UpsertDatasets(context.Background(), []quarry.Dataset{{Namespace: "postgres://lonely:5432", Name: "db.public.lonely", Kind: quarry.KindTable}}); err != nil {
			t.Fatal(err)
		}
		args := map[string]any{"namespace": "postgres://lonely:5432", "name": "db.public.lonely"}
		var lin struct {
			Nodes []struct{ Name string }
			Edges []any
		}
		call(t, cs, "get_lineage", args, &lin)
		if len(lin.Nodes) != 1 || lin.Nodes[0].Name != "db.public.lonely" || len(lin.Edges) != 0 {
			t.Errorf("lineage of a dataset without any: %+v", lin)
		}
		var imp struct{ Datasets []any }
		call(t, cs, "impact", args, &imp)
		if len(imp.Datasets) != 0 {
			t.Errorf("impact of a dataset without lineage: %+v", imp)
		}
	})

	t.Run("ListAlerts", func(t *testing.T) {
		var res struct {
			Alerts []struct{ Kind, Dataset, Status, Message string }
		}
		call(t, cs, "list_alerts", nil, &res)
		if !slices.ContainsFunc(res.Alerts, func(a struct{ Kind, Dataset, Status, Message string }) bool {
			return a.Kind == "CHECK" && a.Dataset == "analytics.marts.fct_orders"
		}) {
			t.Errorf("no alert of fct_orders's check: %+v", res.Alerts)
		}
		call(t, cs, "list_alerts", map[string]any{"kind": "freshness", "limit": 1}, &res)
		if len(res.Alerts) > 1 || (len(res.Alerts) == 1 && res.Alerts[0].Kind != "FRESHNESS") {
			t.Errorf("one freshness alert: %+v", res.Alerts)
		}
	})

	t.Run("Jobs", func(t *testing.T) {
		var found struct {
			Jobs []struct {
				ID, Name  string
				LatestRun *struct{ State string }
			}
		}
		call(t, cs, "search_jobs", map[string]any{"query": "daily_revenue"}, &found)
		if len(found.Jobs) == 0 || !strings.Contains(found.Jobs[0].Name, "daily_revenue") || found.Jobs[0].LatestRun == nil {
			t.Fatalf("jobs: %+v", found.Jobs)
		}
		var job struct {
			Name    string
			Outputs []struct{ Name string }
			Runs    []struct{ State string }
		}
		call(t, cs, "get_job", map[string]any{"id": found.Jobs[0].ID, "runs": 2}, &job)
		if job.Name != found.Jobs[0].Name || len(job.Runs) == 0 || len(job.Runs) > 2 ||
			!slices.ContainsFunc(job.Outputs, func(o struct{ Name string }) bool { return o.Name == "analytics.reporting.daily_revenue" }) {
			t.Errorf("job: %+v", job)
		}
	})

	t.Run("BadArguments", func(t *testing.T) {
		for _, tc := range []struct {
			tool string
			args map[string]any
			want string
		}{
			{"get_lineage", map[string]any{"id": revenue.ID, "depth": 11}, "depth: must be between 1 and 10"},
			{"get_lineage", map[string]any{"id": revenue.ID, "depth": 0}, "depth: must be between 1 and 10"},
			{"get_lineage", map[string]any{"id": revenue.ID, "direction": "sideways"}, "direction: "},
			{"get_lineage", map[string]any{"id": revenue.ID, "column": "nope"}, "column: "},
			{"get_lineage", map[string]any{"id": revenue.ID, "depth": "three"}, "depth: "},
			{"get_dataset", map[string]any{"dataset": "daily_revenue"}, "dataset: "},
			{"search_datasets", map[string]any{"query": "x", "kind": "VIEW"}, "kind: "},
			{"search_datasets", map[string]any{"limit": 5}, "query: "},
			{"search_datasets", map[string]any{"query": "x", "limit": 0}, "limit: must be between 1 and 100"},
			{"search_datasets", map[string]any{"query": "x", "kind": []string{"TABLET"}}, "kind[0]: "},
			{"search_datasets", map[string]any{"query": "x", "after": "nope"}, "after: "},
			{"get_dataset", map[string]any{"id": "not-a-uuid"}, "id: "},
			{"get_dataset", map[string]any{}, "name: "},
			{"get_dataset", map[string]any{"name": "a.b"}, "namespace: "},
			{"get_dataset", map[string]any{"namespace": warehouse, "name": "no.such.table"}, "name: no dataset"},
			{"impact", map[string]any{"id": revenue.ID, "limit": -1}, "limit: "},
			{"list_alerts", map[string]any{"kind": "LATE"}, "kind: "},
			{"get_job", map[string]any{"name": "x"}, "namespace: "},
		} {
			got := toolError(t, cs, tc.tool, tc.args)
			t.Logf("%s %v: %s", tc.tool, tc.args, got)
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s %v: %q, want it to contain %q", tc.tool, tc.args, got, tc.want)
			}
		}
	})

	t.Run("ViewerCannotEdit", func(t *testing.T) {
		got := toolError(t, cs, "update_description", map[string]any{"id": revenue.ID, "description": "vandalized"})
		if !strings.Contains(got, "editor") {
			t.Errorf("refusal: %q", got)
		}
		toolError(t, cs, "add_tag", map[string]any{"id": revenue.ID, "tag": "vandalized"})
		var d struct{ Description string }
		call(t, cs, "get_dataset", map[string]any{"id": revenue.ID}, &d)
		if strings.Contains(d.Description, "vandalized") {
			t.Errorf("a viewer's edit was stored: %q", d.Description)
		}
	})

	t.Run("EditorEdits", func(t *testing.T) {
		ed := connect(t, s, editor)
		var out struct {
			Description string
			Tags        []string
		}
		call(t, ed, "update_description", map[string]any{"id": revenue.ID, "description": "Revenue per day and country, net of refunds."}, &out)
		call(t, ed, "add_tag", map[string]any{"namespace": warehouse, "name": "analytics.reporting.daily_revenue", "tag": "finance-kpi"}, &out)
		if !slices.Contains(out.Tags, "finance-kpi") {
			t.Errorf("tags: %v", out.Tags)
		}
		call(t, ed, "update_description", map[string]any{"id": revenue.ID, "column": "net_revenue", "description": "Net revenue in EUR."}, &out)
		if out.Description != "Net revenue in EUR." {
			t.Errorf("column description: %+v", out)
		}
		if got := toolError(t, ed, "update_description", map[string]any{"id": revenue.ID, "column": "nope", "description": "x"}); !strings.HasPrefix(got, "column: ") {
			t.Errorf("unknown column: %q", got)
		}
		if got := toolError(t, ed, "add_tag", map[string]any{"id": revenue.ID, "tag": strings.Repeat("x", 300)}); !strings.HasPrefix(got, "tag") {
			t.Errorf("a long tag: %q", got)
		}

		// The edits are the catalog's: GraphQL shows them, by the token's name.
		data := s.GraphQL.Do(t, `query($id: ID!) { dataset(id: $id) { description tags columns { name description } metadataHistory { actor field } } }`,
			map[string]any{"id": revenue.ID}, "Authorization", "Bearer "+viewer).OK(t)
		raw, _ := json.Marshal(data)
		var res struct {
			Dataset struct {
				Description     string
				Tags            []string
				Columns         []struct{ Name, Description string }
				MetadataHistory []struct{ Actor, Field string }
			}
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.Dataset.Description != "Revenue per day and country, net of refunds." || !slices.Contains(res.Dataset.Tags, "finance-kpi") {
			t.Errorf("GraphQL: %+v", res.Dataset)
		}
		if !slices.Contains(res.Dataset.Columns, struct{ Name, Description string }{"net_revenue", "Net revenue in EUR."}) {
			t.Errorf("GraphQL columns: %+v", res.Dataset.Columns)
		}
		if len(res.Dataset.MetadataHistory) == 0 || res.Dataset.MetadataHistory[0].Actor != "editor-bot" {
			t.Errorf("history: %+v", res.Dataset.MetadataHistory)
		}
	})

	t.Run("Resource", func(t *testing.T) {
		res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "quarry://dataset/" + revenue.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Contents) != 1 || !strings.Contains(res.Contents[0].Text, `"analytics.reporting.daily_revenue"`) {
			t.Errorf("resource: %+v", res.Contents)
		}
		if _, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "quarry://dataset/00000000-0000-0000-0000-000000000000"}); err == nil {
			t.Error("an unknown dataset's resource was read")
		}
	})

	t.Run("Prompts", func(t *testing.T) {
		list, err := cs.ListPrompts(context.Background(), nil)
		if err != nil || len(list.Prompts) != 2 {
			t.Fatalf("prompts: %v %v", list, err)
		}
		p, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "change_impact", Arguments: map[string]string{"dataset": "analytics.marts.fct_orders", "column": "amount"}})
		if err != nil || len(p.Messages) != 1 || !strings.Contains(p.Messages[0].Content.(*mcp.TextContent).Text, "amount of analytics.marts.fct_orders") {
			t.Fatalf("change_impact: %+v %v", p, err)
		}
		if _, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "find_table"}); err == nil || !strings.Contains(err.Error(), "need") {
			t.Errorf("find_table without need: %v", err)
		}
	})

	t.Run("Metrics", func(t *testing.T) {
		_, raw := s.Request(t, http.MethodGet, "/metrics", nil, "Authorization", "Bearer "+viewer)
		for _, want := range []string{
			`quarry_mcp_tool_calls_total{outcome="ok",tool="search_datasets"}`,
			`quarry_mcp_tool_calls_total{outcome="error",tool="get_lineage"}`,
			`quarry_mcp_tool_calls_total{outcome="error",tool="update_description"}`,
			`quarry_mcp_tool_seconds_count{tool="impact"}`,
		} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("/metrics has no %s", want)
			}
		}
	})

	t.Run("BehindAProxy", func(t *testing.T) {
		// With auth the token protects the server: a reverse proxy on this
		// machine that passes its site's Host is served.
		if code := postInitialize(t, s, viewer, [2]string{"Host", "quarry.internal"}); code != http.StatusOK {
			t.Errorf("through a proxy: %d", code)
		}
	})

	t.Run("ErrNoToken", func(t *testing.T) {
		c := mcp.NewClient(&mcp.Implementation{Name: "anonymous"}, nil)
		_, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: s.URL + "/mcp", HTTPClient: s.Client()}, nil)
		if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("without a token: %v", err)
		}
	})
}

// On an open server (loopback, no auth) everything read-only is served,
// and nothing that edits.
func TestOpenMode(t *testing.T) {
	s, _, _ := demoServer(t, nil)
	cs := connect(t, s, "")
	if got := toolNames(t, cs); !slices.Equal(got, readTools) {
		t.Errorf("open mode's tools: %v, want %v", got, readTools)
	}
	var res struct{ Hits []hit }
	call(t, cs, "search_datasets", map[string]any{"query": "daily revenue", "limit": 1}, &res)
	if len(res.Hits) != 1 || res.Hits[0].Name != "analytics.reporting.daily_revenue" {
		t.Errorf("search: %+v", res.Hits)
	}
	if got := toolError(t, cs, "add_tag", map[string]any{"id": res.Hits[0].ID, "tag": "x"}); !strings.Contains(got, "read-only") {
		t.Errorf("an open server's edit: %q", got)
	}

	// A page on another site that a DNS name points at 127.0.0.1 is no
	// client of an open server; nor is a page posting across origins.
	for name, h := range map[string][2]string{"DNSRebinding": {"Host", "evil.example"}, "CrossOrigin": {"Sec-Fetch-Site", "cross-site"}} {
		if code := postInitialize(t, s, "", h); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
}

// postInitialize posts an initialize request to /mcp with a header (Host
// sets the request's host) and returns the status.
func postInitialize(t *testing.T, s *servertest.Server, token string, header [2]string) int {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	req, err := http.NewRequest(http.MethodPost, s.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if header[0] == "Host" {
		req.Host = header[1]
	} else {
		req.Header.Set(header[0], header[1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// bridged connects the go-sdk's client to the server through Bridge, over
// pipes, as a client that launched `quarry mcp` would be.
func bridged(t *testing.T, s *servertest.Server, token string) (*mcp.ClientSession, error) {
	t.Helper()
	toBridge, clientOut := io.Pipe()
	clientIn, fromBridge := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- mcpserver.Bridge(ctx, toBridge, fromBridge, mcpserver.BridgeOptions{URL: s.URL + "/mcp", Token: token, HTTPClient: s.Client(), Logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() {
		clientOut.Close() // the client went away: the bridge ends
		if err := <-done; err != nil {
			t.Errorf("bridge: %v", err)
		}
		cancel()
		clientIn.Close()
	})
	c := mcp.NewClient(&mcp.Implementation{Name: "stdio-client", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.IOTransport{Reader: clientIn, Writer: clientOut}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func TestBridge(t *testing.T) {
	s, _, editor := demoServer(t, &server.Access{})
	t.Run("OK", func(t *testing.T) {
		cs, err := bridged(t, s, editor)
		if err != nil {
			t.Fatal(err)
		}
		if got := toolNames(t, cs); !slices.Contains(got, "update_description") || !slices.Contains(got, "search_datasets") {
			t.Errorf("an editor's tools through the bridge: %v", got)
		}
		var res struct{ Hits []hit }
		call(t, cs, "search_datasets", map[string]any{"query": "daily revenue", "limit": 3}, &res)
		if len(res.Hits) == 0 || res.Hits[0].Name != "analytics.reporting.daily_revenue" {
			t.Errorf("search through the bridge: %+v", res.Hits)
		}
		if got := toolError(t, cs, "get_lineage", map[string]any{"id": res.Hits[0].ID, "depth": 99}); !strings.HasPrefix(got, "depth: ") {
			t.Errorf("a tool error through the bridge: %q", got)
		}

		// Calls side by side are answered each.
		var wg sync.WaitGroup
		for _, q := range []string{"orders", "customers", "payments", "revenue", "products", "sessions"} {
			wg.Go(func() {
				var res struct{ Total int }
				call(t, cs, "search_datasets", map[string]any{"query": q, "limit": 1}, &res)
				if res.Total == 0 {
					t.Errorf("%s: nothing found", q)
				}
			})
		}
		wg.Wait()

		// A request the server refuses (too large a body) is an error,
		// and the next one is served.
		_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "search_datasets", Arguments: map[string]any{"query": strings.Repeat("x", 5<<20)}})
		if err == nil || !strings.Contains(err.Error(), "413") {
			t.Errorf("a 5 MB call: %v", err)
		}
		call(t, cs, "search_datasets", map[string]any{"query": "daily revenue", "limit": 1}, &res)
		if len(res.Hits) != 1 {
			t.Errorf("after a refusal: %+v", res.Hits)
		}
	})
	t.Run("AnswersBeforeEOF", func(t *testing.T) {
		// A script pipes its requests in and closes its end at once: the
		// bridge answers them all before it ends.
		in := strings.Join([]string{
			`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`,
			`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"impact","arguments":{"namespace":"` + warehouse + `","name":"analytics.marts.fct_orders"}}}`,
			`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`,
		}, "\n") + "\n"
		var out strings.Builder
		err := mcpserver.Bridge(context.Background(), strings.NewReader(in), &out, mcpserver.BridgeOptions{URL: s.URL + "/mcp", Token: editor, HTTPClient: s.Client()})
		if err != nil {
			t.Fatal(err)
		}
		answers := map[float64]string{}
		for line := range strings.Lines(out.String()) {
			var m struct {
				ID     float64
				Result json.RawMessage
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			answers[m.ID] = string(m.Result)
		}
		if len(answers) != 3 || !strings.Contains(answers[2], "analytics.reporting.daily_revenue") || !strings.Contains(answers[3], "update_description") {
			t.Errorf("answers: %v", answers)
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		_, err := bridged(t, s, "qry_not-a-token")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("a bad token: %v", err)
		}
		t.Log(err)
	})
}
