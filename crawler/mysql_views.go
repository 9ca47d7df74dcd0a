package crawler

import (
	"errors"
	"runtime"
	"strings"
	"sync"

	"github.com/quarrydata/quarry/crawler/viewsql"
)

// View lineage of MySQL and MariaDB comes from the views' SQL: MySQL 8.0.13+
// lists the relations a view reads (VIEW_TABLE_USAGE), MariaDB nothing, and
// neither the columns. Package viewsql parses a definition with a MySQL
// grammar and resolves it against the crawled columns.

type (
	viewCatalog  = viewsql.Catalog
	viewLineage  = viewsql.Lineage
	viewRelation = viewsql.Relation
)

// viewParser reads one view definition in defaultSchema.
type viewParser func(defaultSchema, definition string, cat viewCatalog) (*viewLineage, error)

// parseViewDefinition is the parser crawls use.
func parseViewDefinition(defaultSchema, definition string, cat viewCatalog) (*viewLineage, error) {
	if strings.TrimSpace(definition) == "" {
		return nil, errors.New("no definition: the account may not see it (SHOW VIEW)")
	}
	return viewsql.Parse(defaultSchema, definition, cat)
}

// referencedSchemas returns the databases the views' definitions may name
// that the crawl does not cover: the first part of every quoted chain
// (`db`.`table`, `db`.`table`.`column`, but also `alias`.`column`, which
// names no database and finds nothing). MySQL and MariaDB print every
// relation of a definition qualified and quoted.
func (cat *myCatalog) referencedSchemas() []string {
	crawled := map[string]bool{}
	for _, db := range cat.databases {
		crawled[db] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range cat.order {
		if !t.isView() {
			continue
		}
		for _, chain := range quotedChain(t.definition) {
			if len(chain) < 2 || crawled[chain[0]] || seen[chain[0]] || mysqlSystemSchema(chain[0]) {
				continue
			}
			seen[chain[0]] = true
			out = append(out, chain[0])
			if len(out) == maxReferencedSchemas {
				return out
			}
		}
	}
	return out
}

// maxReferencedSchemas bounds the databases outside the crawl whose
// columns are read for view lineage.
const maxReferencedSchemas = 1000

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

// myViewCatalog answers viewsql's Catalog from the crawled columns, names
// as the catalog spells them. Table names are case-insensitive on some
// servers (lower_case_table_names), and a definition may spell one
// otherwise than the catalog: Spell finds it.
type myViewCatalog struct {
	exact  map[[2]string]*myTable
	folded map[[2]string]*myTable
}

// newViewCatalog is the crawled tables and views, and the relations of
// other databases the views read (outside).
func newViewCatalog(tables, outside map[[2]string]*myTable) *myViewCatalog {
	c := &myViewCatalog{exact: make(map[[2]string]*myTable, len(tables)+len(outside)), folded: make(map[[2]string]*myTable, len(tables)+len(outside))}
	for _, m := range []map[[2]string]*myTable{outside, tables} {
		for k, t := range m {
			c.exact[k] = t
			c.folded[[2]string{strings.ToLower(k[0]), strings.ToLower(k[1])}] = t
		}
	}
	return c
}

func (c *myViewCatalog) Columns(schema, table string) ([]string, bool) {
	t := c.exact[[2]string{schema, table}]
	if t == nil {
		return nil, false
	}
	cols := make([]string, len(t.columns))
	for i, col := range t.columns {
		cols[i] = col.name
	}
	return cols, true
}

// Spell implements viewsql.Speller.
func (c *myViewCatalog) Spell(schema, table string) (viewsql.Relation, bool) {
	t := c.folded[[2]string{strings.ToLower(schema), strings.ToLower(table)}]
	if t == nil {
		return viewsql.Relation{}, false
	}
	return viewsql.Relation{Schema: t.schema, Name: t.name}, true
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
	vc := newViewCatalog(cat.tables, cat.outside)
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
