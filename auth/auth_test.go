package auth_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/store/storetest"
)

func TestRoleAllows(t *testing.T) {
	want := map[auth.Role][]auth.Role{
		auth.Viewer: {auth.Viewer},
		auth.Editor: {auth.Viewer, auth.Editor},
		auth.Ingest: {auth.Viewer, auth.Ingest},
		auth.Admin:  {auth.Viewer, auth.Editor, auth.Ingest, auth.Admin},
		"":          nil,
	}
	all := []auth.Role{auth.Viewer, auth.Editor, auth.Ingest, auth.Admin, ""}
	for have, allowed := range want {
		for _, req := range all {
			exp := false
			for _, a := range allowed {
				exp = exp || a == req
			}
			if got := have.Allows(req); got != exp {
				t.Errorf("%q.Allows(%q) = %v", have, req, got)
			}
		}
	}
	if _, err := auth.ParseRole("root"); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Errorf("ParseRole(root): %v", err)
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour} {
		if got, err := auth.ParseTTL(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0d", "-1h", "soon", "d"} {
		if _, err := auth.ParseTTL(in); quarry.ErrorCode(err) != quarry.EINVALID {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, nil)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	toks, err := auth.NewTokens(ctx, st, &auth.TokensOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	secret, rec, err := toks.Create(quarry.WithActor(ctx, "ops"), "airflow-prod", auth.Ingest, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "qry_"+rec.Prefix+"_") || len(secret) != 4+16+1+43 {
		t.Fatalf("token form: %s", secret)
	}
	if _, _, err := toks.Create(ctx, "airflow-prod", auth.Viewer, 0); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("a second token of the name: %v", err)
	}
	if _, _, err := toks.Create(ctx, "bad name", auth.Viewer, 0); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Fatalf("a bad name: %v", err)
	}
	// Only the hash is stored.
	stored, _ := st.Tokens(ctx)
	if len(stored) != 1 || len(stored[0].Hash) != 32 || strings.Contains(string(stored[0].Hash), secret[21:]) || stored[0].CreatedBy != "ops" {
		t.Fatalf("stored: %+v", stored)
	}
	req := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		return r
	}
	if p, err := toks.Authenticate(req("")); p != nil || err != nil {
		t.Fatalf("no header: %v %v", p, err)
	}
	if p, err := toks.Authenticate(req("Bearer someone-elses.jwt")); p != nil || err != nil {
		t.Fatalf("another kind of bearer token: %v %v", p, err)
	}
	p, err := toks.Authenticate(req("Bearer " + secret))
	if err != nil || p == nil || p.Name != "airflow-prod" || p.Role != auth.Ingest || p.Via != "token" {
		t.Fatalf("the token: %+v %v", p, err)
	}
	if _, err := toks.Authenticate(req("Bearer " + secret[:len(secret)-1] + "x")); quarry.ErrorCode(err) != quarry.EUNAUTHENTICATED {
		t.Fatalf("a wrong secret: %v", err)
	}
	// Last use is written by Flush, not by each request.
	if l, _ := st.Tokens(ctx); l[0].LastUsedAt != nil {
		t.Fatal("last use written per request")
	}
	if l, _ := toks.List(ctx); l[0].LastUsedAt == nil || l[0].Hash != nil {
		t.Fatalf("List: %+v", l[0])
	}
	toks.Flush(ctx)
	if l, _ := st.Tokens(ctx); l[0].LastUsedAt == nil || !l[0].LastUsedAt.Equal(now) {
		t.Fatalf("after Flush: %+v", l[0])
	}
	now = now.Add(25 * time.Hour)
	if _, err := toks.Authenticate(req("Bearer " + secret)); err == nil {
		t.Fatal("an expired token passed")
	}
	now = now.Add(-25 * time.Hour)
	if _, err := toks.Revoke(ctx, "airflow-prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := toks.Authenticate(req("Bearer " + secret)); err == nil {
		t.Fatal("a revoked token passed")
	}
	if _, err := toks.Revoke(ctx, "nope"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("revoking an unknown token: %v", err)
	}
	// A new Tokens over the same store (a restart) knows the revocation.
	again, err := auth.NewTokens(ctx, st, &auth.TokensOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Authenticate(req("Bearer " + secret)); err == nil {
		t.Fatal("a revoked token passed after a restart")
	}
	log, err := st.AuditLog(ctx, 10, 0)
	if err != nil || len(log) != 2 || log[0].Action != "token.revoke" || log[1].Action != "token.create" || log[1].Actor != "ops" {
		t.Fatalf("audit log: %+v %v", log, err)
	}
	if older, _ := st.AuditLog(ctx, 10, log[0].Seq); len(older) != 1 || older[0].Seq != log[1].Seq {
		t.Fatalf("audit log after %d: %+v", log[0].Seq, older)
	}
}

// The allow list is checked on the address a connection is made to.
func TestOutboundDial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ctx := context.Background()
	try := func(allow []string, host string) error {
		t.Helper()
		o, err := auth.ParseOutbound(allow)
		if err != nil {
			t.Fatal(err)
		}
		c, err := o.Dial(&net.Dialer{Timeout: 5 * time.Second})(ctx, "tcp", net.JoinHostPort(host, port))
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := try(nil, "127.0.0.1"); err != nil {
		t.Fatalf("no restriction: %v", err)
	}
	if err := try([]string{"127.0.0.0/8"}, "127.0.0.1"); err != nil {
		t.Fatalf("an allowed network: %v", err)
	}
	if err := try([]string{"10.0.0.0/8", "db.internal"}, "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "auth.outbound.allow") {
		t.Fatalf("a network not allowed: %v", err)
	}
	if err := try([]string{"10.0.0.0/8"}, "localhost"); err == nil {
		t.Fatal("a name that resolves outside the list")
	}
	if err := try([]string{"localhost"}, "localhost"); err != nil {
		t.Fatalf("an allowed name: %v", err)
	}
	if _, err := auth.ParseOutbound([]string{"10.0.0.0/33"}); quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "allow[0]") {
		t.Fatalf("a bad network: %v", err)
	}
}
