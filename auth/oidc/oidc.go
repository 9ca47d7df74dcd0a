// Package oidc signs people in with OpenID Connect (the authorization code
// flow with PKCE) and keeps their sessions. It owns the /auth/ routes
// (login, callback, logout, me), the session cookie and its store, the
// mapping from an ID token's claims to a role, and the CSRF check of
// cookie-authenticated requests that change something; SSO is the session
// auth.Authenticator.
//
// It must not decide what a role may do (package auth and the server's
// role tables do) nor know about API tokens: a request with an
// Authorization header is not a session's, whatever cookies it carries.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
)

// Cookie and header names.
const (
	SessionCookie = "quarry_session" // the session's random ID; HttpOnly
	loginCookie   = "quarry_login"   // state, nonce and PKCE verifier of a sign-in under way
	CSRFHeader    = "X-CSRF-Token"   // what a cookie-authenticated unsafe request must carry
)

// ErrCSRF refuses a session's unsafe request without its CSRF token: the
// credentials are good, the request is not theirs to make (403, not 401;
// the server tells it apart from a bad credential with errors.Is).
var ErrCSRF = quarry.Errorf(quarry.EUNAUTHORIZED, "a signed-in request that changes something must carry the %s header that /auth/me gives", CSRFHeader)

// loginTTL bounds a sign-in under way: time enough to type a password at
// the provider, short enough that a stolen login cookie is soon useless.
const loginTTL = 10 * time.Minute

// Config is the auth.oidc section of the config file.
type Config struct {
	Issuer       string // the provider's issuer URL, discovered at /.well-known/openid-configuration
	ClientID     string
	ClientSecret string
	// RedirectURL is the callback registered with the provider. Empty
	// derives it from each request: its scheme and Host, /auth/callback.
	RedirectURL string
	// Scopes asked for; empty means openid, profile and email. openid is
	// always asked for.
	Scopes []string
	Roles  RoleMapping
	// SessionTTL is how long a sign-in lasts; zero means 12 hours.
	SessionTTL time.Duration
}

// RoleMapping maps the values of one claim of the ID token (a string or a
// list of strings, like groups) to roles. A person whose values map to
// several roles gets the greatest (admin, then editor, then ingest, then
// viewer); one whose values map to none gets Default, and is refused when
// Default is empty.
type RoleMapping struct {
	Claim   string            // default "groups"
	Map     map[string]string // claim value -> role name
	Default string            // role name, or "" to refuse
}

// Options configure New. Nil means defaults; so do zero fields.
type Options struct {
	// Dir is the data directory: the cookie key (auth.key) and the sessions
	// (sessions.db) live there, so sign-ins survive restarts. Empty keeps
	// both in memory for this process.
	Dir        string
	Logger     *slog.Logger
	Now        func() time.Time
	HTTPClient *http.Client // talks to the provider; nil means a client with a 10-second timeout
}

// SSO is single sign-on: the /auth/ routes and the session Authenticator.
type SSO struct {
	cfg      Config
	roles    map[string]auth.Role
	fallback auth.Role
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	box      *box
	sessions *Sessions

	mu       sync.Mutex // guards the discovered provider
	provider *oidc.Provider
}

