package graph

import (
	"github.com/quarrydata/quarry"
)

// Every list of the schema is paged or bounded, and costs what it may
// hold (cost.go): a list that grows with the catalog takes first (or limit,
// where it had that name already), which defaults to a page and is refused
// past the server's page maximum; a list that its parent bounds (a
// dataset's columns, owners and tags, an alert's deliveries, one per
// webhook) has no argument and costs boundedList elements. Issue 15: 300
// aliases of the unpaged jobs list answered 30 MB and took 2.4 GB.
const (
	defaultPage    = 100  // a paged list's page when first is absent
	defaultPageMax = 1000 // the largest page unless Limits.PageMax says
)

// page returns the page size first asks for: def (at most the page
// maximum) when it is absent, an invalid error naming first when it is
// below 1 or above the page maximum.
func (r *Resolver) page(first *int, def int) (int, error) {
	most := r.pageMax
	if most <= 0 {
		most = defaultPageMax
	}
	if first == nil {
		return min(def, most), nil
	}
	if n := *first; n < 1 || n > most {
		return 0, quarry.Invalid("first", "must be between 1 and %d, got %d", most, n)
	}
	return *first, nil
}

// firstN returns s cut to n elements.
func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n:n]
	}
	return s
}
