package lineage

// The lineage graph: every stored lineage edge held in memory as compact
// adjacency lists, built from the store at start and kept current by
// following the changelog, so that traversals never touch bbolt.
//
// Two graphs share the nodes' identities:
//
//   - The table level is bipartite like Marquez's: an edge A -> B that a
//     job J reported becomes A -> J and J -> B; an edge without a job
//     (CATALOG, MANUAL) stays A -> B. Edges between the same pair collapse
//     into one link per (from, to, job), whatever their origins and
//     columns: a column-level edge implies its table-level one.
//   - The column level links column nodes (a dataset and a column name).
//     An edge with FromColumn but no ToColumn (the whole output depends on
//     an input column: INDIRECT) leads to the output dataset's "whole"
//     column node, which a result shows as the dataset.
//
// The stored edges leading into each dataset are kept too (the changelog
// says "the edges into D changed"), and both levels' links are derived
// from them: a change re-derives the links of the dataset, of the jobs
// that wrote it, and of its columns.

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarrydata/quarry"
)

// Kinds of Node.
const (
	KindDataset = "DATASET"
	KindJob     = "JOB"
	KindColumn  = "COLUMN"
)

// Direction says which way a traversal follows the edges.
type Direction int

// Directions. The zero Direction means Both.
const (
	Upstream   Direction = iota + 1 // towards the sources: what a node is made from
	Downstream                      // towards the consumers: what is made from it
	Both                            // upstream and downstream from the start, not the undirected closure
)

