package lineage

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/quarrydata/quarry"
)

// Traverse returns the lineage around q.Start. An unknown start is a
// quarry.ENOTFOUND error; a depth or limit over the graph's caps is
// quarry.EINVALID.
func (g *Graph) Traverse(ctx context.Context, q Query) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	depth, limit, err := g.bounds(q.Depth, q.Limit)
	if err != nil {
		return nil, err
	}
	var dirs []bool // upstream?
	switch q.Direction {
	case Upstream:
		dirs = []bool{true}
	case Downstream:
		dirs = []bool{false}
	case Both, 0:
		dirs = []bool{true, false}
	default:
		return nil, quarry.Invalid("direction", "%d is not a direction", int(q.Direction))
	}
	if q.Start == "" {
		return nil, quarry.Invalid("start", "a start node is required")
	}
	if err := g.ready(ctx); err != nil {
		return nil, err
	}

	g.mu.RLock()
	defer g.mu.RUnlock()
	s := g.s
	w := g.walk(s)
	defer g.walks.Put(w)

	id, column, isColumn := splitColumnID(q.Start)
	n, ok := s.lookup(id)
	if !ok {
		return nil, quarry.Errorf(quarry.ENOTFOUND, "lineage node %s not found", q.Start)
	}
	if isColumn && s.nodes[n].kind != kindDataset {
		return nil, quarry.Errorf(quarry.ENOTFOUND, "lineage node %s not found: %s is not a dataset", q.Start, id)
	}
	if !isColumn && !q.ColumnLevel {
		startHalf := 0
		if s.nodes[n].kind == kindJob {
			startHalf = 1 // a job sits in the middle of the hop to its datasets
		}
		admitted, truncated := w.run(s, false, []int32{n}, startHalf, 2*depth, dirs, limit)
		return s.tableResult(w, admitted, truncated), nil
	}
	if s.nodes[n].kind != kindDataset {
		return nil, quarry.Invalid("start", "column-level lineage starts at a dataset or a column, not a job")
	}
	var starts []int32
	if isColumn {
		c, ok := s.columnOf(n, column)
		if !ok { // a column without column lineage
			ds := &s.nodes[n]
			id, ns, name := s.names(ds)
			return &Result{Nodes: []Node{{
				ID: q.Start, Kind: KindColumn, Namespace: ns, Name: name,
				Column: column, DatasetID: id, Removed: ds.removed,
			}}}, nil
		}
		starts = []int32{c}
	} else {
		for _, r := range s.colsOf(n) {
			if c := r.node; s.cnodes[c].in.n+s.cnodes[c].out.n > 0 { // not one whose edges were replaced
				starts = append(starts, c)
			}
		}
		slices.SortFunc(starts, func(a, b int32) int { return strings.Compare(s.colName(a), s.colName(b)) })
	}
	if len(starts) == 0 { // a dataset without column lineage
		return &Result{Nodes: []Node{s.columnNode(w, -1, n)}}, nil
	}
	admitted, truncated := w.run(s, true, starts, 0, 2*depth, dirs, limit)
	return s.columnResult(w, admitted, truncated), nil
}

// bounds applies the defaults and caps to a depth and a limit.
func (g *Graph) bounds(depth, limit int) (int, int, error) {
	if depth <= 0 {
		depth = min(DefaultDepth, g.maxDepth)
	}
	if depth > g.maxDepth {
		return 0, 0, quarry.Invalid("depth", "%d is more than the largest depth, %d", depth, g.maxDepth)
	}
	l, err := g.limit(limit)
	return depth, l, err
}

func (g *Graph) limit(limit int) (int, error) {
	if limit <= 0 {
		limit = min(DefaultLimit, g.maxLimit)
	}
	if limit > g.maxLimit {
		return 0, quarry.Invalid("limit", "%d is more than the largest limit, %d", limit, g.maxLimit)
	}
	return limit, nil
}

// splitColumnID splits a column node ID, "<dataset ID>/<column>".
func splitColumnID(id string) (ds, column string, ok bool) {
	const idLen = 36 // a UUID in text form
	if len(id) > idLen && id[idLen] == '/' {
		return id[:idLen], id[idLen+1:], true
	}
	return id, "", false
}

func (s *graphState) lookup(id string) (int32, bool) {
	n, _, ok := s.find(id, fnv(fnvOffset, id))
	if !ok {
		lower := strings.ToLower(id)
		n, _, ok = s.find(lower, fnv(fnvOffset, lower))
	}
	return n, ok
}

// walk is one traversal's memory, reused by the next: a Result holds
// none of it.
type walk struct {
	gen   uint32
	slots []slot // by node, or by column node
	lvl   [2][3][]int32
	keys  []sortKey

	admitted []int32
	refs     []edgeRef
}

