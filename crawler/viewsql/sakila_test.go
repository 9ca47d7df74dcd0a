package viewsql_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/crawler/viewsql"
)

// edges prints a lineage one fact a line, sorted: "out <- schema.table.column
// TRANSFORMATION" for a view column's sources and "schema.table.column
// TRANSFORMATION" for the view-wide indirect ones.
func edges(l *viewsql.Lineage) []string {
	var out []string
	for col, srcs := range l.Columns {
		for _, s := range srcs {
			out = append(out, fmt.Sprintf("%s <- %s.%s.%s %s", col, s.Schema, s.Name, s.Column, s.Transformation))
		}
	}
	for _, s := range l.Indirect {
		out = append(out, fmt.Sprintf("%s.%s.%s %s", s.Schema, s.Name, s.Column, s.Transformation))
	}
	slices.Sort(out)
	return out
}

func tables(l *viewsql.Lineage) []string {
	var out []string
	for _, r := range l.Tables {
		out = append(out, r.Schema+"."+r.Name)
	}
	return out
}

// requireEdges fails unless every fact in want is in l, and none of
// absent is.
func requireEdges(t *testing.T, l *viewsql.Lineage, want []string, absent ...string) {
	t.Helper()
	got := edges(l)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q; have:\n  %s", w, strings.Join(got, "\n  "))
		}
	}
	for _, a := range absent {
		if slices.Contains(got, a) {
			t.Errorf("unexpected %q", a)
		}
	}
}

func requireTables(t *testing.T, l *viewsql.Lineage, want ...string) {
	t.Helper()
	got := tables(l)
	if !slices.Equal(got, want) {
		t.Errorf("tables %v, want %v", got, want)
	}
}

func parseSakila(t *testing.T, s *script, view string) *viewsql.Lineage {
	t.Helper()
	def, ok := s.views[view]
	if !ok {
		t.Fatalf("no view %s in sakila-schema.sql", view)
	}
	l, err := viewsql.Parse("sakila", def, s.tables)
	if err != nil {
		t.Fatalf("%s: %v", view, err)
	}
	return l
}

// filmListFacts hold for film_list and nicer_but_slower_film_list.
var filmListFacts = []string{
	"FID <- sakila.film.film_id DIRECT/IDENTITY",
	"title <- sakila.film.title DIRECT/IDENTITY",
	"category <- sakila.category.name DIRECT/IDENTITY",
	"price <- sakila.film.rental_rate DIRECT/IDENTITY",
	"actors <- sakila.actor.first_name DIRECT/AGGREGATION",
	"actors <- sakila.actor.last_name DIRECT/AGGREGATION",
	"sakila.category.category_id INDIRECT/JOIN",
	"sakila.film_category.category_id INDIRECT/JOIN",
	"sakila.film_category.film_id INDIRECT/JOIN",
	"sakila.film.film_id INDIRECT/JOIN",
	"sakila.film_actor.film_id INDIRECT/JOIN",
	"sakila.film_actor.actor_id INDIRECT/JOIN",
	"sakila.actor.actor_id INDIRECT/JOIN",
	"sakila.film.film_id INDIRECT/GROUP_BY",
	"sakila.category.name INDIRECT/GROUP_BY",
}

