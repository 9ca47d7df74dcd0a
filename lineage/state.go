package lineage

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/quarrydata/quarry"
)

// The graph's state. Nodes and column nodes are interned to int32 indices
// and never forgotten: an ID no edge names any more costs a few bytes.
//
// Their lists (links, stored edges, columns) live in slabs: a few large
// arrays without pointers, which the garbage collector does not scan,
// rather than millions of small slices, which it would scan at every
// cycle. So do the nodes' IDs and names, in an arena of bytes, and the
// index from ID to node (text.go).

const none int32 = -1

const (
	kindDataset uint8 = iota
	kindJob
)

type graphState struct {
	ids    idIndex // dataset or job ID -> nodes index
	nodes  []tnode
	text   arena // the nodes' IDs and names
	cnodes []cnode

	links  slab[link]   // nodes' in and out
	raws   slab[inEdge] // nodes' raw
	cols   slab[colRef] // nodes' cols
	clinks slab[clink]  // column nodes' in and out

	nsIdx      map[string]int32 // interned namespaces: a namespace names many nodes
	nsNames    []string         // 0 is "", a node only an edge named
	colNames   []string         // interned column names; 0 is "", the dataset as a whole
	colNameIdx map[string]int32
	trans      []string // interned transformations; 0 is ""
	transIdx   map[string]int32
	origins    []quarry.EdgeOrigin // interned origins, RUN, CATALOG, MANUAL first; at most 8

	byName []int32 // nodes in the order of their name, namespace and ID: see rank

	sc       scratch // the applier's
	building bool    // a Builder's: mirrored links are appended and sorted, and nodes ranked, once at the end
	// unranked are the nodes an applied batch named (new, or renamed) and
	// has yet to rank: rankNamed ranks them all at the end of the batch.
	unranked []int32
}

// tnode is a dataset or a job.
type tnode struct {
	id, name text   // in text
	key      uint64 // a hash of the ID: orders links (see cmpNodes), and finds the node (find)
	rank     uint64 // orders nodes by name: see byName
	ns       int32  // into nsNames
	degree   int32
	kind     uint8
	removed  bool
	in, out  span // links, table level
	raw      span // raws: a dataset's stored edges leading into it
	cols     span // cols: a dataset's column nodes, by name index
}

type colRef struct {
	name int32 // into colNames
	node int32 // into cnodes
}

// cnode is a column of a dataset, or the dataset as a whole (name "").
type cnode struct {
	ds      int32
	name    int32  // into colNames
	key     uint64 // orders links: see cmpColumns
	degree  int32
	in, out span // clinks
}

// link is one table-level adjacency: to node, one hop weighing w half
// hops (1 to or from a job, 2 between datasets).
type link struct {
	node    int32
	trans   int32
	origins uint8 // bit i: origins[i]
	tOrigin uint8 // the origin trans was chosen from
	w       uint8
}

// clink is one column-level adjacency, per job.
type clink struct {
	node    int32
	job     int32 // none without a job
	trans   int32
	origins uint8
	tOrigin uint8
}

// inEdge is a stored edge leading into a dataset.
type inEdge struct {
	from    int32
	job     int32 // none without a job
	fromCol int32 // none for a table-level edge
	toCol   int32 // none for a table-level edge; the whole dataset for INDIRECT
	trans   int32
	origin  uint8 // index into origins
}

// span locates one list in a slab: items[off : off+n], with room for cap.
type span struct{ off, n, cap uint32 }

// slab holds many small lists in one array. A list that outgrows its room
// moves to the end, leaving a hole; compact closes the holes.
type slab[T any] struct {
	items []T
	holes int // items in rooms no list uses
}

// get returns the list at sp. It is valid until the slab changes.
func (sl *slab[T]) get(sp span) []T { return sl.items[sp.off : sp.off+sp.n : sp.off+sp.n] }

// room moves the list at sp to a room for n items.
func (sl *slab[T]) room(sp *span, n int) {
	off := len(sl.items)
	sl.items = slices.Grow(sl.items, n)[:off+n]
	copy(sl.items[off:], sl.items[sp.off:sp.off+sp.n])
	sl.holes += int(sp.cap)
	*sp = span{uint32(off), sp.n, uint32(n)}
}

// set replaces the list at sp with items.
func (sl *slab[T]) set(sp *span, items []T) {
	if len(items) > int(sp.cap) {
		sp.n = 0
		sl.room(sp, len(items))
	}
	copy(sl.items[sp.off:], items)
	sp.n = uint32(len(items))
}

// insert inserts v at index i of the list at sp; -1 appends.
func (sl *slab[T]) insert(sp *span, i int, v T) {
	if sp.n == sp.cap {
		sl.room(sp, max(2, 2*int(sp.cap)))
	}
	if i < 0 {
		i = int(sp.n)
	}
	list := sl.items[sp.off : sp.off+sp.n+1]
	copy(list[i+1:], list[i:])
	list[i] = v
	sp.n++
}

