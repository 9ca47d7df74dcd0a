package store

import (
	"context"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Snapshot writes a consistent copy of the store, with every lineage
// event accepted before the call applied, to an unlinked temporary file
// beside it, and returns the file, positioned at its start, and its size.
// The read transaction ends before the caller sends the copy anywhere, so
// a slow reader of the copy never holds up writers (bbolt cannot grow its
// memory map while a read transaction is open). The caller closes the
// file; its space is freed then.
func (s *Store) Snapshot(ctx context.Context) (*os.File, int64, error) {
	if err := s.SyncLineage(ctx); err != nil {
		return nil, 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(s.db.Path()), ".snapshot-*")
	if err != nil {
		return nil, 0, err
	}
	os.Remove(f.Name()) // unlinked: nothing is left behind, whatever happens
	n, err := s.WriteTo(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
}

// WriteTo writes a consistent copy of the whole store file to w, from one
// read transaction: writers go on meanwhile and are not in the copy. The
// copy is a valid store file: put it in a data directory as quarry.db.
// Lineage events accepted but not applied yet are not in it (they are in
// the lineage log beside the file): Snapshot applies them first.
// A slow w holds the read transaction open, which can stall writers that
// need to grow the file: serve copies over a network with Snapshot.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) (err error) {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Stats is a summary for health checks.
type Stats struct {
	Datasets  int    `json:"datasets"`
	Removed   int    `json:"removed"`
	LastSeq   uint64 `json:"lastSeq"`
	FileBytes int64  `json:"fileBytes"`
	Schema    int    `json:"schemaVersion"`
}

// Stats reads the summary in one read transaction.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Schema: SchemaVersion(), FileBytes: s.fileSize()}
	err := s.view(func(tx *bolt.Tx) error {
		st.Datasets = counter(tx, keyDatasetCount)
		st.Removed = counter(tx, keyRemovedCount)
		st.LastSeq = tx.Bucket(bucketChangelog).Sequence()
		return nil
	})
	return st, err
}
