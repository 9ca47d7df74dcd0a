package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quarrydata/quarry/store"
)

// runBackup writes a consistent copy of a data directory's store to FILE.
// When no server holds the directory it reads the file itself; when one
// does (bbolt's lock), it asks that server (its address is in server.json,
// or given with --server) to stream the copy. Either way the copy is checked
// before it replaces FILE.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	data := fs.String("data", "./quarry-data", "data directory")
	server := fs.String("server", "", "URL of a running server, e.g. http://127.0.0.1:8080 (default: the one holding --data, if any)")
	force := fs.Bool("force", false, "replace FILE if it exists")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"backup takes one argument: the file to write"}
	}
	out := fs.Arg(0)
	// Checked before and again just before the rename: a backup can take
	// minutes, and an earlier backup is what one must not lose by a typo.
	if err := mayWrite(out, *force); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".quarry-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())

	via, err := writeBackup(ctx, tmp, *data, *server)
	if err == nil {
		err = tmp.Sync() // the copy is on disk before it takes the final name
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	st, err := verifyBackup(tmp.Name())
	if err != nil {
		return fmt.Errorf("backup: the copy is not a sound store file, not kept: %w", err)
	}
	if err := mayWrite(out, *force); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		d.Sync() // and so is its name
		d.Close()
	}
	fmt.Fprintf(stdout, "backup written to %s via %s: %d bytes, %d datasets, changelog at %d\n", out, via, st.FileBytes, st.Datasets, st.LastSeq)
	return nil
}

// mayWrite refuses to replace an existing file unless forced.
func mayWrite(path string, force bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory: give the backup's file name", path)
	case !force:
		return fmt.Errorf("%s exists: give --force to replace it, or another file name", path)
	}
	return nil
}

func writeBackup(ctx context.Context, w io.Writer, data, server string) (via string, err error) {
	if server == "" {
		path := filepath.Join(data, storeFile)
		s, err := store.Open(path, &store.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
		via = "the data directory"
		if err == nil {
			if n := s.LineageBacklog(); n > 0 {
				// Lineage events accepted but not applied when the server
				// stopped: apply them (as the server would when started), so
				// that the copy has them. Where the directory cannot be
				// written, the copy goes without them, and says so.
				via = fmt.Sprintf("the data directory, after applying %d lineage events accepted before the server stopped", n)
				s.Close()
				s, err = store.Open(path, &store.Options{Timeout: 200 * time.Millisecond})
				if err == nil {
					if err = s.SyncLineage(ctx); err != nil {
						s.Close()
					}
				}
				if err != nil {
					via = fmt.Sprintf("the data directory, WITHOUT %d lineage events accepted before the server stopped (applying them failed: %v; start the server and back up again to have them)", n, err)
					s, err = store.Open(path, &store.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
				}
			}
		}
		if err == nil {
			defer s.Close()
			_, err = s.WriteTo(w)
			return via, err
		}
		if _, statErr := os.Stat(filepath.Join(data, storeFile)); statErr != nil {
			return "", fmt.Errorf("%s has no store: %w", data, statErr)
		}
		addr, infoErr := runningServer(data)
		if infoErr != nil {
			return "", fmt.Errorf("%v; %v", err, infoErr)
		}
		server = addr
	}
	url := strings.TrimRight(server, "/") + "/api/v1/admin/backup"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	withToken(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	n, err := io.Copy(w, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("%s: the copy is truncated: %d of %d bytes", url, n, resp.ContentLength)
	}
	return server, err
}

// verifyBackup checks the copy page by page and reads its summary.
func verifyBackup(path string) (store.Stats, error) {
	if err := store.Verify(path); err != nil {
		return store.Stats{}, err
	}
	s, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		return store.Stats{}, err
	}
	defer s.Close()
	return s.Stats(context.Background())
}

// runningServer returns the URL of the server that holds a data directory,
// as it recorded in server.json.
func runningServer(data string) (string, error) {
	b, err := os.ReadFile(filepath.Join(data, serverFile))
	if err != nil {
		return "", fmt.Errorf("no running server is recorded in %s: give --server", data)
	}
	var info serverInfo
	if err := json.Unmarshal(b, &info); err != nil || info.Addr == "" {
		return "", fmt.Errorf("%s: unreadable; give --server", serverFile)
	}
	return "http://" + info.Addr, nil
}