// sakilaFacts are what each Sakila view reads, checked against the
// CREATE VIEW statements of the fixture and against the same views as
// MariaDB prints them.
var sakilaFacts = []struct {
	view   string
	tables []string
	output []string
	want   []string
	absent []string
}{
	{
		view:   "film_list",
		tables: []string{"sakila.category", "sakila.film_category", "sakila.film", "sakila.film_actor", "sakila.actor"},
		output: []string{"FID", "title", "description", "category", "price", "length", "rating", "actors"},
		want:   filmListFacts,
		absent: []string{"FID <- sakila.film_category.film_id DIRECT/IDENTITY", "sakila.actor.first_name INDIRECT/JOIN"},
	},
	{
		view:   "nicer_but_slower_film_list",
		tables: []string{"sakila.category", "sakila.film_category", "sakila.film", "sakila.film_actor", "sakila.actor"},
		output: []string{"FID", "title", "description", "category", "price", "length", "rating", "actors"},
		want:   filmListFacts,
	},
	{
		view:   "customer_list",
		tables: []string{"sakila.customer", "sakila.address", "sakila.city", "sakila.country"},
		output: []string{"ID", "name", "address", "zip code", "phone", "city", "country", "notes", "SID"},
		want: []string{
			"ID <- sakila.customer.customer_id DIRECT/IDENTITY",
			"name <- sakila.customer.first_name DIRECT/TRANSFORMATION",
			"name <- sakila.customer.last_name DIRECT/TRANSFORMATION",
			"zip code <- sakila.address.postal_code DIRECT/IDENTITY",
			"city <- sakila.city.city DIRECT/IDENTITY",
			"country <- sakila.country.country DIRECT/IDENTITY",
			"notes <- sakila.customer.active INDIRECT/CONDITIONAL",
			"SID <- sakila.customer.store_id DIRECT/IDENTITY",
			"sakila.customer.address_id INDIRECT/JOIN",
			"sakila.address.address_id INDIRECT/JOIN",
			"sakila.address.city_id INDIRECT/JOIN",
			"sakila.city.city_id INDIRECT/JOIN",
			"sakila.city.country_id INDIRECT/JOIN",
			"sakila.country.country_id INDIRECT/JOIN",
		},
	},
	{
		view:   "staff_list",
		tables: []string{"sakila.staff", "sakila.address", "sakila.city", "sakila.country"},
		output: []string{"ID", "name", "address", "zip code", "phone", "city", "country", "SID"},
		want: []string{
			"ID <- sakila.staff.staff_id DIRECT/IDENTITY",
			"name <- sakila.staff.first_name DIRECT/TRANSFORMATION",
			"name <- sakila.staff.last_name DIRECT/TRANSFORMATION",
			"address <- sakila.address.address DIRECT/IDENTITY",
			"phone <- sakila.address.phone DIRECT/IDENTITY",
			"SID <- sakila.staff.store_id DIRECT/IDENTITY",
			"sakila.staff.address_id INDIRECT/JOIN",
			"sakila.country.country_id INDIRECT/JOIN",
		},
	},
	{
		view:   "sales_by_store",
		tables: []string{"sakila.payment", "sakila.rental", "sakila.inventory", "sakila.store", "sakila.address", "sakila.city", "sakila.country", "sakila.staff"},
		output: []string{"store", "manager", "total_sales"},
		want: []string{
			"store <- sakila.city.city DIRECT/TRANSFORMATION",
			"store <- sakila.country.country DIRECT/TRANSFORMATION",
			"manager <- sakila.staff.first_name DIRECT/TRANSFORMATION",
			"manager <- sakila.staff.last_name DIRECT/TRANSFORMATION",
			"total_sales <- sakila.payment.amount DIRECT/AGGREGATION",
			"sakila.payment.rental_id INDIRECT/JOIN",
			"sakila.rental.rental_id INDIRECT/JOIN",
			"sakila.inventory.store_id INDIRECT/JOIN",
			"sakila.store.manager_staff_id INDIRECT/JOIN",
			"sakila.staff.staff_id INDIRECT/JOIN",
			"sakila.store.store_id INDIRECT/GROUP_BY",
			"sakila.country.country INDIRECT/SORT",
			"sakila.city.city INDIRECT/SORT",
		},
	},
	{
		view:   "sales_by_film_category",
		tables: []string{"sakila.payment", "sakila.rental", "sakila.inventory", "sakila.film", "sakila.film_category", "sakila.category"},
		output: []string{"category", "total_sales"},
		want: []string{
			"category <- sakila.category.name DIRECT/IDENTITY",
			"total_sales <- sakila.payment.amount DIRECT/AGGREGATION",
			"sakila.film_category.category_id INDIRECT/JOIN",
			"sakila.category.name INDIRECT/GROUP_BY",
			// ORDER BY total_sales names the select list's alias.
			"sakila.payment.amount INDIRECT/SORT",
		},
	},
	{
		view: "actor_info",
		// The FROM clause is read before the correlated subquery in the
		// select list.
		tables: []string{"sakila.actor", "sakila.film_actor", "sakila.film_category", "sakila.category", "sakila.film"},
		output: []string{"actor_id", "first_name", "last_name", "film_info"},
		want: []string{
			"actor_id <- sakila.actor.actor_id DIRECT/IDENTITY",
			"first_name <- sakila.actor.first_name DIRECT/IDENTITY",
			"film_info <- sakila.category.name DIRECT/AGGREGATION",
			// The correlated subquery's GROUP_CONCAT(f.title) is part of the value.
			"film_info <- sakila.film.title DIRECT/AGGREGATION",
			"sakila.actor.actor_id INDIRECT/JOIN",
			"sakila.film_actor.actor_id INDIRECT/JOIN",
			"sakila.film.film_id INDIRECT/JOIN",
			// The subquery's WHERE, correlated with the outer query.
			"sakila.film_category.category_id INDIRECT/FILTER",
			"sakila.category.category_id INDIRECT/FILTER",
			"sakila.actor.actor_id INDIRECT/FILTER",
			"sakila.actor.actor_id INDIRECT/GROUP_BY",
			"sakila.actor.last_name INDIRECT/GROUP_BY",
		},
		absent: []string{"film_info <- sakila.film.film_id DIRECT/AGGREGATION"},
	},
}

