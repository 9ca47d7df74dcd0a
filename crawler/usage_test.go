package crawler_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/mysqltest"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store"
)

// clock is a crawl's injected time: each crawl of a usage test is a day.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// usageOf returns a dataset's usage days since the epoch, by name.
func usageOf(t *testing.T, st *store.Store, ns, name string) []quarry.UsageDay {
	t.Helper()
	d, err := st.DatasetByName(context.Background(), ns, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	days, err := st.DatasetUsage(context.Background(), d.ID, "0000-00-00")
	if err != nil {
		t.Fatal(err)
	}
	return days
}

// dayString prints a usage day as the tests compare it.
func dayString(d quarry.UsageDay) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s reads=%d writes=%d calls=%d", d.Day, d.Reads, d.Writes, d.Calls)
	for _, u := range d.Users {
		fmt.Fprintf(&b, " user=%s:%d", u.Name, u.Calls)
	}
	for _, q := range d.Queries {
		fmt.Fprintf(&b, " query=[%s] by %q x%d", q.Text, q.User, q.Calls)
		if q.MeanMs < 0 {
			b.WriteString(" negative mean")
		}
	}
	return b.String()
}

func daysString(days []quarry.UsageDay) []string {
	out := []string{}
	for _, d := range days {
		out = append(out, dayString(d))
	}
	return out
}