// New checks cfg (errors name the field) and opens the sessions in o.Dir.
// The provider is discovered at the first sign-in, not here: a provider
// that is down must not keep the catalog from starting.
func New(cfg Config, o *Options) (*SSO, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	s := &SSO{cfg: cfg, log: opts.Logger, now: opts.Now, client: opts.HTTPClient, roles: map[string]auth.Role{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if u, err := url.Parse(cfg.Issuer); cfg.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, quarry.Invalid("issuer", "want the provider's issuer URL, like https://accounts.example.com, got %q", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, quarry.Invalid("clientId", "is required")
	}
	if cfg.RedirectURL != "" {
		if u, err := url.Parse(cfg.RedirectURL); err != nil || !u.IsAbs() {
			return nil, quarry.Invalid("redirectUrl", "want an absolute URL ending in /auth/callback, got %q", cfg.RedirectURL)
		}
	}
	if s.cfg.Roles.Claim == "" {
		s.cfg.Roles.Claim = "groups"
	}
	for v, name := range cfg.Roles.Map {
		r, err := auth.ParseRole(name)
		if err != nil {
			return nil, quarry.Invalid("roles.map["+v+"]", "unknown role %q (want viewer, editor, ingest or admin)", name)
		}
		s.roles[v] = r
	}
	if cfg.Roles.Default != "" {
		r, err := auth.ParseRole(cfg.Roles.Default)
		if err != nil {
			return nil, quarry.Invalid("roles.default", "unknown role %q (want viewer, editor, ingest or admin)", cfg.Roles.Default)
		}
		s.fallback = r
	}
	if s.cfg.SessionTTL <= 0 {
		s.cfg.SessionTTL = 12 * time.Hour
	}
	key, err := loadKey(opts.Dir)
	if err != nil {
		return nil, err
	}
	if s.box, err = newBox(key); err != nil {
		return nil, err
	}
	if s.sessions, err = OpenSessions(opts.Dir, s.now); err != nil {
		return nil, err
	}
	return s, nil
}

// Sessions are the sessions SSO keeps.
func (s *SSO) Sessions() *Sessions { return s.sessions }

// Close closes the sessions' file.
func (s *SSO) Close() error { return s.sessions.Close() }

// Handler serves GET /auth/login, GET /auth/callback, POST /auth/logout
// and GET /auth/me. It expects the server's authentication to have run
// (the principal in the context) before it.
func (s *SSO) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/login", s.login)
	mux.HandleFunc("GET /auth/callback", s.callback)
	mux.HandleFunc("POST /auth/logout", s.logout)
	mux.HandleFunc("GET /auth/me", s.me)
	mux.HandleFunc("/auth/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, quarry.Errorf(quarry.ENOTFOUND, "%s is not an endpoint of this server", quarry.Truncate(r.URL.Path, 128)))
	})
	return mux
}

// Authenticate returns the principal of the request's session cookie:
// (nil, nil) without one, or with one that is unknown or expired (the
// request goes on as anonymous and is asked to sign in where that matters).
// A request that may change something must carry the session's CSRF token
// in X-CSRF-Token: another site can make a browser send the cookie, not the
// header.
func (s *SSO) Authenticate(r *http.Request) (*auth.Principal, error) {
	sess := s.session(r)
	if sess == nil {
		return nil, nil
	}
	if !safeMethod(r.Method) && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(sess.CSRF)) != 1 {
		return nil, ErrCSRF
	}
	return &auth.Principal{Name: sess.Name, Role: sess.Role, Via: "session"}, nil
}

