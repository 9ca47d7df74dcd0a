package viewsql_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler/viewsql"
)

func TestForms(t *testing.T) {
	s := sakila(t)
	for _, c := range []struct {
		name, def string
		tables    []string
		output    []string
		want      []string
		absent    []string
	}{
		{
			name:   "Union",
			def:    "CREATE VIEW people AS SELECT first_name AS fn, last_name FROM actor UNION ALL SELECT UPPER(c.first_name), c.last_name FROM customer c WHERE c.active ORDER BY last_name",
			tables: []string{"sakila.actor", "sakila.customer"},
			output: []string{"fn", "last_name"},
			want: []string{
				"fn <- sakila.actor.first_name DIRECT/IDENTITY",
				"fn <- sakila.customer.first_name DIRECT/TRANSFORMATION",
				"last_name <- sakila.actor.last_name DIRECT/IDENTITY",
				"last_name <- sakila.customer.last_name DIRECT/IDENTITY",
				"sakila.customer.active INDIRECT/FILTER",
				"sakila.actor.last_name INDIRECT/SORT",
				"sakila.customer.last_name INDIRECT/SORT",
			},
			absent: []string{"fn <- sakila.customer.last_name DIRECT/IDENTITY"},
		},
		{
			// MariaDB and MySQL 8.0.31+ print INTERSECT and EXCEPT, which
			// vitess's grammar lacks.
			name:   "Intersect",
			def:    "select `sakila`.`film`.`title` AS `title` from `sakila`.`film` intersect select `sakila`.`category`.`name` AS `name` from `sakila`.`category`",
			tables: []string{"sakila.film", "sakila.category"},
			output: []string{"title"},
			want:   []string{"title <- sakila.film.title DIRECT/IDENTITY", "title <- sakila.category.name DIRECT/IDENTITY"},
		},
		{
			name:   "Except",
			def:    "SELECT title FROM film EXCEPT ALL SELECT name FROM category WHERE category_id > 3 UNION SELECT first_name FROM actor",
			tables: []string{"sakila.film", "sakila.category", "sakila.actor"},
			output: []string{"title"},
			want: []string{
				"title <- sakila.film.title DIRECT/IDENTITY",
				"title <- sakila.actor.first_name DIRECT/IDENTITY",
				"sakila.category.name INDIRECT/FILTER",
				"sakila.category.category_id INDIRECT/FILTER",
			},
			absent: []string{"title <- sakila.category.name DIRECT/IDENTITY"},
		},
		{
			name:   "ExceptInDerivedTable",
			def:    "SELECT d.t FROM (SELECT title AS t FROM film EXCEPT (SELECT name FROM category)) d",
			tables: []string{"sakila.film", "sakila.category"},
			output: []string{"t"},
			want:   []string{"t <- sakila.film.title DIRECT/IDENTITY", "sakila.category.name INDIRECT/FILTER"},
			absent: []string{"t <- sakila.category.name DIRECT/IDENTITY"},
		},
		{
			name:   "SetOperatorWordsQuoted",
			def:    "SELECT 'a except b' AS `except`, title AS `intersect` FROM film WHERE title <> \"x intersect\" -- except\n",
			tables: []string{"sakila.film"},
			output: []string{"except", "intersect"},
			want:   []string{"intersect <- sakila.film.title DIRECT/IDENTITY"},
		},
		{
			name:   "DerivedTable",
			def:    "SELECT d.cid AS customer, d.total * 2 AS doubled FROM (SELECT p.customer_id AS cid, SUM(p.amount) AS total FROM payment p WHERE p.amount > 0 GROUP BY p.customer_id) AS d WHERE d.total > 100",
			tables: []string{"sakila.payment"},
			output: []string{"customer", "doubled"},
			want: []string{
				"customer <- sakila.payment.customer_id DIRECT/IDENTITY",
				"doubled <- sakila.payment.amount DIRECT/AGGREGATION",
				"sakila.payment.amount INDIRECT/FILTER",
				"sakila.payment.customer_id INDIRECT/GROUP_BY",
			},
		},
		{
			name:   "DerivedTableColumnList",
			def:    "SELECT x FROM (SELECT title FROM film) AS d (x)",
			tables: []string{"sakila.film"},
			output: []string{"x"},
			want:   []string{"x <- sakila.film.title DIRECT/IDENTITY"},
		},
		{
			name:   "CTE",
			def:    "WITH big AS (SELECT film_id, title FROM film WHERE length > 120), n (fid, actors) AS (SELECT film_id, COUNT(*) FROM film_actor GROUP BY film_id) SELECT big.title, n.actors FROM big JOIN n ON n.fid = big.film_id",
			tables: []string{"sakila.film", "sakila.film_actor"},
			output: []string{"title", "actors"},
			want: []string{
				"title <- sakila.film.title DIRECT/IDENTITY",
				"sakila.film.length INDIRECT/FILTER",
				"sakila.film_actor.film_id INDIRECT/GROUP_BY",
				"sakila.film_actor.film_id INDIRECT/JOIN",
				"sakila.film.film_id INDIRECT/JOIN",
			},
		},
		{
			// A CTE's own join filters the view where a filtering
			// subquery reads it, and joins where the FROM clause does.
			name:   "CTERoles",
			def:    "WITH j AS (SELECT fa.actor_id FROM film_actor fa JOIN film f ON f.film_id = fa.film_id) SELECT a.first_name FROM actor a WHERE a.actor_id IN (SELECT actor_id FROM j)",
			tables: []string{"sakila.actor", "sakila.film_actor", "sakila.film"},
			output: []string{"first_name"},
			want:   []string{"sakila.film.film_id INDIRECT/FILTER", "sakila.film_actor.actor_id INDIRECT/FILTER"},
			absent: []string{"sakila.film.film_id INDIRECT/JOIN"},
		},
		{
			name:   "CTERolesTwice",
			def:    "WITH j AS (SELECT fa.actor_id FROM film_actor fa JOIN film f ON f.film_id = fa.film_id) SELECT a.first_name FROM actor a JOIN j ON j.actor_id = a.actor_id WHERE a.actor_id IN (SELECT actor_id FROM j)",
			tables: []string{"sakila.actor", "sakila.film_actor", "sakila.film"},
			output: []string{"first_name"},
			want:   []string{"sakila.film.film_id INDIRECT/FILTER", "sakila.film.film_id INDIRECT/JOIN", "sakila.film_actor.actor_id INDIRECT/JOIN"},
		},
		{
			name:   "RecursiveCTE",
			def:    "WITH RECURSIVE seq (n, t) AS (SELECT 1, CAST(title AS CHAR(200)) FROM film WHERE film_id = 1 UNION ALL SELECT n + 1, CONCAT(t, '!') FROM seq WHERE n < 5) SELECT n, t AS title FROM seq",
			tables: []string{"sakila.film"},
			output: []string{"n", "title"},
			want: []string{
				"title <- sakila.film.title DIRECT/TRANSFORMATION",
				"sakila.film.film_id INDIRECT/FILTER",
			},
		},
		{
			// A derived table sees the CTEs of the query it is in.
			name:   "CTEInDerivedTable",
			def:    "WITH c AS (SELECT title FROM film) SELECT d.title FROM (SELECT title FROM c UNION SELECT name FROM category) d",
			tables: []string{"sakila.film", "sakila.category"},
			output: []string{"title"},
			want:   []string{"title <- sakila.film.title DIRECT/IDENTITY", "title <- sakila.category.name DIRECT/IDENTITY"},
		},
		{
			name:   "Lateral",
			def:    "SELECT c.name, t.n FROM category c, LATERAL (SELECT COUNT(*) AS n, MAX(fc.film_id) AS top FROM film_category fc WHERE fc.category_id = c.category_id) AS t",
			tables: []string{"sakila.category", "sakila.film_category"},
			output: []string{"name", "n"},
			want:   []string{"sakila.category.category_id INDIRECT/FILTER", "sakila.film_category.category_id INDIRECT/FILTER"},
		},
		{
			name:   "Star",
			def:    "SELECT * FROM category",
			tables: []string{"sakila.category"},
			output: []string{"category_id", "name", "last_update"},
			want: []string{
				"category_id <- sakila.category.category_id DIRECT/IDENTITY",
				"name <- sakila.category.name DIRECT/IDENTITY",
				"last_update <- sakila.category.last_update DIRECT/IDENTITY",
			},
		},
		{
			name:   "QualifiedStarAndUsing",
			def:    "SELECT c.*, ci.city FROM sakila.country c JOIN city ci USING (country_id)",
			tables: []string{"sakila.country", "sakila.city"},
			output: []string{"country_id", "country", "last_update", "city"},
			want: []string{
				"country_id <- sakila.country.country_id DIRECT/IDENTITY",
				"city <- sakila.city.city DIRECT/IDENTITY",
				"sakila.country.country_id INDIRECT/JOIN",
				"sakila.city.country_id INDIRECT/JOIN",
			},
		},
		{
			// USING merges country_id: * shows it once and an unqualified
			// name is not ambiguous.
			name:   "UsingStar",
			def:    "SELECT *, country_id AS k FROM country JOIN city USING (country_id)",
			tables: []string{"sakila.country", "sakila.city"},
			output: []string{"country_id", "country", "last_update", "city_id", "city", "last_update", "k"},
			want:   []string{"k <- sakila.country.country_id DIRECT/IDENTITY"},
		},
		{
			name:   "NaturalJoin",
			def:    "SELECT category_id, name, film_id FROM category NATURAL JOIN film_category",
			tables: []string{"sakila.category", "sakila.film_category"},
			output: []string{"category_id", "name", "film_id"},
			want: []string{
				"film_id <- sakila.film_category.film_id DIRECT/IDENTITY",
				"sakila.category.category_id INDIRECT/JOIN",
				"sakila.film_category.category_id INDIRECT/JOIN",
				// Both have last_update: NATURAL joins on it too.
				"sakila.category.last_update INDIRECT/JOIN",
			},
		},
		{
			name:   "SubqueryConditions",
			def:    "SELECT a.first_name FROM actor a WHERE a.actor_id IN (SELECT fa.actor_id FROM film_actor fa JOIN film f ON f.film_id = fa.film_id WHERE f.rating = 'G') AND EXISTS (SELECT 1 FROM film_actor x WHERE x.actor_id = a.actor_id AND x.film_id > 10)",
			tables: []string{"sakila.actor", "sakila.film_actor", "sakila.film"},
			output: []string{"first_name"},
			want: []string{
				"first_name <- sakila.actor.first_name DIRECT/IDENTITY",
				"sakila.actor.actor_id INDIRECT/FILTER",
				"sakila.film_actor.actor_id INDIRECT/FILTER",
				// A join inside a filtering subquery filters.
				"sakila.film.film_id INDIRECT/FILTER",
				"sakila.film.rating INDIRECT/FILTER",
				"sakila.film_actor.film_id INDIRECT/FILTER",
			},
			absent: []string{"sakila.film.film_id INDIRECT/JOIN"},
		},
		{
			name:   "ScalarSubqueryValue",
			def:    "SELECT c.name, (SELECT COUNT(*) FROM film_category fc WHERE fc.category_id = c.category_id) AS films, (SELECT MAX(f.title) FROM film f) AS last_title FROM category c",
			tables: []string{"sakila.category", "sakila.film_category", "sakila.film"},
			output: []string{"name", "films", "last_title"},
			want: []string{
				"last_title <- sakila.film.title DIRECT/AGGREGATION",
				"sakila.film_category.category_id INDIRECT/FILTER",
				"sakila.category.category_id INDIRECT/FILTER",
			},
		},
		{
			name:   "CaseAndFunctions",
			def:    "SELECT CASE WHEN f.length > 120 THEN 'long' WHEN f.rating = 'G' THEN f.title ELSE NULL END AS kind, COALESCE(f.original_language_id, f.language_id) AS lang, f.rental_rate AS rate, f.rental_rate * f.rental_duration AS cost FROM film f",
			tables: []string{"sakila.film"},
			output: []string{"kind", "lang", "rate", "cost"},
			want: []string{
				"kind <- sakila.film.length INDIRECT/CONDITIONAL",
				"kind <- sakila.film.rating INDIRECT/CONDITIONAL",
				"kind <- sakila.film.title DIRECT/TRANSFORMATION",
				"lang <- sakila.film.original_language_id DIRECT/TRANSFORMATION",
				"lang <- sakila.film.language_id DIRECT/TRANSFORMATION",
				"rate <- sakila.film.rental_rate DIRECT/IDENTITY",
				"cost <- sakila.film.rental_rate DIRECT/TRANSFORMATION",
				"cost <- sakila.film.rental_duration DIRECT/TRANSFORMATION",
			},
		},
		{
			name:   "Window",
			def:    "SELECT p.payment_id, SUM(p.amount) OVER w AS running, ROW_NUMBER() OVER (PARTITION BY p.staff_id ORDER BY p.payment_date) AS rn FROM payment p WINDOW w AS (PARTITION BY p.customer_id ORDER BY p.payment_date)",
			tables: []string{"sakila.payment"},
			output: []string{"payment_id", "running", "rn"},
			want: []string{
				"running <- sakila.payment.amount DIRECT/AGGREGATION",
				"running <- sakila.payment.customer_id INDIRECT/WINDOW",
				"running <- sakila.payment.payment_date INDIRECT/WINDOW",
				"rn <- sakila.payment.staff_id INDIRECT/WINDOW",
			},
			absent: []string{"running <- sakila.payment.staff_id INDIRECT/WINDOW"},
		},
		{
			// A column both passed through and computed is a transformation.
			name:   "StrongestKind",
			def:    "SELECT IFNULL(title, CONCAT(title, '?')) AS t, title FROM film GROUP BY 2, title ORDER BY 1",
			tables: []string{"sakila.film"},
			output: []string{"t", "title"},
			want: []string{
				"t <- sakila.film.title DIRECT/TRANSFORMATION",
				"title <- sakila.film.title DIRECT/IDENTITY",
				"sakila.film.title INDIRECT/GROUP_BY",
				"sakila.film.title INDIRECT/SORT",
			},
		},
		{
			// Lineage is one hop: a view over a view names the inner view.
			name:   "NestedView",
			def:    "CREATE VIEW cheap AS SELECT fl.title, fl.actors FROM film_list fl WHERE fl.price < 1",
			tables: []string{"sakila.film_list"},
			output: []string{"title", "actors"},
			want: []string{
				"title <- sakila.film_list.title DIRECT/IDENTITY",
				"actors <- sakila.film_list.actors DIRECT/IDENTITY",
				"sakila.film_list.price INDIRECT/FILTER",
			},
		},
		{
			name:   "ViewColumnList",
			def:    "CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v (a, b) AS SELECT name, 1 FROM language WITH CHECK OPTION",
			tables: []string{"sakila.language"},
			output: []string{"a", "b"},
			want:   []string{"a <- sakila.language.name DIRECT/IDENTITY"},
		},
		{
			name:   "OtherSchemaAndCaseInsensitiveColumns",
			def:    "select `SAKILA`.`Film`.`TITLE` AS `T` from `sakila`.`film` `Film`",
			tables: []string{"sakila.film"},
			output: []string{"T"},
			want:   []string{"T <- sakila.film.title DIRECT/IDENTITY"},
		},
		{
			name:   "Constants",
			def:    "SELECT 1 AS one, NOW() AS `now` FROM DUAL",
			output: []string{"one", "now"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := viewsql.Parse("sakila", c.def, s.tables)
			if err != nil {
				t.Fatal(err)
			}
			requireTables(t, l, c.tables...)
			if strings.Join(l.Output, ",") != strings.Join(c.output, ",") {
				t.Errorf("output %v, want %v", l.Output, c.output)
			}
			requireEdges(t, l, c.want, c.absent...)
		})
	}
}

