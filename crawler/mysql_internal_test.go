package crawler

import (
	"errors"
	"testing"

	"github.com/quarrydata/quarry"
)

// TestMySQLViewTableUsageFallback: on MySQL 8.0.13+, a view whose SQL does
// not parse keeps the table-level edges VIEW_TABLE_USAGE lists, and is
// counted. (The tests' MariaDB has no VIEW_TABLE_USAGE: this is the MySQL
// path, on a catalog as the queries would have read it.)
func TestMySQLViewTableUsageFallback(t *testing.T) {
	cat := &myCatalog{version: "8.0.36", databases: []string{"shop"}, tables: map[[2]string]*myTable{},
		usage: map[[2]string][][2]string{{"shop", "v"}: {{"shop", "orders"}, {"crm", "customers"}}},
		parse: func(string, string, viewCatalog) (*viewLineage, error) { return nil, errors.New("does not parse") }}
	for _, tb := range []*myTable{
		{schema: "shop", name: "orders", typ: "BASE TABLE", columns: []myColumn{{name: "id", ordinal: 1}}},
		{schema: "shop", name: "v", typ: "VIEW", definition: "select weird syntax", columns: []myColumn{{name: "id", ordinal: 1}}},
	} {
		cat.tables[tb.key()] = tb
		cat.order = append(cat.order, tb)
	}
	cat.parseViews()
	if cat.unparsed != 1 {
		t.Fatalf("unparsed = %d", cat.unparsed)
	}
	o := &Options{}
	snaps := cat.snapshots("mysql://db:3306", o)
	id := func(name string) string { return quarry.NewID(quarry.EntityDataset, "mysql://db:3306", name) }
	edges := snaps[0].edges[id("shop.v")]
	if len(edges) != 2 || edges[0].From != id("shop.orders") || edges[1].From != id("crm.customers") || edges[0].FromColumn != "" ||
		edges[0].Origin != quarry.OriginCatalog || edges[0].To != id("shop.v") {
		t.Fatalf("edges of v: %+v", edges)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"8.0.13": true, "8.0.12": false, "8.0.36-log": true, "8.4.0": true, "5.7.44": false, "10.11.19-MariaDB": true} {
		if got := versionAtLeast(v, 8, 0, 13); got != want {
			t.Errorf("versionAtLeast(%q, 8.0.13) = %v", v, got)
		}
	}
}
