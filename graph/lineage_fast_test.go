package graph

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// appendString writes a JSON string that reads back as encoding/json's
// encoding of the same text does (invalid UTF-8 becoming U+FFFD), for
// every kind of byte.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", "0190b5c1-2f2a-7d3e-8a1b-000000000003", `quote " and \ backslash`,
		"tab\tnew\nline\rcarriage", "\x00\x01\x1f\b\f control", "é ü 漢字 🙂 unicode",
		"bad \xff utf-8 \xc3", "<html> & </html>", "end with escape\n",
	} {
		check(t, s)
	}
	// Every byte that needs escaping, at every position of a long string
	// (the plain runs are scanned 8 bytes at a time).
	for _, c := range []string{"\x00", "\x1f", "\"", "\\", "\x7f", "\x80", "\xff", "é", " "} {
		for i := range 24 {
			check(t, strings.Repeat("a", i)+c+strings.Repeat("b", 24-i))
		}
	}
}

// check fails unless appendString(s) is a JSON string that reads back as
// encoding/json's encoding of s does.
func check(t *testing.T, s string) {
	t.Helper()
	std, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got, want string
	if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
		t.Fatalf("%q: %s is not a JSON string: %v", s, appendString(nil, s), err)
	}
	if err := json.Unmarshal(std, &want); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("%q reads back as %q, want %q", s, got, want)
	}
}

// The fast path may write every field it knows in Quarry's schema: a
// change to lineage's types in the .graphqls files that this test reports
// has turned the fast path (partly) off until lineageWrites and the
// writers follow it.
func TestLineageFastPathShape(t *testing.T) {
	sh := lineageShape(NewExecutableSchema(Config{}).Schema())
	if sh == nil {
		t.Fatal("the fast path answers no lineage query: Query.lineage's arguments or type differ from lineageArgs")
	}
	var walk func(sh *shape, typ string)
	walk = func(sh *shape, typ string) {
		for name, gql := range lineageWrites[typ] {
			sub, ok := sh.fields[name]
			if !ok {
				t.Errorf("%s.%s is not %s in the schema (or takes arguments): the fast path leaves it to the executor", typ, name, gql)
				continue
			}
			if elem := strings.Trim(gql, "[]!"); lineageWrites[elem] != nil {
				walk(sub, elem)
			}
		}
	}
	walk(sh, "LineageGraph")
}

// What the fast path answers follows the schema: a field whose type
// changed, or a lineage() whose arguments changed, is left to the executor.
func TestLineageFastPathFollowsSchema(t *testing.T) {
	files, err := filepath.Glob("*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	load := func(old, new string) *ast.Schema {
		t.Helper()
		var srcs []*ast.Source
		replaced := false
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), old) {
				b, replaced = []byte(strings.Replace(string(b), old, new, 1)), true
			}
			srcs = append(srcs, &ast.Source{Name: name, Input: string(b)})
		}
		if !replaced {
			t.Fatalf("no schema file holds %q", old)
		}
		s, err := gqlparser.LoadSchema(srcs...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	query := func(q string) ast.SelectionSet {
		t.Helper()
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		return doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
	}
	nodes := query(`{ lineage(nodeId: "x") { truncated nodes { id degree } edges { job { name } } } }`)
	if !plainSelection(nodes, lineageShape(load("degree: Int!", "degree: Int!"))) {
		t.Fatal("the schema as it is: the fast path should answer")
	}
	if plainSelection(nodes, lineageShape(load("degree: Int!", "degree: Float!"))) {
		t.Error("degree became a Float: the fast path still writes it as an Int")
	}
	if plainSelection(nodes, lineageShape(load("  job: Job\n", "  job: Job!\n"))) {
		t.Error("an edge's job became non-null: the fast path still writes it as nullable")
	}
	if lineageShape(load("columnLevel: Boolean = false", "columnLevel: Boolean = false, hops: Int")) != nil {
		t.Error("lineage() has an argument the fast path does not read, and it still answers")
	}
}