func TestErrors(t *testing.T) {
	s := sakila(t)
	for _, c := range []struct {
		name, def, schema, want string
	}{
		{"Garbage", "this is not SQL at all", "sakila", "does not parse"},
		{"Empty", "", "sakila", "does not parse"},
		{"GrammarPanics", "set````", "sakila", "does not parse"},
		{"NotAView", "DROP TABLE film", "sakila", "not a SELECT"},
		{"UnknownTable", "SELECT x FROM nowhere", "sakila", "unknown table or view sakila.nowhere"},
		{"UnknownSchema", "SELECT title FROM other.film", "sakila", "unknown table or view other.film"},
		{"NoDefaultSchema", "SELECT title FROM film", "", "no default schema"},
		{"UnknownColumn", "SELECT f.nope FROM film f", "sakila", "unknown column f.nope"},
		{"UnknownQualifier", "SELECT g.title FROM film f", "sakila", "unknown column g.title"},
		{"Ambiguous", "SELECT film_id FROM film JOIN film_actor ON film.film_id = film_actor.film_id", "sakila", "ambiguous"},
		{"UnionWidths", "SELECT title FROM film UNION SELECT title, film_id FROM film", "sakila", "UNION branches"},
		{"ColumnList", "CREATE VIEW v (a, b) AS SELECT title FROM film", "sakila", "names 2 columns"},
		{"BadPosition", "SELECT title FROM film ORDER BY 3", "sakila", "position 3"},
		{"UnknownWindow", "SELECT RANK() OVER w FROM film", "sakila", "unknown window w"},
		{"StarWithoutFrom", "SELECT *", "sakila", "without a FROM"},
		{"SelfReferenceWithoutRecursive", "WITH c AS (SELECT * FROM c) SELECT * FROM c", "sakila", "refers to itself"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := viewsql.Parse(c.schema, c.def, s.tables)
			if err == nil {
				t.Fatalf("no error; lineage %v", edges(l))
			}
			if l != nil {
				t.Errorf("lineage returned with the error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to say %q", err, c.want)
			}
			if code := quarry.ErrorCode(err); code != quarry.EINVALID {
				t.Errorf("code %s, want %s", code, quarry.EINVALID)
			}
		})
	}
	t.Run("NilCatalog", func(t *testing.T) {
		if _, err := viewsql.Parse("sakila", "SELECT 1", nil); err == nil {
			t.Fatal("no error")
		}
	})
}