func TestSakilaViews(t *testing.T) {
	s := sakila(t)
	for _, f := range sakilaFacts {
		t.Run(f.view, func(t *testing.T) {
			l := parseSakila(t, s, f.view)
			requireTables(t, l, f.tables...)
			if !slices.Equal(l.Output, f.output) {
				t.Errorf("output %v, want %v", l.Output, f.output)
			}
			requireEdges(t, l, f.want, f.absent...)
			for _, col := range l.Output {
				if len(l.Columns[col]) == 0 {
					t.Errorf("column %s reads nothing", col)
				}
			}
		})
	}
}

// TestMySQLPrinted parses definitions in the form MySQL 8 prints in
// information_schema.VIEWS: fully qualified, backquoted, charset
// introducers, doubled parentheses round join conditions.
func TestMySQLPrinted(t *testing.T) {
	s := sakila(t)
	for _, c := range []struct {
		name, def string
		want      []string
	}{
		{
			name: "JoinAndIntroducer",
			def: "select `sakila`.`city`.`city_id` AS `id`,concat(`sakila`.`city`.`city`,_utf8mb4', ',`co`.`country`) AS `place` " +
				"from (`sakila`.`city` join `sakila`.`country` `co` on((`sakila`.`city`.`country_id` = `co`.`country_id`))) " +
				"where (`co`.`country` <> _utf8mb4'Narnia')",
			want: []string{
				"id <- sakila.city.city_id DIRECT/IDENTITY",
				"place <- sakila.city.city DIRECT/TRANSFORMATION",
				"place <- sakila.country.country DIRECT/TRANSFORMATION",
				"sakila.city.country_id INDIRECT/JOIN",
				"sakila.country.country_id INDIRECT/JOIN",
				"sakila.country.country INDIRECT/FILTER",
			},
		},
		{
			name: "GroupConcatAndCount",
			def: "select `a`.`last_name` AS `last_name`,count(0) AS `n`,group_concat(distinct `a`.`first_name` order by `a`.`first_name` ASC separator ',') AS `firsts` " +
				"from `sakila`.`actor` `a` group by `a`.`last_name` having (count(0) > 1) order by `n` desc",
			want: []string{
				"last_name <- sakila.actor.last_name DIRECT/IDENTITY",
				"firsts <- sakila.actor.first_name DIRECT/AGGREGATION",
				"sakila.actor.last_name INDIRECT/GROUP_BY",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := viewsql.Parse("sakila", c.def, s.tables)
			if err != nil {
				t.Fatal(err)
			}
			requireEdges(t, l, c.want)
		})
	}
}
