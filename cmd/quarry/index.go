package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// runIndex handles `quarry index rebuild`: it rebuilds the search index
// from the store, in the data directory when no server holds it, else
// through the server (which keeps serving the old index meanwhile).
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return usageError{"usage: quarry index rebuild [--data DIR] [--server URL]"}
	}
	fs := newFlagSet("index rebuild", stderr)
	data := fs.String("data", "./quarry-data", "data directory")
	server := fs.String("server", "", "URL of a running server (default: the one holding --data, if any)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("index rebuild takes no arguments, got %q", fs.Args())}
	}
	if *server == "" {
		path := filepath.Join(*data, storeFile)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s has no store (%s); give --data, or --server for a running server", *data, storeFile)
		}
		// The command prints its result itself: the index logs only what
		// goes wrong.
		log := newLogger(LogConfig{Level: "warn", Format: "text"}, stderr)
		st, err := store.Open(path, &store.Options{ReadOnly: true, Timeout: 200 * time.Millisecond, Logger: log})
		if err == nil {
			defer st.Close()
			limit, _, err := setMemoryLimit("", os.Getenv, "/")
			if err != nil {
				return err
			}
			setGC(ctx, limit, rebuildHeapHeadroom)
			start := time.Now()
			idx, err := search.Open(ctx, filepath.Join(*data, indexDir), st, &search.Options{Logger: log})
			if err != nil {
				return err
			}
			defer idx.Close()
			if err := idx.Rebuild(ctx); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "search index rebuilt up to changelog record %d in %s\n", idx.Applied(), time.Since(start).Round(time.Millisecond))
			return nil
		}
		// The store is held (by a server, bbolt's lock): ask that server.
		addr, infoErr := runningServer(*data)
		if infoErr != nil {
			return fmt.Errorf("%w; %v", err, infoErr)
		}
		*server = addr
	}
	url := strings.TrimRight(*server, "/") + "/api/v1/admin/reindex"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	withToken(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s: %s%s", url, resp.Status, errorMessage(resp.Body))
	}
	var answer struct{ Status string }
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer)
	if answer.Status == "rebuilt" {
		fmt.Fprintf(stdout, "%s rebuilt its search index\n", *server)
	} else {
		fmt.Fprintf(stdout, "%s is rebuilding its search index; it serves the old one until the new one is ready\n", *server)
	}
	return nil
}

// errorMessage reads the message of an error answer ({"error": {"message"}}
// or {"message"}), as ": message", or "" when there is none.
func errorMessage(body io.Reader) string {
	var e struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&e) != nil {
		return ""
	}
	if m := cmp.Or(e.Error.Message, e.Message); m != "" {
		return ": " + m
	}
	return ""
}

// rebuildHeapHeadroom is the most the heap of `quarry index rebuild` may
// grow over what is live between collections (within the memory limit's
// eighth, as a server's). At Go's default (a collection each time the heap
// doubles) the collector took a tenth of the rebuild's CPU. At 1M datasets
// the rebuild took 7m12s (765 CPU-s, peak RSS 1.2 GB) at the default,
// 6m20s (1.8 GB) with this headroom, 5m53s (1.9-2.0 GB) with 1 GiB: the
// memory ceiling (2 GB) decided.
const rebuildHeapHeadroom = 512 << 20
