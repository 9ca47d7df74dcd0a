package crawler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// pg is one throwaway cluster for the package's tests, with the fixture
// schemas loaded: pagila (schema and data), chinook, northwind,
// adventureworks (schema only).
var pg *pgtest.Server

const fixtures = "../../shared/fixtures/postgres"

func TestMain(m *testing.M) {
	ctx := context.Background()
	var err error
	if pg, err = pgtest.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer pg.Stop()
		defer stopMariaDB()
		if err := pg.LoadFixtures(ctx, fixtures); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.MustOpen(t, &store.Options{NoSync: true})
}

func crawl(t testing.TB, st *store.Store, dsn string, o crawler.Options) *crawler.Result {
	t.Helper()
	res, err := crawler.CrawlPostgres(context.Background(), st, dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ns() string { return fmt.Sprintf("postgres://127.0.0.1:%d", pg.Port) }

func dataset(t testing.TB, st *store.Store, name string) *quarry.Dataset {
	t.Helper()
	d, err := st.DatasetByName(context.Background(), ns(), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func columnNames(d *quarry.Dataset) []string {
	var out []string
	for _, c := range d.Columns {
		out = append(out, c.Name)
	}
	return out
}

func TestPagila(t *testing.T) {
	st := openStore(t)
	res := crawl(t, st, pg.DSN("pagila"), crawler.Options{Source: "pagila"})
	// 15 tables (payment's 7 partitions are not datasets), 7 views, 1 materialized view.
	if res.Datasets != 23 || res.New != 23 || res.Removed != 0 || res.Skipped != 0 {
		t.Fatalf("result = %+v", res)
	}
	if res.Namespace != ns() {
		t.Fatalf("namespace = %s", res.Namespace)
	}

	t.Run("PartitionedPayment", func(t *testing.T) {
		d := dataset(t, st, "pagila.public.payment")
		want := []string{"public.payment_p2022_01", "public.payment_p2022_02", "public.payment_p2022_03", "public.payment_p2022_04", "public.payment_p2022_05", "public.payment_p2022_06", "public.payment_p2022_07"}
		if d.Kind != quarry.KindTable || !slices.Equal(d.Partitions, want) {
			t.Fatalf("payment: kind %s partitions %v", d.Kind, d.Partitions)
		}
		if _, err := st.DatasetByName(context.Background(), ns(), "pagila.public.payment_p2022_01"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
			t.Fatalf("a partition is a dataset of its own: %v", err)
		}
		// Rows and counters roll up from the partitions (16,049 payments).
		if d.RowCount == nil || *d.RowCount < 16000 || d.Stats == nil || d.Stats.Inserts < 16000 {
			t.Fatalf("payment rows %v stats %+v", d.RowCount, d.Stats)
		}
		if !slices.Equal(columnNames(d), []string{"payment_id", "customer_id", "staff_id", "rental_id", "amount", "payment_date"}) {
			t.Fatalf("payment columns = %v", columnNames(d))
		}
	})
	t.Run("MaterializedViewWithNoData", func(t *testing.T) {
		d := dataset(t, st, "pagila.public.rental_by_category")
		if d.Kind != quarry.KindMaterializedView || !slices.Equal(columnNames(d), []string{"category", "total_sales"}) {
			t.Fatalf("rental_by_category: %s %v", d.Kind, columnNames(d))
		}
		if d.Columns[1].Type != "numeric" {
			t.Fatalf("total_sales type %q", d.Columns[1].Type)
		}
	})
	t.Run("ViewLineage", func(t *testing.T) {
		d := dataset(t, st, "pagila.public.film_list")
		if d.Kind != quarry.KindView {
			t.Fatalf("kind %s", d.Kind)
		}
		edges, err := st.Edges(context.Background(), d.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		tables := map[string]bool{}
		var titleFromFilm, actorsComputed bool
		for _, e := range edges {
			if e.Origin != quarry.OriginCatalog || e.To != d.ID {
				t.Fatalf("edge %+v", e)
			}
			from := datasetName(t, st, e.From)
			if e.FromColumn == "" && e.ToColumn == "" {
				tables[from] = true
			}
			if e.ToColumn == "title" && from == "pagila.public.film" && e.FromColumn == "title" && e.Transformation == "DIRECT/IDENTITY" {
				titleFromFilm = true
			}
			if e.ToColumn == "actors" && from == "pagila.public.actor" && e.FromColumn == "first_name" && e.Transformation == "DIRECT/TRANSFORMATION" {
				actorsComputed = true
			}
		}
		for _, want := range []string{"pagila.public.film", "pagila.public.category", "pagila.public.film_category", "pagila.public.film_actor", "pagila.public.actor"} {
			if !tables[want] {
				t.Errorf("film_list has no table-level edge from %s (has %v)", want, tables)
			}
		}
		if !titleFromFilm || !actorsComputed {
			t.Errorf("column lineage: title<-film.title %v, actors<-actor.first_name computed %v", titleFromFilm, actorsComputed)
		}
		// Downstream of film: the views that read it.
		film := dataset(t, st, "pagila.public.film")
		down, _ := st.Edges(context.Background(), film.ID, false)
		if len(down) == 0 {
			t.Fatal("film has no downstream edges")
		}
	})
	t.Run("ForeignKeys", func(t *testing.T) {
		d := dataset(t, st, "pagila.public.rental")
		col := d.Column("inventory_id")
		if col == nil || col.ForeignKey == nil || col.ForeignKey.Name != "pagila.public.inventory" || col.ForeignKey.Column != "inventory_id" {
			t.Fatalf("rental.inventory_id = %+v", col)
		}
		var fk *quarry.Constraint
		for i, c := range d.Constraints {
			if c.Kind == quarry.ConstraintForeignKey && slices.Equal(c.Columns, []string{"customer_id"}) {
				fk = &d.Constraints[i]
			}
		}
		if fk == nil || fk.References.Name != "pagila.public.customer" || !slices.Equal(fk.References.Columns, []string{"customer_id"}) {
			t.Fatalf("rental constraints = %+v", d.Constraints)
		}
		if pk := d.Column("rental_id"); !pk.PrimaryKey || pk.Nullable {
			t.Fatalf("rental_id = %+v", pk)
		}
		if def := d.Column("rental_id").Default; !strings.Contains(def, "nextval") {
			t.Fatalf("rental_id default %q", def)
		}
	})
	t.Run("Types", func(t *testing.T) {
		film := dataset(t, st, "pagila.public.film")
		for name, typ := range map[string]string{"title": "text", "release_year": "year", "rental_rate": "numeric(4,2)", "rating": "mpaa_rating", "special_features": "text[]", "fulltext": "tsvector"} {
			if c := film.Column(name); c == nil || c.Type != typ {
				t.Errorf("film.%s = %+v, want type %s", name, c, typ)
			}
		}
	})
	t.Run("Recrawl", func(t *testing.T) {
		again := crawl(t, st, pg.DSN("pagila"), crawler.Options{Source: "pagila"})
		if again.New != 0 || again.Changed != 0 || again.Removed != 0 || again.Datasets != 23 {
			t.Fatalf("recrawl of an unchanged database: %+v", again)
		}
	})
}

func datasetName(t testing.TB, st *store.Store, id string) string {
	t.Helper()
	d, err := st.Dataset(context.Background(), id)
	if err != nil {
		return "?" + id
	}
	return d.Name
}

// TestAdventureWorksDescriptions checks every COMMENT ON TABLE and COMMENT
// ON COLUMN in the fixture against what the crawl stored.
func TestAdventureWorksDescriptions(t *testing.T) {
	st := openStore(t)
	res := crawl(t, st, pg.DSN("adventureworks"), crawler.Options{})
	if res.Datasets < 68+87 {
		t.Fatalf("crawled %d datasets, want the 68 tables and 87 views at least", res.Datasets)
	}
	sql, err := os.ReadFile(filepath.Join(fixtures, "adventureworks/schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	// The file is UTF-8 but sets client_encoding to latin1 before its
	// comments, so the server reads each byte as a Latin-1 character (and
	// stores "RÃ©sumÃ©s"). The crawl must report what the server holds.
	_, comments, ok := strings.Cut(string(sql), "SET CLIENT_ENCODING=latin1;")
	if !ok {
		t.Fatal("the fixture no longer sets latin1; drop the conversion below")
	}
	latin1 := func(s string) string {
		r := make([]rune, len(s))
		for i := 0; i < len(s); i++ {
			r[i] = rune(s[i])
		}
		return string(r)
	}
	re := regexp.MustCompile(`(?m)^\s*COMMENT ON (TABLE|COLUMN) ([\w.]+) IS '((?:[^']|'')*)';`)
	matches := re.FindAllStringSubmatch(comments, -1)
	if len(matches) < 400 {
		t.Fatalf("found %d comments in the fixture", len(matches))
	}
	for _, m := range matches {
		parts := strings.Split(strings.ToLower(m[2]), ".")
		want := latin1(strings.ReplaceAll(m[3], "''", "'"))
		switch m[1] {
		case "TABLE":
			d := dataset(t, st, "adventureworks."+parts[0]+"."+parts[1])
			if d.Description() != want {
				t.Errorf("%s: description %q, want %q", d.Name, d.Description(), want)
			}
		case "COLUMN":
			d := dataset(t, st, "adventureworks."+parts[0]+"."+parts[1])
			c := d.Column(parts[2])
			if c == nil || c.Description != want {
				t.Errorf("%s.%s: %+v, want description %q", d.Name, parts[2], c, want)
			}
		}
	}
}

func TestChinookAndNorthwind(t *testing.T) {
	st := openStore(t)
	chinook := crawl(t, st, pg.DSN("chinook"), crawler.Options{})
	if chinook.Datasets != 11 {
		t.Fatalf("chinook: %+v", chinook)
	}
	northwind := crawl(t, st, pg.DSN("northwind"), crawler.Options{})
	if northwind.Datasets != 14 {
		t.Fatalf("northwind: %+v", northwind)
	}
	line := dataset(t, st, "chinook.public.invoice_line")
	if fk := line.Column("track_id").ForeignKey; fk == nil || fk.Name != "chinook.public.track" || fk.Column != "track_id" {
		t.Fatalf("invoice_line.track_id fk = %+v", fk)
	}
	od := dataset(t, st, "northwind.public.order_details")
	var pk []string
	for _, c := range od.Columns {
		if c.PrimaryKey {
			pk = append(pk, c.Name)
		}
	}
	if !slices.Equal(pk, []string{"order_id", "product_id"}) {
		t.Fatalf("order_details primary key = %v", pk)
	}
	if fk := od.Column("product_id").ForeignKey; fk == nil || fk.Name != "northwind.public.products" {
		t.Fatalf("order_details.product_id fk = %+v", fk)
	}
}

// TestSchemaChanges crawls a database, changes it, and crawls again.
func TestSchemaChanges(t *testing.T) {
	ctx := context.Background()
	db := "evolve"
	pg.Database(t, db, "")
	exec := func(sql string) {
		t.Helper()
		if err := pg.Exec(ctx, db, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE SCHEMA sales;
		CREATE TABLE sales.orders (id bigint PRIMARY KEY, amount integer NOT NULL, note text);
		CREATE TABLE sales.customers (id bigint PRIMARY KEY, name text);
		CREATE TABLE sales.tmp (x int);
		CREATE VIEW sales.big_orders AS SELECT id FROM sales.orders WHERE id > 100;`)
	st := openStore(t)
	crawl(t, st, pg.DSN(db), crawler.Options{})
	orders := dataset(t, st, db+".sales.orders")

	exec(`ALTER TABLE sales.orders ADD COLUMN currency char(3);
		ALTER TABLE sales.orders ALTER COLUMN amount TYPE numeric(12,2);
		ALTER TABLE sales.orders ALTER COLUMN note SET NOT NULL;
		COMMENT ON COLUMN sales.orders.amount IS 'Order total.';
		DROP TABLE sales.tmp;`)
	res := crawl(t, st, pg.DSN(db), crawler.Options{})
	if res.Changed != 1 || res.Removed != 1 || res.New != 0 {
		t.Fatalf("second crawl: %+v", res)
	}
	wantHistory(t, st, orders.ID,
		"TYPE_CHANGED amount integer->numeric(12,2)",
		"DESCRIPTION_CHANGED amount ->Order total.",
		"NULLABILITY_CHANGED note null->not null",
		"COLUMN_ADDED currency ->character(3)",
		"DATASET_CREATED  ->TABLE",
	)
	tmp := dataset(t, st, db+".sales.tmp")
	if !tmp.Removed() {
		t.Fatal("a dropped table is not marked removed")
	}

	t.Run("FailedCrawlRemovesNothing", func(t *testing.T) {
		exec(`DROP VIEW sales.big_orders; DROP TABLE sales.customers;`)
		wrong := strings.Replace(pg.DSN(db), pgtest.Password, "wrong", 1)
		_, err := crawler.CrawlPostgres(ctx, st, wrong, crawler.Options{})
		if err == nil || !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("wrong password: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := crawler.CrawlPostgres(cctx, st, pg.DSN(db), crawler.Options{}); err == nil {
			t.Fatal("a cancelled crawl succeeded")
		}
		if dataset(t, st, db+".sales.customers").Removed() {
			t.Fatal("a failed crawl removed a dataset")
		}
		crawl(t, st, pg.DSN(db), crawler.Options{})
		if !dataset(t, st, db+".sales.customers").Removed() || !dataset(t, st, db+".sales.big_orders").Removed() {
			t.Fatal("the next complete crawl did not remove them")
		}
	})
	t.Run("ComesBack", func(t *testing.T) {
		exec(`CREATE TABLE sales.tmp (x int, y text);`)
		res := crawl(t, st, pg.DSN(db), crawler.Options{})
		if res.Restored != 1 {
			t.Fatalf("crawl: %+v", res)
		}
		d := dataset(t, st, db+".sales.tmp")
		hist, _ := st.SchemaHistory(ctx, d.ID)
		if d.Removed() || len(hist) < 3 || hist[0].Kind != quarry.DatasetRestored || hist[1].Kind != quarry.ColumnAdded || hist[1].Column != "y" {
			t.Fatalf("restored: removed=%v history %+v", d.Removed(), hist)
		}
	})
	t.Run("ScopeLimitsRemoval", func(t *testing.T) {
		exec(`CREATE SCHEMA other; CREATE TABLE other.t (id int);`)
		crawl(t, st, pg.DSN(db), crawler.Options{})
		res := crawl(t, st, pg.DSN(db), crawler.Options{Include: []string{"sales"}})
		if res.Removed != 0 || dataset(t, st, db+".other.t").Removed() {
			t.Fatalf("a crawl limited to sales removed other.t: %+v", res)
		}
		res = crawl(t, st, pg.DSN(db), crawler.Options{Exclude: []string{"oth*"}})
		if res.Removed != 0 || res.Datasets != 2 {
			t.Fatalf("exclude: %+v", res)
		}
	})
}

func TestForeignTable(t *testing.T) {
	db := "fdw"
	// file_fdw comes with PostgreSQL's contrib, as on Debian's server package.
	pg.Database(t, db, `CREATE EXTENSION file_fdw;
		CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
		CREATE FOREIGN TABLE exports (id int NOT NULL, amount numeric(10,2)) SERVER files OPTIONS (filename '/nonexistent.csv', format 'csv');
		COMMENT ON FOREIGN TABLE exports IS 'Nightly CSV export.';`)
	st := openStore(t)
	crawl(t, st, pg.DSN(db), crawler.Options{})
	d := dataset(t, st, db+".public.exports")
	if d.Kind != quarry.KindExternal || d.Description() != "Nightly CSV export." || !slices.Equal(columnNames(d), []string{"id", "amount"}) || d.Columns[0].Nullable {
		t.Fatalf("foreign table: %+v", d)
	}
}

func TestDataChangeObservations(t *testing.T) {
	ctx := context.Background()
	db := "activity"
	pg.Database(t, db, `CREATE TABLE events (id serial PRIMARY KEY, v int)`)
	st := openStore(t)
	clock := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	crawl(t, st, pg.DSN(db), crawler.Options{})
	d := dataset(t, st, db+".public.events")
	if d.LastUpdatedAt != nil {
		t.Fatalf("first crawl claims a data change at %v", d.LastUpdatedAt)
	}
	insert := func() {
		conn, err := pgx.Connect(ctx, pg.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `INSERT INTO events (v) SELECT g FROM generate_series(1, 50) g`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
	}
	insert()
	// Counters reach pg_stat_user_tables asynchronously; wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		crawl(t, st, pg.DSN(db), crawler.Options{Now: func() time.Time { return clock }})
		if d = dataset(t, st, db+".public.events"); d.LastUpdatedAt != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if d.LastUpdatedAt == nil || d.Stats.Inserts < 50 {
		t.Fatalf("inserts did not register as a data change: %+v", d.Stats)
	}
	changes, err := st.DataChanges(ctx, d.ID, 10)
	if err != nil || len(changes) != 1 || changes[0].Signal != quarry.SignalCrawler || !strings.Contains(changes[0].Detail, "+50 inserts") {
		t.Fatalf("data changes = %+v, %v", changes, err)
	}
	// A crawl without new activity observes nothing.
	crawl(t, st, pg.DSN(db), crawler.Options{})
	if again, _ := st.DataChanges(ctx, d.ID, 10); len(again) != 1 {
		t.Fatalf("data changes after an idle crawl = %+v", again)
	}
}

// TestSafeOnProduction checks that a crawl needs only CONNECT and USAGE,
// counts what it may not see, and takes no lock on user relations: it
// completes while another session holds ACCESS EXCLUSIVE locks.
func TestSafeOnProduction(t *testing.T) {
	ctx := context.Background()
	db := "prod"
	pg.Database(t, db, `
		CREATE SCHEMA app; CREATE SCHEMA secret;
		CREATE TABLE app.accounts (id int PRIMARY KEY, owner text DEFAULT current_user);
		CREATE VIEW app.account_ids AS SELECT id FROM app.accounts;
		CREATE TABLE secret.keys (k text);
		CREATE ROLE reader LOGIN PASSWORD 'reader-pw';
		REVOKE ALL ON SCHEMA public FROM PUBLIC;
		GRANT USAGE ON SCHEMA app TO reader;`)
	locker, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE app.accounts, app.account_ids, secret.keys IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	st := openStore(t)
	dsn := fmt.Sprintf("postgres://reader:reader-pw@127.0.0.1:%d/%s?sslmode=disable", pg.Port, db)
	res := crawl(t, st, dsn, crawler.Options{LockTimeout: 100 * time.Millisecond})
	if res.Datasets != 2 || res.Skipped != 1 {
		t.Fatalf("crawl as reader under exclusive locks: %+v", res)
	}
	if c := dataset(t, st, db+".app.accounts").Column("owner"); c.Default != "CURRENT_USER" {
		t.Fatalf("default = %q", c.Default)
	}
	// Seen but skipped: a later crawl with more rights does not find it "new
	// after removal", and this one did not remove it.
	if _, err := st.DatasetByName(ctx, ns(), db+".secret.keys"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("secret.keys stored: %v", err)
	}
	// View definitions are read only when asked, because they take a lock.
	if _, err := crawler.CrawlPostgres(ctx, st, dsn, crawler.Options{LockTimeout: 100 * time.Millisecond, ViewDefinitions: true}); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("with view definitions under an exclusive lock: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	st := openStore(t)
	_, err := crawler.CrawlPostgres(context.Background(), st, "postgres://u:topsecret@127.0.0.1:1/db?connect_timeout=2", crawler.Options{})
	if err == nil || !strings.Contains(err.Error(), "connect to 127.0.0.1:1/db") || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("unreachable: %v", err)
	}
	if page, _ := st.ListDatasets(context.Background(), store.ListOptions{IncludeRemoved: true}); page.Total != 0 {
		t.Fatal("an unreachable crawl stored datasets")
	}
	if _, err := crawler.CrawlPostgres(context.Background(), st, "postgres://u:pw@host:5432", crawler.Options{}); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Fatalf("a DSN without a database: %v", err)
	}
}

func TestAllDatabases(t *testing.T) {
	st := openStore(t)
	res := crawl(t, st, pg.DSN("postgres"), crawler.Options{AllDatabases: true})
	for _, db := range []string{"pagila", "chinook", "northwind", "adventureworks"} {
		if !slices.Contains(res.Databases, db) {
			t.Errorf("databases = %v, missing %s", res.Databases, db)
		}
	}
	dataset(t, st, "chinook.public.artist")
}

// wantHistory fails t unless the schema history of dataset id is want,
// newest first, each change as "KIND column old->new".
func wantHistory(t *testing.T, st *store.Store, id string, want ...string) {
	t.Helper()
	hist, err := st.SchemaHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, fmt.Sprintf("%s %s %s->%s", h.Kind, h.Column, h.Old, h.New))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
