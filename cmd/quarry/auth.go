package main

import (
	"fmt"
	"net/netip"

	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/server"
)

// AuthConfig is the config's access control. Its presence turns access
// control on: requests are who their token (or session) says, and a
// request without credentials has the anonymous role (none unless set).
// Without it, a server on a loopback address is open as before; on any
// other address it refuses to start.
//
//	auth:
//	  anonymous: viewer        # or editor, or none (the default)
//	  outbound:
//	    allow: [10.0.0.0/8, db.internal, "*.corp.example"]
//	  oidc: {...}              # single sign-on for people (OIDCConfig)
type AuthConfig struct {
	Anonymous string         `yaml:"anonymous"`
	Outbound  OutboundConfig `yaml:"outbound"`
	OIDC      *OIDCConfig    `yaml:"oidc"`
}

// OutboundConfig restricts the hosts and networks sources and webhooks may
// reach; an empty allow list restricts nothing.
type OutboundConfig struct {
	Allow []string `yaml:"allow"`
}

// access returns the server's access control for a listen address: nil
// (open mode) only without an auth section and on a loopback address.
func (c Config) access(addr string) (*server.Access, error) {
	if c.Auth == nil {
		if isLoopback(addr) {
			return nil, nil
		}
		return nil, errOpenBind{addr}
	}
	a := &server.Access{}
	switch c.Auth.Anonymous {
	case "", "none":
	case string(auth.Viewer), string(auth.Editor):
		a.Anonymous = auth.Role(c.Auth.Anonymous)
	default:
		return nil, fmt.Errorf("config: auth.anonymous %q: want viewer, editor or none", c.Auth.Anonymous)
	}
	return a, nil
}

// errOpenBind says what to set to serve beyond this machine.
type errOpenBind struct{ addr string }

func (e errOpenBind) Error() string {
	return fmt.Sprintf("refusing to listen on %s without access control: add an auth section to the config "+
		"(auth: {anonymous: none} to require API tokens, or auth.anonymous: viewer to let anyone read), "+
		"or listen on 127.0.0.1", e.addr)
}

func (c Config) outbound() (*auth.Outbound, error) {
	if c.Auth == nil {
		return nil, nil
	}
	o, err := auth.ParseOutbound(c.Auth.Outbound.Allow)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return o, nil
}

// isLoopback reports whether a listen address is this machine's only. An
// empty host (":8080") listens on every address.
func isLoopback(addr string) bool {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().IsLoopback()
	}
	host := addr
	if i := lastColon(addr); i >= 0 {
		host = addr[:i]
	}
	return host == "localhost"
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

// TLSConfig names the certificate and key files of HTTPS.
type TLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}
