package search_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
)

// heldSearches is a real index whose searches count how many run at once
// and wait for release before they search: a long search, held.
type heldSearches struct {
	*search.Index
	release chan struct{}

	mu           sync.Mutex
	inside, most int
	entered      int
}

func (h *heldSearches) Search(ctx context.Context, q search.Query) (*search.Results, error) {
	h.mu.Lock()
	h.inside++
	h.entered++
	h.most = max(h.most, h.inside)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inside--
		h.mu.Unlock()
	}()
	<-h.release
	return h.Index.Search(ctx, q)
}

func (h *heldSearches) counts() (inside, most, entered int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inside, h.most, h.entered
}

// However many searches come at once, no more than the limiter's slots
// run; the others wait their turn and then answer as the index does.
func TestLimiterBoundsConcurrentSearches(t *testing.T) {
	c := newCatalog(t)
	want := c.names(t, search.Query{Text: "orders"})
	held := &heldSearches{Index: c.idx, release: make(chan struct{})}
	const slots, searches = 3, 20
	l := search.NewLimiter(held, &search.LimiterOptions{Slots: slots})

	var wg sync.WaitGroup
	results := make(chan []string, searches)
	for range searches {
		wg.Go(func() {
			res, err := l.Search(context.Background(), search.Query{Text: "orders"})
			if err != nil {
				t.Error(err)
				return
			}
			var names []string
			for _, h := range res.Hits {
				names = append(names, h.Dataset.Name)
			}
			results <- names
		})
	}
	waitFor(t, 10*time.Second, func() bool { inside, _, _ := held.counts(); return inside == slots })
	// The other 17 have had time to (wrongly) enter.
	time.Sleep(100 * time.Millisecond)
	if inside, most, entered := held.counts(); most != slots || entered != slots {
		t.Fatalf("%d searches inside at most, %d entered (%d now) of %d started; the limit is %d", most, entered, inside, searches, slots)
	}
	close(held.release)
	wg.Wait()
	close(results)
	n := 0
	for names := range results {
		n++
		if len(names) != len(want) || len(names) == 0 || names[0] != want[0] {
			t.Fatalf("a queued search answered %v; the index answers %v", names, want)
		}
	}
	if _, most, entered := held.counts(); n != searches || entered != searches || most != slots {
		t.Fatalf("%d answers, %d searches entered, at most %d at once; want %d, %d, %d", n, entered, most, searches, searches, slots)
	}
}

// A search whose time runs out while it waits for a slot answers
// unavailable and never reaches the index.
func TestLimiterQueueDeadline(t *testing.T) {
	c := newCatalog(t)
	held := &heldSearches{Index: c.idx, release: make(chan struct{})}
	l := search.NewLimiter(held, &search.LimiterOptions{Slots: 1})
	done := make(chan error, 1)
	go func() {
		_, err := l.Search(context.Background(), search.Query{Text: "orders"})
		done <- err
	}()
	waitFor(t, 10*time.Second, func() bool { inside, _, _ := held.counts(); return inside == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := l.Search(ctx, search.Query{Text: "revenue"})
	if quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("a search that waited past its deadline: %v; want %s", err, quarry.EUNAVAILABLE)
	}
	// Autocomplete shares the slots.
	if _, err := l.Autocomplete(ctx, "ord", 5); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("an autocomplete while the slot is taken and its deadline past: %v", err)
	}
	if _, _, entered := held.counts(); entered != 1 {
		t.Fatalf("%d searches reached the index; want only the one holding the slot", entered)
	}
	close(held.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, err := l.Autocomplete(context.Background(), "ord", 5); err != nil || len(got) == 0 {
		t.Fatalf("autocomplete once the slot is free: %v, %v", got, err)
	}
}
