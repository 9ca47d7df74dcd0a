package graph

import (
	"context"
	"math/bits"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// What an operation costs, for the cost limit (Limits.Complexity). A field
// costs one plus what it selects (gqlgen's rule), and a list costs its
// page size, the first or limit argument or its default, times what one
// element selects plus one: 300 aliases of jobs { id } cost 60,000, and a
// query that asks for pages of pages pays for the product. Before, every
// field cost one whatever it returned, and 300 aliases of the unpaged jobs
// list (30 MB answered, 2.4 GB taken) or 1,000 aliases of a lineage
// graph (1.9 GB) were within the limit.
const (
	// boundedList is what a list that its parent bounds counts as: a
	// typical size rather than its worst (a dataset has up to 5000 columns
	// and 100 tags, most have a few dozen and a few), so that the UI's pages
	// stay well within the default limit.
	boundedList = 20
	// largeText is what a text of up to a MiB costs (a job's SQL, a view's
	// definition), against one for a name: the 100 jobs of a page with
	// their SQL cost 5,100, a thousand of them more than the default limit.
	largeText = 50
)

// costs returns the complexity functions of the schema's lists and large
// texts, pages counted as the resolvers serve them (pageMax as in page).
func costs(pageMax int) ComplexityRoot {
	if pageMax <= 0 {
		pageMax = defaultPageMax
	}
	// paged counts a page: first when it is valid (past pageMax the
	// resolver refuses it with invalid, which says more than the cost
	// would), else def, at most most.
	paged := func(child int, first *int, def, most int) int {
		n := min(def, most)
		if first != nil && *first >= 1 {
			n = min(*first, most)
		}
		return listCost(n, child)
	}
	page := func(def int) func(int, *int) int {
		return func(child int, first *int) int { return paged(child, first, def, pageMax) }
	}
	bounded := func(child int) int { return listCost(boundedList, child) }
	text := func(int) int { return largeText }

	var c ComplexityRoot
	c.Query.Jobs = func(child int, first *int, _ *string) int { return paged(child, first, defaultPage, pageMax) }
	c.Query.Sources = page(defaultPage)
	c.Query.Alerts = func(child int, _ *bool, _ *quarry.AlertKind, first *int) int {
		return paged(child, first, defaultPage, pageMax)
	}
	c.Query.FreshnessAlerts = func(child int, _ []quarry.FreshnessStatus, first *int) int {
		return paged(child, first, defaultPage, pageMax)
	}
	c.Query.AuditLog = func(child int, first *int, _ *string) int { return paged(child, first, 50, pageMax) }
	c.Query.Datasets = func(child int, first *int, _ *string, _ *bool) int { return paged(child, first, 50, pageMax) }
	// The search index caps its pages at 100 (search.Query.First).
	c.Query.Search = func(child int, _ string, _ *SearchFilter, first *int, _ *string, _ *SearchSort) int {
		return paged(child, first, 20, 100)
	}
	// One search per namespace (at most 100) finds its source.
	c.Query.NamespaceSources = func(child int, namespaces []string) int {
		return listCost(max(len(namespaces), boundedList), child+1)
	}
	c.Query.SearchJobs = func(child int, _ string, first *int) int { return paged(child, first, 20, 100) }
	c.Query.Autocomplete = func(child int, _ string, limit *int) int { return paged(child, limit, 10, 100) }
	// The lineage graph refuses limits past its own maximum.
	c.Query.Lineage = func(child int, _ string, _ *LineageDirection, _ *int, _ *bool, limit *int) int {
		return paged(child, limit, lineage.DefaultLimit, lineage.DefaultMaxLimit)
	}
	c.Query.Impact = func(child int, _ string, _ *string, limit *int) int {
		return paged(child, limit, lineage.DefaultLimit, lineage.DefaultMaxLimit)
	}

	c.Dataset.MetadataHistory = page(defaultPage)
	c.Dataset.History = page(defaultPage)
	c.Dataset.Upstream = page(defaultPage)
	c.Dataset.Downstream = page(defaultPage)
	c.Dataset.DataChanges = page(20)
	c.Dataset.Alerts = page(defaultPage)
	c.Dataset.Checks = page(defaultPage)
	c.Dataset.WrittenBy = page(defaultPage)
	c.Dataset.ReadBy = page(defaultPage)
	// A walk of up to a thousand upstream nodes and a read of their
	// records: a page of datasets that asks for it pays for each.
	c.Dataset.UpstreamProblems = func(child int, _ *int) int { return listCost(boundedList, child) + largeText }
	c.Job.Inputs = page(defaultPage)
	c.Job.Outputs = page(defaultPage)
	c.Job.DagJobs = page(defaultPage)
	c.Job.Runs = func(child int, first *int, _ *string) int { return paged(child, first, 20, pageMax) }
	c.Run.Children = page(defaultPage)
	c.Run.Inputs = page(defaultPage)
	c.Run.Outputs = page(defaultPage)
	c.Alert.History = page(20)
	c.Check.History = page(20)
	c.Source.Runs = page(10)
	// Usage: users and queries are bounded by what the store keeps; daily
	// counts its days (30 unless days says, at most a year).
	c.Usage.Users = func(child int) int { return listCost(quarry.MaxUsageUsers, child) }
	c.Usage.Queries = func(child int) int { return listCost(quarry.MaxUsageQueries, child) }
	c.Usage.Daily = bounded
	c.Dataset.Usage = func(child int, days *int) int {
		n := 30
		if days != nil && *days >= 1 {
			n = min(*days, quarry.MaxUsageDays)
		}
		return 1 + child + listCost(max(n-boundedList, 0), 4)
	}

	for _, f := range []*func(int) int{
		&c.Dataset.Owners, &c.Dataset.Tags, &c.Dataset.ShownColumns, &c.Dataset.Constraints, &c.Dataset.Partitions,
		&c.Job.Owners, &c.JobFacts.Tags, &c.Alert.Deliveries, &c.Constraint.Columns, &c.TableRef.Columns, &c.ImpactedDataset.Columns,
		&c.Source.Include, &c.Source.Exclude, &c.Source.Aliases,
		&c.SearchHit.Matches, &c.SearchHit.Highlights,
		&c.UpsertDatasetsPayload.Ids,
		&c.DbtInfo.Owners, &c.DbtInfo.Tags, &c.DbtInfo.Properties, &c.DbtInfo.Columns, &c.DbtInfo.Tests,
		&c.DbtColumn.Tags, &c.DbtColumn.Meta, &c.UpstreamProblem.Path,
		&c.Query.APITokens,
	} {
		*f = bounded
	}
	// The lists of a connection (datasets, runs), a lineage graph, an
	// impact and search results are counted by the page of the field that
	// returns them, which counts their other fields as often: a search's
	// facets, which do not grow with the page, cost as many times as its
	// page has hits, which is enough to pay for their buckets.
	c.Job.SQL = text
	c.Dataset.Definition = text
	c.DbtInfo.RawCode = text
	c.DbtInfo.CompiledCode = text
	return c
}

// listCost is n elements of child each, and one for each element itself,
// without overflow.
func listCost(n, child int) int {
	hi, lo := bits.Mul64(uint64(n), uint64(max(child, 0)+1))
	if hi != 0 || lo > uint64(maxInt) {
		return maxInt
	}
	return int(lo)
}

const maxInt = int(^uint(0) >> 1)

// complexityLimit refuses, before it runs, an operation that costs more
// than limit (gqlgen's FixedComplexityLimit answers a code of its own and
// a message that does not say how lists count). Its error carries
// GraphQL's validation-failure code, which makes gqlgen answer 422, and a
// *quarry.Error that the error presenter shows as too_large.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &complexityLimit{}

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	c.es = schema
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil // gqlgen reports it
	}
	cost := complexity.Calculate(ctx, c.es, op, oc.Variables)
	if cost <= c.limit {
		return nil
	}
	qe := quarry.Errorf(quarry.ETOOLARGE, "the query costs %d; the limit is %d (a list costs its page size, first or limit, "+
		"times what each element selects: ask for smaller pages or fewer fields)", cost, c.limit)
	return &gqlerror.Error{Message: qe.Message, Err: qe, Extensions: map[string]any{"code": errcode.ValidationFailed}}
}
