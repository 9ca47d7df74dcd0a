package crawler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/mysqltest"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
)

// The package's MariaDB server, started by the first test that needs it,
// with performance_schema on and the fixtures loaded (sakila with its
// data, Chinook); TestMain stops it.
var (
	mariaOnce sync.Once
	maria     *mysqltest.Server
	mariaErr  error
)

const mysqlFixtures = "../../shared/fixtures/mysql"

func mariaDB(t testing.TB) *mysqltest.Server {
	t.Helper()
	mariaOnce.Do(func() {
		ctx := context.Background()
		maria, mariaErr = mysqltest.Start(ctx, &mysqltest.Options{PerformanceSchema: true})
		if mariaErr != nil {
			return
		}
		mariaErr = maria.LoadFixtures(ctx, mysqlFixtures)
	})
	if mariaErr != nil {
		t.Fatal(mariaErr)
	}
	return maria
}

// stopMariaDB stops the package's MariaDB server, if a test started it.
func stopMariaDB() {
	if maria != nil {
		maria.Stop()
	}
	if myBench != nil {
		myBench.Stop()
	}
}

func crawlMySQL(t testing.TB, st *store.Store, dsn string, o crawler.Options) *crawler.Result {
	t.Helper()
	res, err := crawler.CrawlMySQL(context.Background(), st, dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func myDataset(t testing.TB, st *store.Store, name string) *quarry.Dataset {
	t.Helper()
	d, err := st.DatasetByName(context.Background(), maria.Namespace(), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// upstream returns a view's catalog edges as "from" (table level),
// "from.col -> col TRANSFORMATION" (column level) and "from.col INDIRECT...".
func upstream(t testing.TB, st *store.Store, d *quarry.Dataset) []string {
	t.Helper()
	edges, err := st.Edges(context.Background(), d.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range edges {
		if e.Origin != quarry.OriginCatalog || e.To != d.ID {
			t.Fatalf("edge %+v", e)
		}
		from := datasetName(t, st, e.From)
		switch {
		case e.FromColumn == "":
			out = append(out, from)
		case e.ToColumn == "":
			out = append(out, from+"."+e.FromColumn+" "+e.Transformation)
		default:
			out = append(out, from+"."+e.FromColumn+" -> "+e.ToColumn+" "+e.Transformation)
		}
	}
	slices.Sort(out)
	return out
}

func TestMySQLSakila(t *testing.T) {
	my := mariaDB(t)
	st := openStore(t)
	res := crawlMySQL(t, st, my.DSN("sakila"), crawler.Options{Source: "sakila"})
	// SOURCES.md: 16 tables and 7 views; 89 columns in the tables, 131 with the views'.
	if res.Datasets != 23 || res.New != 23 || res.Removed != 0 || res.Skipped != 0 || res.Columns != 131 || res.ViewsUnparsed != 0 {
		t.Fatalf("result = %+v", res)
	}
	if res.Namespace != my.Namespace() || !slices.Equal(res.Databases, []string{"sakila"}) {
		t.Fatalf("namespace %s databases %v", res.Namespace, res.Databases)
	}
	page, err := st.ListDatasets(context.Background(), store.ListOptions{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	var tables, views, fks int
	for _, d := range page.Datasets {
		switch d.Kind {
		case quarry.KindTable:
			tables++
		case quarry.KindView:
			views++
		}
		for _, c := range d.Constraints {
			if c.Kind == quarry.ConstraintForeignKey {
				fks++
			}
		}
	}
	if tables != 16 || views != 7 || fks != 22 {
		t.Fatalf("%d tables, %d views, %d foreign keys; want 16, 7, 22", tables, views, fks)
	}

	t.Run("Address", func(t *testing.T) {
		d := myDataset(t, st, "sakila.address")
		// Under MariaDB the GEOMETRY column sits in a version comment it does not run.
		want := []string{"address_id", "address", "address2", "district", "city_id", "postal_code", "phone", "last_update"}
		if !slices.Equal(columnNames(d), want) {
			t.Fatalf("address columns %v", columnNames(d))
		}
		id := d.Column("address_id")
		if id.Type != "smallint(5) unsigned" || !id.PrimaryKey || id.Nullable || id.Default != "AUTO_INCREMENT" || id.Ordinal != 1 {
			t.Fatalf("address_id = %+v", id)
		}
		if lu := d.Column("last_update"); !strings.Contains(lu.Default, "current_timestamp") || !strings.Contains(lu.Default, "ON UPDATE") {
			t.Fatalf("last_update default %q", lu.Default)
		}
		if d.Column("address2").Default != "" || !d.Column("address2").Nullable {
			t.Fatalf("address2 = %+v", d.Column("address2"))
		}
		if d.RowCount == nil || *d.RowCount < 500 || d.SizeBytes == nil || *d.SizeBytes <= 0 || d.Stats == nil || d.Stats.Engine != "InnoDB" || d.Stats.TableCreatedAt == nil {
			t.Fatalf("address rows %v size %v stats %+v", d.RowCount, d.SizeBytes, d.Stats)
		}
	})
	t.Run("Types", func(t *testing.T) {
		film := myDataset(t, st, "sakila.film")
		for name, typ := range map[string]string{
			"rating":           "enum('G','PG','PG-13','R','NC-17')",
			"special_features": "set('Trailers','Commentaries','Deleted Scenes','Behind the Scenes')",
			"rental_rate":      "decimal(4,2)",
			"release_year":     "year(4)",
			"film_id":          "smallint(5) unsigned",
		} {
			if c := film.Column(name); c == nil || c.Type != typ {
				t.Errorf("film.%s = %+v, want type %s", name, c, typ)
			}
		}
		if c := film.Column("rating"); c.Default != "'G'" {
			t.Errorf("rating default %q", c.Default)
		}
	})
	t.Run("ForeignKeys", func(t *testing.T) {
		d := myDataset(t, st, "sakila.film_actor")
		for col, ref := range map[string]string{"actor_id": "sakila.actor", "film_id": "sakila.film"} {
			c := d.Column(col)
			if c == nil || c.ForeignKey == nil || c.ForeignKey.Name != ref || c.ForeignKey.Column != col || c.ForeignKey.Namespace != my.Namespace() || !c.PrimaryKey {
				t.Fatalf("film_actor.%s = %+v", col, c)
			}
		}
		var pk *quarry.Constraint
		for i, c := range d.Constraints {
			if c.Kind == quarry.ConstraintPrimaryKey {
				pk = &d.Constraints[i]
			}
		}
		if pk == nil || !slices.Equal(pk.Columns, []string{"actor_id", "film_id"}) {
			t.Fatalf("film_actor constraints %+v", d.Constraints)
		}
		payment := myDataset(t, st, "sakila.payment")
		if c := payment.Column("rental_id"); c.ForeignKey == nil || c.ForeignKey.Name != "sakila.rental" || c.ForeignKey.Column != "rental_id" {
			t.Fatalf("payment.rental_id = %+v", c)
		}
		// A unique key on one column marks it.
		if c := myDataset(t, st, "sakila.staff").Column("staff_id"); !c.PrimaryKey {
			t.Fatalf("staff.staff_id = %+v", c)
		}
		if c := myDataset(t, st, "sakila.store").Column("manager_staff_id"); !c.Unique {
			t.Fatalf("store.manager_staff_id = %+v", c)
		}
	})
	t.Run("Views", func(t *testing.T) {
		d := myDataset(t, st, "sakila.sales_by_store")
		if d.Kind != quarry.KindView || d.Description() != "" || d.RowCount != nil || d.Stats != nil || !strings.Contains(d.Definition, "`sakila`.`payment`") {
			t.Fatalf("sales_by_store: %+v", d)
		}
		got := upstream(t, st, d)
		for _, want := range []string{"sakila.payment", "sakila.rental", "sakila.inventory", "sakila.store", "sakila.address", "sakila.city", "sakila.country", "sakila.staff"} {
			if !slices.Contains(got, want) {
				t.Errorf("sales_by_store has no table-level edge from %s (has %v)", want, got)
			}
		}
		fl := upstream(t, st, myDataset(t, st, "sakila.film_list"))
		for _, want := range []string{"sakila.film", "sakila.category", "sakila.film_category", "sakila.film_actor", "sakila.actor"} {
			if !slices.Contains(fl, want) {
				t.Errorf("film_list has no table-level edge from %s (has %v)", want, fl)
			}
		}
		// Column lineage from the views' SQL, as the PostgreSQL crawler
		// records it: DIRECT into the view's columns, INDIRECT (no target
		// column) from the join keys.
		for view, want := range map[string][]string{
			"sakila.film_list": {
				"sakila.actor.first_name -> actors DIRECT/AGGREGATION", "sakila.actor.last_name -> actors DIRECT/AGGREGATION",
				"sakila.film.title -> title DIRECT/IDENTITY", "sakila.category.name -> category DIRECT/IDENTITY",
				"sakila.film.rental_rate -> price DIRECT/IDENTITY",
				"sakila.film_actor.actor_id INDIRECT/JOIN", "sakila.actor.actor_id INDIRECT/JOIN", "sakila.film_category.category_id INDIRECT/JOIN",
			},
			"sakila.nicer_but_slower_film_list": {
				"sakila.actor.first_name -> actors DIRECT/AGGREGATION", "sakila.actor.last_name -> actors DIRECT/AGGREGATION",
				"sakila.film.title -> title DIRECT/IDENTITY", "sakila.film_actor.film_id INDIRECT/JOIN",
			},
			"sakila.sales_by_store": {
				"sakila.payment.amount -> total_sales DIRECT/AGGREGATION", "sakila.city.city -> store DIRECT/TRANSFORMATION",
				"sakila.staff.first_name -> manager DIRECT/TRANSFORMATION", "sakila.rental.rental_id INDIRECT/JOIN",
				"sakila.store.store_id INDIRECT/JOIN, INDIRECT/GROUP_BY",
			},
		} {
			got := upstream(t, st, myDataset(t, st, view))
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("%s has no edge %q; has\n%s", view, w, strings.Join(got, "\n"))
				}
			}
			for _, e := range got {
				if strings.HasPrefix(e, "sakila.film.film_id") && strings.Contains(e, "INDIRECT") {
					t.Errorf("%s: %s (a column the view projects has its DIRECT edges only)", view, e)
				}
			}
		}
		// Downstream of film: the views that read it.
		down, _ := st.Edges(context.Background(), myDataset(t, st, "sakila.film").ID, false)
		if len(down) == 0 {
			t.Fatal("film has no downstream edges")
		}
	})
	t.Run("Recrawl", func(t *testing.T) {
		again := crawlMySQL(t, st, my.DSN("sakila"), crawler.Options{Source: "sakila"})
		if again.New != 0 || again.Changed != 0 || again.Removed != 0 || again.Datasets != 23 {
			t.Fatalf("recrawl of an unchanged database: %+v", again)
		}
	})
	t.Run("DriverDSN", func(t *testing.T) {
		again := crawlMySQL(t, st, my.DriverDSN("sakila"), crawler.Options{Source: "sakila"})
		if again.Namespace != my.Namespace() || again.New != 0 || again.Changed != 0 || again.Datasets != 23 {
			t.Fatalf("crawl through the driver's DSN: %+v", again)
		}
	})
}

// TestMySQLChinook: names keep their case (database Chinook, table Album).
func TestMySQLChinook(t *testing.T) {
	my := mariaDB(t)
	st := openStore(t)
	res := crawlMySQL(t, st, my.DSN("Chinook"), crawler.Options{})
	if res.Datasets != 11 || res.Columns != 64 {
		t.Fatalf("result = %+v", res)
	}
	album := myDataset(t, st, "Chinook.Album")
	if !slices.Equal(columnNames(album), []string{"AlbumId", "Title", "ArtistId"}) || album.Database != "Chinook" {
		t.Fatalf("Album: %+v", album)
	}
	if c := album.Column("ArtistId"); c.ForeignKey == nil || c.ForeignKey.Name != "Chinook.Artist" || c.ForeignKey.Column != "ArtistId" {
		t.Fatalf("Album.ArtistId = %+v", c)
	}
	if _, err := st.DatasetByName(context.Background(), my.Namespace(), "chinook.album"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("a lower-cased name found: %v", err)
	}
}

// TestMySQLDetails: comments, generated columns, charsets, partitions,
// cross-database foreign keys.
func TestMySQLDetails(t *testing.T) {
	my := mariaDB(t)
	my.Database(t, "ref", "CREATE TABLE currencies (code char(3) PRIMARY KEY) COMMENT 'ISO 4217 currencies.'")
	dsn := my.Database(t, "details", `
		CREATE TABLE orders (
			id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'The order number.',
			net decimal(10,2) NOT NULL,
			gross decimal(10,2) AS (net * 1.2) PERSISTENT,
			label varchar(20) AS (concat('#', id)) VIRTUAL,
			legacy_name varchar(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
			currency char(3) NOT NULL DEFAULT 'EUR',
			UNIQUE KEY uq_label (legacy_name, currency),
			CONSTRAINT fk_currency FOREIGN KEY (currency) REFERENCES ref.currencies (code)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='One row per order.';
		CREATE TABLE events (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
			PARTITION BY RANGE (YEAR(at)) (PARTITION p2025 VALUES LESS THAN (2026), PARTITION p2026 VALUES LESS THAN (2027), PARTITION pmax VALUES LESS THAN MAXVALUE);
		CREATE VIEW big_orders AS SELECT o.id, o.gross FROM orders o WHERE o.net > 100;
		CREATE TABLE order_lines (id int PRIMARY KEY, order_id bigint unsigned NOT NULL,
			UNIQUE KEY fk_order (order_id), CONSTRAINT fk_order FOREIGN KEY (order_id) REFERENCES orders (id));
		CREATE VIEW order_currencies AS SELECT o.id, c.code FROM orders o JOIN ref.currencies c ON c.code = o.currency;`)
	st := openStore(t)
	res := crawlMySQL(t, st, dsn, crawler.Options{})
	if res.Datasets != 5 || res.ViewsUnparsed != 0 {
		t.Fatalf("result %+v", res)
	}
	// A unique key and a foreign key of one name are two constraints.
	var lineKeys []string
	for _, c := range myDataset(t, st, "details.order_lines").Constraints {
		lineKeys = append(lineKeys, fmt.Sprintf("%s %s %v", c.Kind, c.Name, c.Columns))
	}
	slices.Sort(lineKeys)
	if want := []string{"FOREIGN_KEY fk_order [order_id]", "PRIMARY_KEY PRIMARY [id]", "UNIQUE fk_order [order_id]"}; !slices.Equal(lineKeys, want) {
		t.Errorf("lines constraints %v, want %v", lineKeys, want)
	}
	o := myDataset(t, st, "details.orders")
	if o.Description() != "One row per order." || o.Column("id").Description != "The order number." || o.Column("id").Type != "bigint(20) unsigned" {
		t.Fatalf("orders: %q %+v", o.Description(), o.Column("id"))
	}
	if c := o.Column("gross"); c.Default != "GENERATED ALWAYS AS (`net` * 1.2) STORED" {
		t.Errorf("gross default %q", c.Default)
	}
	if c := o.Column("label"); !strings.HasPrefix(c.Default, "GENERATED ALWAYS AS (concat(") || !strings.HasSuffix(c.Default, "VIRTUAL") {
		t.Errorf("label default %q", c.Default)
	}
	if c := o.Column("legacy_name"); c.Type != "varchar(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci" {
		t.Errorf("legacy_name type %q", c.Type)
	}
	if c := o.Column("net"); c.Type != "decimal(10,2)" {
		t.Errorf("net type %q: a column in the table's charset names none", c.Type)
	}
	if c := o.Column("currency"); c.Default != "'EUR'" || c.ForeignKey == nil || c.ForeignKey.Name != "ref.currencies" || c.ForeignKey.Column != "code" || c.Unique {
		t.Errorf("currency = %+v", c)
	}
	var kinds []string
	for _, c := range o.Constraints {
		kinds = append(kinds, fmt.Sprintf("%s %s %v", c.Kind, c.Name, c.Columns))
	}
	slices.Sort(kinds)
	if want := []string{"FOREIGN_KEY fk_currency [currency]", "PRIMARY_KEY PRIMARY [id]", "UNIQUE uq_label [legacy_name currency]"}; !slices.Equal(kinds, want) {
		t.Errorf("constraints %v, want %v", kinds, want)
	}
	ev := myDataset(t, st, "details.events")
	if !slices.Equal(ev.Partitions, []string{"p2025", "p2026", "pmax"}) || ev.Kind != quarry.KindTable {
		t.Errorf("events partitions %v", ev.Partitions)
	}
	if _, err := st.DatasetByName(context.Background(), my.Namespace(), "ref.currencies"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Errorf("a crawl of one database stored another's table: %v", err)
	}
	if got := upstream(t, st, myDataset(t, st, "details.big_orders")); !slices.Equal(got, []string{
		"details.orders", "details.orders.gross -> gross DIRECT/IDENTITY", "details.orders.id -> id DIRECT/IDENTITY", "details.orders.net INDIRECT/FILTER"}) {
		t.Errorf("big_orders upstream %v", got)
	}
	// A view reading another database, which the crawl does not cover:
	// its lineage still resolves, to the identity of that database's table
	// (a dataset once that database is crawled).
	got := upstream(t, st, myDataset(t, st, "details.order_currencies"))
	refID := "?" + quarry.NewID(quarry.EntityDataset, my.Namespace(), "ref.currencies")
	for i := range got {
		got[i] = strings.Replace(got[i], refID, "ref.currencies", 1)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{
		"details.orders", "details.orders.currency INDIRECT/JOIN", "details.orders.id -> id DIRECT/IDENTITY",
		"ref.currencies", "ref.currencies.code -> code DIRECT/IDENTITY"}) {
		t.Errorf("order_currencies upstream %v", got)
	}

	t.Run("AllDatabases", func(t *testing.T) {
		st := openStore(t)
		res := crawlMySQL(t, st, my.DSN(""), crawler.Options{AllDatabases: true, Exclude: []string{"sak*"}})
		for _, db := range []string{"Chinook", "details", "ref"} {
			if !slices.Contains(res.Databases, db) {
				t.Errorf("databases %v, missing %s", res.Databases, db)
			}
		}
		for _, db := range res.Databases {
			if db == "sakila" || db == "mysql" || db == "sys" || db == "performance_schema" || db == "information_schema" {
				t.Errorf("crawled %s: %v", db, res.Databases)
			}
		}
		if d := myDataset(t, st, "ref.currencies"); d.Description() != "ISO 4217 currencies." {
			t.Errorf("ref.currencies %+v", d)
		}
	})
}

func TestMySQLSchemaChanges(t *testing.T) {
	my := mariaDB(t)
	ctx := context.Background()
	db := "evolve"
	dsn := my.Database(t, db, `
		CREATE TABLE orders (id bigint PRIMARY KEY, amount int NOT NULL, note text);
		CREATE TABLE customers (id bigint PRIMARY KEY, name text);
		CREATE TABLE tmp (x int);
		CREATE VIEW big_orders AS SELECT id FROM orders WHERE id > 100;`)
	exec := func(sql string) {
		t.Helper()
		if err := my.Exec(ctx, db, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	st := openStore(t)
	crawlMySQL(t, st, dsn, crawler.Options{})
	orders := myDataset(t, st, db+".orders")

	exec(`ALTER TABLE orders ADD COLUMN currency char(3);
		ALTER TABLE orders MODIFY amount decimal(12,2) NOT NULL COMMENT 'Order total.';
		ALTER TABLE orders MODIFY note text NOT NULL;
		DROP TABLE tmp;`)
	res := crawlMySQL(t, st, dsn, crawler.Options{})
	if res.Changed != 1 || res.Removed != 1 || res.New != 0 {
		t.Fatalf("second crawl: %+v", res)
	}
	wantHistory(t, st, orders.ID,
		"TYPE_CHANGED amount int(11)->decimal(12,2)",
		"DESCRIPTION_CHANGED amount ->Order total.",
		"NULLABILITY_CHANGED note null->not null",
		"COLUMN_ADDED currency ->char(3)",
		"DATASET_CREATED  ->TABLE",
	)
	if !myDataset(t, st, db+".tmp").Removed() {
		t.Fatal("a dropped table is not marked removed")
	}

	t.Run("FailedCrawlRemovesNothing", func(t *testing.T) {
		exec(`DROP VIEW big_orders; DROP TABLE customers;`)
		wrong := strings.Replace(dsn, mysqltest.Password, "wrong-pw", 1)
		_, err := crawler.CrawlMySQL(ctx, st, wrong, crawler.Options{})
		if err == nil || !strings.Contains(err.Error(), "access denied") || strings.Contains(err.Error(), "wrong-pw") || crawler.PublicError(err) != "connect: password authentication failed" {
			t.Fatalf("wrong password: %v", err)
		}
		// Nothing listens on a stopped server's port.
		stopped := mysqltest.New(t, nil)
		stoppedDSN := stopped.DSN(db)
		stopped.Stop()
		_, err = crawler.CrawlMySQL(ctx, st, stoppedDSN, crawler.Options{})
		if err == nil || crawler.PublicError(err) != "connect: unreachable" || !strings.Contains(err.Error(), "connect to 127.0.0.1:") || strings.Contains(err.Error(), mysqltest.Password) {
			t.Fatalf("stopped server: %v (public %q)", err, crawler.PublicError(err))
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := crawler.CrawlMySQL(cctx, st, dsn, crawler.Options{}); err == nil {
			t.Fatal("a cancelled crawl succeeded")
		}
		if myDataset(t, st, db+".customers").Removed() || myDataset(t, st, db+".big_orders").Removed() {
			t.Fatal("a failed crawl removed a dataset")
		}
		crawlMySQL(t, st, dsn, crawler.Options{})
		if !myDataset(t, st, db+".customers").Removed() || !myDataset(t, st, db+".big_orders").Removed() {
			t.Fatal("the next complete crawl did not remove them")
		}
	})
	t.Run("ComesBack", func(t *testing.T) {
		exec(`CREATE TABLE tmp (x int, y text);`)
		res := crawlMySQL(t, st, dsn, crawler.Options{})
		if res.Restored != 1 {
			t.Fatalf("crawl: %+v", res)
		}
		d := myDataset(t, st, db+".tmp")
		hist, _ := st.SchemaHistory(ctx, d.ID)
		if d.Removed() || len(hist) < 3 || hist[0].Kind != quarry.DatasetRestored || hist[1].Kind != quarry.ColumnAdded || hist[1].Column != "y" {
			t.Fatalf("restored: removed=%v history %+v", d.Removed(), hist)
		}
	})
	t.Run("ScopeLimitsRemoval", func(t *testing.T) {
		// A crawl of one database removes nothing of another.
		other := my.Database(t, "evolve_other", "CREATE TABLE t (id int)")
		crawlMySQL(t, st, other, crawler.Options{})
		res := crawlMySQL(t, st, dsn, crawler.Options{})
		if res.Removed != 0 || myDataset(t, st, "evolve_other.t").Removed() {
			t.Fatalf("a crawl of evolve removed evolve_other.t: %+v", res)
		}
		// Excluded databases keep their datasets in an all-databases crawl.
		res = crawlMySQL(t, st, my.DSN(""), crawler.Options{AllDatabases: true, Include: []string{"evolve*"}, Exclude: []string{"evolve_other"}})
		if res.Removed != 0 || myDataset(t, st, "evolve_other.t").Removed() || slices.Contains(res.Databases, "evolve_other") {
			t.Fatalf("exclude: %+v", res)
		}
	})
}

// TestMySQLUnparsedView: a view whose definition the parser rejects is
// counted, keeps its dataset and columns, and fails nothing.
func TestMySQLUnparsedView(t *testing.T) {
	my := mariaDB(t)
	dsn := my.Database(t, "views", `CREATE TABLE t (id int, v int);
		CREATE VIEW good AS SELECT id FROM t;
		CREATE VIEW odd AS SELECT id, v FROM t WHERE v > 0;
		CREATE VIEW tables_here AS SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'views';`)
	st := openStore(t)
	// The parser rejects views of information_schema (whose columns no
	// catalog lists) by itself, and odd because it is told to.
	if res := crawlMySQL(t, st, dsn, crawler.Options{}); res.Datasets != 4 || res.ViewsUnparsed != 1 {
		t.Fatalf("result %+v", res)
	}
	o := crawler.Options{}
	crawler.RejectViewDefinitions(&o, "> 0")
	res := crawlMySQL(t, st, dsn, o)
	if res.Datasets != 4 || res.ViewsUnparsed != 2 || res.Changed != 0 {
		t.Fatalf("result %+v", res)
	}
	if th := myDataset(t, st, "views.tables_here"); !slices.Equal(columnNames(th), []string{"TABLE_NAME"}) || len(upstream(t, st, th)) != 0 {
		t.Fatalf("tables_here: %v upstream %v", columnNames(th), upstream(t, st, th))
	}
	odd := myDataset(t, st, "views.odd")
	if !slices.Equal(columnNames(odd), []string{"id", "v"}) || len(upstream(t, st, odd)) != 0 {
		t.Fatalf("odd: %v upstream %v", columnNames(odd), upstream(t, st, odd))
	}
	if got := upstream(t, st, myDataset(t, st, "views.good")); !slices.Equal(got, []string{"views.t", "views.t.id -> id DIRECT/IDENTITY"}) {
		t.Fatalf("good upstream %v", got)
	}
}

// TestMySQLDataChangeObservations: writes between two crawls are recorded
// as a data change (performance_schema's counters, UPDATE_TIME); a crawl
// without writes records none.
func TestMySQLDataChangeObservations(t *testing.T) {
	my := mariaDB(t)
	ctx := context.Background()
	db := "activity"
	dsn := my.Database(t, db, `CREATE TABLE events (id int AUTO_INCREMENT PRIMARY KEY, v int) ENGINE=InnoDB;
		INSERT INTO events (v) VALUES (0)`)
	st := openStore(t)
	crawlMySQL(t, st, dsn, crawler.Options{})
	d := myDataset(t, st, db+".events")
	if d.LastUpdatedAt != nil {
		t.Fatalf("first crawl claims a data change at %v", d.LastUpdatedAt)
	}
	// UPDATE_TIME has a resolution of a second.
	time.Sleep(1100 * time.Millisecond)
	if err := my.Exec(ctx, db, "INSERT INTO events (v) VALUES (1), (2), (3); UPDATE events SET v = v + 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	crawlMySQL(t, st, dsn, crawler.Options{})
	d = myDataset(t, st, db+".events")
	if d.LastUpdatedAt == nil || d.Stats == nil || d.Stats.Inserts < 4 || d.Stats.Updates < 1 || d.Stats.DataUpdatedAt == nil {
		t.Fatalf("writes did not register as a data change: %v %+v", d.LastUpdatedAt, d.Stats)
	}
	changes, err := st.DataChanges(ctx, d.ID, 10)
	if err != nil || len(changes) != 1 || changes[0].Signal != quarry.SignalCrawler || !strings.Contains(changes[0].Detail, "+3 inserts, +1 updates") {
		t.Fatalf("data changes = %+v, %v", changes, err)
	}
	crawlMySQL(t, st, dsn, crawler.Options{})
	if again, _ := st.DataChanges(ctx, d.ID, 10); len(again) != 1 {
		t.Fatalf("data changes after an idle crawl = %+v", again)
	}
}

// TestMySQLSafeOnProduction: an account that sees one table of two crawls
// it without error; a table locked by another session's DDL does not make
// the crawl wait past its lock timeout; local files are refused.
func TestMySQLSafeOnProduction(t *testing.T) {
	my := mariaDB(t)
	ctx := context.Background()
	my.Database(t, "prod", `CREATE TABLE accounts (id int PRIMARY KEY); CREATE TABLE secrets (k text);
		CREATE VIEW account_ids AS SELECT id FROM accounts;
		CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw';
		GRANT SELECT ON prod.accounts TO 'reader'@'%';
		GRANT SELECT ON prod.account_ids TO 'reader'@'%';`)
	st := openStore(t)
	dsn := fmt.Sprintf("mysql://reader:reader-pw@%s/prod", my.Addr())
	// The account sees two of the three, and not the view's SQL (no SHOW
	// VIEW): its lineage is counted as unread.
	res := crawlMySQL(t, st, dsn, crawler.Options{})
	if res.Datasets != 2 || res.ViewsUnparsed != 1 {
		t.Fatalf("crawl as reader: %+v", res)
	}
	if v := myDataset(t, st, "prod.account_ids"); v.Definition != "" || !slices.Equal(columnNames(v), []string{"id"}) {
		t.Fatalf("account_ids: %+v", v)
	}
	myDataset(t, st, "prod.accounts")

	for name, bad := range map[string]string{
		"allowAllFiles": fmt.Sprintf("mysql://reader:reader-pw@%s/prod?allowAllFiles=true", my.Addr()),
		"unixSocket":    fmt.Sprintf("reader:reader-pw@unix(%s)/prod", my.Socket()),
	} {
		_, err := crawler.CrawlMySQL(ctx, st, bad, crawler.Options{})
		if quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "Quarry server") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := crawler.CrawlMySQL(ctx, st, fmt.Sprintf("mysql://reader:reader-pw@%s/", my.Addr()), crawler.Options{}); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Errorf("a DSN without a database: %v", err)
	}
}

// TestMySQLFrozenSource: a crawl of a server stopped by SIGSTOP fails
// within its deadline with a *TimeoutError and removes nothing.
func TestMySQLFrozenSource(t *testing.T) {
	my := mysqltest.New(t, nil)
	t.Cleanup(func() { my.Thaw() })
	dsn := my.Database(t, "shop", "CREATE TABLE orders (id int)")
	st := openStore(t)
	crawlMySQL(t, st, dsn, crawler.Options{})
	for _, tc := range []struct {
		name  string
		after int
		o     crawler.Options
		what  string
	}{
		{"Query", 1, crawler.Options{QueryTimeout: time.Second}, "catalog query"},
		{"Crawl", 1, crawler.Options{Timeout: 3 * time.Second}, "the crawl"},
		{"Connect", -1, crawler.Options{ConnectTimeout: time.Second}, "connecting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if tc.after < 0 {
				if err := my.Freeze(); err != nil {
					t.Fatal(err)
				}
			}
			o.Progress = func(p crawler.Progress) {
				if p.Phase == "catalog" && p.Done == tc.after {
					my.Freeze()
				}
			}
			took, err := crawlWithin(t, 30*time.Second, func() error {
				_, err := crawler.CrawlMySQL(context.Background(), st, dsn, o)
				return err
			})
			my.Thaw()
			te, ok := errors.AsType[*crawler.TimeoutError](err)
			if !ok || !strings.Contains(te.What, tc.what) || took > 12*time.Second {
				t.Fatalf("the crawl of a frozen server: %v after %s, want a timeout of %s", err, took, tc.what)
			}
			if page, _ := st.ListDatasets(context.Background(), store.ListOptions{}); page.Total != 1 {
				t.Fatalf("after a timed-out crawl, %d datasets", page.Total)
			}
		})
	}
}

// TestMySQLOpenLineageIsTheSameDataset: a table an ETL job reports under
// mysql://127.0.0.1:PORT (here spelled mariadb://, which names the same)
// and the crawled table are one dataset, whichever comes first.
func TestMySQLOpenLineageIsTheSameDataset(t *testing.T) {
	my := mariaDB(t)
	ctx := context.Background()
	st := openStore(t)
	ev := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T09:00:00Z","producer":"test","run":{"runId":"00000000-0000-4000-8000-00000000a001"},
		"job":{"namespace":"airflow","name":"load_actors"},
		"inputs":[{"namespace":"s3://exports","name":"actors.csv"}],
		"outputs":[{"namespace":"mariadb://127.0.0.1:%d","name":"sakila.actor"}]}`, my.Port)
	if err := lineage.Ingest(ctx, st, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	reported, err := st.DatasetByName(ctx, my.Namespace(), "sakila.actor")
	if err != nil {
		t.Fatalf("the reported table under %s: %v", my.Namespace(), err)
	}
	crawlMySQL(t, st, my.DSN("sakila"), crawler.Options{})
	crawled := myDataset(t, st, "sakila.actor")
	if crawled.ID != reported.ID || len(crawled.Columns) != 4 {
		t.Fatalf("reported %s, crawled %s with %d columns", reported.ID, crawled.ID, len(crawled.Columns))
	}
	up, err := st.Edges(ctx, crawled.ID, true)
	if err != nil || len(up) != 1 || datasetName(t, st, up[0].From) != "actors.csv" {
		t.Fatalf("the crawled table's upstream: %+v %v", up, err)
	}
}

// TestMySQLSource: a MYSQL source registers (its namespace derived from
// either DSN form, or from dsnEnv), crawls through the service, and is
// refused a DSN that would read the server's files.
func TestMySQLSource(t *testing.T) {
	my := mariaDB(t)
	ctx := context.Background()
	st := openStore(t)
	env := map[string]string{"QUARRY_SOURCE_CHINOOK": my.DriverDSN("Chinook")}
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler), Getenv: func(k string) string { return env[k] }})
	alias := fmt.Sprintf("mysql://localhost:%d", my.Port)
	src, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourceMySQL, DSNEnv: "QUARRY_SOURCE_CHINOOK", Schedule: "@hourly",
		Aliases: []string{alias}})
	if err != nil || src.Namespace != my.Namespace() {
		t.Fatalf("register: %+v %v", src, err)
	}
	run, err := svc.Crawl(ctx, "chinook")
	if err != nil || run.Status != quarry.CrawlSucceeded || run.Counts.Datasets != 11 {
		t.Fatalf("crawl: %+v %v", run, err)
	}
	if d := myDataset(t, st, "Chinook.Track"); d.Source != "chinook" {
		t.Fatalf("Track's source %q", d.Source)
	}
	// A crawl through the alias's name for the server lands in the
	// source's namespace: the same datasets, nothing new.
	viaAlias := strings.Replace(my.DSN("Chinook"), "127.0.0.1", "localhost", 1)
	if res := crawlMySQL(t, st, viaAlias, crawler.Options{}); res.Namespace != my.Namespace() || res.New != 0 || res.Datasets != 11 {
		t.Fatalf("crawl through the alias: %+v", res)
	}
	_, err = svc.Register(ctx, quarry.Source{Name: "files", Kind: quarry.SourceMySQL, DSN: my.DSN("sakila") + "?allowAllFiles=true"})
	if quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "allowAllFiles") {
		t.Fatalf("a DSN that lets the server read local files: %v", err)
	}
	_, err = svc.Register(ctx, quarry.Source{Name: "nodb", Kind: quarry.SourceMySQL, DSN: my.DSN("")})
	if quarry.ErrorCode(err) != quarry.EINVALID {
		t.Fatalf("a DSN without a database: %v", err)
	}
	if _, err := svc.Register(ctx, quarry.Source{Name: "all", Kind: quarry.SourceMySQL, DSN: my.DSN(""), AllDatabases: true}); err != nil {
		t.Fatalf("all databases: %v", err)
	}
	wrong := strings.Replace(my.DSN("sakila"), mysqltest.Password, "nope", 1)
	if _, err := svc.Register(ctx, quarry.Source{Name: "wrong", Kind: quarry.SourceMySQL, DSN: wrong}); err != nil {
		t.Fatal(err)
	}
	run, err = svc.Crawl(ctx, "wrong")
	if err != nil || run.Status != quarry.CrawlFailed || run.Error != "connect: password authentication failed" {
		t.Fatalf("crawl with a wrong password: %+v %v", run, err)
	}
}

// TestMySQLDSN: both DSN forms give the namespace OpenLineage producers
// use; the form says the kind.
func TestMySQLDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"mysql://etl:p%40ss@DB.internal/shop":        "mysql://db.internal:3306",
		"mariadb://etl@db.internal:3307/shop":        "mysql://db.internal:3307",
		"etl:s3c/r@t@tcp(db.internal:3306)/shop":     "mysql://db.internal:3306",
		"etl:pw@tcp([::1]:3306)/shop?parseTime=true": "mysql://[::1]:3306",
		"etl:pw@/shop": "mysql://127.0.0.1:3306",
	} {
		if kind := crawler.KindOfDSN(dsn); kind != quarry.SourceMySQL {
			t.Errorf("KindOfDSN(%q) = %s", dsn, kind)
		}
		if ns, err := crawler.Namespace(quarry.SourceMySQL, dsn); err != nil || ns != want {
			t.Errorf("Namespace(%q) = %q, %v; want %s", dsn, ns, err, want)
		}
	}
	for _, dsn := range []string{"postgres://etl@db/shop", "host=db user=etl dbname=shop", "host=db password=a@/b dbname=shop"} {
		if kind := crawler.KindOfDSN(dsn); kind != quarry.SourcePostgres {
			t.Errorf("KindOfDSN(%q) = %s", dsn, kind)
		}
	}
	for dsn, field := range map[string]string{
		"mysql:///shop":                           "dsn",
		"postgres://etl@db/shop":                  "dsn",
		"mysql://etl:pw@db/shop?allowAllFiles=1":  "dsn",
		"etl:pw@unix(/run/mysqld/mysqld.sock)/db": "dsn",
		"mysql://etl:pw@db/shop?timeout=forever":  "dsn",
	} {
		_, err := crawler.Namespace(quarry.SourceMySQL, dsn)
		if e, ok := errors.AsType[*quarry.Error](err); !ok || e.Code != quarry.EINVALID || e.Field != field || strings.Contains(err.Error(), "pw@") {
			t.Errorf("Namespace(%q): %v, want invalid %s", dsn, err, field)
		}
	}
}