// deleteFunc removes the items of the list at sp for which del is true.
func (sl *slab[T]) deleteFunc(sp *span, del func(T) bool) {
	sp.n = uint32(len(slices.DeleteFunc(sl.items[sp.off:sp.off+sp.n], del)))
}

// compacted returns the slab's lists copied without holes, each span
// moved to its new place; tight leaves no room to grow in.
func compacted[T any](sl *slab[T], tight bool, spans func(yield func(*span))) slab[T] {
	size := 0
	spans(func(sp *span) {
		if tight {
			size += int(sp.n)
		} else {
			size += int(sp.cap)
		}
	})
	out := slab[T]{items: make([]T, 0, size)}
	spans(func(sp *span) {
		off := len(out.items)
		out.items = append(out.items, sl.items[sp.off:sp.off+sp.n]...)
		c := sp.n
		if !tight {
			c = sp.cap
			out.items = out.items[:off+int(c)]
		}
		*sp = span{uint32(off), sp.n, c}
	})
	return out
}

// compact closes the slabs' and the arena's holes when they are more
// than half of them, or always when tight (after a build, leaving no room
// to grow).
func (s *graphState) compact(tight bool) {
	worth := func(items, holes int) bool { return tight || holes > 1024 && holes > items/2 }
	if worth(len(s.links.items), s.links.holes) {
		s.links = compacted(&s.links, tight, func(yield func(*span)) {
			for i := range s.nodes {
				yield(&s.nodes[i].in)
				yield(&s.nodes[i].out)
			}
		})
	}
	if worth(len(s.raws.items), s.raws.holes) {
		s.raws = compacted(&s.raws, tight, func(yield func(*span)) {
			for i := range s.nodes {
				yield(&s.nodes[i].raw)
			}
		})
	}
	if worth(len(s.cols.items), s.cols.holes) {
		s.cols = compacted(&s.cols, tight, func(yield func(*span)) {
			for i := range s.nodes {
				yield(&s.nodes[i].cols)
			}
		})
	}
	if s.text.holes > 0 && worth(s.text.used, s.text.holes) {
		s.text = s.text.compacted(func(yield func(*text)) {
			for i := range s.nodes {
				yield(&s.nodes[i].id)
				yield(&s.nodes[i].name)
			}
		})
	}
	if worth(len(s.clinks.items), s.clinks.holes) {
		s.clinks = compacted(&s.clinks, tight, func(yield func(*span)) {
			for i := range s.cnodes {
				yield(&s.cnodes[i].in)
				yield(&s.cnodes[i].out)
			}
		})
	}
}

func (s *graphState) idOf(n int32) []byte        { return s.text.bytes(s.nodes[n].id) }
func (s *graphState) nameOf(n int32) []byte      { return s.text.bytes(s.nodes[n].name) }
func (s *graphState) namespaceOf(n int32) string { return s.nsNames[s.nodes[n].ns] }

// names are node t's ID, namespace and name as an answer holds them: the
// ID and name straight from the arena (arena.str).
func (s *graphState) names(t *tnode) (id, namespace, name string) {
	return s.text.str(t.id), s.nsNames[t.ns], s.text.str(t.name)
}

func (s *graphState) in(n int32) []link       { return s.links.get(s.nodes[n].in) }
func (s *graphState) out(n int32) []link      { return s.links.get(s.nodes[n].out) }
func (s *graphState) raw(n int32) []inEdge    { return s.raws.get(s.nodes[n].raw) }
func (s *graphState) colsOf(n int32) []colRef { return s.cols.get(s.nodes[n].cols) }
func (s *graphState) cin(c int32) []clink     { return s.clinks.get(s.cnodes[c].in) }
func (s *graphState) cout(c int32) []clink    { return s.clinks.get(s.cnodes[c].out) }

func newGraphState() *graphState {
	s := &graphState{
		nsIdx:      map[string]int32{"": 0},
		nsNames:    []string{""},
		colNames:   []string{""},
		colNameIdx: map[string]int32{"": 0},
		trans:      []string{""},
		transIdx:   map[string]int32{"": 0},
		origins:    []quarry.EdgeOrigin{quarry.OriginRun, quarry.OriginCatalog, quarry.OriginManual},
	}
	s.ids.size(0, nil)
	return s
}

func (s *graphState) stats() Stats {
	st := Stats{Nodes: len(s.nodes)}
	for i := range s.nodes {
		st.Edges += int(s.nodes[i].raw.n)
		st.Links += int(s.nodes[i].out.n)
	}
	for i := range s.cnodes {
		st.Links += int(s.cnodes[i].out.n)
		if s.cnodes[i].in.n+s.cnodes[i].out.n > 0 {
			st.Columns++
		}
	}
	return st
}

