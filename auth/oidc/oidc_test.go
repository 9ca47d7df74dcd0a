package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/auth/oidc"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

// provider runs a real OIDC provider on loopback for the test.
func provider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func config(m *mockoidc.MockOIDC) oidc.Config {
	c := m.Config()
	return oidc.Config{
		Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Scopes: []string{"openid", "profile", "email", "groups"},
		Roles:  oidc.RoleMapping{Claim: "groups", Map: map[string]string{"data-eng": "editor", "platform": "admin"}, Default: "viewer"},
	}
}

// serve runs Quarry's real server with single sign-on through sso.
func serve(t *testing.T, cfg oidc.Config, dir string) (*servertest.Server, *oidc.SSO) {
	t.Helper()
	sso, err := oidc.New(cfg, &oidc.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sso.Close() })
	return servertest.New(t, options(sso)), sso
}

// options serve with sso as the only way in.
func options(sso *oidc.SSO) *server.Options {
	return &server.Options{Access: &server.Access{}, Authenticators: []auth.Authenticator{sso}, SignIn: sso.Handler()}
}

func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// signIn goes through the whole code flow, following the redirects from
// /auth/login to the provider and back, and returns where it ended.
// A nil u signs in whoever the test queued at the provider.
func signIn(t *testing.T, c *http.Client, base string, m *mockoidc.MockOIDC, u *mockoidc.MockUser) *url.URL {
	t.Helper()
	if u != nil {
		m.QueueUser(u)
	}
	res, err := c.Get(base + "/auth/login?next=/datasets/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in ended %s at %s", res.Status, res.Request.URL)
	}
	return res.Request.URL
}

type me struct {
	Name, Email, Role, Via, CSRFToken, Login string
}

