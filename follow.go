package quarry

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// ChangeReader reads the changelog.
type ChangeReader interface {
	// Changes returns up to limit records with sequence numbers greater
	// than after, oldest first.
	Changes(ctx context.Context, after uint64, limit int) ([]Change, error)
}

// ChangeSource is what a follower of the changelog reads: its records, and
// a signal that there are new ones.
type ChangeSource interface {
	ChangeReader
	// Changed returns a channel that is closed after the next commit that
	// appended to the changelog.
	Changed() <-chan struct{}
}

// Defaults of FollowOptions.
const (
	DefaultFollowLimit      = 1000
	DefaultFollowBackoff    = time.Second
	DefaultFollowMaxBackoff = 30 * time.Second
)

// FollowOptions configure FollowChanges; nil means defaults.
type FollowOptions struct {
	// Limit is the most records apply gets at once. Zero or less means
	// DefaultFollowLimit.
	Limit int
	// Gather is how long to wait after a commit wakes the follower before
	// reading, so that a burst of commits is applied at once. Zero means
	// at once.
	Gather time.Duration
	// Backoff is the wait after a failed catch-up, doubled after each
	// further failure in a row up to MaxBackoff. Zero or less means
	// DefaultFollowBackoff and DefaultFollowMaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Logger hears of failures and of the recovery after them; nil means
	// slog.Default(). Name names the follower in its messages.
	Logger *slog.Logger
	Name   string
	// After waits as time.After does; nil means time.After. Tests pass
	// their own to decide when a wait ends.
	After func(time.Duration) <-chan time.Time
}

// ApplyChanges calls apply with the changelog's records after seq in
// order, up to limit at a time (zero or less: DefaultFollowLimit), until
// none is left. It returns the sequence number of the last record of the
// last batch applied: seq if none was, and where to start again after an
// error.
//
// The records a batch names may have changed again since: appliers read
// the current state of what a record names, which makes applying a record
// twice harmless.
func ApplyChanges(ctx context.Context, src ChangeReader, seq uint64, limit int, apply func(context.Context, []Change) error) (uint64, error) {
	if limit <= 0 {
		limit = DefaultFollowLimit
	}
	for {
		changes, err := src.Changes(ctx, seq, limit)
		if err != nil {
			return seq, fmt.Errorf("read changelog after %d: %w", seq, err)
		}
		if len(changes) == 0 {
			return seq, nil
		}
		if err := apply(ctx, changes); err != nil {
			return seq, err
		}
		seq = changes[len(changes)-1].Seq
	}
}

// FollowChanges applies the changelog to a follower until ctx ends: the
// records after from, then those each later commit appends (see
// ApplyChanges). A failed catch-up is retried after a backoff, whether or
// not anything else is committed meanwhile: the failure may be transient
// (a full disk, a store busy with a backup) and the follower must not stay
// behind until the next write.
//
// The follower may be brought forward by other means meanwhile (a rebuild,
// a reload): apply then gets records it holds already and skips them.
func FollowChanges(ctx context.Context, src ChangeSource, from uint64, apply func(context.Context, []Change) error, o *FollowOptions) {
	var opt FollowOptions
	if o != nil {
		opt = *o
	}
	if opt.Backoff <= 0 {
		opt.Backoff = DefaultFollowBackoff
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = max(DefaultFollowMaxBackoff, opt.Backoff)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.After == nil {
		opt.After = time.After
	}
	name := opt.Name
	if name == "" {
		name = "changelog follower"
	}
	seq, failures, wait := from, 0, opt.Backoff
	for {
		// Taken before reading, so that a commit during the catch-up wakes
		// the next one.
		changed := src.Changed()
		var err error
		seq, err = ApplyChanges(ctx, src, seq, opt.Limit, apply)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failures++
			opt.Logger.Error(name+" catch-up failed; retrying", "err", err, "failures", failures, "retry_in", wait)
			if !sleep(ctx, opt.After(wait)) {
				return
			}
			wait = min(2*wait, opt.MaxBackoff)
			continue
		case failures > 0:
			opt.Logger.Info(name+" caught up after failing", "failures", failures, "seq", seq)
			failures, wait = 0, opt.Backoff
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		if opt.Gather > 0 && !sleep(ctx, opt.After(opt.Gather)) {
			return
		}
	}
}

// sleep waits for c to deliver, or for ctx to end: then it reports false.
func sleep(ctx context.Context, c <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-c:
		return true
	}
}
