package lineage

import (
	"cmp"
	"slices"

	"github.com/quarrydata/quarry"
)

// Link derivation: the links a dataset's stored edges make, at the table
// and the column level, and the degrees they give their nodes.

// better reports whether transformation t of origin o is preferred over
// the one a link holds: non-empty first, then by origin, then by name. A
// total order, so that links come out the same in whichever order their
// edges are merged.
func (s *graphState) better(t int32, o uint8, have int32, haveO uint8) bool {
	switch {
	case t == 0 || t == have:
		return false
	case have == 0:
		return true
	case o != haveO:
		return o < haveO
	}
	return s.trans[t] < s.trans[have]
}

// replaceIn replaces the stored edges leading into dataset t and re-derives
// the links they make.
func (s *graphState) replaceIn(t int32, edges []quarry.Edge) {
	sc := &s.sc
	raw := make([]inEdge, 0, len(edges))
	for i := range edges {
		raw = append(raw, s.inEdgeOf(&edges[i], t))
	}
	both := append(slices.Clone(s.raw(t)), raw...) // the old edges, then the new
	s.raws.set(&s.nodes[t].raw, raw)

	// The nodes whose links may change: t, its old and new sources and
	// jobs, and their columns.
	var touched, jobs, cols []int32
	sc.mark.next()
	add := func(list *[]int32, i int32) {
		if i != none && !sc.mark.has(i) {
			sc.mark.set(i, 0)
			*list = append(*list, i)
		}
	}
	add(&touched, t)
	for _, r := range both {
		add(&touched, r.from)
		add(&jobs, r.job)
	}
	sc.mark.next() // column nodes have indices of their own
	for _, r := range both {
		add(&cols, r.fromCol)
		add(&cols, r.toCol)
	}

	s.relinkIn(t, sc)
	for _, j := range jobs {
		s.relinkJobIn(j, sc) // after relinkIn, which set the jobs' outputs
	}
	s.relinkColumnsIn(t, sc)
	for _, i := range slices.Concat(touched, jobs) {
		s.degree(i, sc)
	}
	for _, c := range cols {
		s.columnDegree(c, sc)
	}
	s.compact(false)
}

// relinkIn derives the table-level links into dataset t from its stored
// edges, and mirrors them in the sources' (or jobs') out links.
func (s *graphState) relinkIn(t int32, sc *scratch) {
	sc.links = sc.links[:0]
	sc.pos.next()
	for _, r := range s.raw(t) {
		from, w := r.from, uint8(2)
		if r.job != none {
			from, w = r.job, 1
		}
		s.mergeLink(sc, from, w, r)
	}
	s.setIn(t, sc.links)
}

// relinkJobIn derives the links into job j from the stored edges of the
// datasets it writes (its out links).
func (s *graphState) relinkJobIn(j int32, sc *scratch) {
	sc.links = sc.links[:0]
	sc.pos.next()
	for _, l := range s.out(j) {
		for _, r := range s.raw(l.node) {
			if r.job == j {
				s.mergeLink(sc, r.from, 1, r)
			}
		}
	}
	s.setIn(j, sc.links)
}

// mergeLink adds stored edge r to the link from node from in sc.links.
func (s *graphState) mergeLink(sc *scratch, from int32, w uint8, r inEdge) {
	i, ok := sc.pos.get(from)
	if !ok {
		i = int32(len(sc.links))
		sc.pos.set(from, i)
		sc.links = append(sc.links, link{node: from, w: w})
	}
	l := &sc.links[i]
	l.origins |= 1 << r.origin
	// A column's transformation is not the table's.
	if r.fromCol == none && s.better(r.trans, r.origin, l.trans, l.tOrigin) {
		l.trans, l.tOrigin = r.trans, r.origin
	}
}

// setIn replaces node n's in links with links (which it sorts), and their
// mirrors.
func (s *graphState) setIn(n int32, links []link) {
	for _, l := range s.in(n) {
		s.links.deleteFunc(&s.nodes[l.node].out, func(m link) bool { return m.node == n })
	}
	slices.SortFunc(links, s.cmpLinks)
	s.links.set(&s.nodes[n].in, links)
	for _, l := range links {
		m := l
		m.node = n
		i := -1 // a Builder sorts out links once at the end
		if !s.building {
			i, _ = slices.BinarySearchFunc(s.out(l.node), m, s.cmpLinks)
		}
		s.links.insert(&s.nodes[l.node].out, i, m)
	}
}