// speller is a catalog of a server with case-insensitive table names:
// names are stored lower-cased.
type speller struct{ catalog }

func (s speller) Spell(schema, table string) (viewsql.Relation, bool) {
	r := viewsql.Relation{Schema: strings.ToLower(schema), Name: strings.ToLower(table)}
	_, ok := s.catalog[r]
	return r, ok
}

// TestChinookCase checks that table names keep the catalog's case:
// Chinook's tables are `Album`, `Artist`.
func TestChinookCase(t *testing.T) {
	sc := loadScript(t, fixture(t, "mysql/chinook/Chinook_MySql.sql"), "Chinook")
	if len(sc.tables) != 11 {
		t.Fatalf("%d Chinook tables, want 11", len(sc.tables))
	}
	def := "select `al`.`Title` AS `Title`,`Chinook`.`Artist`.`Name` AS `Artist` from (`Chinook`.`Album` `al` join `Chinook`.`Artist` on(`al`.`ArtistId` = `Chinook`.`Artist`.`ArtistId`))"
	l, err := viewsql.Parse("Chinook", def, sc.tables)
	if err != nil {
		t.Fatal(err)
	}
	requireTables(t, l, "Chinook.Album", "Chinook.Artist")
	requireEdges(t, l, []string{
		"Title <- Chinook.Album.Title DIRECT/IDENTITY",
		"Artist <- Chinook.Artist.Name DIRECT/IDENTITY",
		"Chinook.Album.ArtistId INDIRECT/JOIN",
	})
	// A hand-written definition in another case resolves column names,
	// which are case-insensitive, with the catalog's spelling.
	l, err = viewsql.Parse("Chinook", "SELECT title, artistid FROM Album", sc.tables)
	if err != nil {
		t.Fatal(err)
	}
	requireEdges(t, l, []string{"title <- Chinook.Album.Title DIRECT/IDENTITY", "artistid <- Chinook.Album.ArtistId DIRECT/IDENTITY"})
	// Table names are not: without a Speller, `album` is unknown...
	if _, err := viewsql.Parse("Chinook", "SELECT Title FROM album", sc.tables); err == nil {
		t.Error("album resolved without a Speller")
	}
	// ...and with one (a lower_case_table_names server) it is the
	// catalog's spelling that is reported.
	lower := speller{catalog{}}
	for r, cols := range sc.tables {
		lower.catalog[viewsql.Relation{Schema: strings.ToLower(r.Schema), Name: strings.ToLower(r.Name)}] = cols
	}
	l, err = viewsql.Parse("Chinook", "SELECT a.Title FROM Album a", lower)
	if err != nil {
		t.Fatal(err)
	}
	requireTables(t, l, "chinook.album")
}