func (d Direction) String() string {
	switch d {
	case Upstream:
		return "UPSTREAM"
	case Downstream:
		return "DOWNSTREAM"
	case Both, 0:
		return "BOTH"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Defaults and caps of a Query.
const (
	DefaultDepth    = 3
	DefaultLimit    = 1000
	DefaultMaxDepth = 50
	DefaultMaxLimit = 10000
)

// Query asks for the lineage around one node.
type Query struct {
	// Start is a dataset ID, a job ID (its inputs upstream, its outputs
	// downstream) or a column node ID, "<dataset ID>/<column name>".
	Start     string
	Direction Direction // zero means Both
	// Depth bounds the distance from the start, in dataset-to-dataset hops
	// (a job between two datasets is not a hop of its own) or, at the
	// column level, column-to-column hops. Zero or less means DefaultDepth.
	Depth int
	// ColumnLevel asks for column nodes and column edges: from every
	// column of a start dataset, or from the start column. A column start
	// implies it.
	ColumnLevel bool
	// Limit bounds the number of nodes, the start included. Zero or less
	// means DefaultLimit.
	Limit int
}

// Node is a node of a Result.
type Node struct {
	ID              string
	Kind            string // KindDataset, KindJob or KindColumn
	Namespace, Name string // of the dataset or job; of its dataset for a column. Empty when unknown.
	Column          string // KindColumn only
	DatasetID       string // KindColumn only
	// Removed is set for a dataset (or a column of one) marked removed:
	// lineage outlives removal.
	Removed bool
	// Degree is the number of distinct nodes adjacent to this one in the
	// whole graph, at the result's level, whether the result holds them or
	// not.
	Degree int
	// Distance from the start, in the hops Query.Depth counts. A job has
	// the distance of the hop it is in: of the datasets on its far side.
	Distance int
}

// Edge is an edge of a Result. Several stored edges may collapse into it.
type Edge struct {
	From, To string
	JobID    string // the job whose runs reported it; set on both halves A -> J and J -> B
	// Transformation is the stored edge's (for a table-level edge, the
	// table-level stored edge's): when several collapse, the first
	// non-empty one by origin, then name.
	Transformation string
	// Origin is the first origin of the collapsed edges, in the order
	// RUN, CATALOG, MANUAL.
	Origin quarry.EdgeOrigin
}

// Result is the lineage around a start node. Nodes are ordered by
// distance, then name, namespace and ID (a column's: its dataset's name,
// its column name, its dataset's namespace and ID); Edges join only nodes
// of Nodes, in the order of their To, then their From.
type Result struct {
	Nodes []Node
	Edges []Edge
	// Truncated says that the limit stopped the traversal: nodes within
	// the depth were left out.
	Truncated bool
}

// GraphStore is what a Graph reads of the store.
type GraphStore interface {
	quarry.ChangeSource // the changelog Run follows
	LastSeq(ctx context.Context) (uint64, error)
	Edges(ctx context.Context, id string, upstream bool) ([]quarry.Edge, error)
	EachEdge(ctx context.Context, fn func(*quarry.Edge) error) error
}

// Identities names the graph's nodes: datasets and jobs. A node without an
// identity (a job no record names yet) has an empty namespace and name.
type Identities interface {
	EachIdentity(ctx context.Context, entity string, fn func(quarry.Identity) error) error
	// Identity returns a quarry.ENOTFOUND error for an unknown node.
	Identity(ctx context.Context, entity, id string) (quarry.Identity, error)
}

// GraphOptions configure a Graph; nil means defaults.
type GraphOptions struct {
	MaxDepth int // the largest Query.Depth; zero means DefaultMaxDepth
	MaxLimit int // the largest Query.Limit and Impact limit; zero means DefaultMaxLimit
	Logger   *slog.Logger
	// Follow tunes how Run follows the changelog; zero fields take
	// quarry's defaults. Its Logger and Name are the graph's.
	Follow quarry.FollowOptions
}

// Graph is the lineage graph in memory. Traversals share it; one applier
// (Load, CatchUp) changes it at a time.
type Graph struct {
	st       GraphStore
	ids      Identities
	log      *slog.Logger
	maxDepth int
	maxLimit int
	follow   quarry.FollowOptions // Run's

	apply   sync.Mutex // one Load or batch of changes at a time
	applied atomic.Uint64

	mu sync.RWMutex // held for reading by traversals, for writing by the applier
	s  *graphState

	walks sync.Pool // *walk
}

// NewGraph returns an empty graph that reads st and ids. Load fills it.
func NewGraph(st GraphStore, ids Identities, o *GraphOptions) *Graph {
	g := &Graph{st: st, ids: ids, log: slog.Default(), maxDepth: DefaultMaxDepth, maxLimit: DefaultMaxLimit, s: newGraphState()}
	if o != nil {
		if o.MaxDepth > 0 {
			g.maxDepth = o.MaxDepth
		}
		if o.MaxLimit > 0 {
			g.maxLimit = o.MaxLimit
		}
		if o.Logger != nil {
			g.log = o.Logger
		}
		g.follow = o.Follow
	}
	g.follow.Logger, g.follow.Name = g.log, "lineage graph"
	return g
}

// Applied is the sequence of the last changelog record the graph holds.
func (g *Graph) Applied() uint64 { return g.applied.Load() }

// Load builds the graph from the store: every dataset and job identity and
// every edge. It replaces what the graph held; traversals see the old graph
// until the new one is complete. Changes committed during the load are
// applied by the next CatchUp.
func (g *Graph) Load(ctx context.Context) error {
	g.apply.Lock()
	defer g.apply.Unlock()
	// Every change after seq is applied by CatchUp, so the scans need not
	// be a snapshot.
	seq, err := g.st.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("load lineage graph: %w", err)
	}
	start := time.Now()
	b := NewBuilder()
	for _, entity := range []string{quarry.EntityDataset, quarry.EntityJob} {
		if err := g.ids.EachIdentity(ctx, entity, func(id quarry.Identity) error {
			b.AddIdentity(id)
			return nil
		}); err != nil {
			return fmt.Errorf("load lineage graph: %s identities: %w", entity, err)
		}
	}
	if err := g.st.EachEdge(ctx, func(e *quarry.Edge) error {
		b.AddEdge(e)
		return nil
	}); err != nil {
		return fmt.Errorf("load lineage graph: edges: %w", err)
	}
	st := g.install(b, seq)
	g.log.Info("lineage graph loaded", "nodes", st.Nodes, "columns", st.Columns, "edges", st.Edges, "seq", seq, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// Install replaces the graph with what b holds, as of changelog sequence
// seq (the changes after it are applied by CatchUp). Load uses it; a
// benchmark or a test can build a graph without a store. b must not be
// used afterwards.
func (g *Graph) Install(b *Builder, seq uint64) {
	g.apply.Lock()
	defer g.apply.Unlock()
	g.install(b, seq)
}

func (g *Graph) install(b *Builder, seq uint64) Stats {
	s := b.finish()
	g.mu.Lock()
	g.s = s
	g.applied.Store(seq)
	g.mu.Unlock()
	return s.stats()
}

// CatchUp applies every changelog record after the last one applied: the
// edges into a dataset whose lineage changed are read again and replace
// those the graph held; a dataset or job created, changed, removed or
// restored is named again.
func (g *Graph) CatchUp(ctx context.Context) error {
	_, err := quarry.ApplyChanges(ctx, g.st, g.applied.Load(), g.follow.Limit, g.applyBatch)
	return err
}

// applyBatch applies changes, those the graph holds already (after a Load,
// or another catch-up) left out.
func (g *Graph) applyBatch(ctx context.Context, changes []quarry.Change) error {
	g.apply.Lock()
	defer g.apply.Unlock()
	applied := g.applied.Load()
	for len(changes) > 0 && changes[0].Seq <= applied {
		changes = changes[1:]
	}
	if len(changes) == 0 {
		return nil
	}
	if err := g.applyChanges(ctx, changes); err != nil {
		return err
	}
	g.applied.Store(changes[len(changes)-1].Seq)
	return nil
}

// applyChanges reads the current state of what changes name, then applies
// it under the write lock. Reading the newest state rather than each
// record's makes a record applied twice harmless.
func (g *Graph) applyChanges(ctx context.Context, changes []quarry.Change) error {
	type target struct {
		id    string
		edges []quarry.Edge
	}
	var targets []target
	var idents []quarry.Identity
	seen := map[[3]string]bool{}
	for i := len(changes) - 1; i >= 0; i-- { // newest first: each entity once
		c := changes[i]
		k := [3]string{c.Entity, c.ID, c.Op}
		if c.Op == quarry.OpRemove || c.Op == quarry.OpRestore {
			k[2] = quarry.OpUpsert // all three name the entity again
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		switch {
		case c.Entity == quarry.EntityDataset && c.Op == quarry.OpLineage:
			edges, err := g.st.Edges(ctx, c.ID, true)
			if err != nil {
				return fmt.Errorf("read the edges into %s: %w", c.ID, err)
			}
			targets = append(targets, target{c.ID, edges})
		case c.Entity == quarry.EntityDataset && k[2] == quarry.OpUpsert,
			c.Entity == quarry.EntityJob && c.Op == quarry.OpUpsert:
			id, err := g.ids.Identity(ctx, c.Entity, c.ID)
			if quarry.ErrorCode(err) == quarry.ENOTFOUND {
				continue
			}
			if err != nil {
				return fmt.Errorf("read the identity of %s %s: %w", c.Entity, c.ID, err)
			}
			idents = append(idents, id)
		}
	}

	// Name the nodes the new edges bring in, unless a record above does.
	named := map[string]bool{}
	for _, id := range idents {
		named[id.ID] = true
	}
	var unknown [][2]string // entity, id
	g.mu.RLock()
	for _, t := range targets {
		for _, e := range t.edges {
			for _, n := range [][2]string{{quarry.EntityDataset, e.From}, {quarry.EntityDataset, e.To}, {quarry.EntityJob, e.JobID}} {
				if n[1] == "" || named[n[1]] {
					continue
				}
				named[n[1]] = true
				if _, ok := g.s.ids[n[1]]; !ok {
					unknown = append(unknown, n)
				}
			}
		}
	}
	g.mu.RUnlock()
	for _, n := range unknown {
		id, err := g.ids.Identity(ctx, n[0], n[1])
		if quarry.ErrorCode(err) == quarry.ENOTFOUND {
			continue
		}
		if err != nil {
			return fmt.Errorf("read the identity of %s %s: %w", n[0], n[1], err)
		}
		idents = append(idents, id)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.s
	for _, t := range targets {
		s.replaceIn(s.node(t.id, kindDataset), t.edges)
	}
	for _, id := range idents {
		s.setIdentity(id)
	}
	return nil
}

// Run keeps the graph caught up with the store until ctx ends: each commit
// that appends to the changelog wakes it, so a write is traversable a
// moment after it committed, and a failed catch-up is retried with a
// backoff (the store may recover without another commit). Load the graph
// first.
func (g *Graph) Run(ctx context.Context) {
	quarry.FollowChanges(ctx, g.st, g.Applied(), g.applyBatch, &g.follow)
}

// Stats counts what a graph holds.
type Stats struct {
	Nodes   int // datasets and jobs, those no edge names any more included
	Columns int // column nodes with column lineage
	Edges   int // stored edges
	Links   int // table-level and column-level links, each counted once
}

// Stats counts what the graph holds.
func (g *Graph) Stats() Stats {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.s.stats()
}

// Builder collects identities and edges for a graph built in one pass:
// deriving every link at once is much cheaper than adding edges one by one.
type Builder struct {
	s *graphState
	// The nodes of the last edge: a scan in key order meets the same from,
	// to and job many times in a row.
	from, to, job    string
	fromN, toN, jobN int32
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	s := newGraphState()
	s.building = true
	return &Builder{s: s, jobN: none}
}

// AddIdentity names a dataset or a job.
func (b *Builder) AddIdentity(id quarry.Identity) { b.s.setIdentity(id) }

// AddEdge adds a stored edge. e is copied.
func (b *Builder) AddEdge(e *quarry.Edge) {
	s := b.s
	if e.From != b.from || b.from == "" {
		b.from, b.fromN = e.From, s.node(e.From, kindDataset)
	}
	if e.To != b.to || b.to == "" {
		b.to, b.toN = e.To, s.node(e.To, kindDataset)
	}
	if e.JobID != b.job {
		b.job, b.jobN = e.JobID, none
		if e.JobID != "" {
			b.jobN = s.node(e.JobID, kindJob)
		}
	}
	s.raws.insert(&s.nodes[b.toN].raw, -1, s.edgeOf(e, b.fromN, b.toN, b.jobN))
}

// finish derives every link.
func (b *Builder) finish() *graphState {
	s := b.s
	var sc scratch
	for t := range s.nodes {
		if s.nodes[t].kind == kindDataset && s.nodes[t].raw.n > 0 {
			s.relinkIn(int32(t), &sc)
			s.relinkColumnsIn(int32(t), &sc)
		}
	}
	for j := range s.nodes {
		if s.nodes[j].kind == kindJob {
			s.relinkJobIn(int32(j), &sc)
		}
	}
	for i := range s.nodes {
		slices.SortFunc(s.links.get(s.nodes[i].out), s.cmpLinks)
		s.degree(int32(i), &sc)
	}
	for c := range s.cnodes {
		slices.SortFunc(s.clinks.get(s.cnodes[c].out), s.cmpCLinks)
		s.columnDegree(int32(c), &sc)
	}
	s.byName = make([]int32, len(s.nodes))
	for i := range s.byName {
		s.byName[i] = int32(i)
	}
	slices.SortFunc(s.byName, s.cmpNames)
	s.renumber()
	s.compact(true)
	s.building = false
	b.s = nil
	return s
}

// The graph's state. Nodes and column nodes are interned to int32 indices
// and never forgotten: an ID no edge names any more costs a few bytes.
//
// Their lists (links, stored edges, columns) live in slabs: a few large
// arrays without pointers, which the garbage collector does not scan,
// rather than millions of small slices, which it would scan at every
// cycle.

const none int32 = -1

const (
	kindDataset uint8 = iota
	kindJob
)

type graphState struct {
	ids    map[string]int32 // dataset or job ID -> nodes index
	nodes  []tnode
	cnodes []cnode

	links  slab[link]   // nodes' in and out
	raws   slab[inEdge] // nodes' raw
	cols   slab[colRef] // nodes' cols
	clinks slab[clink]  // column nodes' in and out

	namespaces map[string]string // interned: a namespace names many nodes
	colNames   []string          // interned column names; 0 is "", the dataset as a whole
	colNameIdx map[string]int32
	trans      []string // interned transformations; 0 is ""
	transIdx   map[string]int32
	origins    []quarry.EdgeOrigin // interned origins, RUN, CATALOG, MANUAL first; at most 8

	byName []int32 // nodes in the order of their name, namespace and ID: see rank

	sc       scratch // the applier's
	building bool    // a Builder's: mirrored links are appended and sorted, and nodes ranked, once at the end
}

// tnode is a dataset or a job.
type tnode struct {
	id              string
	namespace, name string
	key             uint64 // orders links: see cmpNodes
	rank            uint64 // orders nodes by name: see byName
	kind            uint8
	removed         bool
	degree          int32
	in, out         span // links, table level
	raw             span // raws: a dataset's stored edges leading into it
	cols            span // cols: a dataset's column nodes, by name index
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

// compact closes the slabs' holes when they are more than half of them,
// or always when tight (after a build, leaving no room to grow).
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
	if worth(len(s.clinks.items), s.clinks.holes) {
		s.clinks = compacted(&s.clinks, tight, func(yield func(*span)) {
			for i := range s.cnodes {
				yield(&s.cnodes[i].in)
				yield(&s.cnodes[i].out)
			}
		})
	}
}

func (s *graphState) in(n int32) []link       { return s.links.get(s.nodes[n].in) }
func (s *graphState) out(n int32) []link      { return s.links.get(s.nodes[n].out) }
func (s *graphState) raw(n int32) []inEdge    { return s.raws.get(s.nodes[n].raw) }
func (s *graphState) colsOf(n int32) []colRef { return s.cols.get(s.nodes[n].cols) }
func (s *graphState) cin(c int32) []clink     { return s.clinks.get(s.cnodes[c].in) }
func (s *graphState) cout(c int32) []clink    { return s.clinks.get(s.cnodes[c].out) }

func newGraphState() *graphState {
	return &graphState{
		ids:        map[string]int32{},
		namespaces: map[string]string{},
		colNames:   []string{""},
		colNameIdx: map[string]int32{"": 0},
		trans:      []string{""},
		transIdx:   map[string]int32{"": 0},
		origins:    []quarry.EdgeOrigin{quarry.OriginRun, quarry.OriginCatalog, quarry.OriginManual},
	}
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
	if i, ok := s.ids[id]; ok {
		return i
	}
	i := int32(len(s.nodes))
	s.nodes = append(s.nodes, tnode{id: id, key: fnv(fnvOffset, id), kind: kind})
	s.ids[id] = i
	if !s.building {
		s.insertRank(i)
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
	if c := strings.Compare(x.name, y.name); c != 0 {
		return c
	}
	if c := strings.Compare(x.namespace, y.namespace); c != 0 {
		return c
	}
	return strings.Compare(x.id, y.id)
}

func (s *graphState) renumber() {
	for i, n := range s.byName {
		s.nodes[n].rank = uint64(i+1) * rankGap
	}
}

func (s *graphState) insertRank(n int32) {
	i, _ := slices.BinarySearchFunc(s.byName, n, s.cmpNames)
	s.byName = slices.Insert(s.byName, i, n)
	lo, hi := uint64(0), uint64(len(s.byName)+1)*rankGap
	if i > 0 {
		lo = s.nodes[s.byName[i-1]].rank
	}
	if i+1 < len(s.byName) {
		hi = s.nodes[s.byName[i+1]].rank
	}
	if hi-lo < 2 {
		s.renumber()
		return
	}
	s.nodes[n].rank = lo + (hi-lo)/2
}

func (s *graphState) removeRank(n int32) {
	if i, ok := slices.BinarySearchFunc(s.byName, n, s.cmpNames); ok {
		s.byName = slices.Delete(s.byName, i, i+1)
	}
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
	if n.namespace == id.Namespace && n.name == id.Name {
		return
	}
	if !s.building {
		s.removeRank(i)
	}
	ns, ok := s.namespaces[id.Namespace]
	if !ok {
		ns = id.Namespace
		s.namespaces[ns] = ns
	}
	n.namespace, n.name = ns, id.Name
	if !s.building {
		s.insertRank(i)
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
	return strings.Compare(x.id, y.id)
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
			return &Result{Nodes: []Node{{
				ID: q.Start, Kind: KindColumn, Namespace: ds.namespace, Name: ds.name,
				Column: column, DatasetID: ds.id, Removed: ds.removed,
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
	n, ok := s.ids[id]
	if !ok {
		n, ok = s.ids[strings.ToLower(id)]
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
		res.Nodes[i] = Node{ID: t.id, Kind: kind, Namespace: t.namespace, Name: t.name, Removed: t.removed, Degree: int(t.degree), Distance: int(d)}
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
		e := Edge{From: s.nodes[from].id, To: s.nodes[to].id, Transformation: s.trans[r.trans], Origin: s.firstOrigin(r.origins)}
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
			e.JobID = s.nodes[r.job].id
		}
		res.Edges[i] = e
	}
	return res
}

// columnNode returns column node c of dataset ds as a Node: the dataset
// itself for its whole node (or c < 0).
func (s *graphState) columnNode(w *walk, c, ds int32) Node {
	t := &s.nodes[ds]
	n := Node{ID: t.id, Kind: KindDataset, Namespace: t.namespace, Name: t.name, Removed: t.removed}
	if c < 0 {
		return n
	}
	n.Distance = int(w.slots[c].dist)
	n.Degree = int(s.cnodes[c].degree)
	if name := s.colName(c); name != "" {
		n.Kind, n.ID, n.Column, n.DatasetID = KindColumn, t.id+"/"+name, name, t.id
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
