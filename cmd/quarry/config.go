package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/server"
)

// Config is the YAML config file (--config). Flags given on the command line
// win over it. Later capabilities add sources, policies, webhooks and tokens.
type Config struct {
	Addr      string          `yaml:"addr"`
	Data      string          `yaml:"data"`
	Demo      bool            `yaml:"demo"`
	Log       LogConfig       `yaml:"log"`
	Limits    LimitsConfig    `yaml:"limits"`
	Sources   []SourceConfig  `yaml:"sources"`
	Crawl     CrawlConfig     `yaml:"crawl"`
	Lineage   LineageConfig   `yaml:"lineage"`
	Freshness FreshnessConfig `yaml:"freshness"`
	Alerts    AlertsConfig    `yaml:"alerts"`
	Search    SearchConfig    `yaml:"search"`
	// Auth turns access control on (see AuthConfig); nil keeps a loopback
	// server open.
	Auth *AuthConfig `yaml:"auth"`
	// TLS serves HTTPS (or the --tls-cert and --tls-key flags).
	TLS TLSConfig `yaml:"tls"`
	// Store chooses the store's engine (see StoreConfig).
	Store StoreConfig `yaml:"store"`
	// MemoryLimit is the Go runtime's soft memory limit: a size ("2GiB",
	// "1500MB"), a share of the machine's (or cgroup's) memory ("60%"), or
	// "off". Empty means 75%. GOMEMLIMIT, when set, wins.
	MemoryLimit string `yaml:"memoryLimit"`
}

// StoreConfig chooses where the catalog is kept: the bbolt file in the
// data directory (the default), or a PostgreSQL database. The data
// directory still holds the search index and the lineage log.
//
//	store:
//	  engine: postgres
//	  dsnEnv: QUARRY_STORE_DSN   # or dsn: postgres://quarry@db.internal:5432/quarry
//	  replicas: true             # several servers share the database
//
// Prefer dsnEnv: a connection string holds a password. One server per
// database, unless replicas: then every server on it must say replicas.
type StoreConfig struct {
	Engine   string `yaml:"engine"`
	DSN      string `yaml:"dsn"`
	DSNEnv   string `yaml:"dsnEnv"`
	Replicas bool   `yaml:"replicas"`
}

