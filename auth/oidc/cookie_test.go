package oidc_test

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/auth/oidc"
	"github.com/quarrydata/quarry/server/servertest"
)

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCookies: the login and session cookies are HttpOnly and SameSite=Lax
// (Lax: the provider's redirect back is a top-level GET from another
// site), Secure over TLS and behind a proxy that says https.
func TestCookies(t *testing.T) {
	m := provider(t)
	sso, err := oidc.New(config(m), &oidc.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := sso.Handler()
	for _, tc := range []struct {
		name   string
		tls    bool
		header string
		secure bool
	}{{"HTTP", false, "", false}, {"TLS", true, "", true}, {"Proxy", false, "https", true}} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "http://quarry.test/auth/login", nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if tc.header != "" {
				req.Header.Set("X-Forwarded-Proto", tc.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			res := w.Result()
			c := cookieNamed(res, "quarry_login")
			if res.StatusCode != http.StatusFound || c == nil {
				t.Fatalf("login: %s, cookies %v", res.Status, res.Cookies())
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Path != "/auth/" || c.MaxAge <= 0 || c.MaxAge > 600 {
				t.Errorf("login cookie %+v: want HttpOnly, Lax, Secure %v, path /auth/, at most 10 minutes", c, tc.secure)
			}
			loc, _ := res.Location()
			q := loc.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
				t.Errorf("the provider is sent %s: want state, nonce and an S256 PKCE challenge", loc.RawQuery)
			}
			want := "http://quarry.test/auth/callback"
			if tc.secure {
				want = "https://quarry.test/auth/callback"
			}
			if q.Get("redirect_uri") != want {
				t.Errorf("redirect_uri %q, want %q", q.Get("redirect_uri"), want)
			}
			if strings.Contains(c.Value, q.Get("state")) {
				t.Error("the login cookie shows the state in clear")
			}
		})
	}

	t.Run("Session", func(t *testing.T) {
		srv, _ := serve(t, config(m), "")
		c := noRedirects(t)
		back := location(t, c, location(t, c, srv.URL+"/auth/login").String())
		res, err := c.Get(back.String())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		sc := cookieNamed(res, oidc.SessionCookie)
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Expires.IsZero() || len(sc.Value) < 40 {
			t.Fatalf("session cookie %+v: want a long random ID, HttpOnly, Lax, path /, an expiry", sc)
		}
	})
}

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSessionExpires(t *testing.T) {
	m := provider(t)
	clk := &clock{t: time.Now()}
	cfg := config(m)
	cfg.SessionTTL = time.Hour
	sso, err := oidc.New(cfg, &oidc.Options{Dir: t.TempDir(), Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sso.Close() })
	srv := servertest.New(t, options(sso))
	c := browser(t)
	signIn(t, c, srv.URL, m, &mockoidc.MockUser{Subject: "u", Email: "cy@example.com"})
	clk.add(59 * time.Minute)
	if code, _ := getMe(t, c, srv.URL); code != http.StatusOK {
		t.Fatalf("/auth/me within the hour: %d", code)
	}
	clk.add(2 * time.Minute)
	if code, _ := getMe(t, c, srv.URL); code != http.StatusUnauthorized {
		t.Fatalf("/auth/me after the session's hour: %d, want 401", code)
	}
}

func TestProviderDown(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	issuer := ln.URL + "/oidc"
	ln.Close() // nothing listens there now
	srv, _ := serve(t, oidc.Config{Issuer: issuer, ClientID: "quarry"}, "")
	res, err := noRedirects(t).Get(srv.URL + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Location") != "" {
		t.Fatalf("login with the provider down: %s, want 503 (the catalog itself started)", res.Status)
	}
}

// BenchmarkAuthenticate is the session check's cost per request, with few
// and many sessions held: one map lookup by the ID's SHA-256.
func BenchmarkAuthenticate(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("%dsessions", n), func(b *testing.B) {
			sso, err := oidc.New(oidc.Config{Issuer: "https://id.example.com", ClientID: "quarry"}, nil)
			if err != nil {
				b.Fatal(err)
			}
			s := sso.Sessions()
			var id string
			for i := 0; i < n; i++ {
				if id, _, err = s.Create(oidc.Session{Name: "x", Role: auth.Viewer, Expires: time.Now().Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			req.AddCookie(&http.Cookie{Name: oidc.SessionCookie, Value: id})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if p, err := sso.Authenticate(req); p == nil || err != nil {
					b.Fatal(p, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/check")
		})
	}
}
