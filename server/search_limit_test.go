package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

// The GraphQL searches go through the limiter that bounds how many run at
// once (search.Limiter): its metrics count them.
func TestSearchesTakeASlot(t *testing.T) {
	s := servertest.New(t, &server.Options{Limits: server.Limits{Searches: 1}})
	s.GraphQL.Query(t, `{ search(query: "orders") { total } autocomplete(prefix: "ord") { text } }`, nil)
	_, body := s.Request(t, http.MethodGet, "/metrics", nil)
	for _, want := range []string{"quarry_search_queue_seconds_count 2", "quarry_search_queued 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