// asRole runs statements with arguments as a role, each n times, on one
// connection it then closes (a backend that ends flushes its table
// counters at once).
func asRole(t *testing.T, dsn string, n int, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i := range n {
		a := slices.Clone(args)
		for j, v := range a {
			if f, ok := v.(func(int) any); ok {
				a[j] = f(i)
			}
		}
		if _, err := conn.Exec(ctx, sql, a...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// TestPostgresUsage: a known workload by two roles, crawled, gives each
// table's reads, writes, users and top queries exactly; more work and a
// second crawl give the difference; a statistics reset between crawls
// counts from zero, never negative; the crawler's own role and the
// catalog queries are not counted; without pg_stat_statements, usage says
// why it has no users.
func TestPostgresUsage(t *testing.T) {
	srv := pgtest.NewWith(t, &pgtest.Options{Args: []string{"-c", "shared_preload_libraries=pg_stat_statements"}})
	ctx := context.Background()
	db := "pagila_usage"
	if err := srv.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, f := range pgtest.Fixtures["pagila"] {
		if _, err := srv.LoadFile(ctx, db, fixtures+"/"+f); err != nil {
			t.Fatal(err)
		}
	}
	err := srv.Exec(ctx, db, `CREATE SCHEMA ext; CREATE EXTENSION pg_stat_statements SCHEMA ext;
		CREATE ROLE analyst_a LOGIN PASSWORD 'a'; CREATE ROLE analyst_b LOGIN PASSWORD 'b';
		GRANT SELECT ON ALL TABLES IN SCHEMA public TO analyst_a, analyst_b;
		GRANT INSERT ON rental TO analyst_a; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO analyst_a`)
	if err != nil {
		t.Fatal(err)
	}
	dsnAs := func(role, pw string) string {
		return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", role, pw, srv.Port, db)
	}
	a, b := dsnAs("analyst_a", "a"), dsnAs("analyst_b", "b")
	ns := fmt.Sprintf("postgres://127.0.0.1:%d", srv.Port)
	st := openStore(t)
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	o := crawler.Options{Now: c.now}
	if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(db), o); err != nil { // the baseline
		t.Fatal(err)
	}
	if days := usageOf(t, st, ns, db+".public.film"); len(days) != 0 {
		t.Fatalf("the first crawl counted use since an unknown time: %v", daysString(days))
	}

	filmQ := "SELECT title FROM film WHERE film_id = $1"
	actorQ := "SELECT first_name, last_name FROM actor WHERE actor_id = $1"
	rentalQ := "INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id) VALUES (now() + $1 * interval '1 second', $2, $3, $4)"
	rentalNormalized := strings.Replace(rentalQ, "'1 second'", "$5", 1) // the server keeps no literal
	asRole(t, a, 50, filmQ, func(i int) any { return i + 1 })
	asRole(t, b, 5, actorQ, func(i int) any { return i + 1 })
	asRole(t, a, 3, rentalQ, func(i int) any { return i }, 1, 1, 1)
	c.t = c.t.AddDate(0, 0, 1)
	if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(db), o); err != nil {
		t.Fatal(err)
	}
	day1 := "2026-03-02"
	want := map[string][]string{
		"film":   {day1 + " reads=50 writes=0 calls=50 user=analyst_a:50 query=[" + filmQ + "] by \"analyst_a\" x50"},
		"actor":  {day1 + " reads=5 writes=0 calls=5 user=analyst_b:5 query=[" + actorQ + "] by \"analyst_b\" x5"},
		"rental": {day1 + " reads=0 writes=3 calls=3 user=analyst_a:3 query=[" + rentalNormalized + "] by \"analyst_a\" x3"},
		"city":   {},
	}
	check := func(when string) {
		t.Helper()
		for table, w := range want {
			if got := daysString(usageOf(t, st, ns, db+".public."+table)); !slices.Equal(got, w) {
				t.Errorf("%s: %s usage:\n got %q\nwant %q", when, table, got, w)
			}
		}
	}
	check("after the workload")
	status, err := st.UsageStatus(ctx, ns, db)
	if err != nil || status == nil || !status.Available || status.Reason != "" {
		t.Fatalf("status = %+v, %v", status, err)
	}

	// More work, another day: the difference.
	asRole(t, b, 10, filmQ, func(i int) any { return i + 1 })
	c.t = c.t.AddDate(0, 0, 1)
	if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(db), o); err != nil {
		t.Fatal(err)
	}
	day2 := "2026-03-03"
	want["film"] = append(want["film"], day2+" reads=10 writes=0 calls=10 user=analyst_b:10 query=["+filmQ+"] by \"analyst_b\" x10")
	check("after more work")

	// A crawl with nothing done counts nothing.
	c.t = c.t.AddDate(0, 0, 1)
	if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(db), o); err != nil {
		t.Fatal(err)
	}
	check("after an idle crawl")

	// The statistics reset between crawls: what happened since counts.
	if err := srv.Exec(ctx, db, "SELECT pg_stat_reset(); SELECT ext.pg_stat_statements_reset()"); err != nil {
		t.Fatal(err)
	}
	asRole(t, a, 2, filmQ, func(i int) any { return i + 1 })
	c.t = c.t.AddDate(0, 0, 1)
	if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(db), o); err != nil {
		t.Fatal(err)
	}
	want["film"] = append(want["film"], "2026-03-05 reads=2 writes=0 calls=2 user=analyst_a:2 query=["+filmQ+"] by \"analyst_a\" x2")
	check("after a statistics reset")

	t.Run("NoQueryText", func(t *testing.T) {
		asRole(t, a, 4, actorQ, func(i int) any { return i + 1 })
		c.t = c.t.AddDate(0, 0, 1)
		if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(db), crawler.Options{Now: c.now, NoQueryText: true}); err != nil {
			t.Fatal(err)
		}
		days := usageOf(t, st, ns, db+".public.actor")
		if got := dayString(days[len(days)-1]); got != "2026-03-06 reads=4 writes=0 calls=4 user=analyst_a:4" {
			t.Fatalf("usage without query text: %s", got)
		}
	})

	t.Run("NoExtension", func(t *testing.T) {
		other := "plain"
		srv.Database(t, other, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
		st := openStore(t)
		for range 2 {
			if _, err := crawler.CrawlPostgres(ctx, st, srv.DSN(other), crawler.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		status, err := st.UsageStatus(ctx, ns, other)
		if err != nil || status == nil || !status.Available || !strings.Contains(status.Reason, "pg_stat_statements is not installed in database plain") {
			t.Fatalf("status = %+v, %v", status, err)
		}
	})
}

// TestPostgresUsageNoPreload: the extension created but not preloaded
// (its view fails): the crawl succeeds and says why there are no users.
func TestPostgresUsageNoPreload(t *testing.T) {
	ctx := context.Background()
	dsn := pg.Database(t, "usage_nopreload", "CREATE EXTENSION pg_stat_statements; CREATE TABLE t (x int)")
	st := openStore(t)
	crawl(t, st, dsn, crawler.Options{})
	status, err := st.UsageStatus(ctx, ns(), "usage_nopreload")
	if err != nil || status == nil || !status.Available || !strings.Contains(status.Reason, "shared_preload_libraries") {
		t.Fatalf("status = %+v, %v", status, err)
	}
}

// TestMySQLUsage: as TestPostgresUsage, on MariaDB's performance_schema:
// row reads and writes per table, and the statements that touch each.
func TestMySQLUsage(t *testing.T) {
	my := mariaDB(t)
	ctx := context.Background()
	st := openStore(t)
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	o := crawler.Options{Now: c.now}
	dsn := my.DSN("sakila")
	crawlMySQL(t, st, dsn, o)
	for i := range 50 {
		if err := my.Exec(ctx, "sakila", fmt.Sprintf("SELECT title FROM film WHERE film_id = %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if err := my.Exec(ctx, "sakila", fmt.Sprintf("SELECT first_name FROM actor WHERE actor_id = %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := my.Exec(ctx, "sakila", fmt.Sprintf("INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id) VALUES (NOW(), 1, %d, 1)", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	c.t = c.t.AddDate(0, 0, 1)
	crawlMySQL(t, st, dsn, o)
	ns := my.Namespace()
	film := daysString(usageOf(t, st, ns, "sakila.film"))
	actor := daysString(usageOf(t, st, ns, "sakila.actor"))
	wantFilm := []string{"2026-03-02 reads=50 writes=0 calls=50 query=[SELECT `title` FROM `film` WHERE `film_id` = ?] by \"\" x50"}
	wantActor := []string{"2026-03-02 reads=5 writes=0 calls=5 query=[SELECT `first_name` FROM `actor` WHERE `actor_id` = ?] by \"\" x5"}
	if !slices.Equal(film, wantFilm) || !slices.Equal(actor, wantActor) {
		t.Fatalf("usage:\nfilm  %q\nwant  %q\nactor %q\nwant  %q", film, wantFilm, actor, wantActor)
	}
	rental := daysString(usageOf(t, st, ns, "sakila.rental"))
	wantRental := []string{"2026-03-02 reads=0 writes=3 calls=3 query=[INSERT INTO `rental` ( `rental_date` , `inventory_id` , `customer_id` , `staff_id` ) VALUES ( NOW ( ) , ?, ... )] by \"\" x3"}
	if !slices.Equal(rental, wantRental) {
		t.Fatalf("rental usage:\n got %q\nwant %q", rental, wantRental)
	}

	// The counters reset (performance_schema's tables truncated), then
	// more work: what happened since counts, nothing is negative.
	if err := my.Exec(ctx, "", "TRUNCATE TABLE performance_schema.table_io_waits_summary_by_table; TRUNCATE TABLE performance_schema.events_statements_summary_by_digest"); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if err := my.Exec(ctx, "sakila", fmt.Sprintf("SELECT title FROM film WHERE film_id = %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	c.t = c.t.AddDate(0, 0, 1)
	crawlMySQL(t, st, dsn, o)
	film = daysString(usageOf(t, st, ns, "sakila.film"))
	wantFilm = append(wantFilm, "2026-03-03 reads=7 writes=0 calls=7 query=[SELECT `title` FROM `film` WHERE `film_id` = ?] by \"\" x7")
	if !slices.Equal(film, wantFilm) {
		t.Fatalf("film usage after a reset:\n got %q\nwant %q", film, wantFilm)
	}

	t.Run("PerformanceSchemaOff", func(t *testing.T) {
		off := mysqltest.New(t, nil)
		dsn := off.Database(t, "plain", "CREATE TABLE t (x int)")
		st := openStore(t)
		crawlMySQL(t, st, dsn, crawler.Options{})
		status, err := st.UsageStatus(ctx, off.Namespace(), "plain")
		if err != nil || status == nil || status.Available || !strings.Contains(status.Reason, "performance_schema is off") {
			t.Fatalf("status = %+v, %v", status, err)
		}
	})
}

// TestStatementTables: the tables statements read and write, as the
// parsers find them.
func TestStatementTables(t *testing.T) {
	for _, tc := range []struct {
		sql, reads, writes string
	}{
		{"SELECT * FROM film f JOIN public.actor a ON true WHERE $1 = 1", "film public.actor", ""},
		{"WITH x AS (SELECT * FROM film) SELECT * FROM x JOIN s.x ON true", "film s.x", ""},
		{"INSERT INTO rental (a) SELECT a FROM inventory", "inventory", "rental"},
		{"UPDATE film SET title = $1 FROM language l WHERE l.id = film.language_id", "language", "film"},
		{"DELETE FROM payment WHERE customer_id IN (SELECT id FROM customer)", "customer", "payment"},
		{"COPY film FROM STDIN", "", "film"},
		{"COPY film TO STDOUT", "film", ""},
		{"CREATE TABLE t (x int)", "", ""},
	} {
		r, w, err := crawler.PostgresStatementTables(tc.sql)
		if err != nil || names(r) != tc.reads || names(w) != tc.writes {
			t.Errorf("postgres %q: reads %q writes %q (%v); want %q, %q", tc.sql, names(r), names(w), err, tc.reads, tc.writes)
		}
	}
	for _, tc := range []struct {
		sql, reads, writes string
	}{
		{"SELECT `title` FROM `film` WHERE `film_id` = ?", "film", ""},
		{"SELECT * FROM `film` WHERE `film_id` IN (...)", "film", ""},
		{"INSERT INTO `rental` ( `a` ) SELECT `a` FROM `sakila` . `inventory`", "sakila.inventory", "rental"},
		{"UPDATE `film` SET `title` = ? WHERE `film_id` = ?", "", "film"},
		{"DELETE FROM `payment` WHERE `customer_id` = ?", "", "payment"},
		{"INSERT INTO `rental` ( `rental_date` , `inventory_id` , `customer_id` , `staff_id` ) VALUES ( NOW ( ) , ... )", "", "rental"},
		{"INSERT INTO `t` VALUES (...) , (...)", "", "t"},
		{"SELECT `a` FROM `t` WHERE `b` IN ( ... ) AND `c` = ?", "t", ""},
		{"WITH `x` AS ( SELECT * FROM `film` ) SELECT * FROM `x`", "film", ""},
	} {
		r, w, err := crawler.MySQLStatementTables(tc.sql)
		if err != nil || names(r) != tc.reads || names(w) != tc.writes {
			t.Errorf("mysql %q: reads %q writes %q (%v); want %q, %q", tc.sql, names(r), names(w), err, tc.reads, tc.writes)
		}
	}
}

func names(ns []crawler.TableName) string {
	var out []string
	for _, n := range ns {
		if n.Schema != "" {
			out = append(out, n.Schema+"."+n.Name)
		} else {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
