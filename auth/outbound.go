package auth

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/quarrydata/quarry"
)

// Outbound is the list of hosts and networks that sources and webhooks may
// reach (config auth.outbound.allow). It is checked when a connection is
// made, on the address it is made to: a name that resolves somewhere else
// later, or a DSN changed after registration, cannot get around it. A nil
// or empty Outbound allows everything.
type Outbound struct {
	nets  []netip.Prefix
	names []string // exact host names, or ".suffix" for "*.suffix"
}

// ParseOutbound reads the allow list: networks (10.0.0.0/8), addresses
// (192.0.2.7, ::1), host names (db.internal) and wildcards (*.corp.example).
// A name allows connections made to that name, whatever it resolves to.
func ParseOutbound(allow []string) (*Outbound, error) {
	o := &Outbound{}
	for i, s := range allow {
		s = strings.TrimSpace(s)
		field := fmt.Sprintf("auth.outbound.allow[%d]", i)
		switch {
		case s == "":
			return nil, quarry.Invalid(field, "is empty")
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, quarry.Invalid(field, "%q is not a network: %v", s, err)
			}
			o.nets = append(o.nets, p.Masked())
		default:
			if a, err := netip.ParseAddr(s); err == nil {
				a = a.Unmap()
				o.nets = append(o.nets, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
			name := strings.ToLower(strings.TrimSuffix(s, "."))
			if rest, ok := strings.CutPrefix(name, "*."); ok {
				name = "." + rest
			}
			if strings.ContainsAny(strings.TrimPrefix(name, "."), "*:/ ") {
				return nil, quarry.Invalid(field, "%q is not a host name, address or network", s)
			}
			o.names = append(o.names, name)
		}
	}
	return o, nil
}

// Empty reports whether o restricts nothing.
func (o *Outbound) Empty() bool { return o == nil || len(o.nets)+len(o.names) == 0 }

// AllowsName reports whether host (as written in a DSN or URL) is allowed
// by name.
func (o *Outbound) AllowsName(host string) bool {
	if o.Empty() {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, n := range o.names {
		if host == n || (n[0] == '.' && strings.HasSuffix(host, n)) {
			return true
		}
	}
	return false
}

// AllowsAddr reports whether a connection to ip is allowed by network.
func (o *Outbound) AllowsAddr(ip netip.Addr) bool {
	if o.Empty() {
		return true
	}
	ip = ip.Unmap()
	for _, p := range o.nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Dial returns d's DialContext, checked: a connection to a host allowed by
// name is made as d would; any other is made only to an address in an
// allowed network (checked by the dialer's Control, on the address the
// socket connects to). With no restriction it is d.DialContext itself.
func (o *Outbound) Dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Empty() {
		return d.DialContext
	}
	checked := *d
	inner := d.Control
	checked.Control = func(network, address string, c syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !o.AllowsAddr(ap.Addr()) {
			return quarry.Errorf(quarry.EUNAUTHORIZED, "%s is not in auth.outbound.allow", ap.Addr())
		}
		if inner != nil {
			return inner(network, address, c)
		}
		return nil
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && o.AllowsName(host) {
			return d.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
}