// postgres returns the PostgreSQL connection string the store section
// names, "" for the bbolt engine; errors name the field.
func (c StoreConfig) postgres(getenv func(string) string) (string, error) {
	switch strings.ToLower(c.Engine) {
	case "", "bbolt":
		if c.Replicas {
			return "", errors.New("config: store.replicas is for engine: postgres (replicas share a database; a bbolt file has one server)")
		}
		if c.DSN != "" || c.DSNEnv != "" {
			return "", fmt.Errorf("config: store.dsn and store.dsnEnv are for engine: postgres, and the engine is %s", cmpOr(c.Engine, "bbolt (the default)"))
		}
		return "", nil
	case "postgres":
	default:
		return "", fmt.Errorf("config: store.engine %q: want bbolt or postgres", c.Engine)
	}
	switch {
	case c.DSN != "" && c.DSNEnv != "":
		return "", errors.New("config: store: give dsn or dsnEnv, not both")
	case c.DSNEnv != "":
		dsn := getenv(c.DSNEnv)
		if dsn == "" {
			return "", fmt.Errorf("config: store.dsnEnv: $%s is not set", c.DSNEnv)
		}
		return dsn, nil
	case c.DSN != "":
		return c.DSN, nil
	}
	return "", errors.New("config: store: engine postgres needs dsn or dsnEnv (a connection string such as postgres://quarry@db:5432/quarry)")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// AlertsConfig sets how often alerts are evaluated and where their
// transitions are sent.
//
//	alerts:
//	  interval: 1m
//	  webhooks:
//	    - name: data-eng
//	      urlEnv: SLACK_WEBHOOK_URL   # or url: https://hooks.slack.com/services/...
//	      format: slack               # or json
type AlertsConfig struct {
	Interval string          `yaml:"interval"`
	Webhooks []WebhookConfig `yaml:"webhooks"`
}

// WebhookConfig is one webhook. Prefer urlEnv: a Slack webhook URL is a
// secret. The name (default webhook-N) is what delivery statuses show.
type WebhookConfig struct {
	Name   string `yaml:"name"`
	URL    string `yaml:"url"`
	URLEnv string `yaml:"urlEnv"`
	Format string `yaml:"format"`
}

// alerts converts the alerts section; errors name the entry and field.
func (c Config) alerts(getenv func(string) string) (time.Duration, []quarry.Webhook, error) {
	interval := time.Minute
	if c.Alerts.Interval != "" {
		d, err := quarry.ParseDuration(c.Alerts.Interval)
		if err != nil || d < time.Second {
			return 0, nil, fmt.Errorf("config: alerts.interval %q: want a duration of at least 1s, like 1m", c.Alerts.Interval)
		}
		interval = d
	}
	hooks := make([]quarry.Webhook, len(c.Alerts.Webhooks))
	seen := map[string]bool{}
	for i, w := range c.Alerts.Webhooks {
		h := quarry.Webhook{Name: w.Name, URL: w.URL, Format: strings.ToLower(w.Format)}
		if h.Name == "" {
			h.Name = fmt.Sprintf("webhook-%d", i+1)
		}
		if h.Format == "" {
			h.Format = quarry.WebhookJSON
		}
		if w.URLEnv != "" {
			if w.URL != "" {
				return 0, nil, fmt.Errorf("config: alerts.webhooks[%d]: give url or urlEnv, not both", i)
			}
			if h.URL = getenv(w.URLEnv); h.URL == "" {
				return 0, nil, fmt.Errorf("config: alerts.webhooks[%d].urlEnv: $%s is not set", i, w.URLEnv)
			}
		}
		if err := h.Validate(); err != nil {
			if qe, ok := errors.AsType[*quarry.Error](err); ok && qe.Field == "url" && w.URLEnv != "" {
				// The URL came from the environment: name what the config says.
				return 0, nil, fmt.Errorf("config: alerts.webhooks[%d].urlEnv: $%s: %s", i, w.URLEnv, qe.Message)
			}
			return 0, nil, fmt.Errorf("config: alerts.webhooks[%d].%v", i, err)
		}
		if seen[h.Name] {
			return 0, nil, fmt.Errorf("config: alerts.webhooks[%d]: the name %q is taken", i, h.Name)
		}
		seen[h.Name] = true
		hooks[i] = h
	}
	return interval, hooks, nil
}

// FreshnessConfig holds default freshness policies: the first that matches
// a dataset without a policy of its own applies.
//
//	freshness:
//	  defaults:
//	    - tag: tier1
//	      warnAfter: 6h
//	      errorAfter: 24h
//	    - name: "analytics.reporting.*"
//	      warnAfter: 1d
type FreshnessConfig struct {
	Defaults []PolicyDefaultConfig `yaml:"defaults"`
}

// PolicyDefaultConfig is one default policy: for datasets with the tag,
// crawled by the source, and named like the pattern (each when given).
type PolicyDefaultConfig struct {
	Tag        string `yaml:"tag"`
	Source     string `yaml:"source"`
	Name       string `yaml:"name"`
	WarnAfter  string `yaml:"warnAfter"`
	ErrorAfter string `yaml:"errorAfter"`
}

// freshnessDefaults converts the defaults; errors name the entry and field.
func (c Config) freshnessDefaults() ([]quarry.PolicyDefault, error) {
	out := make([]quarry.PolicyDefault, len(c.Freshness.Defaults))
	for i, d := range c.Freshness.Defaults {
		out[i] = quarry.PolicyDefault{Tag: d.Tag, Source: d.Source, Name: d.Name}
		for _, f := range []struct {
			name, value string
			into        *time.Duration
		}{{"warnAfter", d.WarnAfter, &out[i].Policy.WarnAfter}, {"errorAfter", d.ErrorAfter, &out[i].Policy.ErrorAfter}} {
			if f.value == "" {
				continue
			}
			v, err := quarry.ParseDuration(f.value)
			if err != nil {
				return nil, fmt.Errorf("config: freshness.defaults[%d].%s: %v", i, f.name, err)
			}
			*f.into = v
		}
		if err := out[i].Validate(); err != nil {
			return nil, fmt.Errorf("config: freshness.defaults[%d].%v", i, err)
		}
	}
	return out, nil
}

// SearchConfig tunes search. Synonyms are groups of words a search takes
// for one another ([[rep, representative], [cust, customer]]); they apply
// as queries are read, so changing them needs no reindex.
type SearchConfig struct {
	Synonyms [][]string `yaml:"synonyms"`
}

// validate checks the synonyms as the search index reads them.
func (c SearchConfig) validate() error {
	if err := search.CheckSynonyms(c.Synonyms); err != nil {
		return fmt.Errorf("config: search.%v", err)
	}
	return nil
}

// LineageConfig bounds lineage traversals; zero means the default.
type LineageConfig struct {
	MaxDepth int `yaml:"maxDepth"` // the deepest lineage query (default 50 hops)
	MaxNodes int `yaml:"maxNodes"` // the most nodes one lineage or impact query returns (default 10000)
}

// SourceConfig declares a source; the server registers (or updates) it at
// start, as registerSource would. Prefer dsnEnv (a variable whose name
// begins with crawl.dsnEnvPrefix, QUARRY_SOURCE_ unless set) to a DSN with
// a password.
type SourceConfig struct {
	Name         string   `yaml:"name"`
	Kind         string   `yaml:"kind"`
	DSN          string   `yaml:"dsn"`
	DSNEnv       string   `yaml:"dsnEnv"`
	Namespace    string   `yaml:"namespace"`
	Schedule     string   `yaml:"schedule"`
	Include      []string `yaml:"include"`
	Exclude      []string `yaml:"exclude"`
	Aliases      []string `yaml:"aliases"`
	AllDatabases bool     `yaml:"allDatabases"`
}

func (c SourceConfig) source() quarry.Source {
	return quarry.Source{
		Name: c.Name, Kind: quarry.SourceKind(strings.ToUpper(c.Kind)), DSN: c.DSN, DSNEnv: c.DSNEnv, Namespace: c.Namespace,
		Schedule: c.Schedule, Include: c.Include, Exclude: c.Exclude, Aliases: c.Aliases, AllDatabases: c.AllDatabases,
	}
}

// CrawlConfig bounds the crawls of registered sources (configured or
// registered with registerSource). Empty durations take the defaults.
//
//	crawl:
//	  connectTimeout: 10s           # connecting to a source
//	  queryTimeout: 1m              # each catalog query
//	  timeout: 10m                  # the whole crawl
//	  allowLocalFiles: false        # DSN parameters that read this machine's files, Unix sockets
//	  dsnEnvPrefix: QUARRY_SOURCE_  # the environment variables a source's dsnEnv may name
//	  queryText: true               # keep the normalized text of the queries usage counts
type CrawlConfig struct {
	ConnectTimeout  string `yaml:"connectTimeout"`
	QueryTimeout    string `yaml:"queryTimeout"`
	Timeout         string `yaml:"timeout"`
	AllowLocalFiles bool   `yaml:"allowLocalFiles"`
	DSNEnvPrefix    string `yaml:"dsnEnvPrefix"`
	QueryText       *bool  `yaml:"queryText"` // nil: true
}

// crawlPolicy converts the crawl section; errors name the key.
func (c Config) crawlPolicy() (crawler.SourcePolicy, error) {
	p := crawler.SourcePolicy{AllowLocalFiles: c.Crawl.AllowLocalFiles, DSNEnvPrefix: c.Crawl.DSNEnvPrefix,
		NoQueryText: c.Crawl.QueryText != nil && !*c.Crawl.QueryText}
	if p.DSNEnvPrefix == "" {
		p.DSNEnvPrefix = crawler.DefaultDSNEnvPrefix
	}
	for _, f := range []struct {
		name, value string
		into        *time.Duration
	}{
		{"connectTimeout", c.Crawl.ConnectTimeout, &p.ConnectTimeout},
		{"queryTimeout", c.Crawl.QueryTimeout, &p.QueryTimeout},
		{"timeout", c.Crawl.Timeout, &p.Timeout},
	} {
		if f.value == "" {
			continue
		}
		d, err := quarry.ParseDuration(f.value)
		if err != nil || d < 100*time.Millisecond {
			return p, fmt.Errorf("config: crawl.%s %q: want a duration of at least 100ms, like 30s", f.name, f.value)
		}
		*f.into = d
	}
	return p, nil
}

// LogConfig sets up log/slog.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// LimitsConfig bounds requests; zero means the default (graph.Limits
// says each).
//
//	limits:
//	  queryComplexity: 50000   # what one GraphQL operation may cost; a list costs its page times its fields
//	  pageMax: 1000            # the largest page (first) a GraphQL list gives
//	  queryTimeout: 10s        # how long one GraphQL request may run before it is cancelled
type LimitsConfig struct {
	BodyBytes       int64  `yaml:"bodyBytes"`
	DBTBodyBytes    int64  `yaml:"dbtBodyBytes"` // POST /api/v1/dbt; default 256 MiB
	QueryDepth      int    `yaml:"queryDepth"`
	QueryComplexity int    `yaml:"queryComplexity"`
	PageMax         int    `yaml:"pageMax"`
	QueryTimeout    string `yaml:"queryTimeout"`
	Searches        int    `yaml:"searches"` // run at once; 0: GOMAXPROCS
}

func defaultConfig() Config {
	return Config{
		Addr: "127.0.0.1:8080",
		Data: "./quarry-data",
		Log:  LogConfig{Level: "info", Format: "text"},
	}
}

// loadConfig reads a YAML config over the defaults. Unknown keys are errors:
// a misspelled key must not be silently ignored.
func loadConfig(path string) (Config, error) {
	cfg := defaultConfig()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("config: log.format %q: want text or json", c.Log.Format)
	}
	if c.Limits.BodyBytes < 0 || c.Limits.DBTBodyBytes < 0 || c.Limits.QueryDepth < 0 || c.Limits.QueryComplexity < 0 || c.Limits.PageMax < 0 {
		return fmt.Errorf("config: limits must not be negative")
	}
	if _, err := c.queryLimits(); err != nil {
		return err
	}
	if _, _, err := memoryLimit(c.MemoryLimit, "/"); err != nil {
		return err
	}
	if err := c.Search.validate(); err != nil {
		return err
	}
	policy, err := c.crawlPolicy()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, sc := range c.Sources {
		src := sc.source()
		if err := src.Normalize(); err != nil {
			return fmt.Errorf("config: sources[%d]: %v", i, err)
		}
		if src.DSNEnv != "" && !strings.HasPrefix(src.DSNEnv, policy.DSNEnvPrefix) {
			return fmt.Errorf("config: sources[%d].dsnEnv: %q is not a source's variable: want a name that begins with %s "+
				"(crawl.dsnEnvPrefix)", i, src.DSNEnv, policy.DSNEnvPrefix)
		}
		if seen[src.Name] {
			return fmt.Errorf("config: sources[%d]: %q is declared twice", i, src.Name)
		}
		seen[src.Name] = true
	}
	if _, err := c.freshnessDefaults(); err != nil {
		return err
	}
	if _, _, err = c.alerts(os.Getenv); err != nil {
		return err
	}
	if c.Auth != nil {
		if _, err := c.access("127.0.0.1:0"); err != nil {
			return err
		}
	}
	_, err = c.outbound()
	return err
}

func (c Config) bodyLimits() server.Limits {
	return server.Limits{BodyBytes: c.Limits.BodyBytes, DBTBodyBytes: c.Limits.DBTBodyBytes, Searches: c.Limits.Searches}
}

func (c Config) queryLimits() (graph.Limits, error) {
	l := graph.Limits{Depth: c.Limits.QueryDepth, Complexity: c.Limits.QueryComplexity, PageMax: c.Limits.PageMax}
	if c.Limits.Searches < 0 {
		return l, fmt.Errorf("config: limits.searches %d: want 0 (one search a core) or more", c.Limits.Searches)
	}
	if s := c.Limits.QueryTimeout; s != "" {
		d, err := quarry.ParseDuration(s)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("config: limits.queryTimeout %q: want a duration like 10s", s)
		}
		l.Timeout = d
	}
	return l, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("config: log.level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