// slot is what a traversal knows of one node; a field is set in this
// traversal when its generation is the walk's. One slot rather than an
// array per fact: a node costs one cache miss, not four.
type slot struct {
	seen [2]uint32 // reached, per direction
	res  uint32    // admitted, at dist; then at pos of the result
	pend uint32    // counted as a new node of a coming level (impact: listed at pos)
	dist int32
	pos  int32
}

// walk returns a walk for a traversal of s.
func (g *Graph) walk(s *graphState) *walk {
	w, _ := g.walks.Get().(*walk)
	if w == nil {
		w = &walk{}
	}
	w.gen++
	if w.gen == 0 {
		clear(w.slots)
		w.gen = 1
	}
	if n := max(len(s.nodes), len(s.cnodes)); len(w.slots) < n {
		w.slots = append(w.slots, make([]slot, n-len(w.slots))...)
	}
	return w
}

func (w *walk) admitted1(v int32) (dist int32, ok bool) {
	sl := &w.slots[v]
	return sl.dist, sl.res == w.gen
}

func (w *walk) admit(v, dist int32) {
	sl := &w.slots[v]
	sl.res, sl.dist = w.gen, dist
}

// run is a breadth-first search from starts, at half-hop distance
// startHalf, in each direction of dirs (upstream when true), up to maxHalf.
// Levels are half hops: a link to or from a job weighs 1, a link between
// datasets or columns 2. Directions advance in step, so nearer nodes are
// admitted first; a node is admitted at its first (smallest) distance.
// run returns the admitted nodes and whether the limit left some out.
func (w *walk) run(s *graphState, column bool, starts []int32, startHalf, maxHalf int, dirs []bool, limit int) ([]int32, bool) {
	for d := range w.lvl {
		for h := range w.lvl[d] {
			w.lvl[d][h] = w.lvl[d][h][:0]
		}
	}
	for d := range dirs {
		for _, n := range starts {
			if sl := &w.slots[n]; sl.seen[d] != w.gen {
				sl.seen[d] = w.gen
				w.lvl[d][startHalf%3] = append(w.lvl[d][startHalf%3], n)
			}
		}
	}
	admitted := w.admitted[:0]
	defer func() { w.admitted = admitted[:0] }()
	var fresh [3]int // per coming level: nodes neither admitted nor counted before
	for h := startHalf; h <= maxHalf; h++ {
		empty := true
		for d := range dirs {
			for _, n := range w.lvl[d][h%3] {
				if w.slots[n].res == w.gen {
					continue
				}
				if len(admitted) == limit {
					return admitted, true
				}
				d := int32(h+1) / 2 // a job at an odd h: the distance of the datasets on its far side
				if h == startHalf {
					d = 0 // a start job sits in the middle of its first hop
				}
				w.admit(n, d)
				admitted = append(admitted, n)
			}
		}
		fresh[h%3] = 0
		if h == maxHalf {
			break
		}
	expand:
		for d, up := range dirs {
			cur := w.lvl[d][h%3]
			for _, u := range cur {
				// The next level overflows the limit already: what more it
				// would get is left out anyway.
				if len(admitted)+fresh[(h+1)%3] > limit {
					break expand
				}
				if column {
					ls := s.cout(u)
					if up {
						ls = s.cin(u)
					}
					for _, l := range ls {
						w.reach(d, l.node, h, 2, maxHalf, &fresh)
					}
				} else {
					ls := s.out(u)
					if up {
						ls = s.in(u)
					}
					for _, l := range ls {
						w.reach(d, l.node, h, int(l.w), maxHalf, &fresh)
					}
				}
			}
		}
		for d := range dirs {
			w.lvl[d][h%3] = w.lvl[d][h%3][:0]
			empty = empty && len(w.lvl[d][(h+1)%3]) == 0 && len(w.lvl[d][(h+2)%3]) == 0
		}
		if empty {
			break
		}
	}
	return admitted, false
}

func (w *walk) reach(d int, v int32, h, weight, maxHalf int, fresh *[3]int) {
	nh := h + weight
	sl := &w.slots[v]
	if nh > maxHalf || sl.seen[d] == w.gen {
		return
	}
	sl.seen[d] = w.gen
	w.lvl[d][nh%3] = append(w.lvl[d][nh%3], v)
	if sl.res != w.gen && sl.pend != w.gen {
		sl.pend = w.gen
		fresh[nh%3]++
	}
}

// edgeRef is an edge of a result, between positions in its Nodes.
type edgeRef struct {
	from, to int32
	job      int32 // none without a job
	trans    int32
	origins  uint8
}

