package viewsql_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/quarrydata/quarry/crawler/viewsql"
)

// FuzzParse checks that no definition makes Parse panic (a recovered panic
// is reported as viewsql.ErrPanic) and that what it returns is consistent:
// every column it names belongs to a relation in Tables, and every column
// with sources is an output column.
func FuzzParse(f *testing.F) {
	s := sakila(f)
	for _, name := range s.order {
		f.Add(s.views[name])
	}
	for _, def := range []string{
		"select `sakila`.`film`.`film_id` AS `FID`,group_concat(concat(`a`.`first_name`,' ',`a`.`last_name`) separator ', ') AS `actors` from (`sakila`.`film` join `sakila`.`actor` `a` on(`a`.`actor_id` = `sakila`.`film`.`film_id`)) group by `sakila`.`film`.`film_id`",
		"WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5) SELECT n FROM seq",
		"SELECT * FROM country JOIN city USING (country_id) NATURAL JOIN address",
		"SELECT SUM(amount) OVER w, CASE WHEN amount > 1 THEN 1 END FROM payment WINDOW w AS (PARTITION BY customer_id)",
		"SELECT x FROM (SELECT title FROM film) AS d (x) WHERE x IN (SELECT name FROM category) ORDER BY 1",
		"select `sakila`.`film`.`title` AS `title` from `sakila`.`film` except select `sakila`.`category`.`name` AS `name` from `sakila`.`category` intersect select 'x'",
	} {
		f.Add(def)
	}
	f.Fuzz(func(t *testing.T, def string) {
		l, err := viewsql.Parse("sakila", def, s.tables)
		if errors.Is(err, viewsql.ErrPanic) {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		check := func(src viewsql.ColumnSource) {
			if !slices.Contains(l.Tables, src.Relation) {
				t.Fatalf("source %v is not in Tables %v", src, l.Tables)
			}
			cols, _ := s.tables.Columns(src.Schema, src.Name)
			if !slices.Contains(cols, src.Column) {
				t.Fatalf("source %v: no such column", src)
			}
		}
		for out, srcs := range l.Columns {
			if !slices.Contains(l.Output, out) {
				t.Fatalf("column %q is not in Output %v", out, l.Output)
			}
			for _, src := range srcs {
				check(src)
			}
		}
		for _, src := range l.Indirect {
			check(src)
		}
	})
}

// BenchmarkParseView parses Sakila's 7 views, CREATE VIEW statements as in
// the fixture, and reports the time per view.
func BenchmarkParseView(b *testing.B) {
	s := sakila(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, name := range s.order {
			if _, err := viewsql.Parse("sakila", s.views[name], s.tables); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(s.order)), "ns/view")
}
