// Package security enforces lsp-router's network allowlist where
// connections are made: every outbound TCP connection (LLM services,
// streamable-HTTP MCP) goes through one Dialer that resolves the host name
// itself, checks every resolved address against the Policy and then dials the
// checked address, never the name again (so a second DNS answer cannot slip
// past the check).
//
// Policy semantics (allow_external = false, the default):
//   - loopback addresses (127.0.0.0/8, ::1) and the unspecified addresses
//     (0.0.0.0, ::, which the kernel routes to the local host) are always
//     allowed;
//   - the names "localhost" and "*.localhost" are loopback by RFC 6761 and
//     are never sent to DNS;
//   - an address inside one of AllowedCIDRs is allowed (a bare IP in
//     AllowedHosts counts as a /32 or /128);
//   - a host name listed in AllowedHosts (exactly, case-insensitive, or by a
//     leading "*." wildcard) is allowed when every address it resolves to is
//     loopback, private (RFC 1918, RFC 4193 ULA, link-local, 100.64/10) or in
//     AllowedCIDRs. A listed name that resolves to a public address is
//     refused: trusting a name must not let a poisoned or misconfigured DNS
//     answer take traffic off the network. Allow public addresses explicitly
//     with AllowedCIDRs. The entry is matched against the name being dialed,
//     never by resolving the entry and comparing addresses: that would let
//     any other name pointing at the same address through, and would make
//     the rule change whenever DNS does.
//   - a name is refused when ANY of its addresses is refused, so the verdict
//     never depends on which address the dialer happens to try first.
//   - a name NOT listed in AllowedHosts is refused by name, before any DNS
//     lookup, even if it would resolve into AllowedCIDRs: the lookup itself
//     is traffic, and an endpoint name chosen by an attacker (a cloned
//     repository's configuration, a redirect) must not make this machine
//     query DNS for it. Only listed names and localhost names are ever
//     looked up; servers reached by a CIDR rule are written by address or
//     listed by name.
//
// With AllowExternal every name may be looked up and every address is
// allowed (the policy still resolves and reports).
package security

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Policy is the network part of the [security] configuration. The zero value
// is the safe default: loopback only, no proxy.
type Policy struct {
	// AllowExternal disables the allowlist (config security.allow_external).
	AllowExternal bool
	// AllowedHosts are host names ("gpu01.lab.internal", "*.lab.internal")
	// or literal IP addresses (config security.allowed_hosts).
	AllowedHosts []string
	// AllowedCIDRs are address prefixes ("10.0.0.0/8", "fd00::/8") (config
	// security.allowed_cidrs).
	AllowedCIDRs []string
	// AllowProxy lets the HTTP client use HTTP_PROXY/HTTPS_PROXY/NO_PROXY
	// (config security.allow_proxy). The proxy itself must be allowed.
	AllowProxy bool
}

// Rule names the policy rule behind a verdict. It is stable text for logs,
// audit events and doctor output.
type Rule string

const (
	// RuleLoopback allowed a loopback or unspecified address, or a localhost name.
	RuleLoopback Rule = "loopback"
	// RuleAllowExternal allowed the address because allow_external = true.
	RuleAllowExternal Rule = "allow_external"
	// RuleAllowedCIDR allowed an address inside security.allowed_cidrs.
	RuleAllowedCIDR Rule = "allowed_cidrs"
	// RuleAllowedHost allowed a name listed in security.allowed_hosts that
	// resolved to private addresses.
	RuleAllowedHost Rule = "allowed_hosts"
	// RuleNotAllowed refused an address that no rule allows.
	RuleNotAllowed Rule = "not_allowlisted"
	// RuleAllowedHostPublic refused a name listed in security.allowed_hosts
	// that resolved to a public address.
	RuleAllowedHostPublic Rule = "allowed_hosts_public_address"
	// RuleScheme refused a URL whose scheme is not http or https.
	RuleScheme Rule = "scheme"
	// RuleHostNotListed refused a host name that is not in
	// security.allowed_hosts, before looking it up.
	RuleHostNotListed Rule = "host_not_listed"
)

// DeniedError is returned when the policy refuses a connection. It names the
// rule and says how to allow the address if that is really intended.
type DeniedError struct {
	// Host is the host as given (name or literal address).
	Host string
	// IP is the refused address; invalid when the refusal is not about an
	// address (RuleScheme).
	IP netip.Addr
	// Rule is the rule that refused the connection.
	Rule Rule
	// Fix is a one-line hint naming the configuration change that allows it.
	Fix string
}

