package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofEnv names a loopback address on which `quarry serve` also serves
// Go's profiles (/debug/pprof/), for the scale benchmark and for whoever
// investigates a slow server on its own machine. Unset, nothing listens.
// It is an environment variable, not a config key: a debugging aid, never
// part of a deployment.
const pprofEnv = "QUARRY_PPROF_ADDR"

// servePprof serves the profiles on addr until ctx is done. Only a
// loopback address is accepted: profiles show the process's memory.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", pprofEnv, err)
	}
	if !isLoopback(ln.Addr().String()) {
		ln.Close()
		return fmt.Errorf("%s: %s is not a loopback address", pprofEnv, addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiles server stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { hs.Close() })
	log.Info("serving Go profiles", "addr", ln.Addr().String(), "from", pprofEnv)
	return nil
}