func (s *graphState) node(id string, kind uint8) int32 {
	if (s.ids.n+1)*4 > len(s.ids.slots)*3 {
		s.ids.size(s.ids.n+1, s.nodes)
	}
	h := fnv(fnvOffset, id)
	i, slot, ok := s.find(id, h)
	if ok {
		return i
	}
	i = int32(len(s.nodes))
	s.nodes = append(s.nodes, tnode{id: s.text.add(id), key: h, kind: kind})
	s.ids.slots[slot] = idTag(h) | uint64(i+1)
	s.ids.n++
	if !s.building {
		s.unranked = append(s.unranked, i)
	}
	return i
}

// A node's rank orders it by name, namespace and ID among all nodes, so
// that a traversal sorts its result by comparing integers. Ranks leave
// gaps: a new node takes the middle of the gap where it belongs, and when
// there is none every node is ranked again.

// Ranks stay below 2^58 (with 2^24 between neighbours, up to 2^34 nodes):
// a traversal packs a distance above them.
const rankGap = 1 << 24

func (s *graphState) cmpNames(a, b int32) int {
	x, y := &s.nodes[a], &s.nodes[b]
	if c := bytes.Compare(s.text.bytes(x.name), s.text.bytes(y.name)); c != 0 {
		return c
	}
	if x.ns != y.ns { // interned: different indices, different namespaces
		return strings.Compare(s.nsNames[x.ns], s.nsNames[y.ns])
	}
	return bytes.Compare(s.text.bytes(x.id), s.text.bytes(y.id))
}

func (s *graphState) renumber() {
	for i, n := range s.byName {
		s.nodes[n].rank = uint64(i+1) * rankGap
	}
}

// rankNamed ranks the nodes a batch named, at its end: sorted among
// themselves and merged into byName in one pass. Inserted one at a time,
// each moved the half of byName after it: at a million nodes a batch of
// a thousand new datasets moved gigabytes, and the follower spent a third
// of a core on it while a catalog was loaded.
func (s *graphState) rankNamed() {
	if len(s.unranked) == 0 {
		return
	}
	named := s.unranked
	s.unranked = s.unranked[:0]
	slices.Sort(named)
	named = slices.Compact(named) // a node named twice in a batch
	slices.SortFunc(named, s.cmpNames)
	merged := make([]int32, 0, len(s.byName)+len(named))
	gaps := true
	i := 0
	for _, n := range named {
		j, _ := slices.BinarySearchFunc(s.byName[i:], n, s.cmpNames)
		merged = append(merged, s.byName[i:i+j]...)
		i += j
		merged = append(merged, n)
	}
	merged = append(merged, s.byName[i:]...)
	s.byName = merged
	// Each run of new nodes shares the gap between its ranked neighbours.
	for k := 0; k < len(merged) && gaps; {
		if !s.isUnranked(merged[k]) {
			k++
			continue
		}
		end := k
		for end < len(merged) && s.isUnranked(merged[end]) {
			end++
		}
		lo, hi := uint64(0), uint64(len(merged)+1)*rankGap
		if k > 0 {
			lo = s.nodes[merged[k-1]].rank
		}
		if end < len(merged) {
			hi = s.nodes[merged[end]].rank
		}
		step := (hi - lo) / uint64(end-k+1)
		if hi <= lo || step < 1 {
			gaps = false
			break
		}
		for r := k; r < end; r++ {
			s.nodes[merged[r]].rank = lo + uint64(r-k+1)*step
		}
		k = end
	}
	if !gaps {
		s.renumber()
	}
}

// isUnranked says whether rankNamed has yet to rank node n: it has no
// rank (ranks start at rankGap) or it is marked for ranking again.
func (s *graphState) isUnranked(n int32) bool { return s.nodes[n].rank == 0 }

// removeRank takes a node out of byName before its name changes; the
// batch ranks it again (rankNamed).
func (s *graphState) removeRank(n int32) {
	if i, ok := slices.BinarySearchFunc(s.byName, n, s.cmpNames); ok {
		s.byName = slices.Delete(s.byName, i, i+1)
	}
	s.nodes[n].rank = 0
}

func (s *graphState) column(ds int32, name string) int32 {
	ni, ok := s.colNameIdx[name]
	if !ok {
		ni = int32(len(s.colNames))
		s.colNames = append(s.colNames, name)
		s.colNameIdx[name] = ni
	}
	i, ok := slices.BinarySearchFunc(s.colsOf(ds), ni, func(r colRef, ni int32) int { return cmp.Compare(r.name, ni) })
	if ok {
		return s.colsOf(ds)[i].node
	}
	c := int32(len(s.cnodes))
	s.cnodes = append(s.cnodes, cnode{ds: ds, name: ni, key: fnv(fnv(s.nodes[ds].key, "/"), name)})
	s.cols.insert(&s.nodes[ds].cols, i, colRef{ni, c})
	return c
}

