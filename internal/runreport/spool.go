package runreport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Spool is a directory of events that could not be sent, one file each,
// named so that their order is their event time's: the next `quarry run`
// sends them before its own. Several processes may use one spool at once:
// a file is claimed by renaming it before it is sent, so each is sent by
// one of them. Events are idempotent on the server (it stores an event
// it has applied once, by its digest), so one sent again after a crash
// between its acceptance and its removal is stored once.
type Spool struct {
	Dir string
}

// DefaultSpoolDir is the spool of a server: a directory per server under
// the user's cache directory ($XDG_CACHE_HOME/quarry/spool/HOST_PORT on
// Linux, ~/Library/Caches on macOS), or under the temporary directory when
// there is none (a cron job without HOME).
func DefaultSpoolDir(server string) string {
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("quarry-%d", os.Getuid()))
	}
	return filepath.Join(base, "quarry", "spool", serverDir(server))
}

// serverDir names a server's spool: its host and port, readable, with
// what a file name cannot hold replaced.
func serverDir(server string) string {
	s := server
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	s = strings.TrimRight(s, "/")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
}

const (
	spoolExt   = ".json"
	claimedExt = ".sending"
	// staleClaim is how old a claim is when its process is taken to have
	// died before it sent or returned the event.
	staleClaim = 10 * time.Minute
)

// Put writes an event to the spool (to a temporary name first, so that
// no one sends half of it).
func (s *Spool) Put(ev Event) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	name := fmt.Sprintf("%020d-%s-%s%s", ev.Time.UnixNano(), ev.RunID, ev.Type, spoolExt)
	tmp, err := os.CreateTemp(s.Dir, ".put-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(ev.JSON)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(s.Dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Len is the number of events in the spool, claimed ones included.
func (s *Spool) Len() int {
	n := 0
	entries, _ := os.ReadDir(s.Dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), spoolExt) || strings.HasSuffix(e.Name(), claimedExt) {
			n++
		}
	}
	return n
}

// FlushResult says what Flush did.
type FlushResult struct {
	Sent    int
	Dropped []error // events the server refused, removed from the spool
	Left    int     // events still in the spool
}

// Flush sends the spooled events in order with c, each retried until the
// deadline, and removes those sent or refused. It stops at the first event
// that could not be sent by the deadline, leaving it and the rest for
// later; err is then that event's error.
func (s *Spool) Flush(ctx context.Context, c *Client, deadline time.Time, b Backoff) (res FlushResult, err error) {
	defer func() { res.Left = s.Len() }()
	names, rerr := s.pending()
	if rerr != nil {
		if errors.Is(rerr, fs.ErrNotExist) {
			return res, nil
		}
		return res, rerr
	}
	for _, name := range names {
		path := filepath.Join(s.Dir, name)
		claimed := path + claimedExt
		if err := os.Rename(path, claimed); err != nil {
			continue // another process claimed it
		}
		now := time.Now()
		_ = os.Chtimes(claimed, now, now) // the claim's age, for staleClaim
		raw, rerr := os.ReadFile(claimed)
		if rerr != nil {
			os.Rename(claimed, path)
			return res, rerr
		}
		err := c.Send(ctx, raw, deadline, b)
		if rej, ok := errors.AsType[*Rejected](err); ok {
			res.Dropped = append(res.Dropped, fmt.Errorf("%s: %w", name, rej))
			os.Remove(claimed)
			continue
		}
		if err != nil {
			os.Rename(claimed, path)
			return res, err
		}
		os.Remove(claimed)
		res.Sent++
	}
	return res, nil
}

// pending lists the spool's events in order, first returning to it those
// whose claim is stale.
func (s *Spool) pending() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, claimedExt) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleClaim {
				orig := strings.TrimSuffix(name, claimedExt)
				if os.Rename(filepath.Join(s.Dir, name), filepath.Join(s.Dir, orig)) == nil {
					names = append(names, orig)
				}
			}
			continue
		}
		if strings.HasSuffix(name, spoolExt) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}
