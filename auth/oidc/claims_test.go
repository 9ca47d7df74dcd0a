package oidc_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// keycloakUser is a person whose ID token has the claims Keycloak gives:
// roles nested under realm_access, and email_verified even when false.
type keycloakUser struct {
	sub, email, username string
	verified             bool
	roles                []string
}

func (u keycloakUser) ID() string { return u.sub }

func (u keycloakUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.sub, "email": u.email})
}

func (u keycloakUser) Claims(_ []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &struct {
		*mockoidc.IDTokenClaims
		Email       string              `json:"email"`
		Verified    bool                `json:"email_verified"`
		Username    string              `json:"preferred_username"`
		RealmAccess map[string][]string `json:"realm_access"`
	}{c, u.email, u.verified, u.username, map[string][]string{"roles": u.roles}}, nil
}

func TestClaims(t *testing.T) {
	m := provider(t)
	cfg := config(m)
	cfg.Roles.Claim = "realm_access.roles"
	cfg.Roles.Map = map[string]string{"catalog-editor": "editor"}
	srv, _ := serve(t, cfg, "")

	t.Run("NestedClaim", func(t *testing.T) {
		c := browser(t)
		m.QueueUser(keycloakUser{sub: "k1", email: "kim@example.com", username: "kim", verified: true, roles: []string{"offline_access", "catalog-editor"}})
		signIn(t, c, srv.URL, m, nil)
		if code, who := getMe(t, c, srv.URL); code != http.StatusOK || who.Role != "editor" || who.Name != "kim@example.com" {
			t.Fatalf("/auth/me: %d %+v, want kim@example.com, editor from realm_access.roles", code, who)
		}
	})
	t.Run("UnverifiedEmailNamesNobody", func(t *testing.T) {
		c := browser(t)
		m.QueueUser(keycloakUser{sub: "k2", email: "ceo@example.com", username: "mallory", verified: false})
		signIn(t, c, srv.URL, m, nil)
		if _, who := getMe(t, c, srv.URL); who.Name != "mallory" || who.Role != "viewer" {
			t.Fatalf("/auth/me: %+v, want mallory (an unverified email is no name), viewer by default", who)
		}
	})
}
