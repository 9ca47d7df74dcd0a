package lineage

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/quarrydata/quarry"
)

// checkRanks fails unless byName holds every node once, in name order,
// with ranks that grow along it.
func checkRanks(t *testing.T, s *graphState) {
	t.Helper()
	if len(s.byName) != len(s.nodes) {
		t.Fatalf("byName has %d nodes; the graph has %d", len(s.byName), len(s.nodes))
	}
	seen := make([]bool, len(s.nodes))
	for i, n := range s.byName {
		if seen[n] {
			t.Fatalf("node %d (%s) is twice in byName", n, s.nameOf(n))
		}
		seen[n] = true
		if i == 0 {
			continue
		}
		p := s.byName[i-1]
		if s.cmpNames(p, n) >= 0 {
			t.Fatalf("byName[%d] %q is not after byName[%d] %q", i, s.nameOf(n), i-1, s.nameOf(p))
		}
		if s.nodes[p].rank >= s.nodes[n].rank {
			t.Fatalf("rank of %q (%d) is not above that of %q (%d)", s.nameOf(n), s.nodes[n].rank, s.nameOf(p), s.nodes[p].rank)
		}
	}
}

func dataset(id, name string) quarry.Identity {
	return quarry.Identity{Entity: quarry.EntityDataset, ID: id, Namespace: "pg://db", Name: name}
}

// Batches of new and renamed nodes are ranked at their end, in one merge:
// the order and the ranks are those of inserting them one by one.
func TestRankNamedBatches(t *testing.T) {
	b := NewBuilder()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		b.AddIdentity(dataset(fmt.Sprint("d", i), fmt.Sprintf("s.t%06d", r.IntN(1_000_000))))
	}
	s := b.finish()
	checkRanks(t, s)
	next := 1000
	for batch := range 20 {
		for range 200 {
			s.setIdentity(dataset(fmt.Sprint("d", next), fmt.Sprintf("s.t%06d", r.IntN(1_000_000))))
			next++
		}
		// Renamed nodes, one of them twice; a new node renamed in its batch.
		for range 20 {
			s.setIdentity(dataset(fmt.Sprint("d", r.IntN(next)), fmt.Sprintf("s.r%06d", r.IntN(1_000_000))))
		}
		s.setIdentity(dataset("d7", fmt.Sprint("s.again", batch)))
		s.setIdentity(dataset("d7", fmt.Sprint("s.again", batch, "b")))
		s.setIdentity(dataset(fmt.Sprint("n", batch), "s.first"))
		s.setIdentity(dataset(fmt.Sprint("n", batch), fmt.Sprint("s.second", batch)))
		// A node that only an edge names: no name yet.
		s.node(fmt.Sprint("e", batch), kindDataset)
		s.rankNamed()
		checkRanks(t, s)
	}
}

// Nodes inserted again and again into the same gap exhaust it: every node
// is ranked again, and the order holds.
func TestRankNamedExhaustsAGap(t *testing.T) {
	b := NewBuilder()
	b.AddIdentity(dataset("a", "a"))
	b.AddIdentity(dataset("b", "b"))
	s := b.finish()
	for i := 1; i <= 40; i++ {
		s.setIdentity(dataset(fmt.Sprint("m", i), "a"+strings.Repeat("m", i)))
		s.rankNamed()
		checkRanks(t, s)
	}
	// Forty halvings of a gap of 2^24: the nodes were ranked again.
	if b, _ := s.lookup("b"); s.nodes[b].rank == 2*rankGap {
		t.Fatalf("b's rank is still %d: no node was ranked again", s.nodes[b].rank)
	}
}

// BenchmarkRankNamed is a follower's batch of 1,000 new datasets named in
// a graph of a million: ranked at the batch's end rather than one by one.
func BenchmarkRankNamed(b *testing.B) {
	bl := NewBuilder()
	for i := range 1_000_000 {
		bl.AddIdentity(dataset(fmt.Sprint("d", i), fmt.Sprintf("dw.s.t_%d", i*7919%1_000_003)))
	}
	s := bl.finish()
	next := 1_000_000
	b.ResetTimer()
	for range b.N {
		for range 1000 {
			s.setIdentity(dataset(fmt.Sprint("d", next), fmt.Sprintf("dw.s.t_%d", next*7919%1_000_003)))
			next++
		}
		s.rankNamed()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*1000), "µs/dataset")
}
