package security

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Resolver resolves host names. *net.Resolver implements it; tests inject a
// map so no real DNS query is made.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc opens a connection to an already-checked literal address
// ("10.0.0.5:11434"). The default is a net.Dialer's DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// DenyHook is told about every refused connection attempt (dials, redirects,
// proxied requests), so the caller can write a security audit event. It is
// not called by Check, which only answers questions.
type DenyHook func(ctx context.Context, err *DeniedError)

// Option configures a Dialer.
type Option func(*Dialer)

// WithResolver replaces the system resolver.
func WithResolver(r Resolver) Option { return func(d *Dialer) { d.resolver = r } }

// WithDialFunc replaces the function that opens sockets. Tests use it to
// prove a refused address never reaches a socket.
func WithDialFunc(f DialFunc) Option { return func(d *Dialer) { d.dial = f } }

// WithOnDeny registers the hook called on every refused connection attempt.
func WithOnDeny(f DenyHook) Option { return func(d *Dialer) { d.onDeny = f } }

// WithConnectTimeout bounds establishing one TCP connection (default 10 s).
// It is the "connect" timeout only: first-token and idle timeouts belong to
// the streaming code.
func WithConnectTimeout(t time.Duration) Option { return func(d *Dialer) { d.timeout = t } }

// DefaultConnectTimeout is the connect timeout when none is given.
const DefaultConnectTimeout = 10 * time.Second

// Dialer is the single place outbound connections are made. It is safe for
// concurrent use.
type Dialer struct {
	policy   Policy
	list     *allowlist
	resolver Resolver
	dial     DialFunc
	onDeny   DenyHook
	timeout  time.Duration
}

// NewDialer validates the policy and returns a Dialer enforcing it.
func NewDialer(p Policy, opts ...Option) (*Dialer, error) {
	list, err := compile(p)
	if err != nil {
		return nil, err
	}
	d := &Dialer{policy: p, list: list, resolver: net.DefaultResolver, timeout: DefaultConnectTimeout}
	for _, o := range opts {
		o(d)
	}
	if d.timeout <= 0 {
		d.timeout = DefaultConnectTimeout
	}
	if d.dial == nil {
		nd := &net.Dialer{Timeout: d.timeout, KeepAlive: 30 * time.Second}
		d.dial = nd.DialContext
	}
	return d, nil
}

// Policy returns the policy the dialer enforces.
func (d *Dialer) Policy() Policy { return d.policy }

// Resolver returns the resolver the dialer uses (for doctor's DNS check).
func (d *Dialer) Resolver() Resolver { return d.resolver }

// MayResolve reports whether the policy lets host be looked up in DNS:
// literal addresses and localhost names need no lookup and are true; other
// names only with allow_external or when security.allowed_hosts lists
// them. Callers that look names up themselves (container host aliases)
// ask first, so a refused name is never sent to DNS.
func (d *Dialer) MayResolve(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if _, err := netip.ParseAddr(host); err == nil || isLocalhostName(host) {
		return true
	}
	return host != "" && d.list.mayResolve(host)
}

// decision is the outcome of checking one host.
type decision struct {
	addrs []netip.Addr // addresses to dial (zones kept for link-local)
	rule  Rule
}

// decide resolves host (unless it is a literal address or a localhost name)
// and checks every address. A name the policy does not let be looked up is
// refused before the resolver is asked. It returns a *DeniedError when any address is
// refused, and a plain wrapped error when resolution fails.
func (d *Dialer) decide(ctx context.Context, network, host string) (decision, error) {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return decision{}, errors.New("security: empty host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		rule, ok := d.list.checkAddr("", ip)
		if !ok {
			return decision{}, d.list.denied(host, ip, rule)
		}
		return decision{addrs: []netip.Addr{ip}, rule: rule}, nil
	}
	if isLocalhostName(host) {
		var addrs []netip.Addr
		if network != "tcp6" {
			addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
		}
		if network != "tcp4" {
			addrs = append(addrs, netip.IPv6Loopback())
		}
		return decision{addrs: addrs, rule: RuleLoopback}, nil
	}
	if !d.list.mayResolve(host) {
		// Refused by name: the name is never sent to DNS.
		return decision{}, d.list.deniedName(host)
	}
	ipNet := "ip"
	switch network {
	case "tcp4":
		ipNet = "ip4"
	case "tcp6":
		ipNet = "ip6"
	}
	addrs, err := d.resolver.LookupNetIP(ctx, ipNet, host)
	if err != nil {
		return decision{}, fmt.Errorf("security: resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return decision{}, fmt.Errorf("security: resolve %s: no addresses", host)
	}
	var first Rule
	for i, ip := range addrs {
		rule, ok := d.list.checkAddr(host, ip)
		if !ok {
			return decision{}, d.list.denied(host, ip, rule)
		}
		if i == 0 {
			first = rule
		}
	}
	return decision{addrs: addrs, rule: first}, nil
}

func (d *Dialer) reportDeny(ctx context.Context, err error) {
	if d.onDeny == nil {
		return
	}
	if de, ok := IsDenied(err); ok {
		d.onDeny(ctx, de)
	}
}

// DialContext checks address against the policy and connects to the first
// reachable checked address. A refused address never reaches the underlying
// dial function. Only TCP networks are supported.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("security: dial %s %s: only tcp connections are supported", network, address)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("security: dial %s: %w", address, err)
	}
	dec, err := d.decide(ctx, network, host)
	if err != nil {
		d.reportDeny(ctx, err)
		return nil, err
	}
	var errs []error
	for _, ip := range dec.addrs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("security: dial %s: %w", address, err)
		}
		dctx, cancel := context.WithTimeout(ctx, d.timeout)
		conn, err := d.dial(dctx, network, net.JoinHostPort(ip.String(), port))
		cancel()
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("security: dial %s: %w", address, errors.Join(errs...))
}

