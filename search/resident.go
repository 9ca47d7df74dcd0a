package search

import (
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/quarrydata/quarry/internal/mapped"
)

// zap reads a segment through a read-only memory map of its file, and a
// merge reads every byte of the segments it merges: at a million datasets
// the 1.3 GB of segments being merged stayed in the process's resident set
// beside the heap while it ran (3.1 GB of RSS, 1 GB of it anonymous). So
// Run drops the serving index's segment maps from the resident set now and
// then, as the store drops its file's (store/resident.go): the pages stay
// in the page cache, and the reads that need them again (a search's
// postings, the merge's next ones) map them back with a minor fault.

// releaseInterval is how often Run drops the segment maps, and a rebuild
// those of the index it builds: a merge of a million datasets reads its
// segments at tens of MB a second, and a search maps back the pages it
// needs. As often as the store drops its file's (store.DefaultReleaseEvery),
// and sooner when the process's mapped file pages exceed mapped.Budget.
const releaseInterval = 2 * time.Second

// releaseMapped drops the pages of the serving index's segment maps from
// the resident set.
func (x *Index) releaseMapped() {
	idx, err := x.current()
	if err != nil {
		return
	}
	r, err := reader(idx)
	x.mu.RUnlock()
	if err == nil {
		releaseSegments(r)
	}
}

// releaseSegments drops the pages of the segment maps of r's snapshot,
// which keeps them mapped, from the resident set, and closes r.
func releaseSegments(r index.IndexReader) {
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return
	}
	for _, s := range snap.Segments() {
		if m, ok := s.Segment().(interface{ Data() []byte }); ok { // a file's: zap's *Segment
			mapped.ReleaseBytes(m.Data())
		}
	}
}
