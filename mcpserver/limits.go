package mcpserver

import (
	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// The pages of the tools' lists. A list takes limit, which has a default
// page and is refused outside 1..max, as the GraphQL API's first and limit
// are (graph/page.go, graph/cost.go): the maxima are the API's (the search
// index's 100, the page maximum for stored lists, lineage's for graphs),
// the defaults smaller, because a model reads every line of an answer, and
// no answer reaches a megabyte.
const (
	defaultPageMax = 1000 // graph.Limits.PageMax's default

	searchDefault, searchMax = 10, 100 // search.Query.First's cap
	jobsDefault, jobsMax     = 10, 100 // search.SearchJobs's cap
	alertsDefault            = 20
	runsDefault              = 5
	lineageDefault           = 100
	// The graph allows 10,000 nodes (lineage.DefaultMaxLimit), more
	// than a megabyte of answer; its default page is the most a model
	// gets.
	lineageMax    = lineage.DefaultLimit
	impactDefault = 100
	// A dataset's lists: its columns, jobs, checks and problems.
	columnsDefault  = 200
	jobsOfDataset   = 20
	problemsDefault = 20
	// A lineage walk of more than 10 hops answers more than a model can
	// use; the graph allows 50 for the UI.
	maxDepth = 10

	// Texts are cut: a description to a paragraph in lists, SQL to a page.
	shortText = 300
	longText  = 8000
)

// limit checks a list's limit argument: def when absent, an invalid error
// naming the argument outside 1..most.
func limit(field string, n *int, def, most int) (int, error) {
	if n == nil {
		return min(def, most), nil
	}
	if *n < 1 || *n > most {
		return 0, quarry.Invalid(field, "must be between 1 and %d, got %d", most, *n)
	}
	return *n, nil
}

// cut shortens s to at most n bytes and an ellipsis.
func cut(s string, n int) string { return quarry.Truncate(s, n) }
