// Command oidcdev is an OpenID Connect provider for development and the
// end-to-end tests (github.com/oauth2-proxy/mockoidc), never part of the
// quarry binary. It listens on loopback and prints one JSON line with its
// issuer, client id and secret, then serves until interrupted:
//
//	go run ./internal/oidcdev [-addr 127.0.0.1:0]
//	{"issuer":"http://127.0.0.1:41234/oidc","clientId":"...","clientSecret":"...","users":"http://127.0.0.1:41234/dev/users"}
//
// Whoever signs in next is the person last POSTed to /dev/users, as JSON
// ({"sub":"u1","email":"ed@example.com","name":"ed","groups":["data-eng"]});
// without one it is mockoidc's default user (jane.doe, groups engineering
// and design). Each sign-in takes one from the queue.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oidcdev:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback: this provider signs anyone in)")
	flag.Parse()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(mockoidc.AuthorizationEndpoint, m.Authorize)
	mux.HandleFunc(mockoidc.TokenEndpoint, m.Token)
	mux.HandleFunc(mockoidc.UserinfoEndpoint, m.Userinfo)
	mux.HandleFunc(mockoidc.JWKSEndpoint, m.JWKS)
	mux.HandleFunc(mockoidc.DiscoveryEndpoint, m.Discovery)
	mux.HandleFunc("POST /dev/users", func(w http.ResponseWriter, r *http.Request) {
		var u struct {
			Sub    string   `json:"sub"`
			Email  string   `json:"email"`
			Name   string   `json:"name"`
			Groups []string `json:"groups"`
		}
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || u.Sub == "" {
			http.Error(w, `want {"sub": ..., "email": ..., "name": ..., "groups": [...]}`, http.StatusBadRequest)
			return
		}
		m.QueueUser(&mockoidc.MockUser{Subject: u.Sub, Email: u.Email, EmailVerified: true, PreferredUsername: u.Name, Groups: u.Groups})
		w.WriteHeader(http.StatusNoContent)
	})
	// Issuer and the endpoints mockoidc advertises are read from Server.
	m.Server = &http.Server{Addr: ln.Addr().String(), Handler: mux}
	out, _ := json.Marshal(map[string]string{
		"issuer": m.Issuer(), "clientId": m.ClientID, "clientSecret": m.ClientSecret,
		"users": "http://" + ln.Addr().String() + "/dev/users",
	})
	fmt.Println(string(out))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = m.Server.Shutdown(context.Background())
	}()
	if err := m.Server.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
