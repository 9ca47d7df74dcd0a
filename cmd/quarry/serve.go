package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/auth/oidc"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/ui"
)

// Files in the data directory.
const (
	storeFile  = server.StoreFile
	indexDir   = server.IndexDir
	serverFile = "server.json" // where a running server listens, for `quarry backup`
)

type serverInfo struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	configPath := fs.String("config", "", "YAML config file")
	addr := fs.String("addr", "", "listen address (default 127.0.0.1:8080)")
	data := fs.String("data", "", "data directory (default ./quarry-data)")
	demo := fs.Bool("demo", false, "load the demo catalog")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	tlsKey := fs.String("tls-key", "", "the certificate's private key (PEM)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = *addr
		case "data":
			cfg.Data = *data
		case "demo":
			cfg.Demo = *demo
		case "tls-cert":
			cfg.TLS.Cert = *tlsCert
		case "tls-key":
			cfg.TLS.Key = *tlsKey
		}
	})
	if (cfg.TLS.Cert == "") != (cfg.TLS.Key == "") {
		return usageError{"--tls-cert and --tls-key go together"}
	}
	return serve(ctx, cfg, stderr)
}

// serve runs the server until ctx is cancelled, then shuts down: in-flight
// requests finish, queued writes commit, the store closes cleanly.
func serve(ctx context.Context, cfg Config, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	access, err := cfg.access(cfg.Addr)
	if err != nil {
		return err // the one line main prints says what to set
	}
	limit, from, err := setMemoryLimit(cfg.MemoryLimit, os.Getenv, "/")
	if err != nil {
		return err
	}
	log.Info("memory limit", "bytes", limit, "from", from)
	// Collections rarer than Go's default while the heap is small (search's
	// tail latency), within a headroom over the live heap (see there).
	if gc := setServingGC(ctx, limit); gc != nil {
		log.Info("garbage collector", "gogc_max", servingGCPercent, "gogc_min", minGCPercent, "heap_headroom", gc.headroom)
	}
	if addr := os.Getenv(pprofEnv); addr != "" {
		if err := servePprof(ctx, addr, log); err != nil {
			return err
		}
	}
	outbound, err := cfg.outbound()
	if err != nil {
		return err
	}
	var dial func(*net.Dialer) func(context.Context, string, string) (net.Conn, error)
	if !outbound.Empty() {
		dial = outbound.Dial
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defaults, err := cfg.freshnessDefaults()
	if err != nil {
		return err
	}
	interval, hooks, err := cfg.alerts(os.Getenv)
	if err != nil {
		return err
	}
	crawlPolicy, err := cfg.crawlPolicy()
	if err != nil {
		return err
	}
	queryLimits, err := cfg.queryLimits()
	if err != nil {
		return err
	}

	oidcCfg, err := cfg.oidc(os.Getenv)
	if err != nil {
		return err
	}
	var authns []auth.Authenticator
	var signIn http.Handler
	if oidcCfg != nil {
		sso, err := oidc.New(*oidcCfg, &oidc.Options{Dir: cfg.Data, Logger: log})
		if quarry.ErrorCode(err) == quarry.EINVALID {
			return fmt.Errorf("config: auth.oidc.%w", err)
		} else if err != nil {
			return fmt.Errorf("single sign-on: %w", err)
		}
		defer sso.Close()
		authns, signIn = append(authns, sso), sso.Handler()
		log.Info("single sign-on", "issuer", oidcCfg.Issuer)
	}
	crawlPolicy.Dial = dial
	storeDSN, err := cfg.Store.postgres(os.Getenv)
	if err != nil {
		return err
	}

	srv, err := server.Open(cfg.Data, &server.Options{
		StorePostgres:     storeDSN,
		StoreReplicas:     cfg.Store.Replicas,
		Logger:            log,
		Registerer:        reg,
		Gatherer:          reg,
		LineageMaxDepth:   cfg.Lineage.MaxDepth,
		LineageMaxNodes:   cfg.Lineage.MaxNodes,
		SearchSynonyms:    cfg.Search.Synonyms,
		FreshnessDefaults: defaults,
		Alerts:            &alert.Options{Webhooks: hooks, Interval: interval, Dial: dial},
		Access:            access,
		Crawl:             crawlPolicy,
		Limits:            cfg.bodyLimits(),
		QueryLimits:       queryLimits,
		UI:                ui.Handler(),
		GraphiQL:          ui.GraphiQL(),
		Version:           buildVersion(),
		Authenticators:    authns,
		SignIn:            signIn,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	st := srv.Store
	// On a full disk the server comes up degraded (reads only, until
	// space is freed) rather than not at all: what the config would write
	// at start waits for the next start.
	full := func(err error) bool { return quarry.ErrorCode(err) == quarry.EINSUFFICIENTSTORAGE }
	if cfg.Demo {
		res, err := demo.Load(ctx, st, time.Now())
		switch {
		case full(err):
			log.Error("the demo catalog is not loaded: the disk is full", "err", err)
		case err != nil:
			return err
		default:
			log.Info("demo catalog loaded", "datasets", res.Datasets, "changed", res.Changed, "runs", res.Runs, "lineage events", res.Events)
		}
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	for i, sc := range cfg.Sources {
		if _, err := srv.Crawls.Register(quarry.WithActor(ctx, "config"), sc.source()); full(err) {
			log.Error("config: a source's registration is not updated: the disk is full; it is at the next start", "source", sc.Name, "err", err)
		} else if err != nil {
			return fmt.Errorf("config: sources[%d] (%s): %w", i, sc.Name, err)
		}
	}
	for _, sc := range cfg.Sources {
		if run, err := srv.Crawls.StartFirst(ctx, sc.Name); err != nil {
			log.Warn("config: the first crawl of a source did not start", "source", sc.Name, "err", err)
		} else if run != nil {
			log.Info("config: crawling a source never crawled", "source", sc.Name)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	info := filepath.Join(cfg.Data, serverFile)
	if err := writeServerInfo(info, ln.Addr().String()); err != nil {
		log.Warn("could not record the listen address; `quarry backup` will need --server", "err", err)
	}
	defer os.Remove(info)

	if access == nil && !isLoopback(ln.Addr().String()) {
		// "localhost" resolved beyond loopback: open mode stays on this machine.
		return fmt.Errorf("refusing to serve %s without access control: it is not a loopback address", ln.Addr())
	}
	scheme := "http"
	if cfg.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		scheme = "https"
	}
	mode := "open (loopback, no auth config)"
	if access != nil {
		mode = "tokens; anonymous " + roleOrNone(string(access.Anonymous))
	}
	log.Info("quarry listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String()+"/", "data", cfg.Data, "access", mode, "version", buildVersion())
	// Once shutdown begins, a second Ctrl-C or SIGTERM ends the process at
	// once.
	defer context.AfterFunc(ctx, func() { signal.Reset(os.Interrupt, syscall.SIGTERM) })()
	return srv.Serve(ctx, ln)
}

func writeServerInfo(path, addr string) error {
	b, err := json.Marshal(serverInfo{Addr: addr, PID: os.Getpid()})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func roleOrNone(r string) string {
	if r == "" {
		return "none"
	}
	return r
}