// columnOf returns the column node of dataset ds named name, if any.
func (s *graphState) columnOf(ds int32, name string) (int32, bool) {
	ni, ok := s.colNameIdx[name]
	if !ok {
		return 0, false
	}
	cols := s.colsOf(ds)
	i, ok := slices.BinarySearchFunc(cols, ni, func(r colRef, ni int32) int { return cmp.Compare(r.name, ni) })
	if !ok {
		return 0, false
	}
	return cols[i].node, true
}

func (s *graphState) colName(c int32) string { return s.colNames[s.cnodes[c].name] }

func (s *graphState) transformation(t string) int32 {
	if i, ok := s.transIdx[t]; ok {
		return i
	}
	i := int32(len(s.trans))
	s.trans = append(s.trans, t)
	s.transIdx[t] = i
	return i
}

func (s *graphState) origin(o quarry.EdgeOrigin) uint8 {
	if i := slices.Index(s.origins, o); i >= 0 {
		return uint8(i)
	}
	if len(s.origins) == 8 { // never with quarry's three origins
		return 7
	}
	s.origins = append(s.origins, o)
	return uint8(len(s.origins) - 1)
}

func (s *graphState) setIdentity(id quarry.Identity) {
	kind := kindDataset
	if id.Entity == quarry.EntityJob {
		kind = kindJob
	}
	i := s.node(id.ID, kind)
	n := &s.nodes[i]
	n.removed = id.Removed
	sameName := string(s.text.bytes(n.name)) == id.Name
	if sameName && s.nsNames[n.ns] == id.Namespace {
		return
	}
	if !s.building {
		s.removeRank(i)
	}
	ns, ok := s.nsIdx[id.Namespace]
	if !ok {
		ns = int32(len(s.nsNames))
		s.nsNames = append(s.nsNames, id.Namespace)
		s.nsIdx[id.Namespace] = ns
	}
	n.ns = ns
	if !sameName {
		// The old name's bytes stay where they are, a hole that compact
		// closes once holes are half the arena.
		s.text.drop(n.name)
		n.name = s.text.add(id.Name)
	}
	if !s.building {
		s.unranked = append(s.unranked, i)
	}
}

func (s *graphState) inEdgeOf(e *quarry.Edge, to int32) inEdge {
	job := none
	if e.JobID != "" {
		job = s.node(e.JobID, kindJob)
	}
	return s.edgeOf(e, s.node(e.From, kindDataset), to, job)
}

func (s *graphState) edgeOf(e *quarry.Edge, from, to, job int32) inEdge {
	r := inEdge{from: from, job: job, fromCol: none, toCol: none, trans: s.transformation(e.Transformation), origin: s.origin(e.Origin)}
	if e.FromColumn != "" || e.ToColumn != "" {
		r.fromCol = s.column(from, e.FromColumn)
		r.toCol = s.column(to, e.ToColumn)
	}
	return r
}

// Links are kept in the order of their nodes' keys (a hash of the ID,
// stable across processes, then the ID), so that a traversal meets nodes
// in the same order in every process that holds the same lineage, however
// it was built, and a limit leaves out the same nodes.

const fnvOffset = 14695981039346656037

// fnv continues a 64-bit FNV-1a hash h with s.
func fnv(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (s *graphState) cmpNodes(a, b int32) int {
	if a == b {
		return 0
	}
	if a == none || b == none {
		return cmp.Compare(a, b) // no job first
	}
	x, y := &s.nodes[a], &s.nodes[b]
	if x.key != y.key {
		return cmp.Compare(x.key, y.key)
	}
	return bytes.Compare(s.text.bytes(x.id), s.text.bytes(y.id))
}

func (s *graphState) cmpColumns(a, b int32) int {
	if a == b {
		return 0
	}
	x, y := &s.cnodes[a], &s.cnodes[b]
	if x.key != y.key {
		return cmp.Compare(x.key, y.key)
	}
	if c := s.cmpNodes(x.ds, y.ds); c != 0 {
		return c
	}
	return strings.Compare(s.colNames[x.name], s.colNames[y.name])
}

func (s *graphState) cmpLinks(a, b link) int { return s.cmpNodes(a.node, b.node) }

func (s *graphState) cmpCLinks(a, b clink) int {
	if c := s.cmpColumns(a.node, b.node); c != 0 {
		return c
	}
	return s.cmpNodes(a.job, b.job)
}
