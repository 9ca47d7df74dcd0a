package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quarrydata/quarry/store"
)

// runMigrate copies a catalog from one store engine to the other: a
// bbolt data directory into a PostgreSQL database for a team that grows,
// or back. The destination must be new. No server may run on either end
// meanwhile (bbolt's file lock says so for a data directory; nothing does
// for a database).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	from := fs.String("from", "", "the store to copy: a data directory, or a postgres:// connection string")
	to := fs.String("to", "", "the new store: a postgres:// connection string, or a data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *from == "" || *to == "" {
		return usageError{"migrate takes --from and --to: a data directory and a postgres:// connection string, either way"}
	}
	if isPostgres(*from) == isPostgres(*to) {
		return usageError{"migrate copies between engines: one of --from and --to is a data directory, the other a postgres:// connection string"}
	}
	log := newLogger(LogConfig{Level: "warn", Format: "text"}, stderr)
	// A PostgreSQL store opened here has its lineage log (empty: a
	// server's is in its data directory) in a directory of its own.
	tmp, err := os.MkdirTemp("", "quarry-migrate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	open := func(where string, create bool) (*store.Store, error) {
		o := &store.Options{Timeout: 200 * time.Millisecond, Logger: log}
		if isPostgres(where) {
			o.Postgres = where
			return store.Open(filepath.Join(tmp, storeFile), o)
		}
		path := filepath.Join(where, storeFile)
		if _, err := os.Stat(path); create && err == nil {
			return nil, fmt.Errorf("%s already holds a store: migrate into a new data directory", where)
		} else if !create && err != nil {
			return nil, fmt.Errorf("%s holds no store (%s): %w", where, storeFile, err)
		}
		if err := os.MkdirAll(where, 0o700); err != nil {
			return nil, err
		}
		return store.Open(path, o)
	}
	src, err := open(*from, false)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := open(*to, true)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := src.CopyTo(ctx, dst); err != nil {
		dst.Close()
		return err
	}
	st, err := dst.Stats(ctx)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d datasets (%d removed), changelog at %d, in %s\n", st.Datasets, st.Removed, st.LastSeq, time.Since(start).Round(time.Millisecond))
	return nil
}

func isPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
