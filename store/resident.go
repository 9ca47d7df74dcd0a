package store

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry/internal/mapped"
)

// The bbolt engine reads its file through a read-only shared memory map:
// each page a read touches stays in the process's resident set (RssFile)
// until the kernel needs the memory, and a page fault maps the pages
// around it too (fault-around, 64 KiB). Scanning the name index, whose
// pages lie among the dataset records', made 1.6 GB of the 3.8 GB file
// resident at a million datasets; a scan of the records, all of it. So
// after a scan of a whole bucket the store drops the map's pages from the
// resident set: they stay in the page cache, and a later read maps the
// ones it needs back with a minor fault.

// DefaultReleaseEvery is how often the map is dropped whatever was read
// (Options.ReleaseEvery): reads of single records (a search's page of
// hits, the search index's follower reading what was written) each leave
// a page or more behind. Every 10 s, an ingest of 5,500 datasets a second
// kept 197 MB of the 210 MB file resident at 100k datasets, as did a
// rebuild of the search index. The pages that are read all the time come
// back at the cost of a minor fault each. The map is dropped sooner when
// the process's mapped file pages exceed mapped.Budget (mapped.Every):
// an ingest's reads at random fill it far faster than every 2 s empties.
const DefaultReleaseEvery = 2 * time.Second

// releaseAfter is how many keys a scan reads before it releases the map
// when it ends: a smaller one leaves little behind, and dropping the map
// walks its page tables.
const releaseAfter = scanChunk

// releaseMapped drops the pages of the store file's memory map from the
// process's resident set (on Linux; elsewhere, and on PostgreSQL, it does
// nothing).
func (s *Store) releaseMapped() {
	if s.bolt == nil {
		return
	}
	// Inside a read transaction: bbolt remaps the file (for a write that
	// grows it) only while none is open, so the range stays this map's.
	_ = s.view(func(tx kvTx) error {
		if btx, ok := tx.(*boltTx); ok {
			mapped.Release(s.bolt.Info().Data, uintptr((*bolt.Tx)(btx).Size()))
		}
		return nil
	})
}

// releaseEvery drops the map every d until the store closes.
func (s *Store) releaseEvery(d time.Duration) {
	if d >= 0 {
		mapped.Every(s.closed, d, s.releaseMapped)
	}
}
