package main

import (
	"errors"
	"fmt"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth/oidc"
)

// OIDCConfig signs people in with an OpenID Connect provider.
//
//	auth:
//	  oidc:
//	    issuer: https://accounts.example.com
//	    clientId: quarry
//	    clientSecretEnv: QUARRY_OIDC_SECRET   # or clientSecret: ...
//	    redirectUrl: https://quarry.example.com/auth/callback   # default: from the request
//	    scopes: [openid, profile, email, groups]
//	    sessionTtl: 12h
//	    roles:
//	      claim: groups
//	      map: {data-eng: editor, platform: admin}
//	      default: viewer                     # empty: refuse people no mapping names
type OIDCConfig struct {
	Issuer          string   `yaml:"issuer"`
	ClientID        string   `yaml:"clientId"`
	ClientSecret    string   `yaml:"clientSecret"`
	ClientSecretEnv string   `yaml:"clientSecretEnv"`
	RedirectURL     string   `yaml:"redirectUrl"`
	Scopes          []string `yaml:"scopes"`
	SessionTTL      string   `yaml:"sessionTtl"`
	Roles           struct {
		Claim   string            `yaml:"claim"`
		Map     map[string]string `yaml:"map"`
		Default string            `yaml:"default"`
	} `yaml:"roles"`
}

// oidc converts the auth.oidc section (nil when absent); errors name the
// field.
func (c Config) oidc(getenv func(string) string) (*oidc.Config, error) {
	if c.Auth == nil || c.Auth.OIDC == nil {
		return nil, nil
	}
	o := c.Auth.OIDC
	out := &oidc.Config{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL, Scopes: o.Scopes,
		Roles: oidc.RoleMapping{Claim: o.Roles.Claim, Map: o.Roles.Map, Default: o.Roles.Default}}
	if o.ClientSecretEnv != "" {
		if o.ClientSecret != "" {
			return nil, errors.New("config: auth.oidc: give clientSecret or clientSecretEnv, not both")
		}
		if out.ClientSecret = getenv(o.ClientSecretEnv); out.ClientSecret == "" {
			return nil, fmt.Errorf("config: auth.oidc.clientSecretEnv: $%s is not set", o.ClientSecretEnv)
		}
	}
	if o.SessionTTL != "" {
		d, err := quarry.ParseDuration(o.SessionTTL)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("config: auth.oidc.sessionTtl %q: want a duration like 12h", o.SessionTTL)
		}
		out.SessionTTL = d
	}
	return out, nil
}