func (e *DeniedError) Error() string {
	var b strings.Builder
	b.WriteString("security: connection to ")
	b.WriteString(e.Host)
	if e.IP.IsValid() && e.IP.String() != e.Host {
		fmt.Fprintf(&b, " (%s)", e.IP)
	}
	fmt.Fprintf(&b, " refused by rule %s", e.Rule)
	if e.Fix != "" {
		b.WriteString(": ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// IsDenied reports whether err is (or wraps) a *DeniedError and returns it.
func IsDenied(err error) (*DeniedError, bool) {
	var d *DeniedError
	ok := errors.As(err, &d)
	return d, ok
}

// hostRule is one parsed allowed_hosts name entry.
type hostRule struct {
	name     string // lower case, no trailing dot
	wildcard bool   // "*.name": any proper subdomain of name
}

// allowlist is a validated Policy.
type allowlist struct {
	allowExternal bool
	prefixes      []netip.Prefix
	hosts         []hostRule
}

// Validate checks a policy and returns an error naming the bad entry and how
// to write it, or nil.
func (p Policy) Validate() error {
	_, err := compile(p)
	return err
}

func compile(p Policy) (*allowlist, error) {
	a := &allowlist{allowExternal: p.AllowExternal}
	for _, c := range p.AllowedCIDRs {
		c = strings.TrimSpace(c)
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			if ip, ierr := netip.ParseAddr(c); ierr == nil {
				return nil, fmt.Errorf("security.allowed_cidrs: %q is an address, not a prefix: write %s", c, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			}
			return nil, fmt.Errorf("security.allowed_cidrs: %q is not a CIDR prefix (write e.g. 10.0.0.0/8 or fd00::/8): %w", c, err)
		}
		if pfx.Addr().Zone() != "" {
			return nil, fmt.Errorf("security.allowed_cidrs: %q: zones are not allowed in prefixes", c)
		}
		a.prefixes = append(a.prefixes, unmapPrefix(pfx).Masked())
	}
	for _, h := range p.AllowedHosts {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, errors.New("security.allowed_hosts: empty entry")
		}
		if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			ip = ip.WithZone("").Unmap()
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if _, err := netip.ParsePrefix(h); err == nil {
			return nil, fmt.Errorf("security.allowed_hosts: %q is a prefix: put it in security.allowed_cidrs", h)
		}
		if strings.Contains(h, "://") || strings.ContainsAny(h, "/:@ ") {
			return nil, fmt.Errorf("security.allowed_hosts: %q must be a bare host name or address, without scheme, port or path (e.g. %q)", h, bareHost(h))
		}
		r := hostRule{name: normName(h)}
		if strings.HasPrefix(r.name, "*.") {
			r.wildcard = true
			r.name = r.name[2:]
		}
		if r.name == "" || strings.Contains(r.name, "*") {
			return nil, fmt.Errorf("security.allowed_hosts: %q: only a leading \"*.\" wildcard is supported", h)
		}
		a.hosts = append(a.hosts, r)
	}
	return a, nil
}

// bareHost guesses the host part of a mistaken allowed_hosts entry for the
// error message.
func bareHost(h string) string {
	if u, err := url.Parse(h); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.SplitN(h, "/", 2)[0]
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

func normName(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// isLocalhostName reports whether name is "localhost" or under ".localhost",
// which RFC 6761 reserves for loopback.
func isLocalhostName(name string) bool {
	n := normName(name)
	return n == "localhost" || strings.HasSuffix(n, ".localhost")
}

func (a *allowlist) hostListed(name string) bool {
	n := normName(name)
	for _, r := range a.hosts {
		if r.wildcard {
			if strings.HasSuffix(n, "."+r.name) {
				return true
			}
		} else if n == r.name {
			return true
		}
	}
	return false
}

// mayResolve reports whether the policy lets name be sent to DNS: only
// with allow_external, or when allowed_hosts lists it. Literal addresses
// and localhost names never need a lookup.
func (a *allowlist) mayResolve(name string) bool {
	return a.allowExternal || a.hostListed(name)
}

// deniedName refuses a host name by name, before any lookup.
func (a *allowlist) deniedName(host string) *DeniedError {
	return &DeniedError{Host: host, Rule: RuleHostNotListed,
		Fix: fmt.Sprintf("%s is not in security.allowed_hosts, and unlisted names are refused without a DNS lookup: add %s to security.allowed_hosts, or write the server's address (inside security.allowed_cidrs) in the URL", host, host)}
}

// isPrivate reports addresses that stay inside a site: RFC 1918, RFC 4193
// ULA, link-local, and the shared address space 100.64.0.0/10 (CGNAT, also
// used by Tailscale-style overlays).
func isPrivate(ip netip.Addr) bool {
	return ip.IsPrivate() || ip.IsLinkLocalUnicast() || cgnat.Contains(ip)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// checkAddr decides one resolved address. host is the name it came from ("" for
// a literal address).
func (a *allowlist) checkAddr(host string, ip netip.Addr) (Rule, bool) {
	ip = ip.WithZone("").Unmap()
	if ip.IsLoopback() || ip.IsUnspecified() {
		return RuleLoopback, true
	}
	if a.allowExternal {
		return RuleAllowExternal, true
	}
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return RuleAllowedCIDR, true
		}
	}
	if host != "" && a.hostListed(host) {
		if isPrivate(ip) {
			return RuleAllowedHost, true
		}
		return RuleAllowedHostPublic, false
	}
	return RuleNotAllowed, false
}

// denied builds the error with a fix hint for a refused address.
func (a *allowlist) denied(host string, ip netip.Addr, rule Rule) *DeniedError {
	ip = ip.WithZone("").Unmap()
	cidr := netip.PrefixFrom(ip, ip.BitLen()).String()
	d := &DeniedError{Host: host, IP: ip, Rule: rule}
	switch rule {
	case RuleAllowedHostPublic:
		d.Fix = fmt.Sprintf("%s is in security.allowed_hosts but resolves to the public address %s; listed names only admit private addresses: add %s to security.allowed_cidrs if this address is really intended", host, ip, cidr)
	default:
		if host != "" && host != ip.String() && !isPrivate(ip) {
			d.Fix = fmt.Sprintf("%s is outside the allowed networks (allow_external = false): add %s to security.allowed_cidrs if this address is really intended", ip, cidr)
		} else if host != "" && host != ip.String() {
			d.Fix = fmt.Sprintf("add %s to security.allowed_hosts or %s to security.allowed_cidrs", host, cidr)
		} else {
			d.Fix = fmt.Sprintf("add %s to security.allowed_cidrs", cidr)
		}
	}
	return d
}
