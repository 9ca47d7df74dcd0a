package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
)

// Exported for tests.
var (
	EncodeLogEntry = encodeLogEntry
	DecodeLogEntry = decodeLogEntry
)

// AppendLogEntries appends events to the lineage log of the closed store
// at path, as AcceptLineage does, leaving them for the applier: the state
// a server stopped before applying what it accepted leaves behind.
func AppendLogEntries(path string, evs []quarry.LineageEvent) error {
	recs, err := logEntries(evs)
	if err != nil {
		return err
	}
	w, err := openWAL(path+".lineage", 0, false, true, slog.New(slog.DiscardHandler), newWALMetrics(nil))
	if err != nil {
		return err
	}
	defer w.Close()
	_, err = w.Append(context.Background(), recs)
	return err
}

// PutOldLogEntries writes events into the closed store file's lineage log
// bucket, where builds before the log had a file of its own kept them.
func PutOldLogEntries(path string, evs []quarry.LineageEvent) error {
	recs, err := logEntries(evs)
	if err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLineageLog)
		for _, r := range recs {
			seq, _ := b.NextSequence()
			if err := b.Put(u64(seq), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func logEntries(evs []quarry.LineageEvent) ([][]byte, error) {
	var recs [][]byte
	for i := range evs {
		raw, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, err
		}
		recs = append(recs, encodeLogEntry(raw))
	}
	return recs, nil
}

// Dump reads every bucket of s that holds a key or a sequence: key ->
// value, and the sequence under the key "#seq".
func Dump(s *Store) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	err := s.view(func(tx kvTx) error {
		return tx.ForEachBucket(func(name []byte) error {
			b := tx.Bucket(name)
			m := map[string]string{}
			if err := b.ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil }); err != nil {
				return err
			}
			if seq := b.Sequence(); seq != 0 {
				m["#seq"] = fmt.Sprint(seq)
			}
			if len(m) > 0 {
				out[string(name)] = m
			}
			return nil
		})
	})
	return out, err
}

// CanBeLate returns the IDs the can-be-late list names (alert.go).
func (s *Store) CanBeLate() ([]string, error) {
	var out []string
	err := s.view(func(tx kvTx) error {
		return tx.Bucket(bucketCanBeLate).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}
