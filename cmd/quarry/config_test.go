package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrawlConfig: the crawl section reaches the crawl policy, a bad
// value is an error naming its key, and sources' dsnEnv keep to the prefix.
func TestCrawlConfig(t *testing.T) {
	write := func(body string) string {
		path := filepath.Join(t.TempDir(), "quarry.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := loadConfig(write("crawl:\n  connectTimeout: 5s\n  queryTimeout: 2m\n  timeout: 1h\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.crawlPolicy()
	if err != nil || p.ConnectTimeout != 5*time.Second || p.QueryTimeout != 2*time.Minute || p.Timeout != time.Hour {
		t.Fatalf("crawl policy = %+v, %v", p, err)
	}
	if cfg, err := loadConfig(write("")); err != nil {
		t.Fatal(err)
	} else if p, err := cfg.crawlPolicy(); err != nil || p.Timeout != 0 {
		t.Fatalf("the default crawl policy = %+v, %v (zero: the crawler's defaults)", p, err)
	}
	cfg, err = loadConfig(write("crawl:\n  allowLocalFiles: true\n  dsnEnvPrefix: ACME_\nsources:\n  - {name: shop, kind: postgres, dsnEnv: ACME_SHOP}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := cfg.crawlPolicy(); err != nil || !p.AllowLocalFiles || p.DSNEnvPrefix != "ACME_" {
		t.Fatalf("crawl policy = %+v, %v", p, err)
	}
	if p, _ := cfg.crawlPolicy(); p.NoQueryText {
		t.Fatal("query text is off by default")
	}
	if cfg, err := loadConfig(write("crawl:\n  queryText: false\n")); err != nil {
		t.Fatal(err)
	} else if p, err := cfg.crawlPolicy(); err != nil || !p.NoQueryText {
		t.Fatalf("crawl.queryText: false gave %+v, %v", p, err)
	}
	for name, tc := range map[string]struct{ body, key string }{
		"ErrTimeout":      {"crawl:\n  timeout: forever\n", "crawl.timeout"},
		"ErrQueryTimeout": {"crawl:\n  queryTimeout: 1ms\n", "crawl.queryTimeout"},
		// A source's dsnEnv may not name any variable of the server's.
		"ErrDSNEnv":       {"sources:\n  - {name: shop, kind: postgres, dsnEnv: HOME}\n", "sources[0].dsnEnv"},
		"ErrDSNEnvPrefix": {"crawl:\n  dsnEnvPrefix: ACME_\nsources:\n  - {name: shop, kind: postgres, dsnEnv: QUARRY_SOURCE_SHOP}\n", "sources[0].dsnEnv"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadConfig(write(tc.body)); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("config %q: %v, want an error naming %s", tc.body, err, tc.key)
			}
		})
	}
}

// TestQueryLimitsConfig: the GraphQL limits of the limits section reach
// graph.Limits, and a bad time limit is an error naming its key.
func TestQueryLimitsConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quarry.yaml")
	write := func(body string) string {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := loadConfig(write("limits: {queryDepth: 20, queryComplexity: 123, pageMax: 7, queryTimeout: 250ms}\n"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := cfg.queryLimits()
	if err != nil || l.Depth != 20 || l.Complexity != 123 || l.PageMax != 7 || l.Timeout != 250*time.Millisecond {
		t.Fatalf("query limits = %+v, %v", l, err)
	}
	for _, body := range []string{"limits: {queryTimeout: soon}\n", "limits: {queryTimeout: 0s}\n"} {
		if _, err := loadConfig(write(body)); err == nil || !strings.Contains(err.Error(), "limits.queryTimeout") {
			t.Fatalf("config %q: %v, want an error naming limits.queryTimeout", body, err)
		}
	}
	if _, err := loadConfig(write("limits: {pageMax: -1}\n")); err == nil {
		t.Fatal("a negative pageMax was accepted")
	}
}

// TestSearchConfig: search.synonyms reach the config as groups, and a
// group of one word or a word of no letters is an error naming it.
func TestSearchConfig(t *testing.T) {
	write := func(body string) string {
		path := filepath.Join(t.TempDir(), "quarry.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := loadConfig(write("search:\n  synonyms: [[rep, representative], [ltv, lifetime value]]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Search.Synonyms; len(got) != 2 || got[1][1] != "lifetime value" {
		t.Fatalf("synonyms = %q", got)
	}
	for name, tc := range map[string]struct{ body, key string }{
		"ErrOneWord": {"search:\n  synonyms: [[rep]]\n", "search.synonyms[0]"},
		"ErrNoWord":  {"search:\n  synonyms: [[rep, representative], [cust, \"--\"]]\n", "search.synonyms[1][1]"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadConfig(write(tc.body)); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("config %q: %v, want an error naming %s", tc.body, err, tc.key)
			}
		})
	}
}