func getMe(t *testing.T, c *http.Client, base string) (int, me) {
	t.Helper()
	res, err := c.Get(base + "/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m me
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, m
}

func post(t *testing.T, c *http.Client, url string, header map[string]string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

func dataset(t *testing.T, srv *servertest.Server) string {
	t.Helper()
	res, err := srv.Store.UpsertDatasets(context.Background(), []quarry.Dataset{{Namespace: "postgres://db/app", Name: "public.orders", Kind: quarry.KindTable}})
	if err != nil {
		t.Fatal(err)
	}
	return res.IDs[0]
}

func TestSignIn(t *testing.T) {
	m := provider(t)
	srv, _ := serve(t, config(m), t.TempDir())
	id := dataset(t, srv)
	c := browser(t)

	if code, _ := getMe(t, c, srv.URL); code != http.StatusUnauthorized {
		t.Fatalf("/auth/me before signing in: %d, want 401", code)
	}
	end := signIn(t, c, srv.URL, m, &mockoidc.MockUser{Subject: "u1", Email: "alice@example.com", PreferredUsername: "alice", Groups: []string{"staff", "data-eng"}})
	if end.Path != "/datasets/x" {
		t.Errorf("sign-in ended at %s, want the page it started from", end)
	}
	code, who := getMe(t, c, srv.URL)
	if code != http.StatusOK || who.Name != "alice@example.com" || who.Email != "alice@example.com" || who.Role != "editor" || who.Via != "session" || who.CSRFToken == "" {
		t.Fatalf("/auth/me: %d %+v, want alice, editor by the data-eng group, with a CSRF token", code, who)
	}

	edit := map[string]any{
		"query":     `mutation($id: ID!) { updateDataset(id: $id, input: {description: "Orders, one row each"}) { description metadataHistory { actor field } } }`,
		"variables": map[string]any{"id": id},
	}
	t.Run("CSRFRequired", func(t *testing.T) {
		if code, body := post(t, c, srv.URL+"/graphql", nil, edit); code != http.StatusForbidden || !strings.Contains(body, oidc.CSRFHeader) {
			t.Fatalf("a cookie POST without the CSRF header: %d %s, want 403 naming the header", code, body)
		}
		if code, _ := post(t, c, srv.URL+"/graphql", map[string]string{oidc.CSRFHeader: "not-the-token"}, edit); code != http.StatusForbidden {
			t.Fatalf("a cookie POST with a wrong CSRF token: %d, want 403", code)
		}
		if _, body := post(t, c, srv.URL+"/graphql", map[string]string{oidc.CSRFHeader: who.CSRFToken}, map[string]any{"query": `{ dataset(id: "` + id + `") { description } }`}); strings.Contains(body, "Orders, one row each") {
			t.Fatal("a refused POST changed the description")
		}
	})
	t.Run("EditNamesThem", func(t *testing.T) {
		code, body := post(t, c, srv.URL+"/graphql", map[string]string{oidc.CSRFHeader: who.CSRFToken, server.ActorHeader: "mallory"}, edit)
		if code != http.StatusOK || !strings.Contains(body, `"actor":"alice@example.com"`) {
			t.Fatalf("edit: %d %s, want the history to name alice, not the header", code, body)
		}
	})
	t.Run("BearerIsNotTheSession", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/auth/me", nil)
		req.Header.Set("Authorization", "Bearer qt_whatever")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("/auth/me with a Bearer header and the cookie: %d, want 401 (the cookie counts not)", res.StatusCode)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		if code, _ := post(t, c, srv.URL+"/auth/logout", nil, nil); code != http.StatusForbidden {
			t.Fatalf("logout without the CSRF header: %d, want 403 (another site could sign people out)", code)
		}
		if code, body := post(t, c, srv.URL+"/auth/logout", map[string]string{oidc.CSRFHeader: who.CSRFToken}, nil); code != http.StatusNoContent {
			t.Fatalf("logout: %d %s", code, body)
		}
		if code, _ := getMe(t, c, srv.URL); code != http.StatusUnauthorized {
			t.Fatalf("/auth/me after logout: %d, want 401", code)
		}
	})
	t.Run("EndedSessionCookieSignsNobodyIn", func(t *testing.T) {
		// A copy of the cookie kept from before the logout.
		fresh := browser(t)
		u, _ := url.Parse(srv.URL)
		fresh.Jar.SetCookies(u, []*http.Cookie{{Name: oidc.SessionCookie, Value: "forged-or-ended"}})
		if code, _ := getMe(t, fresh, srv.URL); code != http.StatusUnauthorized {
			t.Fatalf("/auth/me with an unknown session: %d, want 401", code)
		}
	})
}

func TestRoleMapping(t *testing.T) {
	m := provider(t)
	cfg := config(m)
	srv, _ := serve(t, cfg, "")
	for _, tc := range []struct {
		name   string
		groups []string
		want   string
	}{
		{"Mapped", []string{"data-eng"}, "editor"},
		{"GreatestWins", []string{"data-eng", "platform"}, "admin"},
		{"DefaultForTheRest", []string{"sales"}, "viewer"},
		{"NoClaim", nil, "viewer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			signIn(t, c, srv.URL, m, &mockoidc.MockUser{Subject: tc.name, Email: tc.name + "@example.com", Groups: tc.groups})
			if _, who := getMe(t, c, srv.URL); who.Role != tc.want {
				t.Fatalf("groups %v: role %q, want %q", tc.groups, who.Role, tc.want)
			}
		})
	}
	t.Run("NoDefaultRefuses", func(t *testing.T) {
		cfg := cfg
		cfg.Roles.Default = ""
		srv, _ := serve(t, cfg, "")
		c := browser(t)
		m.QueueUser(&mockoidc.MockUser{Subject: "s", Email: "sam@example.com", Groups: []string{"sales"}})
		res, err := c.Get(srv.URL + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "no role") {
			t.Fatalf("a person no mapping names, without a default: %d %s, want 403", res.StatusCode, body)
		}
		if code, _ := getMe(t, c, srv.URL); code != http.StatusUnauthorized {
			t.Fatalf("/auth/me: %d, want 401", code)
		}
	})
}

