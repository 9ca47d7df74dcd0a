package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/quarrydata/quarry"
)

// TokenPrefix starts every API token: "qry_<prefix>_<secret>". The prefix
// (16 hex digits) finds the stored record; the secret (256 random bits,
// base64url) is checked against the SHA-256 kept in its place.
const TokenPrefix = "qry_"

// TokenStore is what Tokens keeps its records in.
type TokenStore interface {
	CreateToken(ctx context.Context, t quarry.Token) error
	RevokeToken(ctx context.Context, name string, at time.Time) (*quarry.Token, error)
	Tokens(ctx context.Context) ([]quarry.Token, error)
	TouchTokens(ctx context.Context, used map[string]time.Time) error
}

// TokensOptions configure NewTokens; nil means defaults.
type TokensOptions struct {
	Logger *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // nil: time.Now
	Flush  time.Duration    // how often Run writes last-used times; zero: a minute
}

// Tokens creates, lists and revokes API tokens and authenticates requests
// that carry one. It holds every token in memory by prefix, so checking a
// request costs one map lookup and one SHA-256 whatever the number of
// tokens. The map follows each change made through it at once; a change
// made by another process (quarry token --data) is seen at the next start,
// since that process holds the store's lock meanwhile.
type Tokens struct {
	store TokenStore
	log   *slog.Logger
	now   func() time.Time
	flush time.Duration

	mu       sync.RWMutex
	byPrefix map[string]*tokenEntry

	usedMu sync.Mutex
	used   map[string]time.Time // name -> last use not yet written
}

type tokenEntry struct {
	name    string
	hash    [sha256.Size]byte
	role    Role
	expires time.Time // zero: never
	revoked bool
}

// NewTokens returns Tokens over the store's tokens, loaded now.
func NewTokens(ctx context.Context, st TokenStore, o *TokensOptions) (*Tokens, error) {
	t := &Tokens{store: st, log: slog.Default(), now: time.Now, flush: time.Minute, used: map[string]time.Time{}}
	if o != nil {
		if o.Logger != nil {
			t.log = o.Logger
		}
		if o.Now != nil {
			t.now = o.Now
		}
		if o.Flush > 0 {
			t.flush = o.Flush
		}
	}
	if err := t.reload(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tokens) reload(ctx context.Context) error {
	all, err := t.store.Tokens(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]*tokenEntry, len(all))
	for _, k := range all {
		m[k.Prefix] = entryOf(&k)
	}
	t.mu.Lock()
	t.byPrefix = m
	t.mu.Unlock()
	return nil
}

// put installs a token's record as committed: the map follows each change
// made through Tokens at once, without reading every token again.
func (t *Tokens) put(k *quarry.Token) {
	e := entryOf(k)
	t.mu.Lock()
	t.byPrefix[k.Prefix] = e
	t.mu.Unlock()
}

func entryOf(k *quarry.Token) *tokenEntry {
	e := &tokenEntry{name: k.Name, role: Role(k.Role), revoked: k.RevokedAt != nil}
	copy(e.hash[:], k.Hash)
	if k.ExpiresAt != nil {
		e.expires = *k.ExpiresAt
	}
	return e
}

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$`)

// Create makes a token and returns its secret form, which is shown once
// and stored nowhere. ttl zero means it never expires.
func (t *Tokens) Create(ctx context.Context, name string, role Role, ttl time.Duration) (string, *quarry.Token, error) {
	if !tokenName.MatchString(name) {
		return "", nil, quarry.Invalid("name", "%q is not a token name (letters, digits, '_', '.', '@', '-'; at most 100)", quarry.Truncate(name, 120))
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", nil, err
	}
	if ttl < 0 {
		return "", nil, quarry.Invalid("expires", "must be positive")
	}
	var raw [8 + 32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	prefix := hex.EncodeToString(raw[:8])
	secret := base64.RawURLEncoding.EncodeToString(raw[8:])
	sum := sha256.Sum256([]byte(secret))
	now := t.now().UTC()
	rec := quarry.Token{Name: name, Prefix: prefix, Hash: sum[:], Role: string(role), CreatedAt: now, CreatedBy: quarry.ActorFrom(ctx)}
	if ttl > 0 {
		exp := now.Add(ttl)
		rec.ExpiresAt = &exp
	}
	if err := t.store.CreateToken(ctx, rec); err != nil {
		return "", nil, err
	}
	t.put(&rec)
	rec.Hash = nil
	return TokenPrefix + prefix + "_" + secret, &rec, nil
}

// Revoke revokes the named token; requests carrying it are refused from
// the moment Revoke returns.
func (t *Tokens) Revoke(ctx context.Context, name string) (*quarry.Token, error) {
	rec, err := t.store.RevokeToken(ctx, name, t.now())
	if err != nil {
		return nil, err
	}
	t.put(rec)
	rec.Hash = nil
	return rec, nil
}

// List returns every token (without hashes), with last-used times not yet
// written merged in.
func (t *Tokens) List(ctx context.Context) ([]quarry.Token, error) {
	all, err := t.store.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	t.usedMu.Lock()
	for i := range all {
		all[i].Hash = nil
		if at, ok := t.used[all[i].Name]; ok && (all[i].LastUsedAt == nil || at.After(*all[i].LastUsedAt)) {
			at := at.UTC()
			all[i].LastUsedAt = &at
		}
	}
	t.usedMu.Unlock()
	return all, nil
}

var errBadToken = quarry.Errorf(quarry.EUNAUTHENTICATED, "the token is not valid (unknown, revoked or expired)")

// Authenticate implements Authenticator for "Authorization: Bearer qry_...".
// A request with no Bearer token, or a Bearer credential that is not a
// Quarry token (another authenticator's), is not this one's to judge.
func (t *Tokens) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return nil, nil
	}
	return t.Check(strings.TrimSpace(h[7:]))
}

// Check returns the principal of a token in its secret form.
func (t *Tokens) Check(tok string) (*Principal, error) {
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok {
		return nil, nil
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != 16 {
		return nil, errBadToken
	}
	t.mu.RLock()
	e := t.byPrefix[prefix]
	t.mu.RUnlock()
	sum := sha256.Sum256([]byte(secret))
	if e == nil {
		return nil, errBadToken
	}
	if subtle.ConstantTimeCompare(sum[:], e.hash[:]) != 1 || e.revoked {
		return nil, errBadToken
	}
	now := t.now()
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return nil, errBadToken
	}
	t.usedMu.Lock()
	t.used[e.name] = now
	t.usedMu.Unlock()
	return &Principal{Name: e.name, Role: e.role, Via: "token"}, nil
}

// Run writes last-used times every Flush until ctx is done, then once more.
func (t *Tokens) Run(ctx context.Context) {
	tick := time.NewTicker(t.flush)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			t.Flush(ctx)
		case <-ctx.Done():
			t.Flush(context.WithoutCancel(ctx))
			return
		}
	}
}

// Flush writes the last-used times gathered since the last flush.
func (t *Tokens) Flush(ctx context.Context) {
	t.usedMu.Lock()
	used := t.used
	t.used = map[string]time.Time{}
	t.usedMu.Unlock()
	if err := t.store.TouchTokens(ctx, used); err != nil {
		t.log.Warn("recording when tokens were last used", "err", err)
	}
}
