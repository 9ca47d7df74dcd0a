package crawler

import (
	"errors"
	"runtime"
	"strings"
	"sync"
)

// View lineage of MySQL and MariaDB comes from the views' SQL: MySQL 8.0.13+
// lists the relations a view reads (VIEW_TABLE_USAGE), MariaDB nothing, and
// neither the columns. The types below have the shape of package viewsql's
// (crawler/viewsql, which parses a definition with a MySQL grammar);
// parseViewDefinition is the one place that calls it.

// viewCatalog gives the columns of the relations a definition may name,
// in order.
type viewCatalog interface {
	Columns(schema, table string) ([]string, bool)
}

type viewRelation struct{ Schema, Name string }

type viewColumnSource struct {
	viewRelation
	Column         string
	Transformation string // DIRECT/..., INDIRECT/...
}

type viewLineage struct {
	Tables   []viewRelation                // every relation the view reads, in order of first appearance
	Columns  map[string][]viewColumnSource // view output column -> where its values come from
	Indirect []viewColumnSource            // columns that filter, join, group or sort the whole view
}

// viewParser reads one view definition in defaultSchema.
type viewParser func(defaultSchema, definition string, cat viewCatalog) (*viewLineage, error)

// parseViewDefinition finds the relations a definition reads, for
// table-level lineage only: MySQL and MariaDB print a view's definition
// with every relation qualified and quoted (`db`.`table`), and each such
// pair that names a relation of the catalog is one the view reads.
// Column lineage needs the grammar of package viewsql, which replaces
// this function's body.
func parseViewDefinition(defaultSchema, definition string, cat viewCatalog) (*viewLineage, error) {
	if strings.TrimSpace(definition) == "" {
		return nil, errors.New("no definition: the account may not see it (SHOW VIEW)")
	}
	lin := &viewLineage{Columns: map[string][]viewColumnSource{}}
	seen := map[viewRelation]bool{}
	idents := quotedChain(definition)
	for _, chain := range idents {
		if len(chain) < 2 {
			continue
		}
		r := viewRelation{chain[0], chain[1]}
		if _, ok := cat.Columns(r.Schema, r.Name); ok && !seen[r] {
			seen[r] = true
			lin.Tables = append(lin.Tables, r)
		}
	}
	return lin, nil
}

// quotedChain returns the dotted chains of backquoted identifiers in s
// (`a`.`b`.`c` is one chain), skipping string literals.
func quotedChain(s string) [][]string {
	var out [][]string
	var cur []string
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			i = j
			if cur != nil {
				out, cur = append(out, cur), nil
			}
		case c == '`':
			var b strings.Builder
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '`' {
					if j+1 < len(s) && s[j+1] == '`' {
						b.WriteByte('`')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			cur = append(cur, b.String())
			i = j
			if i+1 < len(s) && s[i+1] == '.' {
				i++ // the chain goes on
				continue
			}
			out, cur = append(out, cur), nil
		default:
			if cur != nil {
				out, cur = append(out, cur), nil
			}
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// myViewCatalog answers viewCatalog from the crawled columns. Table
// names are case-insensitive on some servers (lower_case_table_names), and
// a definition may spell one otherwise than the catalog: folded finds it.
type myViewCatalog struct {
	exact  map[[2]string]*myTable
	folded map[[2]string]*myTable
}

func newViewCatalog(tables map[[2]string]*myTable) *myViewCatalog {
	c := &myViewCatalog{exact: tables, folded: make(map[[2]string]*myTable, len(tables))}
	for k, t := range tables {
		c.folded[[2]string{strings.ToLower(k[0]), strings.ToLower(k[1])}] = t
	}
	return c
}

func (c *myViewCatalog) Columns(schema, table string) ([]string, bool) {
	t := c.exact[[2]string{schema, table}]
	if t == nil {
		t = c.folded[[2]string{strings.ToLower(schema), strings.ToLower(table)}]
	}
	if t == nil {
		return nil, false
	}
	cols := make([]string, len(t.columns))
	for i, col := range t.columns {
		cols[i] = col.name
	}
	return cols, true
}

// parseViews parses every view's definition, spread over the CPUs. A view
// whose definition does not parse keeps no lineage of its own (the
// server's VIEW_TABLE_USAGE stands, where it has one) and is counted.
func (cat *myCatalog) parseViews() {
	var views []*myTable
	for _, t := range cat.order {
		if t.isView() {
			views = append(views, t)
		}
	}
	vc := newViewCatalog(cat.tables)
	var wg sync.WaitGroup
	var mu sync.Mutex
	workers := min(runtime.GOMAXPROCS(0), len(views))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(views); i += workers {
				v := views[i]
				lin, err := cat.parse(v.schema, v.definition, vc)
				if err != nil || lin == nil {
					mu.Lock()
					cat.unparsed++
					mu.Unlock()
					continue
				}
				v.lineage = lin
			}
		})
	}
	wg.Wait()
}