// Verdict is the allow/deny answer for one endpoint, computed without
// connecting to it.
type Verdict struct {
	Endpoint string       `json:"endpoint"`
	Host     string       `json:"host"`
	Addrs    []netip.Addr `json:"addrs,omitempty"`
	Allowed  bool         `json:"allowed"`
	Rule     Rule         `json:"rule,omitempty"`
	// Reason is a human sentence; for refusals it includes the fix.
	Reason string `json:"reason"`
	// Err is the *DeniedError, a resolution error or a URL error.
	Err error `json:"-"`
}

// Check decides whether endpoint (a URL, or host:port) would be allowed. It
// resolves the host name when the policy lets it be looked up (a DNS
// lookup, no connection) and never connects.
// A host that does not resolve is reported as not allowed with the
// resolution error.
func (d *Dialer) Check(ctx context.Context, endpoint string) Verdict {
	v := Verdict{Endpoint: endpoint}
	u, err := parseEndpoint(endpoint)
	if err != nil {
		v.Err = err
		v.Reason = err.Error()
		return v
	}
	v.Host = u.Hostname()
	if u.Scheme != "http" && u.Scheme != "https" {
		de := &DeniedError{Host: v.Host, Rule: RuleScheme, Fix: fmt.Sprintf("scheme %q is not supported: use http or https", u.Scheme)}
		v.Rule, v.Err, v.Reason = RuleScheme, de, de.Error()
		return v
	}
	dec, err := d.decide(ctx, "tcp", v.Host)
	if err != nil {
		v.Err = err
		v.Reason = err.Error()
		if de, ok := IsDenied(err); ok {
			v.Rule = de.Rule
			if de.IP.IsValid() {
				v.Addrs = []netip.Addr{de.IP}
			}
		}
		return v
	}
	v.Allowed, v.Addrs, v.Rule = true, dec.addrs, dec.rule
	v.Reason = fmt.Sprintf("allowed by rule %s (%s)", dec.rule, joinAddrs(dec.addrs))
	return v
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// parseEndpoint accepts a URL or a bare host:port (taken as http).
func parseEndpoint(endpoint string) (*url.URL, error) {
	e := strings.TrimSpace(endpoint)
	if e == "" {
		return nil, errors.New("security: empty endpoint URL")
	}
	if !strings.Contains(e, "://") {
		e = "http://" + e
	}
	u, err := url.Parse(e)
	if err != nil {
		return nil, fmt.Errorf("security: endpoint %q is not a URL (write e.g. http://127.0.0.1:11434): %w", endpoint, err)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("security: endpoint %q has no host (write e.g. http://127.0.0.1:11434)", endpoint)
	}
	return u, nil
}

// maxRedirects matches net/http's default limit.
const maxRedirects = 10

// HTTPClient returns a client whose every connection goes through d. Proxy
// environment variables are ignored unless the policy allows proxies; when it
// does, the proxy address is checked by the dialer and each request's
// destination is checked before it is handed to the proxy. Redirect targets
// are checked before they are followed. The client has no overall timeout:
// generations are bounded by their context and by the streaming code's
// first-token and idle timeouts.
func (d *Dialer) HTTPClient() *http.Client {
	tr := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   d.timeout,
		ExpectContinueTimeout: time.Second,
	}
	// The default keeps 2 idle connections per host: a gateway with more
	// requests open to one LLM server would dial (and pass the allowlist)
	// again for most of them.
	tr.MaxIdleConnsPerHost = 64
	var rt http.RoundTripper = tr
	if d.policy.AllowProxy {
		// ProxyFromEnvironment reads the variables once per process.
		tr.Proxy = http.ProxyFromEnvironment
		rt = &destinationCheck{d: d, next: tr}
	}
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("security: stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				err := &DeniedError{Host: req.URL.Host, Rule: RuleScheme, Fix: fmt.Sprintf("redirect to scheme %q refused", req.URL.Scheme)}
				d.reportDeny(req.Context(), err)
				return err
			}
			if _, err := d.decide(req.Context(), "tcp", req.URL.Hostname()); err != nil {
				d.reportDeny(req.Context(), err)
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
			}
			return nil
		},
	}
}

// NewHTTPClient is NewDialer followed by HTTPClient.
func NewHTTPClient(p Policy, opts ...Option) (*http.Client, error) {
	d, err := NewDialer(p, opts...)
	if err != nil {
		return nil, err
	}
	return d.HTTPClient(), nil
}

// destinationCheck checks the request's own host when a proxy makes the
// connection on our behalf (the dialer then only sees the proxy's address).
type destinationCheck struct {
	d    *Dialer
	next http.RoundTripper
}

func (c *destinationCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := c.d.decide(req.Context(), "tcp", req.URL.Hostname()); err != nil {
		c.d.reportDeny(req.Context(), err)
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return c.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (c *destinationCheck) CloseIdleConnections() {
	if ci, ok := c.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
