package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quarrydata/quarry"
)

// The access-control buckets are created by the first write that needs
// them rather than by a migration: a store without them simply has no
// tokens and no audit entries yet, and readers treat a missing bucket so.
var (
	bucketTokens        = []byte("tokens")         // name -> quarry.Token (the hash of its secret, never the secret)
	bucketTokenPrefixes = []byte("token_prefixes") // prefix -> name: prefixes are unique
	bucketAudit         = []byte("audit_log")      // seq(8) -> quarry.AuditEntry
)

// CreateToken stores a new token and an audit entry saying who created it,
// in one transaction. A name or prefix already taken is a conflict (a
// revoked token keeps its name: its history names it).
func (s *Store) CreateToken(ctx context.Context, t quarry.Token) error {
	if t.Name == "" {
		return quarry.Invalid("name", "is required")
	}
	v, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx kvTx) error {
		b, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return err
		}
		if b.Get([]byte(t.Name)) != nil {
			return &quarry.Error{Code: quarry.ECONFLICT, Field: "name", Message: fmt.Sprintf("a token named %q exists already", t.Name)}
		}
		p, err := tx.CreateBucketIfNotExists(bucketTokenPrefixes)
		if err != nil {
			return err
		}
		if p.Get([]byte(t.Prefix)) != nil { // 1 in 2^64 per pair
			return quarry.Errorf(quarry.ECONFLICT, "token prefix collision; create it again")
		}
		if err := p.Put([]byte(t.Prefix), []byte(t.Name)); err != nil {
			return err
		}
		if err := b.Put([]byte(t.Name), v); err != nil {
			return err
		}
		return appendAudit(tx, quarry.AuditEntry{At: t.CreatedAt, Actor: t.CreatedBy, Action: "token.create", Target: t.Name, Detail: "role " + t.Role})
	})
}

// RevokeToken marks the named token revoked at at (if it is not already)
// and records who did it; it returns the token as stored.
func (s *Store) RevokeToken(ctx context.Context, name string, at time.Time) (*quarry.Token, error) {
	actor := quarry.ActorFrom(ctx)
	var out quarry.Token
	err := s.update(ctx, func(tx kvTx) error {
		b := tx.Bucket(bucketTokens)
		var raw []byte
		if b != nil {
			raw = b.Get([]byte(name))
		}
		if raw == nil {
			return quarry.Errorf(quarry.ENOTFOUND, "no token named %q", name)
		}
		out = quarry.Token{}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		if out.RevokedAt != nil {
			return nil
		}
		at := at.UTC()
		out.RevokedAt = &at
		v, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(name), v); err != nil {
			return err
		}
		return appendAudit(tx, quarry.AuditEntry{At: at, Actor: actor, Action: "token.revoke", Target: name})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Tokens returns every token, revoked and expired ones included, by name.
func (s *Store) Tokens(ctx context.Context) ([]quarry.Token, error) {
	var out []quarry.Token
	err := s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		var err error
		out, err = prefixJSON[quarry.Token](b.Cursor(), nil, "token")
		return err
	})
	return out, err
}

// TouchTokens records when tokens were last used (name -> time). Names
// that no longer exist are skipped; a time older than the stored one is
// ignored.
func (s *Store) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return s.update(ctx, func(tx kvTx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		for name, at := range used {
			raw := b.Get([]byte(name))
			if raw == nil {
				continue
			}
			var t quarry.Token
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			if t.LastUsedAt != nil && !at.After(*t.LastUsedAt) {
				continue
			}
			at := at.UTC()
			t.LastUsedAt = &at
			v, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(name), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppendAudit records an admin action. Its Seq is assigned here.
func (s *Store) AppendAudit(ctx context.Context, e quarry.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	return s.update(ctx, func(tx kvTx) error { return appendAudit(tx, e) })
}

func appendAudit(tx kvTx, e quarry.AuditEntry) error {
	b, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	e.At = e.At.UTC()
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// AuditLog returns up to first entries, newest first, older than the entry
// numbered before (0: from the newest).
func (s *Store) AuditLog(ctx context.Context, first int, before uint64) ([]quarry.AuditEntry, error) {
	var out []quarry.AuditEntry
	err := s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else {
			c.Seek(u64(before))
			k, v = c.Prev()
		}
		for ; k != nil && len(out) < first; k, v = c.Prev() {
			if before != 0 && binary.BigEndian.Uint64(k) >= before {
				continue
			}
			var e quarry.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
