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
//
// This file holds the graph's API; follow.go loads it and follows the
// changelog, state.go holds its state, links.go derives the links, and
// traverse.go walks them into results.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

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

	// loaded is closed once the graph holds the store's lineage (the first
	// Load or Install): traversals wait for it, as a graph still loading
	// would answer that nothing is connected.
	loaded     chan struct{}
	markLoaded sync.Once

	mu sync.RWMutex // held for reading by traversals, for writing by the applier
	s  *graphState

	walks sync.Pool // *walk
}

// NewGraph returns an empty graph that reads st and ids. Load (or Run,
// in the background) fills it; traversals wait until it has.
func NewGraph(st GraphStore, ids Identities, o *GraphOptions) *Graph {
	g := &Graph{st: st, ids: ids, log: slog.Default(), maxDepth: DefaultMaxDepth, maxLimit: DefaultMaxLimit, s: newGraphState(), loaded: make(chan struct{})}
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
