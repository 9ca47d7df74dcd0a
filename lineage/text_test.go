package lineage

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// The arena gives back every string it was given, short ones across
// chunks and one longer than a chunk.
func TestArena(t *testing.T) {
	var a arena
	want := []string{"", "a", strings.Repeat("x", chunkSize+3), "after the long one"}
	for i := range 200_000 {
		want = append(want, fmt.Sprintf("dw%d.marketing.int_customer_revenue_%d", i%5, i))
	}
	refs := make([]text, len(want))
	for i, s := range want {
		refs[i] = a.add(s)
	}
	if len(a.chunks) < 3 {
		t.Fatalf("%d chunks: the test meant to fill several", len(a.chunks))
	}
	for i, s := range want {
		if got := string(a.bytes(refs[i])); got != s {
			t.Fatalf("string %d is %.40q, want %.40q", i, got, s)
		}
	}
	a.drop(refs[2])
	c := a.compacted(func(yield func(*text)) {
		for i := range refs {
			if i != 2 {
				yield(&refs[i])
			}
		}
	})
	if c.holes != 0 || c.used != a.used-a.holes {
		t.Fatalf("compacted: %d bytes used, %d holes; want %d, 0", c.used, c.holes, a.used-a.holes)
	}
	for i, s := range want {
		if i == 2 {
			continue
		}
		if got := string(c.bytes(refs[i])); got != s {
			t.Fatalf("compacted: string %d is %.40q, want %.40q", i, got, s)
		}
	}
	// An answer's strings share the arena's bytes: they outlive what is
	// added after them and a compaction.
	kept := c.str(refs[len(refs)-1])
	for range 100_000 {
		c.add("added after")
	}
	c.drop(refs[len(refs)-1])
	c = c.compacted(func(yield func(*text)) { yield(&refs[0]) })
	runtime.GC()
	if want := want[len(want)-1]; kept != want {
		t.Fatalf("a string made before the compaction is %q, want %q", kept, want)
	}
}

// Nodes renamed over and over leave holes in the arena that compact
// closes; every node keeps its ID, its last name and its rank, and is
// found by its ID.
func TestRenamesCompactTheArena(t *testing.T) {
	const nodes = 3000
	b := NewBuilder()
	for i := range nodes {
		b.AddIdentity(dataset(fmt.Sprint("d", i), fmt.Sprintf("s.first%06d", i)))
	}
	s := b.finish()
	compacted := false
	for round := range 12 {
		for i := range nodes {
			s.setIdentity(dataset(fmt.Sprint("d", i), fmt.Sprintf("s.round%02d.t%06d", round, (i*7919+round)%nodes)))
		}
		s.rankNamed()
		before := s.text.holes
		s.compact(false)
		compacted = compacted || s.text.holes < before
		if s.text.holes > 1024 && s.text.holes > s.text.used/2 {
			t.Fatalf("round %d: %d bytes of holes in %d", round, s.text.holes, s.text.used)
		}
		checkRanks(t, s)
	}
	if !compacted {
		t.Fatal("the arena was never compacted")
	}
	for i := range nodes {
		n, ok := s.lookup(fmt.Sprint("d", i))
		if !ok || string(s.idOf(n)) != fmt.Sprint("d", i) {
			t.Fatalf("d%d: found %v, node %d (%s)", i, ok, n, s.idOf(n))
		}
		if want := fmt.Sprintf("s.round11.t%06d", (i*7919+11)%nodes); string(s.nameOf(n)) != want || s.namespaceOf(n) != "pg://db" {
			t.Fatalf("d%d is named %s %s, want pg://db %s", i, s.namespaceOf(n), s.nameOf(n), want)
		}
	}
	if _, ok := s.lookup("d-none"); ok {
		t.Fatal("found a node never named")
	}
}