// noRedirects is a browser that stops at each redirect, to tamper with it.
func noRedirects(t *testing.T) *http.Client {
	c := browser(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func location(t *testing.T, c *http.Client, u string) *url.URL {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %s, want a redirect", u, res.Status)
	}
	loc, err := res.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func callback(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestCallbackRefuses(t *testing.T) {
	m := provider(t)
	srv, _ := serve(t, config(m), "")

	t.Run("BadState", func(t *testing.T) {
		c := noRedirects(t)
		auth := location(t, c, srv.URL+"/auth/login")
		q := auth.Query()
		q.Set("state", "forged")
		auth.RawQuery = q.Encode()
		back := location(t, c, auth.String())
		if code, body := callback(t, c, back.String()); code != http.StatusForbidden || !strings.Contains(body, "state") {
			t.Fatalf("callback with another state: %d %s, want 403", code, body)
		}
		if code, _ := getMe(t, c, srv.URL); code != http.StatusUnauthorized {
			t.Fatal("signed in after a bad state")
		}
	})
	t.Run("BadNonce", func(t *testing.T) {
		// The provider signs the first sign-in's nonce; the cookie holds
		// the second's, whose state the answer carries.
		c := noRedirects(t)
		first := location(t, c, srv.URL+"/auth/login")
		second := location(t, c, srv.URL+"/auth/login")
		q := first.Query()
		q.Set("state", second.Query().Get("state"))
		q.Set("code_challenge", second.Query().Get("code_challenge")) // or PKCE refuses it first
		first.RawQuery = q.Encode()
		back := location(t, c, first.String())
		if code, body := callback(t, c, back.String()); code != http.StatusForbidden || !strings.Contains(body, "nonce") {
			t.Fatalf("callback with another sign-in's nonce: %d %s, want 403", code, body)
		}
	})
	t.Run("NoLoginCookie", func(t *testing.T) {
		c := noRedirects(t)
		back := location(t, c, location(t, c, srv.URL+"/auth/login").String())
		if code, _ := callback(t, noRedirects(t), back.String()); code != http.StatusForbidden {
			t.Fatalf("callback in another browser: %d, want 403", code)
		}
	})
	t.Run("Replay", func(t *testing.T) {
		c := noRedirects(t)
		back := location(t, c, location(t, c, srv.URL+"/auth/login").String())
		if code, body := callback(t, c, back.String()); code != http.StatusFound {
			t.Fatalf("callback: %d %s", code, body)
		}
		if code, _ := callback(t, c, back.String()); code != http.StatusForbidden {
			t.Fatalf("the same callback again: %d, want 403 (the login cookie is used once)", code)
		}
	})
	t.Run("OpenRedirect", func(t *testing.T) {
		c := noRedirects(t)
		back := location(t, c, location(t, c, srv.URL+"/auth/login?next=//evil.example/").String())
		if loc := location(t, c, back.String()); loc.Host != strings.TrimPrefix(srv.URL, "http://") || loc.Path != "/" {
			t.Fatalf("sign-in with next=//evil.example/ went to %s, want /", loc)
		}
	})
}

func TestSessionsSurviveRestart(t *testing.T) {
	m := provider(t)
	dir := t.TempDir()
	cfg := config(m)
	srv, sso := serve(t, cfg, dir)
	c := browser(t)
	signIn(t, c, srv.URL, m, &mockoidc.MockUser{Subject: "u", Email: "bo@example.com", Groups: []string{"platform"}})
	srv.Close()
	if err := sso.Close(); err != nil {
		t.Fatal(err)
	}
	srv2, _ := serve(t, cfg, dir)
	u1, _ := url.Parse(srv.URL)
	u2, _ := url.Parse(srv2.URL)
	c.Jar.SetCookies(u2, c.Jar.Cookies(u1))
	if code, who := getMe(t, c, srv2.URL); code != http.StatusOK || who.Name != "bo@example.com" || who.Role != "admin" {
		t.Fatalf("after a restart: %d %+v, want bo still signed in", code, who)
	}
}

func TestNewNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   oidc.Config
		field string
	}{
		{"Issuer", oidc.Config{ClientID: "x"}, "issuer"},
		{"ClientID", oidc.Config{Issuer: "https://id.example.com"}, "clientId"},
		{"Role", oidc.Config{Issuer: "https://id.example.com", ClientID: "x", Roles: oidc.RoleMapping{Map: map[string]string{"ops": "root"}}}, "roles.map[ops]"},
		{"Default", oidc.Config{Issuer: "https://id.example.com", ClientID: "x", Roles: oidc.RoleMapping{Default: "everyone"}}, "roles.default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oidc.New(tc.cfg, nil)
			if e, ok := err.(*quarry.Error); !ok || e.Code != quarry.EINVALID || e.Field != tc.field {
				t.Fatalf("got %v, want an invalid error about %s", err, tc.field)
			}
		})
	}
}