func TestNoPanic(t *testing.T) {
	s := sakila(t)
	// Inputs that have tripped SQL parsers: deep nesting, stray tokens,
	// lone quotes, huge numbers.
	for _, def := range []string{
		strings.Repeat("(", 5000) + "select 1" + strings.Repeat(")", 5000),
		"select " + strings.Repeat("-", 10000) + "1",
		"select " + strings.Repeat("concat(", 3000) + "title" + strings.Repeat(")", 3000) + " from film",
		"select 'unterminated",
		"select `unterminated",
		"select 1e99999999999999999999 as x",
		"select * from film where title in (select)",
		"create view",
		"select \x00\xff",
	} {
		if _, err := viewsql.Parse("sakila", def, s.tables); errors.Is(err, viewsql.ErrPanic) {
			t.Errorf("%.40q...: %v", def, err)
		}
	}
	l, err := viewsql.Parse("sakila", "select "+strings.Repeat("concat(", 300)+"title"+strings.Repeat(")", 300)+" as t from film", s.tables)
	if err != nil {
		t.Fatal(err)
	}
	requireEdges(t, l, []string{"t <- sakila.film.title DIRECT/TRANSFORMATION"})
}

// TestConcurrent parses from several goroutines at once, as a crawler
// spreading views over its CPUs does (run with -race to see it matter).
func TestConcurrent(t *testing.T) {
	s := sakila(t)
	want := map[string][]string{}
	for _, name := range s.order {
		want[name] = edges(parseSakila(t, s, name))
	}
	errs := make(chan error, 4*len(s.order))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, name := range s.order {
				l, err := viewsql.Parse("sakila", s.views[name], s.tables)
				if err == nil && !slices.Equal(edges(l), want[name]) {
					err = fmt.Errorf("%s: lineage differs", name)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
