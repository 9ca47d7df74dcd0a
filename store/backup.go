package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
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
	f, err := os.CreateTemp(filepath.Dir(s.path), ".snapshot-*")
	if err != nil {
		return nil, 0, snapshotErr(err)
	}
	os.Remove(f.Name()) // unlinked: nothing is left behind, whatever happens
	n, err := s.WriteTo(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, snapshotErr(err)
	}
	return f, n, nil
}

// snapshotErr says a snapshot that found no room beside the store so
// (insufficient_storage): the store's writes are not refused for it, as
// the copy needs as much space again as the file.
func snapshotErr(err error) error {
	if isDiskFull(err) {
		qe := quarry.Errorf(quarry.EINSUFFICIENTSTORAGE, "no room for a backup snapshot beside the store: it needs as much free space as the store file")
		return fmt.Errorf("%w: %w", qe, err)
	}
	return err
}

// WriteTo writes a consistent copy of the whole store file to w, from one
// read transaction: writers go on meanwhile and are not in the copy. The
// copy is a valid store file: put it in a data directory as quarry.db.
// Lineage events accepted but not applied yet are not in it (they are in
// the lineage log beside the file): Snapshot applies them first.
// A slow w holds the read transaction open, which can stall writers that
// need to grow the file: serve copies over a network with Snapshot.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	if s.bolt == nil {
		return s.writeBoltCopy(w)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.isClosed {
		return 0, ErrClosed
	}
	var n int64
	err := s.bolt.View(func(tx *bolt.Tx) (err error) {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Verify checks a store file, such as a copy Snapshot or WriteTo wrote,
// page by page with bbolt's consistency check: every page reachable once,
// none both in use and free, the keys of every page in order. It opens the
// file read-only and runs no migration, so it can check a file of an older
// schema; it waits up to a second for a writer's lock (a running server
// holds its file: check a copy). The error names the problems found, up to
// ten of them.
func Verify(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("verify %s: another process (a running quarry server?) holds it", path)
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	var problems []error
	n := 0
	err = db.View(func(tx *bolt.Tx) error {
		if err := walkPages(tx); err != nil {
			return err
		}
		for err := range tx.Check() { // drained: the checker runs until it is done
			if n++; len(problems) < 10 {
				problems = append(problems, err)
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	if n > len(problems) {
		problems = append(problems, fmt.Errorf("and %d more", n-len(problems)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify %s: %w", path, errors.Join(problems...))
	}
	return nil
}

// walkPages reads every key of every bucket, so that every page in use is
// read once on this goroutine before tx.Check runs. bbolt panics on a page
// whose header is damaged, and tx.Check (loading the free list of a file
// that does not store one, as ours) reads pages on a goroutine of its own,
// where no recover can catch that: the process would crash
// (etcd-io/bbolt#581). Here the panic is recovered as an error.
func walkPages(tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("damaged page: %v", r)
		}
	}()
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v != nil {
				return nil
			}
			nb := b.Bucket(k)
			if nb == nil { // listed but not found: the keys are out of order
				return fmt.Errorf("bucket %x is listed but cannot be found", k)
			}
			return walk(nb)
		})
	}
	return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
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
	err := s.view(func(tx kvTx) error {
		st.Datasets = counter(tx, keyDatasetCount)
		st.Removed = counter(tx, keyRemovedCount)
		st.LastSeq = tx.Bucket(bucketChangelog).Sequence()
		return nil
	})
	return st, err
}