// sortAdmitted sorts the admitted nodes as a Result orders them and
// records each one's position in its slot. The key packs the distance
// above the rank (see rankGap), so that most comparisons compare one
// integer.
func (s *graphState) sortAdmitted(w *walk, admitted []int32, column bool) {
	keys := w.keys[:0]
	for _, n := range admitted {
		ds := n
		if column {
			ds = s.cnodes[n].ds
		}
		keys = append(keys, sortKey{key: uint64(w.slots[n].dist)<<58 | s.nodes[ds].rank, node: n})
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		return strings.Compare(s.colName(a.node), s.colName(b.node)) // columns of one dataset
	})
	for i, k := range keys {
		admitted[i] = k.node
		w.slots[k.node].pos = int32(i)
	}
	w.keys = keys
}

type sortKey struct {
	key  uint64
	node int32
}

// sortFroms sorts the edges into one node by their From, then their job.
// They are few: an insertion sort.
func (s *graphState) sortFroms(refs []edgeRef) {
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0; j-- {
			a, b := &refs[j-1], &refs[j]
			if a.from < b.from || a.from == b.from && s.cmpNodes(a.job, b.job) <= 0 {
				break
			}
			*a, *b = *b, *a
		}
	}
}

// Edges are collected from the in links of the admitted nodes: in a
// warehouse, fan-in is bounded by what one query reads, while fan-out (a
// dimension read everywhere) is not.

func (s *graphState) tableResult(w *walk, admitted []int32, truncated bool) *Result {
	s.sortAdmitted(w, admitted, false)
	res := &Result{Nodes: make([]Node, len(admitted)), Truncated: truncated}
	refs := w.refs[:0]
	defer func() { w.refs = refs[:0] }()
	for i, n := range admitted {
		t := &s.nodes[n]
		d := w.slots[n].dist
		kind := KindDataset
		if t.kind == kindJob {
			kind = KindJob
		}
		id, ns, name := s.names(t)
		res.Nodes[i] = Node{ID: id, Kind: kind, Namespace: ns, Name: name, Removed: t.removed, Degree: int(t.degree), Distance: int(d)}
		into := len(refs)
		for _, l := range s.in(n) {
			if from := &w.slots[l.node]; from.res == w.gen {
				refs = append(refs, edgeRef{from: from.pos, to: int32(i), job: none, trans: l.trans, origins: l.origins})
			}
		}
		s.sortFroms(refs[into:])
	}
	if len(refs) > 0 {
		res.Edges = make([]Edge, len(refs))
	}
	for i, r := range refs {
		from, to := admitted[r.from], admitted[r.to]
		e := Edge{From: res.Nodes[r.from].ID, To: res.Nodes[r.to].ID, Transformation: s.trans[r.trans], Origin: s.firstOrigin(r.origins)}
		if s.nodes[from].kind == kindJob {
			e.JobID = e.From
		} else if s.nodes[to].kind == kindJob {
			e.JobID = e.To
		}
		res.Edges[i] = e
	}
	return res
}

func (s *graphState) columnResult(w *walk, admitted []int32, truncated bool) *Result {
	s.sortAdmitted(w, admitted, true)
	res := &Result{Nodes: make([]Node, len(admitted)), Truncated: truncated}
	refs := w.refs[:0]
	defer func() { w.refs = refs[:0] }()
	for i, c := range admitted {
		res.Nodes[i] = s.columnNode(w, c, s.cnodes[c].ds)
		into := len(refs)
		for _, l := range s.cin(c) {
			if from := &w.slots[l.node]; from.res == w.gen {
				refs = append(refs, edgeRef{from: from.pos, to: int32(i), job: l.job, trans: l.trans, origins: l.origins})
			}
		}
		s.sortFroms(refs[into:])
	}
	if len(refs) > 0 {
		res.Edges = make([]Edge, len(refs))
	}
	for i, r := range refs {
		e := Edge{From: res.Nodes[r.from].ID, To: res.Nodes[r.to].ID, Transformation: s.trans[r.trans], Origin: s.firstOrigin(r.origins)}
		if r.job != none {
			e.JobID = s.text.str(s.nodes[r.job].id)
		}
		res.Edges[i] = e
	}
	return res
}

// columnNode returns column node c of dataset ds as a Node: the dataset
// itself for its whole node (or c < 0).
func (s *graphState) columnNode(w *walk, c, ds int32) Node {
	t := &s.nodes[ds]
	id, ns, name := s.names(t)
	n := Node{ID: id, Kind: KindDataset, Namespace: ns, Name: name, Removed: t.removed}
	if c < 0 {
		return n
	}
	n.Distance = int(w.slots[c].dist)
	n.Degree = int(s.cnodes[c].degree)
	if name := s.colName(c); name != "" {
		n.Kind, n.ID, n.Column, n.DatasetID = KindColumn, id+"/"+name, name, id
	}
	return n
}

func (s *graphState) firstOrigin(bits uint8) quarry.EdgeOrigin {
	for i, o := range s.origins {
		if bits&(1<<i) != 0 {
			return o
		}
	}
	return ""
}
