package oidc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry/auth"
)

// SessionsFile holds the sessions, in the data directory.
const SessionsFile = "sessions.db"

var bucket = []byte("sessions")

// Session is one signed-in person.
type Session struct {
	Subject string    `json:"sub"`
	Name    string    `json:"name"`
	Email   string    `json:"email,omitempty"`
	Role    auth.Role `json:"role"`
	CSRF    string    `json:"csrf"` // the X-CSRF-Token its unsafe requests carry
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Sessions are kept in memory, where each request looks its session up,
// and written through to a bbolt file of their own (sessions.db) so a
// restart keeps people signed in. Not in the catalog's store: sessions
// are not catalog data, must not travel in its backups, and their writes
// should not wait behind a large ingest's. The file and the map are keyed
// by the SHA-256 of the session ID, so the file alone signs nobody in.
type Sessions struct {
	now func() time.Time
	db  *bolt.DB // nil keeps them in memory only

	mu   sync.RWMutex
	live map[string]Session
}

// OpenSessions opens dir/sessions.db, dropping the expired sessions; an
// empty dir keeps sessions in memory.
func OpenSessions(dir string, now func() time.Time) (*Sessions, error) {
	s := &Sessions{now: now, live: map[string]Session{}}
	if dir == "" {
		return s, nil
	}
	db, err := bolt.Open(filepath.Join(dir, SessionsFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the sessions: %w", err)
	}
	s.db = db
	t := now()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		var expired [][]byte
		err = b.ForEach(func(k, v []byte) error {
			var sess Session
			if json.Unmarshal(v, &sess) != nil || !t.Before(sess.Expires) {
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			s.live[string(k)] = sess
			return nil
		})
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the sessions: %w", err)
	}
	return s, nil
}

// Close closes the file.
func (s *Sessions) Close() error {
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// Create stores sess under a new random ID (the cookie's value), with a
// new CSRF token, and drops the expired ones.
func (s *Sessions) Create(sess Session) (string, Session, error) {
	id := randomString()
	sess.CSRF = randomString()
	sess.Created = s.now()
	key := hashID(id)
	t := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var expired []string
	for k, v := range s.live {
		if !t.Before(v.Expires) {
			expired = append(expired, k)
		}
	}
	if s.db != nil {
		b, err := json.Marshal(sess)
		if err != nil {
			return "", Session{}, err
		}
		err = s.db.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucket)
			for _, k := range expired {
				if err := bk.Delete([]byte(k)); err != nil {
					return err
				}
			}
			return bk.Put([]byte(key), b)
		})
		if err != nil {
			return "", Session{}, fmt.Errorf("storing a session: %w", err)
		}
	}
	for _, k := range expired {
		delete(s.live, k)
	}
	s.live[key] = sess
	return id, sess, nil
}

// Get returns the live session with the ID, or nil.
func (s *Sessions) Get(id string) *Session {
	s.mu.RLock()
	sess, ok := s.live[hashID(id)]
	s.mu.RUnlock()
	if !ok || !s.now().Before(sess.Expires) {
		return nil
	}
	return &sess
}

// Delete ends the session with the ID (none is fine).
func (s *Sessions) Delete(id string) error {
	key := hashID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete([]byte(key)) }); err != nil {
			return fmt.Errorf("ending a session: %w", err)
		}
	}
	delete(s.live, key)
	return nil
}

// Len is the number of sessions held, live or expired but not yet dropped.
func (s *Sessions) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.live)
}
