package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
	if *server == "" {
		st, err := store.Open(filepath.Join(*data, storeFile), &store.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
		if err == nil {
			defer st.Close()
			start := time.Now()
			idx, err := search.Open(ctx, filepath.Join(*data, indexDir), st, nil)
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
		addr, infoErr := runningServer(*data)
		if infoErr != nil {
			return fmt.Errorf("%v; %v", err, infoErr)
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
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	fmt.Fprintf(stdout, "%s is rebuilding its search index; it serves the old one until the new one is ready\n", *server)
	return nil
}
