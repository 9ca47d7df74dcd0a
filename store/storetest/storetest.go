// Package storetest opens real stores for tests: a bbolt file in the
// test's temporary directory, closed and checked with store.Verify (bbolt's
// own consistency check) when the test ends.
package storetest

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/quarrydata/quarry/store"
)

// MustOpen opens a store in a new temporary directory of tb. Nil opts, or
// a nil Logger, mean a logger that discards. At cleanup the store is closed
// and its file verified; a problem fails the test.
func MustOpen(tb testing.TB, opts *store.Options) *store.Store {
	tb.Helper()
	var o store.Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(tb.TempDir(), "quarry.db")
	s, err := store.Open(path, &o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close the store: %v", err)
		}
		if err := store.Verify(path); err != nil {
			tb.Errorf("the store file is damaged: %v", err)
		}
	})
	return s
}
