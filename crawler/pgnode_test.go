package crawler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry/crawler/pgtest"
)

// pagilaSchema is the pagila fixture's schema (no data needed).
func pagilaSchema(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	candidates := []string{
		"/work/shared/fixtures/postgres/pagila/pagila-schema.sql",
		filepath.Join(filepath.Dir(file), "..", "..", "shared", "fixtures", "postgres", "pagila", "pagila-schema.sql"),
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	t.Fatalf("pagila schema not found in %v", candidates)
	return ""
}

// lineageViewsSQL creates views covering each way a column can be reached.
// lin.a has a dropped column (attnum 4), so a whole-row reference must skip it.
const lineageViewsSQL = `
CREATE SCHEMA lin;
CREATE TABLE lin.a (id int PRIMARY KEY, name varchar(20), amount numeric, gone int, extra text);
ALTER TABLE lin.a DROP COLUMN gone;
CREATE TABLE lin.b (id int, label text, amount numeric);
CREATE TABLE lin."odd (tbl) {x}" ("col }{ \ x" int, """ """ int);

CREATE VIEW lin.v_using AS
  SELECT id, a.name, b.label FROM lin.a JOIN lin.b USING (id);
CREATE VIEW lin.v_full_using AS
  SELECT id, j.label FROM (lin.a FULL JOIN lin.b USING (id)) AS j;
CREATE VIEW lin.v_subquery AS
  SELECT s.n, s.total FROM (SELECT a.name AS n, a.amount * 2 AS total, a.id FROM lin.a) s;
CREATE VIEW lin.v_cte AS
  WITH c AS (SELECT id, upper(label) AS ul FROM lin.b) SELECT c.id, c.ul FROM c;
CREATE VIEW lin.v_recursive AS
  WITH RECURSIVE r(n, lbl) AS (
    SELECT id, label FROM lin.b
    UNION ALL SELECT n + 1, lbl FROM r WHERE n < 10)
  SELECT n, lbl FROM r;
CREATE VIEW lin.v_union AS
  SELECT id, name::text AS name FROM lin.a
  UNION SELECT id, label FROM lin.b
  UNION SELECT 0, 'none';
CREATE VIEW lin.v_cast AS
  SELECT id::bigint AS big, name::text AS txt, id AS same, CAST(amount AS int) AS rounded FROM lin.a;
CREATE VIEW lin.v_const AS
  SELECT 1 AS one, 'x'::text AS x, a.id, now() AS at FROM lin.a;
CREATE VIEW lin.v_over_view AS
  SELECT v.n, v.total + 1 AS t1 FROM lin.v_subquery v;
CREATE VIEW lin.v_sublinks AS
  SELECT a.id,
         (SELECT max(b.amount) FROM lin.b WHERE b.id = a.id) AS max_b,
         EXISTS (SELECT 1 FROM lin.b WHERE b.id = a.id) AS has_b,
         a.name IN (SELECT label FROM lin.b) AS listed
  FROM lin.a;
CREATE VIEW lin.v_group AS
  SELECT name, count(*) AS n, sum(amount) FILTER (WHERE id > 0) AS s FROM lin.a GROUP BY name;
CREATE VIEW lin.v_whole_row AS
  SELECT row_to_json(a) AS j FROM lin.a;
CREATE VIEW lin.v_lateral AS
  SELECT a.id, u.part FROM lin.a, LATERAL unnest(string_to_array(a.extra, ',')) AS u(part);
CREATE VIEW lin.v_values AS
  SELECT v.x, v.y FROM (VALUES (1, 'one'), (2, 'two')) AS v(x, y);
CREATE VIEW lin.v_odd AS
  SELECT o."col }{ \ x" AS "a (b) {c} \ ""d""", o.""" """ AS ":resno", 7 AS "<>"
  FROM lin."odd (tbl) {x}" o;
CREATE VIEW lin.v_sorted AS
  SELECT name FROM lin.a ORDER BY amount;
`

// TestViewColumnLineage reads real _RETURN rules from PostgreSQL 15 and
// checks their column lineage, resolved to names. In the expectations a
// source "rel.col" is Direct and "~rel.col" is computed.
func TestViewColumnLineage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := pgtest.New(t) // its own cluster: this is package crawler, the others are crawler_test
	s.Database(t, "pagila", "")
	if _, err := s.LoadFile(ctx, "pagila", pagilaSchema(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "pagila", lineageViewsSQL); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.DSN("pagila"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	tests := []struct {
		view string
		want map[string][]string // output column -> sources
	}{
		{"film_list", map[string][]string{
			"fid":         {"film.film_id"},
			"title":       {"film.title"},
			"description": {"film.description"},
			"category":    {"category.name"},
			"price":       {"film.rental_rate"},
			"length":      {"film.length"},
			"rating":      {"film.rating"},
			"actors":      {"~actor.first_name", "~actor.last_name"},
		}},
		{"actor_info", map[string][]string{
			"actor_id":   {"actor.actor_id"},
			"first_name": {"actor.first_name"},
			"last_name":  {"actor.last_name"},
			// The scalar subquery's output (film.title) counts; the columns
			// it filters on (film_category, film_actor) do not.
			"film_info": {"~category.name", "~film.title"},
		}},
		{"customer_list", map[string][]string{
			"id":       {"customer.customer_id"},
			"name":     {"~customer.first_name", "~customer.last_name"},
			"address":  {"address.address"},
			"zip code": {"address.postal_code"},
			"phone":    {"address.phone"},
			"city":     {"city.city"},
			"country":  {"country.country"},
			"notes":    {"~customer.activebool"},
			"sid":      {"customer.store_id"},
		}},
		{"sales_by_film_category", map[string][]string{
			"category":    {"category.name"},
			"total_sales": {"~payment.amount"}, // payment is partitioned: the parent is read
		}},
		{"rental_by_category", map[string][]string{ // materialized view
			"category":    {"category.name"},
			"total_sales": {"~payment.amount"},
		}},
		{"sales_by_store", map[string][]string{
			"store":       {"~city.city", "~country.country"},
			"manager":     {"~staff.first_name", "~staff.last_name"},
			"total_sales": {"~payment.amount"},
		}},
		{"lin.v_using", map[string][]string{
			"id":    {"lin.a.id"}, // the merged USING column of an inner join is its left input's
			"name":  {"lin.a.name"},
			"label": {"lin.b.label"},
		}},
		{"lin.v_full_using", map[string][]string{
			"id":    {"~lin.a.id", "~lin.b.id"}, // FULL JOIN USING merges with COALESCE
			"label": {"lin.b.label"},
		}},
		{"lin.v_subquery", map[string][]string{
			"n":     {"lin.a.name"},
			"total": {"~lin.a.amount"},
		}},
		{"lin.v_cte", map[string][]string{
			"id": {"lin.b.id"},
			"ul": {"~lin.b.label"},
		}},
		{"lin.v_recursive", map[string][]string{
			"n":   {"~lin.b.id"},   // n + 1 in the recursive term
			"lbl": {"lin.b.label"}, // passed through unchanged by both terms
		}},
		{"lin.v_union", map[string][]string{
			"id":   {"lin.a.id", "lin.b.id"},
			"name": {"~lin.a.name", "lin.b.label"}, // varchar::text is a RelabelType
		}},
		{"lin.v_cast", map[string][]string{
			"big":     {"~lin.a.id"},
			"txt":     {"~lin.a.name"},
			"same":    {"lin.a.id"},
			"rounded": {"~lin.a.amount"},
		}},
		{"lin.v_const", map[string][]string{
			"id": {"lin.a.id"},
		}},
		{"lin.v_over_view", map[string][]string{ // one hop: the inner view, not its tables
			"n":  {"lin.v_subquery.n"},
			"t1": {"~lin.v_subquery.total"},
		}},
		{"lin.v_sublinks", map[string][]string{
			"id":     {"lin.a.id"},
			"max_b":  {"~lin.b.amount"},
			"listed": {"~lin.a.name", "~lin.b.label"},
		}},
		{"lin.v_group", map[string][]string{
			"name": {"lin.a.name"},
			"s":    {"~lin.a.amount", "~lin.a.id"}, // the aggregate's FILTER reads id
		}},
		{"lin.v_whole_row", map[string][]string{
			"j": {"~lin.a.id", "~lin.a.name", "~lin.a.amount", "~lin.a.extra"},
		}},
		{"lin.v_lateral", map[string][]string{
			"id":   {"lin.a.id"},
			"part": {"~lin.a.extra"},
		}},
		{"lin.v_values", map[string][]string{}},
		{"lin.v_odd", map[string][]string{
			`a (b) {c} \ "d"`: {`lin."odd (tbl) {x}".col }{ \ x`},
			":resno":          {`lin."odd (tbl) {x}"." "`},
		}},
		{"lin.v_sorted", map[string][]string{
			"name": {"lin.a.name"}, // the ORDER BY column is a junk entry
		}},
	}
	for _, tc := range tests {
		t.Run(tc.view, func(t *testing.T) {
			var evAction string
			err := conn.QueryRow(ctx, `SELECT ev_action::text FROM pg_rewrite
				WHERE ev_class = $1::regclass AND rulename = '_RETURN'`, tc.view).Scan(&evAction)
			if err != nil {
				t.Fatal(err)
			}
			lineage, err := ViewColumnLineage(evAction)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for resno, srcs := range lineage {
				col := attName(ctx, t, conn, tc.view, resno)
				var names []string
				for _, src := range srcs {
					rel := relName(ctx, t, conn, src.Relid)
					name := rel + "." + attName(ctx, t, conn, rel, int(src.Attnum))
					if !src.Direct {
						name = "~" + name
					}
					names = append(names, name)
				}
				slices.Sort(names)
				got[col] = names
			}
			want := map[string][]string{}
			for col, srcs := range tc.want {
				want[col] = slices.Sorted(slices.Values(srcs))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("lineage of %s:\n got %v\nwant %v", tc.view, got, want)
			}
		})
	}
}

func relName(ctx context.Context, t *testing.T, conn *pgx.Conn, relid uint32) string {
	t.Helper()
	var name string
	if err := conn.QueryRow(ctx, "SELECT $1::oid::regclass::text", relid).Scan(&name); err != nil {
		t.Fatalf("relation %d: %v", relid, err)
	}
	return name
}

func attName(ctx context.Context, t *testing.T, conn *pgx.Conn, rel string, attnum int) string {
	t.Helper()
	var name string
	err := conn.QueryRow(ctx, `SELECT attname FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum = $2 AND NOT attisdropped`, rel, attnum).Scan(&name)
	if err != nil {
		t.Fatalf("column %d of %s: %v", attnum, rel, err)
	}
	return name
}

// TestPGNodeTreeParse checks the reader on hand-written trees: escapes,
// empty tokens, typed lists and multi-token values.
func TestPGNodeTreeParse(t *testing.T) {
	tree, err := parsePGNodeTree(`({QUERY :name a\ b\(c\)\\ :quoted "\"x\ y\}" :empty "" :null <>` +
		` :ints (i 1 -2) :bms (b) :datum 4 [ 1 0 0 0 ] :list ({A :x 1} <> {B}) :neg -3})`)
	if err != nil {
		t.Fatal(err)
	}
	q := firstQuery(tree)
	if q == nil {
		t.Fatal("no QUERY")
	}
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"name", q.str("name"), `a b(c)\`},
		{"quoted", q.str("quoted"), `"x y}`},
		{"empty", q.str("empty"), ""},
		{"null", q.field("null"), nil},
		{"ints", q.field("ints"), pgList{pgToken("i"), pgToken("1"), pgToken("-2")}},
		{"bms", q.field("bms"), pgList{pgToken("b")}},
		{"datum", len(q.field("datum").(pgSeq)), 7},
		{"list", len(q.list("list")), 3},
		{"list[1]", q.list("list")[1], nil},
		{"list[2]", q.list("list")[2].(*pgNode).name, "B"},
		{"neg", fmt.Sprint(q.integer("neg")), "-3 true"},
		{"names", strings.Join(q.names, ","), "name,quoted,empty,null,ints,bms,datum,list,neg"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.field, c.got, c.want)
		}
	}
}