// session is the live session of the request's cookie, or nil. Requests
// with an Authorization header are a token's, not a session's.
func (s *SSO) session(r *http.Request) *Session {
	if r.Header.Get("Authorization") != "" {
		return nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return s.sessions.Get(c.Value)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// loginState is what the login cookie carries to the callback.
type loginState struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"next"`
	Expires  time.Time `json:"exp"`
}

// discover returns the provider, discovering it on first use (and again
// after a failure).
func (s *SSO) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.client), s.cfg.Issuer)
	if err != nil {
		s.log.WarnContext(ctx, "sign-in provider discovery", "issuer", s.cfg.Issuer, "err", err)
		return nil, quarry.Errorf(quarry.EUNAVAILABLE, "the sign-in provider %s does not answer; try again later", s.cfg.Issuer)
	}
	s.provider = p
	return p, nil
}

func (s *SSO) oauth(r *http.Request, p *oidc.Provider) *oauth2.Config {
	scopes := s.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"profile", "email"}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	redirect := s.cfg.RedirectURL
	if redirect == "" {
		redirect = scheme(r) + "://" + r.Host + "/auth/callback"
	}
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: scopes}
}

// scheme is the request's: https over TLS or behind a proxy that says so.
// Cookies are Secure when it is https: a proxy that lies about it only
// breaks the sign-in of those it serves.
func scheme(r *http.Request) string {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return "https"
	}
	return "http"
}

func (s *SSO) login(w http.ResponseWriter, r *http.Request) {
	p, err := s.discover(r.Context())
	if err != nil {
		writeQuarryError(w, err)
		return
	}
	st := loginState{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Next: localPath(r.URL.Query().Get("next")), Expires: s.now().Add(loginTTL)}
	b, _ := json.Marshal(st)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: s.box.seal(b), Path: "/auth/", MaxAge: int(loginTTL / time.Second), HttpOnly: true, Secure: scheme(r) == "https", SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.oauth(r, p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

func (s *SSO) callback(w http.ResponseWriter, r *http.Request) {
	// The login cookie is used once, whatever comes of it.
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: scheme(r) == "https", SameSite: http.SameSiteLaxMode})
	st, err := s.loginState(r)
	if err != nil {
		writeQuarryError(w, err)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in provider refused: %s %s", quarry.Truncate(e, 64), quarry.Truncate(q.Get("error_description"), 256)))
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in's state does not match the one this browser started; sign in again"))
		return
	}
	p, err := s.discover(r.Context())
	if err != nil {
		writeQuarryError(w, err)
		return
	}
	ctx := oidc.ClientContext(r.Context(), s.client)
	tok, err := s.oauth(r, p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.log.WarnContext(ctx, "sign-in code exchange", "err", err)
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in provider did not accept the sign-in's code; sign in again"))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in provider returned no ID token"))
		return
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.now}).Verify(ctx, raw)
	if err != nil {
		s.log.WarnContext(ctx, "sign-in ID token", "err", err)
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in's ID token is not valid; sign in again"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the ID token's nonce does not match the sign-in's; sign in again"))
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "the ID token's claims are not readable"))
		return
	}
	role, ok := s.role(claims)
	name, email := identity(claims, idt.Subject)
	if !ok {
		s.log.InfoContext(ctx, "sign-in refused: no role", "user", name, "claim", s.cfg.Roles.Claim)
		writeQuarryError(w, quarry.Errorf(quarry.EUNAUTHORIZED, "%s has no role in this catalog: ask an admin to map your %s to one", name, s.cfg.Roles.Claim))
		return
	}
	id, sess, err := s.sessions.Create(Session{Subject: idt.Subject, Name: name, Email: email, Role: role, Expires: s.now().Add(s.cfg.SessionTTL)})
	if err != nil {
		s.log.ErrorContext(ctx, "creating a session", "err", err)
		writeQuarryError(w, quarry.Errorf(quarry.EINTERNAL, "internal error"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: sess.Expires, HttpOnly: true, Secure: scheme(r) == "https", SameSite: http.SameSiteLaxMode})
	s.log.InfoContext(ctx, "signed in", "user", name, "role", role)
	next := st.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusFound)
}

func (s *SSO) loginState(r *http.Request) (loginState, error) {
	var st loginState
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return st, quarry.Errorf(quarry.EUNAUTHORIZED, "no sign-in is under way in this browser (or it took over %s); sign in again", loginTTL)
	}
	b, err := s.box.open(c.Value)
	if err != nil || json.Unmarshal(b, &st) != nil {
		return st, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in cookie is not one this server made; sign in again")
	}
	if s.now().After(st.Expires) {
		return st, quarry.Errorf(quarry.EUNAUTHORIZED, "the sign-in took over %s; sign in again", loginTTL)
	}
	return st, nil
}

// logout ends the session. Its CSRF token is checked here too, not only
// by the server's authentication: another site must not sign people out.
func (s *SSO) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && s.session(r) != nil {
		if _, err := s.Authenticate(r); err != nil {
			writeQuarryError(w, err)
			return
		}
		if err := s.sessions.Delete(c.Value); err != nil {
			s.log.ErrorContext(r.Context(), "ending a session", "err", err)
			writeQuarryError(w, quarry.Errorf(quarry.EINTERNAL, "internal error"))
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: scheme(r) == "https", SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

// Me is what GET /auth/me answers.
type Me struct {
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	Role      auth.Role `json:"role,omitempty"`
	Via       string    `json:"via"`
	CSRFToken string    `json:"csrfToken,omitempty"` // send it as X-CSRF-Token on POSTs
	Expires   time.Time `json:"expires,omitzero"`
	Login     string    `json:"login"` // where to sign in
}

// me answers who makes the request: 401 with the login URL when nobody,
// or nobody with a role (anonymous without an anonymous role). An
// anonymous role is answered: what it may read, and where to sign in.
func (s *SSO) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p := auth.FromContext(r.Context())
	if p == nil || (p.Via == "anonymous" && p.Role == "") {
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"errors": []any{map[string]any{"message": "not signed in", "extensions": map[string]string{"code": quarry.EUNAUTHORIZED}}},
			"error":  map[string]string{"code": quarry.EUNAUTHORIZED, "message": "not signed in"},
			"login":  "/auth/login",
		})
		return
	}
	me := Me{Name: p.Name, Role: p.Role, Via: p.Via, Login: "/auth/login"}
	if p.Via == "session" {
		if sess := s.session(r); sess != nil {
			me.Email, me.CSRFToken, me.Expires = sess.Email, sess.CSRF, sess.Expires
		}
	}
	writeJSON(w, http.StatusOK, me)
}

// role maps the claims to a role; false when none applies.
func (s *SSO) role(claims map[string]any) (auth.Role, bool) {
	var values []string
	switch v := claimAt(claims, s.cfg.Roles.Claim).(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if str, ok := x.(string); ok {
				values = append(values, str)
			}
		}
	}
	best, rank := auth.Role(""), -1
	for _, v := range values {
		if r, ok := s.roles[v]; ok && roleRank(r) > rank {
			best, rank = r, roleRank(r)
		}
	}
	if rank >= 0 {
		return best, true
	}
	return s.fallback, s.fallback != ""
}

// claimAt reads a claim by name, or by a dotted path into nested objects
// (Keycloak's realm_access.roles) when no claim has the whole name.
func claimAt(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

func roleRank(r auth.Role) int {
	return slices.Index([]auth.Role{auth.Viewer, auth.Ingest, auth.Editor, auth.Admin}, r)
}

// identity names the person: by email when the token has one the provider
// does not call unverified (what a history entry should show), else
// preferred_username, name or subject.
func identity(claims map[string]any, subject string) (name, email string) {
	str := func(k string) string { v, _ := claims[k].(string); return strings.TrimSpace(v) }
	email = str("email")
	byEmail := email
	if verified, ok := claims["email_verified"].(bool); ok && !verified {
		byEmail = ""
	}
	for _, n := range []string{byEmail, str("preferred_username"), str("name"), subject} {
		if n != "" {
			return quarry.Truncate(n, 256), email
		}
	}
	return subject, email
}

// localPath keeps next only when it is a path of this server (no open
// redirect to another site).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/auth/") {
		return ""
	}
	return next
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeQuarryError(w http.ResponseWriter, err error) {
	status := map[string]int{quarry.EUNAUTHORIZED: http.StatusForbidden, quarry.EUNAVAILABLE: http.StatusServiceUnavailable, quarry.EINVALID: http.StatusBadRequest}[quarry.ErrorCode(err)]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeError(w, status, err)
}

// writeError answers in the server's one error shape.
func writeError(w http.ResponseWriter, status int, err error) {
	code, msg := quarry.ErrorCode(err), quarry.ErrorMessage(err)
	writeJSON(w, status, map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]string{"code": code}}},
		"error":  map[string]string{"code": code, "message": msg},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // an error here is a client gone away
}
