package lineage

// Upstream problems: what is wrong with the datasets a dataset is made
// from, each with its path to it. The walk is a table-level Traverse of
// the in-memory graph; what is wrong comes from the alert evaluator's
// open alerts, the datasets' records and the jobs' latest runs, read for
// the walk's nodes only, so that a dataset page can ask on every view.

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/quarrydata/quarry"
)

// MaxProblemDepth is the deepest UpstreamProblems looks.
const MaxProblemDepth = 10

// UpstreamPath is a node upstream of a dataset and one shortest path from
// it to the dataset.
type UpstreamPath struct {
	ID       string
	Kind     string // KindDataset or KindJob
	Distance int    // as Node.Distance: a job has the distance of its inputs
	Removed  bool
	// Path runs from the node to the start, both included, through the
	// jobs between datasets.
	Path []quarry.PathStep
}

// UpstreamPaths lists the datasets and jobs upstream of datasetID within
// depth dataset hops (at most limit nodes, the start included), nearest
// first, each with one shortest path to the start. Truncated says the
// limit left some out.
func (g *Graph) UpstreamPaths(ctx context.Context, datasetID string, depth, limit int) ([]UpstreamPath, bool, error) {
	res, err := g.Traverse(ctx, Query{Start: datasetID, Direction: Upstream, Depth: depth, Limit: limit})
	if err != nil {
		return nil, false, err
	}
	index := make(map[string]int, len(res.Nodes))
	for i, n := range res.Nodes {
		index[n.ID] = i
	}
	// Edges point downstream; walking them backwards from the start in
	// breadth-first order gives each node its next step towards it.
	froms := make(map[int][]int, len(res.Nodes))
	for _, e := range res.Edges {
		f, okf := index[e.From]
		t, okt := index[e.To]
		if okf && okt {
			froms[t] = append(froms[t], f)
		}
	}
	start, ok := index[datasetID]
	if !ok {
		return nil, res.Truncated, nil
	}
	next := make([]int, len(res.Nodes))
	for i := range next {
		next[i] = -1
	}
	next[start] = start
	queue := []int{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, f := range froms[v] {
			if next[f] < 0 {
				next[f] = v
				queue = append(queue, f)
			}
		}
	}
	step := func(i int) quarry.PathStep {
		n := &res.Nodes[i]
		return quarry.PathStep{ID: n.ID, Kind: n.Kind, Namespace: n.Namespace, Name: n.Name}
	}
	out := make([]UpstreamPath, 0, len(res.Nodes)-1)
	for i, n := range res.Nodes {
		if i == start || next[i] < 0 {
			continue
		}
		p := UpstreamPath{ID: n.ID, Kind: n.Kind, Distance: n.Distance, Removed: n.Removed}
		for v := i; ; v = next[v] {
			p.Path = append(p.Path, step(v))
			if v == start {
				break
			}
		}
		out = append(out, p)
	}
	return out, res.Truncated, nil
}

// ProblemSource is what UpstreamProblems reads of the store: the open
// alerts and records of datasets and the latest runs of jobs, each of
// many at once.
type ProblemSource interface {
	OpenAlertsOf(ctx context.Context, ids []string) ([]quarry.Alert, error)
	DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error)
	LatestRuns(ctx context.Context, jobIDs []string) ([]*quarry.Run, error)
}

// UpstreamProblems lists what is wrong upstream of datasetID within depth
// dataset hops (zero or less means DefaultDepth, at most MaxProblemDepth):
// late data and failing checks (open alerts), failed latest runs of the
// jobs between, removed and deprecated inputs. Nearest first; at one
// distance the worse first. A dataset the graph does not know has none.
func (g *Graph) UpstreamProblems(ctx context.Context, datasetID string, depth int, src ProblemSource) ([]quarry.UpstreamProblem, error) {
	if depth <= 0 {
		depth = DefaultDepth
	}
	if depth > MaxProblemDepth {
		return nil, quarry.Invalid("depth", "is at most %d", MaxProblemDepth)
	}
	paths, _, err := g.UpstreamPaths(ctx, datasetID, depth, DefaultLimit)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var datasets, jobs []string
	at := make(map[string]*UpstreamPath, len(paths))
	for i := range paths {
		p := &paths[i]
		at[p.ID] = p
		if p.Kind == KindJob {
			jobs = append(jobs, p.ID)
		} else {
			datasets = append(datasets, p.ID)
		}
	}
	var out []quarry.UpstreamProblem
	add := func(p *UpstreamPath, pr quarry.UpstreamProblem) {
		pr.DatasetID, pr.Distance, pr.Path = p.ID, p.Distance, p.Path
		out = append(out, pr)
	}
	if len(datasets) > 0 {
		alerts, err := src.OpenAlertsOf(ctx, datasets)
		if err != nil {
			return nil, err
		}
		for _, a := range alerts {
			p := at[a.DatasetID]
			if p == nil {
				continue
			}
			pr := quarry.UpstreamProblem{Kind: quarry.ProblemLate, Level: a.Level, Message: a.Message}
			if a.Kind == quarry.AlertCheck {
				pr.Kind, pr.Check, pr.Column = quarry.ProblemCheckFailing, a.Check, a.Column
			}
			add(p, pr)
		}
		ds, err := src.DatasetsByID(ctx, datasets)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			p := at[d.ID]
			if p == nil {
				continue
			}
			if d.Removed() {
				add(p, quarry.UpstreamProblem{Kind: quarry.ProblemRemoved, Level: quarry.LevelWarn,
					Message: fmt.Sprintf("%s was removed on %s", d.Name, d.RemovedAt.Format("2006-01-02"))})
			}
			if dep := d.Deprecated(); dep != nil {
				msg := d.Name + " is deprecated"
				if dep.Note != "" {
					msg += ": " + dep.Note
				}
				add(p, quarry.UpstreamProblem{Kind: quarry.ProblemDeprecated, Level: quarry.LevelWarn, Message: msg})
			}
		}
	}
	if len(jobs) > 0 {
		runs, err := src.LatestRuns(ctx, jobs)
		if err != nil {
			return nil, err
		}
		for i, r := range runs {
			if r == nil || r.State != quarry.RunFail {
				continue
			}
			p := at[jobs[i]]
			msg := fmt.Sprintf("the last run of %s failed", p.Path[0].Name)
			if r.ErrorMessage != "" {
				msg += ": " + r.ErrorMessage
			}
			add(p, quarry.UpstreamProblem{Kind: quarry.ProblemRunFailed, Level: quarry.LevelError, JobID: p.ID, Message: msg})
			out[len(out)-1].DatasetID = p.Path[1].ID // what the job writes on the way
		}
	}
	slices.SortStableFunc(out, func(a, b quarry.UpstreamProblem) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Level.Rank(), a.Level.Rank()); c != 0 {
			return c
		}
		if c := cmp.Compare(problemRank(a.Kind), problemRank(b.Kind)); c != 0 {
			return c
		}
		return cmp.Compare(a.Path[0].Name, b.Path[0].Name)
	})
	return out, nil
}

func problemRank(k quarry.UpstreamProblemKind) int {
	return slices.Index([]quarry.UpstreamProblemKind{
		quarry.ProblemCheckFailing, quarry.ProblemRunFailed, quarry.ProblemLate, quarry.ProblemRemoved, quarry.ProblemDeprecated,
	}, k)
}