// TestPGNodeTreeHandWritten resolves a tree with node types and fields the
// resolver does not know, a set operation and a PG 18 style GROUP entry.
func TestPGNodeTreeHandWritten(t *testing.T) {
	const rel = `{RANGETBLENTRY :alias <> :eref {ALIAS :aliasname t :colnames ("a" "" "c")} :rtekind 0 :relid 100 :relkind r :future_field (x 1)}`
	tree := `({QUERY :commandType 1 :rtable (` + rel + `
		{RANGETBLENTRY :rtekind 9 :groupexprs ({VAR :varno 1 :varattno 3 :varlevelsup 0} {FUTUREEXPR :arg {VAR :varno 1 :varattno 1 :varlevelsup 0}})})
		:targetList (
			{TARGETENTRY :expr {VAR :varno 2 :varattno 1 :varlevelsup 0} :resno 1 :resname c :resjunk false}
			{TARGETENTRY :expr {VAR :varno 2 :varattno 2 :varlevelsup 0} :resno 2 :resname fa :resjunk false}
			{TARGETENTRY :expr {VAR :varno 1 :varattno 0 :varlevelsup 0} :resno 3 :resname whole :resjunk false}
			{TARGETENTRY :expr {VAR :varno 1 :varattno 1 :varlevelsup 0} :resno 4 :resname junk :resjunk true}
			{TARGETENTRY :expr {VAR :varno 9 :varattno 1 :varlevelsup 0} :resno 5 :resname outofrange :resjunk false}
			{TARGETENTRY :expr {VAR :varno 1 :varattno 1 :varlevelsup 3} :resno 6 :resname toodeep :resjunk false}
		)})`
	got, err := ViewColumnLineage(tree)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]ColumnSource{
		1: {{Relid: 100, Attnum: 3, Direct: true}},
		2: {{Relid: 100, Attnum: 1}},
		3: {{Relid: 100, Attnum: 1}, {Relid: 100, Attnum: 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	union := `({QUERY :rtable (
		{RANGETBLENTRY :rtekind 1 :subquery {QUERY :rtable (` + rel + `) :targetList ({TARGETENTRY :expr {VAR :varno 1 :varattno 1 :varlevelsup 0} :resno 1 :resjunk false})}}
		{RANGETBLENTRY :rtekind 1 :subquery {QUERY :rtable (` + strings.Replace(rel, ":relid 100", ":relid 200", 1) + `) :targetList ({TARGETENTRY :expr {FUNCEXPR :args ({VAR :varno 1 :varattno 3 :varlevelsup 0})} :resno 1 :resjunk false})}})
		:targetList ({TARGETENTRY :expr {VAR :varno 1 :varattno 1 :varlevelsup 0} :resno 1 :resjunk false})
		:setOperations {SETOPERATIONSTMT :op 1 :all false :larg {RANGETBLREF :rtindex 1} :rarg {RANGETBLREF :rtindex 2}}})`
	got, err = ViewColumnLineage(union)
	if err != nil {
		t.Fatal(err)
	}
	want = map[int][]ColumnSource{1: {{Relid: 100, Attnum: 1, Direct: true}, {Relid: 200, Attnum: 3}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("union: got %v, want %v", got, want)
	}
}

func TestPGNodeTreeMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"   \n",
		"({QUERY :targetList (",
		"({QUERY :rtable ()",
		"({QUERY})}",
		"({QUERY}) extra",
		")",
		"({ :x 1})",
		"({<> :x 1})",
		"(1 2 3)",              // well formed, but no Query
		"{RANGETBLENTRY :x 1}", // likewise
	} {
		if got, err := ViewColumnLineage(in); err == nil {
			t.Errorf("ViewColumnLineage(%q) = %v, want an error", in, got)
		}
	}
	// A Query with no columns is well formed.
	if got, err := ViewColumnLineage("({QUERY :commandType 1 :targetList <>})"); err != nil || len(got) != 0 {
		t.Errorf("empty query: got %v, %v", got, err)
	}
}
