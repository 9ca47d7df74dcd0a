package ui_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/ui"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestHandler(t *testing.T) {
	h := ui.Handler()
	t.Run("Routes", func(t *testing.T) {
		// Client-side routes get the app's page, which talks to /graphql.
		for _, path := range []string{"/", "/index.html", "/search?q=orders", "/datasets/some-id", "/datasets/some-id/lineage", "/alerts"} {
			resp, body := get(t, h, path)
			if resp.StatusCode != 200 || !strings.Contains(body, "/graphql") {
				t.Fatalf("GET %s: %d %.200s", path, resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("GET %s: Content-Type %q", path, ct)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Fatalf("GET %s: Cache-Control %q, want no-cache", path, cc)
			}
		}
	})
	t.Run("MissingFile", func(t *testing.T) {
		for _, path := range []string{"/nope.js", "/assets/nope-123.js"} {
			if resp, _ := get(t, h, path); resp.StatusCode != 404 {
				t.Fatalf("GET %s: %d, want 404", path, resp.StatusCode)
			}
		}
	})
	t.Run("Method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/datasets/x", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("POST: %d", rec.Code)
		}
	})
	if !ui.Built() {
		t.Run("Fallback", func(t *testing.T) {
			_, body := get(t, h, "/")
			if !strings.Contains(body, "make ui") {
				t.Fatalf("the page of an unbuilt UI does not say how to build it: %.300s", body)
			}
		})
		return
	}
	t.Run("GraphiQL", func(t *testing.T) {
		// GraphiQL's page loads its scripts and styles from the binary,
		// never from another host.
		g := ui.GraphiQL()
		if g == nil {
			t.Fatal("a built UI has no GraphiQL page")
		}
		_, body := get(t, g, "/graphql")
		refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1)
		if len(refs) < 2 {
			t.Fatalf("graphiql.html names no script and style: %s", body)
		}
		for _, ref := range refs {
			if strings.HasPrefix(ref[1], "data:") {
				continue
			}
			if !strings.HasPrefix(ref[1], "/assets/") {
				t.Fatalf("graphiql.html loads %s, not from the binary", ref[1])
			}
			if resp, _ := get(t, h, ref[1]); resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", ref[1], resp.StatusCode)
			}
		}
	})
	t.Run("HashedAssets", func(t *testing.T) {
		// Every asset index.html names is served, and may be cached for good.
		_, body := get(t, h, "/")
		refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
		if len(refs) == 0 {
			t.Fatalf("index.html names no assets: %s", body)
		}
		for _, ref := range refs {
			resp, _ := get(t, h, ref[1])
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", ref[1], resp.StatusCode)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
				t.Fatalf("GET %s: Cache-Control %q", ref[1], cc)
			}
		}
	})
}

// TestDistMarker guards the file that lets go:embed compile on a fresh clone.
func TestDistMarker(t *testing.T) {
	if _, err := fs.Stat(ui.FS(), ".gitkeep"); err != nil {
		t.Fatalf("dist/.gitkeep is missing from the embedded files (a fresh clone would not build): %v", err)
	}
}