// relinkColumnsIn derives the column-level links into dataset t's columns
// from its stored edges, and mirrors them in the source columns' out links.
func (s *graphState) relinkColumnsIn(t int32, sc *scratch) {
	for _, r := range s.colsOf(t) {
		c := r.node
		for _, l := range s.cin(c) {
			s.clinks.deleteFunc(&s.cnodes[l.node].out, func(m clink) bool { return m.node == c })
		}
		s.cnodes[c].in.n = 0
	}
	raw := s.raw(t)
	idx := sc.idx[:0]
	for i, r := range raw {
		if r.toCol != none {
			idx = append(idx, int32(i))
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		x, y := &raw[a], &raw[b]
		return cmp.Or(cmp.Compare(x.toCol, y.toCol), cmp.Compare(x.fromCol, y.fromCol), cmp.Compare(x.job, y.job))
	})
	sc.idx = idx
	for i := 0; i < len(idx); {
		to := raw[idx[i]].toCol
		in := sc.clinks[:0]
		for ; i < len(idx) && raw[idx[i]].toCol == to; i++ {
			r := &raw[idx[i]]
			if n := len(in); n == 0 || in[n-1].node != r.fromCol || in[n-1].job != r.job {
				in = append(in, clink{node: r.fromCol, job: r.job})
			}
			l := &in[len(in)-1]
			l.origins |= 1 << r.origin
			if s.better(r.trans, r.origin, l.trans, l.tOrigin) {
				l.trans, l.tOrigin = r.trans, r.origin
			}
		}
		sc.clinks = in
		slices.SortFunc(in, s.cmpCLinks)
		s.clinks.set(&s.cnodes[to].in, in)
		for _, l := range in {
			m := l
			m.node = to
			i := -1
			if !s.building {
				i, _ = slices.BinarySearchFunc(s.cout(l.node), m, s.cmpCLinks)
			}
			s.clinks.insert(&s.cnodes[l.node].out, i, m)
		}
	}
}

// degree counts the distinct nodes adjacent to node n.
func (s *graphState) degree(n int32, sc *scratch) {
	sc.mark.next()
	d := int32(0)
	for _, ls := range [2][]link{s.in(n), s.out(n)} {
		for _, l := range ls {
			if !sc.mark.has(l.node) {
				sc.mark.set(l.node, 0)
				d++
			}
		}
	}
	s.nodes[n].degree = d
}

func (s *graphState) columnDegree(c int32, sc *scratch) {
	sc.mark.next()
	d := int32(0)
	for _, ls := range [2][]clink{s.cin(c), s.cout(c)} {
		for _, l := range ls {
			if !sc.mark.has(l.node) {
				sc.mark.set(l.node, 0)
				d++
			}
		}
	}
	s.cnodes[c].degree = d
}

// scratch is the applier's reusable memory.
type scratch struct {
	pos, mark marks
	links     []link
	clinks    []clink
	idx       []int32
}

// marks maps node indices to values for one generation at a time: next
// forgets every mark in O(1). The applier's; a traversal has slots.
type marks struct {
	gen uint32
	at  []mark
}

type mark struct {
	gen uint32
	val int32
}

func (m *marks) next() {
	m.gen++
	if m.gen == 0 {
		clear(m.at)
		m.gen = 1
	}
}

func (m *marks) has(i int32) bool { return int(i) < len(m.at) && m.at[i].gen == m.gen }

func (m *marks) get(i int32) (int32, bool) {
	if m.has(i) {
		return m.at[i].val, true
	}
	return 0, false
}

func (m *marks) set(i, v int32) {
	if int(i) >= len(m.at) {
		m.at = append(m.at, make([]mark, max(int(i)+1, 2*len(m.at), 1024)-len(m.at))...)
	}
	m.at[i] = mark{m.gen, v}
}
