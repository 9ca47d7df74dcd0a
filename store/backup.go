package store

import (
	"context"
	"io"

	bolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent copy of the whole store file to w, from one
// read transaction: writers go on meanwhile and are not in the copy. The
// copy is a valid store file: put it in a data directory as quarry.db.
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
