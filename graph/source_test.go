package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/graph"
)

const register = `mutation($in: SourceInput!) { registerSource(input: $in) {
	name kind namespace dsn dsnEnv schedule include aliases lastRun { status } } }`

const crawlNow = `mutation($name: String!) { crawlSource(name: $name, wait: true) {
	status error duration counts { datasets new changed removed columns edges skipped } } }`

// TestSources registers a real PostgreSQL database as a source, crawls it
// through the API and reads what the crawl found.
func TestSources(t *testing.T) {
	pg := pgtest.New(t)
	pg.Database(t, "shop", `
		CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE NOT NULL);
		CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), total numeric(12,2));
		COMMENT ON TABLE orders IS 'One row per order.';
		CREATE VIEW user_totals AS SELECT u.email, sum(o.total) AS total FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.email;`)
	s := newServer(t, graph.Limits{})
	ns := fmt.Sprintf("postgres://127.0.0.1:%d", pg.Port)

	src := s.do(t, register, map[string]any{"in": map[string]any{
		"name": "shop", "kind": "POSTGRES", "dsn": pg.DSN("shop"), "schedule": "@every 6h", "aliases": []string{"postgres://shop-db.internal"},
	}}).ok(t)["registerSource"].(map[string]any)
	if src["namespace"] != ns || src["dsn"] != nil {
		t.Fatalf("registered: %v", src)
	}
	if src["lastRun"] != nil {
		t.Fatalf("a new source has a run: %v", src["lastRun"])
	}

	run := s.do(t, crawlNow, map[string]any{"name": "shop"}).ok(t)["crawlSource"].(map[string]any)
	counts := run["counts"].(map[string]any)
	if run["status"] != "SUCCEEDED" || counts["datasets"].(float64) != 3 || counts["new"].(float64) != 3 || counts["edges"].(float64) < 2 {
		t.Fatalf("crawl: %v", run)
	}

	// The alias resolves to the crawled namespace.
	const get = `query($ns: String, $name: String) { dataset(namespace: $ns, name: $name) {
		name source description
		columns { name primaryKey unique foreignKey { name column dataset { name } } }
		constraints { name kind columns references { name columns dataset { name } } }
		history { kind column }
		stats { inserts }
		upstream { from origin fromDataset { name } fromColumn toColumn transformation }
		downstream { toDataset { name } } } }`
	orders := s.do(t, get, map[string]any{"ns": "postgres://shop-db.internal:5432", "name": "shop.public.orders"}).ok(t)["dataset"].(map[string]any)
	if orders["source"] != "shop" || orders["description"] != "One row per order." {
		t.Fatalf("orders: %v", orders)
	}
	fk := orders["columns"].([]any)[1].(map[string]any)["foreignKey"].(map[string]any)
	if fk["dataset"].(map[string]any)["name"] != "shop.public.users" {
		t.Fatalf("orders.user_id fk: %v", fk)
	}
	var refs []string
	for _, c := range orders["constraints"].([]any) {
		c := c.(map[string]any)
		if r, ok := c["references"].(map[string]any); ok && r != nil {
			refs = append(refs, r["dataset"].(map[string]any)["name"].(string))
		}
	}
	if len(refs) != 1 || refs[0] != "shop.public.users" {
		t.Fatalf("orders references %v", refs)
	}
	if h := orders["history"].([]any); len(h) != 1 || h[0].(map[string]any)["kind"] != "DATASET_CREATED" {
		t.Fatalf("history: %v", h)
	}
	if len(orders["downstream"].([]any)) == 0 {
		t.Fatal("orders has no downstream view")
	}
	users := s.do(t, get, map[string]any{"ns": ns, "name": "shop.public.users"}).ok(t)["dataset"].(map[string]any)
	if email := users["columns"].([]any)[1].(map[string]any); email["unique"] != true {
		t.Fatalf("users.email: %v", email)
	}
	view := s.do(t, get, map[string]any{"ns": ns, "name": "shop.public.user_totals"}).ok(t)["dataset"].(map[string]any)
	var fromTotal bool
	for _, e := range view["upstream"].([]any) {
		e := e.(map[string]any)
		if e["origin"] != "CATALOG" {
			t.Fatalf("view edge %v", e)
		}
		if e["toColumn"] == "total" && e["fromColumn"] == "total" && e["fromDataset"].(map[string]any)["name"] == "shop.public.orders" && e["transformation"] == "DIRECT/TRANSFORMATION" {
			fromTotal = true
		}
	}
	if !fromTotal {
		t.Fatalf("user_totals.total is not traced to orders.total: %v", view["upstream"])
	}

	list := s.do(t, `{ sources { name lastRun { status counts { datasets } } runs { status } } }`, nil).ok(t)["sources"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["lastRun"].(map[string]any)["status"] != "SUCCEEDED" {
		t.Fatalf("sources: %v", list)
	}

	t.Run("FailedCrawlIsARun", func(t *testing.T) {
		wrong := strings.Replace(pg.DSN("shop"), pgtest.Password, "not-the-password", 1)
		s.do(t, register, map[string]any{"in": map[string]any{"name": "broken", "kind": "POSTGRES", "dsn": wrong}}).ok(t)
		run := s.do(t, crawlNow, map[string]any{"name": "broken"}).ok(t)["crawlSource"].(map[string]any)
		if run["status"] != "FAILED" || !strings.Contains(run["error"].(string), "password authentication failed") || strings.Contains(run["error"].(string), "not-the-password") {
			t.Fatalf("failed crawl: %v", run)
		}
	})
	t.Run("KeyValueDSNIsRedacted", func(t *testing.T) {
		kv := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres password = '%s' dbname=shop sslmode=disable", pg.Port, pgtest.Password)
		src := s.do(t, register, map[string]any{"in": map[string]any{"name": "shop-kv", "kind": "POSTGRES", "dsn": kv}}).ok(t)["registerSource"].(map[string]any)
		if strings.Contains(fmt.Sprint(src["dsn"]), pgtest.Password) {
			t.Fatalf("the password is shown: %v", src["dsn"])
		}
		if run := s.do(t, crawlNow, map[string]any{"name": "shop-kv"}).ok(t)["crawlSource"].(map[string]any); run["status"] != "SUCCEEDED" {
			t.Fatalf("crawl with a key=value DSN: %v", run)
		}
	})
	t.Run("DSNFromEnvironment", func(t *testing.T) {
		testEnv["QUARRY_SOURCE_SHOP"] = pg.DSN("shop")
		defer delete(testEnv, "QUARRY_SOURCE_SHOP")
		src := s.do(t, register, map[string]any{"in": map[string]any{"name": "shop-env", "kind": "POSTGRES", "dsnEnv": "QUARRY_SOURCE_SHOP", "namespace": "postgres://shop-replica:5432"}}).ok(t)["registerSource"].(map[string]any)
		if src["dsn"] != nil || src["dsnEnv"] != "QUARRY_SOURCE_SHOP" || src["namespace"] != "postgres://shop-replica:5432" {
			t.Fatalf("registered: %v", src)
		}
		if run := s.do(t, crawlNow, map[string]any{"name": "shop-env"}).ok(t)["crawlSource"].(map[string]any); run["status"] != "SUCCEEDED" {
			t.Fatalf("crawl: %v", run)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		bad := func(in map[string]any, field string) {
			t.Helper()
			base := map[string]any{"name": "x", "kind": "POSTGRES", "dsn": pg.DSN("shop")}
			for k, v := range in {
				base[k] = v
			}
			s.do(t, register, map[string]any{"in": base}).oneError(t, "invalid", field)
		}
		bad(map[string]any{"name": "Bad Name"}, "input.name")
		bad(map[string]any{"schedule": "every tuesday"}, "input.schedule")
		bad(map[string]any{"dsn": nil}, "input.dsn")
		bad(map[string]any{"dsn": nil, "dsnEnv": "NOT_SET_ANYWHERE"}, "input.dsnEnv")
		bad(map[string]any{"dsn": "postgres://u:pw@host:5432"}, "input.dsn")
		bad(map[string]any{"kind": "REDSHIFT"}, "input.kind")
		bad(map[string]any{"kind": "MYSQL"}, "input.dsn") // a postgres:// DSN
		bad(map[string]any{"include": []string{"[a-"}}, "input.include")
		bad(map[string]any{"aliases": []string{"postgres://shop-db.internal"}}, "input.aliases")
		s.do(t, crawlNow, map[string]any{"name": "nope"}).oneError(t, "not_found", "")
		if r := s.do(t, `{ source(name: "nope") { name } }`, nil).ok(t); r["source"] != nil {
			t.Fatalf("unknown source: %v", r)
		}
	})
}
