package security

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

// fakeResolver answers from a map and records every lookup; unknown names
// fail like NXDOMAIN. No real DNS query is ever made.
type fakeResolver struct {
	mu      sync.Mutex
	names   map[string][]string
	lookups []string
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	addrs, ok := r.names[strings.ToLower(host)]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		if (network == "ip4" && !ip.Is4()) || (network == "ip6" && ip.Is4()) {
			continue
		}
		out = append(out, ip)
	}
	return out, nil
}

// fakeNet is the injected socket layer: it records every address it is asked
// to dial and connects every one of them to a loopback test server, so tests
// can use "remote" addresses without sending a packet off the machine.
type fakeNet struct {
	mu     sync.Mutex
	dialed []string
	target string // loopback host:port every dial is sent to; "" refuses
}

func (f *fakeNet) dial(ctx context.Context, network, address string) (net.Conn, error) {
	f.mu.Lock()
	f.dialed = append(f.dialed, address)
	target := f.target
	f.mu.Unlock()
	if target == "" {
		return nil, errors.New("fakeNet: no target")
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", target)
}

func (f *fakeNet) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.dialed...)
}

func testResolver() *fakeResolver {
	return &fakeResolver{names: map[string][]string{
		"gpu01.lab.internal":   {"10.0.0.5"},
		"gpu02.lab.internal":   {"10.0.0.6", "fd00::6"},
		"evil.lab.internal":    {"93.184.216.34"},       // listed by wildcard, but public
		"printer.local":        {"203.0.113.9"},         // looks local, resolves public
		"api.example.com":      {"93.184.216.34"},       // public
		"mixed.lab.internal":   {"10.0.0.7", "8.8.8.8"}, // one private, one public
		"v6only.lab.internal":  {"fd12:3456::1"},
		"host.docker.internal": {"192.168.65.254"},
	}}
}

func newTestDialer(t *testing.T, p Policy, fn *fakeNet, res Resolver, extra ...Option) (*Dialer, *[]*DeniedError) {
	t.Helper()
	var mu sync.Mutex
	denials := &[]*DeniedError{}
	opts := []Option{
		WithResolver(res),
		WithDialFunc(fn.dial),
		WithOnDeny(func(_ context.Context, e *DeniedError) {
			mu.Lock()
			*denials = append(*denials, e)
			mu.Unlock()
		}),
	}
	d, err := NewDialer(p, append(opts, extra...)...)
	if err != nil {
		t.Fatalf("NewDialer: %v", err)
	}
	return d, denials
}

func TestDialDecisions(t *testing.T) {
	policy := Policy{
		AllowedHosts: []string{"gpu01.lab.internal", "*.lab.internal", "192.168.1.20", "fe80::1"},
		AllowedCIDRs: []string{"172.16.0.0/12", "2001:db8:aa::/48"},
	}
	cases := []struct {
		addr     string
		allow    bool
		rule     Rule
		wantDial string // first address handed to the socket layer
		fixHas   string
	}{
		{"127.0.0.1:11434", true, RuleLoopback, "127.0.0.1:11434", ""},
		{"127.8.9.10:80", true, RuleLoopback, "127.8.9.10:80", ""},
		{"[::1]:8080", true, RuleLoopback, "[::1]:8080", ""},
		{"[::ffff:127.0.0.1]:8080", true, RuleLoopback, "[::ffff:127.0.0.1]:8080", ""},
		{"0.0.0.0:8080", true, RuleLoopback, "0.0.0.0:8080", ""},
		{"localhost:11434", true, RuleLoopback, "127.0.0.1:11434", ""},
		{"LOCALHOST.:11434", true, RuleLoopback, "127.0.0.1:11434", ""},
		{"ollama.localhost:11434", true, RuleLoopback, "127.0.0.1:11434", ""},
		{"172.20.1.2:8000", true, RuleAllowedCIDR, "172.20.1.2:8000", ""},
		{"[2001:db8:aa:1::5]:8000", true, RuleAllowedCIDR, "[2001:db8:aa:1::5]:8000", ""},
		{"192.168.1.20:1234", true, RuleAllowedCIDR, "192.168.1.20:1234", ""},
		{"[fe80::1%eth0]:1234", true, RuleAllowedCIDR, "[fe80::1%eth0]:1234", ""},
		{"gpu01.lab.internal:11434", true, RuleAllowedHost, "10.0.0.5:11434", ""},
		{"GPU02.lab.internal:11434", true, RuleAllowedHost, "10.0.0.6:11434", ""},
		{"v6only.lab.internal:1", true, RuleAllowedHost, "[fd12:3456::1]:1", ""},
		// Refusals.
		{"10.0.0.5:11434", false, RuleNotAllowed, "", "add 10.0.0.5/32 to security.allowed_cidrs"},
		{"8.8.8.8:53", false, RuleNotAllowed, "", "add 8.8.8.8/32 to security.allowed_cidrs"},
		{"[2001:db8:bb::1]:80", false, RuleNotAllowed, "", "add 2001:db8:bb::1/128 to security.allowed_cidrs"},
		{"[::ffff:8.8.8.8]:80", false, RuleNotAllowed, "", "add 8.8.8.8/32"},
		{"[fe80::2%eth0]:80", false, RuleNotAllowed, "", "fe80::2/128"},
		// Unlisted names are refused by name, before any lookup, even
		// when they would resolve into allowed_cidrs.
		{"api.example.com:443", false, RuleHostNotListed, "", "add api.example.com to security.allowed_hosts"},
		{"printer.local:631", false, RuleHostNotListed, "", "add printer.local to security.allowed_hosts"},
		{"inside-cidr.corp.invalid:80", false, RuleHostNotListed, "", "without a DNS lookup"},
		{"0x7f.1:80", false, RuleHostNotListed, "", "0x7f.1"},
		{"evil.lab.internal:443", false, RuleAllowedHostPublic, "", "resolves to the public address 93.184.216.34"},
		{"mixed.lab.internal:443", false, RuleAllowedHostPublic, "", "8.8.8.8/32"},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			fn := &fakeNet{} // refuses every dial, but records it
			res := testResolver()
			res.names["inside-cidr.corp.invalid"] = []string{"172.20.1.9"}
			d, denials := newTestDialer(t, policy, fn, res)
			_, err := d.DialContext(context.Background(), "tcp", tc.addr)
			calls := fn.calls()
			if tc.allow {
				if _, denied := IsDenied(err); denied {
					t.Fatalf("dial %s refused: %v", tc.addr, err)
				}
				if len(calls) == 0 || calls[0] != tc.wantDial {
					t.Fatalf("socket layer got %v, want first %s", calls, tc.wantDial)
				}
				v := d.Check(context.Background(), "http://"+urlHost(tc.addr))
				if !v.Allowed || v.Rule != tc.rule {
					t.Fatalf("Check = %+v, want allowed by %s", v, tc.rule)
				}
				return
			}
			de, ok := IsDenied(err)
			if !ok {
				t.Fatalf("dial %s: err = %v, want *DeniedError", tc.addr, err)
			}
			if len(calls) != 0 {
				t.Fatalf("refused dial reached the socket layer: %v", calls)
			}
			if de.Rule != tc.rule {
				t.Errorf("rule = %s, want %s", de.Rule, tc.rule)
			}
			if tc.rule == RuleHostNotListed && len(res.lookups) != 0 {
				t.Errorf("a name refused by name was looked up: %v", res.lookups)
			}
			if !strings.Contains(err.Error(), tc.fixHas) {
				t.Errorf("error %q lacks fix %q", err, tc.fixHas)
			}
			if len(*denials) != 1 || (*denials)[0] != de {
				t.Errorf("OnDeny got %v, want the one refusal", *denials)
			}
			v := d.Check(context.Background(), "http://"+urlHost(tc.addr)+"/v1/models")
			if v.Allowed || v.Rule != tc.rule || !strings.Contains(v.Reason, tc.fixHas) {
				t.Errorf("Check = %+v, want refused by %s", v, tc.rule)
			}
			if len(*denials) != 1 {
				t.Errorf("Check must not call OnDeny")
			}
		})
	}
}

// urlHost escapes an IPv6 zone for use in a URL (RFC 6874: "%25").
func urlHost(hostport string) string { return strings.Replace(hostport, "%", "%25", 1) }

func TestLocalhostNeverAsksDNS(t *testing.T) {
	res := testResolver()
	res.names["localhost"] = []string{"93.184.216.34"} // a hostile resolver
	d, _ := newTestDialer(t, Policy{}, &fakeNet{}, res)
	if v := d.Check(context.Background(), "http://localhost:11434"); !v.Allowed {
		t.Fatalf("localhost refused: %+v", v)
	}
	if len(res.lookups) != 0 {
		t.Fatalf("localhost was sent to DNS: %v", res.lookups)
	}
}

func TestAllowExternal(t *testing.T) {
	fn := &fakeNet{}
	d, _ := newTestDialer(t, Policy{AllowExternal: true}, fn, testResolver())
	_, err := d.DialContext(context.Background(), "tcp", "api.example.com:443")
	if _, denied := IsDenied(err); denied {
		t.Fatalf("allow_external refused: %v", err)
	}
	if got := fn.calls(); len(got) != 1 || got[0] != "93.184.216.34:443" {
		t.Fatalf("dialed %v, want the checked address, not the name", got)
	}
}

func TestUnresolvableAndBadInput(t *testing.T) {
	fn := &fakeNet{}
	d, _ := newTestDialer(t, Policy{AllowedHosts: []string{"*.lab.internal"}}, fn, testResolver())
	_, err := d.DialContext(context.Background(), "tcp", "nosuch.lab.internal:80")
	if err == nil || !strings.Contains(err.Error(), "resolve nosuch.lab.internal") {
		t.Fatalf("err = %v", err)
	}
	if _, err := d.DialContext(context.Background(), "udp", "127.0.0.1:53"); err == nil {
		t.Fatal("udp dial accepted")
	}
	if len(fn.calls()) != 0 {
		t.Fatalf("socket reached: %v", fn.calls())
	}
	v := d.Check(context.Background(), "ftp://127.0.0.1/")
	if v.Allowed || v.Rule != RuleScheme {
		t.Fatalf("ftp verdict %+v", v)
	}
	if v := d.Check(context.Background(), "127.0.0.1:11434"); !v.Allowed {
		t.Fatalf("bare host:port: %+v", v)
	}
	if v := d.Check(context.Background(), ""); v.Allowed || v.Err == nil {
		t.Fatalf("empty endpoint: %+v", v)
	}
}

func TestPolicyValidation(t *testing.T) {
	bad := []struct {
		p    Policy
		want string
	}{
		{Policy{AllowedCIDRs: []string{"10.0.0.5"}}, "write 10.0.0.5/32"},
		{Policy{AllowedCIDRs: []string{"10.0.0.0/33"}}, "not a CIDR prefix"},
		{Policy{AllowedHosts: []string{"http://gpu01:11434"}}, `"gpu01"`},
		{Policy{AllowedHosts: []string{"gpu01:11434"}}, "without scheme, port or path"},
		{Policy{AllowedHosts: []string{"10.0.0.0/8"}}, "put it in security.allowed_cidrs"},
		{Policy{AllowedHosts: []string{"gpu*.lab"}}, "leading \"*.\" wildcard"},
		{Policy{AllowedHosts: []string{" "}}, "empty entry"},
	}
	for _, b := range bad {
		_, err := NewDialer(b.p)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: err = %v, want %q", b.p, err, b.want)
		}
	}
	if err := (Policy{AllowedCIDRs: []string{"10.1.2.3/8", "::ffff:10.0.0.0/104"}, AllowedHosts: []string{"[fd00::1]"}}).Validate(); err != nil {
		t.Fatalf("valid policy: %v", err)
	}
}

// loopbackServer is an httptest server on 127.0.0.1 counting its requests.
func loopbackServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestHTTPClientRedirectToDeniedHost(t *testing.T) {
	srv, hits := loopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "http://api.example.com/steal", http.StatusFound)
			return
		}
		fmt.Fprint(w, "ok")
	})
	fn := &fakeNet{target: srv.Listener.Addr().String()}
	d, denials := newTestDialer(t, Policy{}, fn, testResolver())
	c := d.HTTPClient()
	resp, err := c.Get(srv.URL + "/start")
	if err == nil {
		resp.Body.Close()
		t.Fatal("redirect to a public host was followed")
	}
	de, ok := IsDenied(err)
	if !ok || de.Host != "api.example.com" || de.Rule != RuleHostNotListed {
		t.Fatalf("err = %v, want denial of api.example.com", err)
	}
	if got := fn.calls(); len(got) != 1 || got[0] != srv.Listener.Addr().String() {
		t.Fatalf("socket layer saw %v, want only the loopback server", got)
	}
	if hits.Load() != 1 {
		t.Fatalf("server hits = %d, want 1", hits.Load())
	}
	if len(*denials) != 1 {
		t.Fatalf("OnDeny calls = %d, want 1", len(*denials))
	}
}

func TestHTTPClientRedirectToAllowedHost(t *testing.T) {
	srv, hits := loopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "http://gpu01.lab.internal:11434/done", http.StatusFound)
			return
		}
		fmt.Fprint(w, "ok")
	})
	fn := &fakeNet{target: srv.Listener.Addr().String()}
	d, _ := newTestDialer(t, Policy{AllowedHosts: []string{"gpu01.lab.internal"}}, fn, testResolver())
	resp, err := d.HTTPClient().Get(srv.URL + "/start")
	if err != nil {
		t.Fatalf("allowed redirect: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" || hits.Load() != 2 {
		t.Fatalf("body %q hits %d", body, hits.Load())
	}
	got := fn.calls()
	if len(got) != 2 || got[1] != "10.0.0.5:11434" {
		t.Fatalf("dials %v, want second to the checked address 10.0.0.5:11434", got)
	}
}

func TestHTTPClientIgnoresProxyEnv(t *testing.T) {
	proxy, proxyHits := loopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "from proxy")
	})
	target, targetHits := loopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "direct")
	})
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	fn := &fakeNet{target: target.Listener.Addr().String()}
	d, _ := newTestDialer(t, Policy{AllowedHosts: []string{"gpu01.lab.internal"}}, fn, testResolver())
	resp, err := d.HTTPClient().Get("http://gpu01.lab.internal:11434/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "direct" || proxyHits.Load() != 0 || targetHits.Load() != 1 {
		t.Fatalf("body %q, proxy hits %d: proxy variables were used without allow_proxy", body, proxyHits.Load())
	}
	if got := fn.calls(); len(got) != 1 || got[0] != "10.0.0.5:11434" {
		t.Fatalf("dials %v", got)
	}
}

// TestHTTPClientAllowProxy sets the proxy variables before anything in this
// test binary calls http.ProxyFromEnvironment (which reads them once).
func TestHTTPClientAllowProxy(t *testing.T) {
	proxy, proxyHits := loopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "proxied %s", r.URL.Host)
	})
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	fn := &fakeNet{target: proxy.Listener.Addr().String()}
	d, denials := newTestDialer(t, Policy{AllowProxy: true, AllowedHosts: []string{"gpu01.lab.internal"}}, fn, testResolver())
	c := d.HTTPClient()
	resp, err := c.Get("http://gpu01.lab.internal:11434/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "proxied gpu01.lab.internal:11434" {
		t.Fatalf("body %q: the proxy was not used with allow_proxy", body)
	}
	// The destination is still checked before the request reaches the proxy.
	_, err = c.Get("http://api.example.com/")
	if _, ok := IsDenied(err); !ok {
		t.Fatalf("proxied request to a public host: err = %v", err)
	}
	if proxyHits.Load() != 1 || len(*denials) != 1 {
		t.Fatalf("proxy hits %d denials %d", proxyHits.Load(), len(*denials))
	}
}

func TestDeniedErrorSurvivesHTTPClient(t *testing.T) {
	fn := &fakeNet{}
	d, _ := newTestDialer(t, Policy{}, fn, testResolver())
	_, err := d.HTTPClient().Get("http://10.0.0.5:11434/api/tags")
	de, ok := IsDenied(err)
	if !ok || de.IP != netip.MustParseAddr("10.0.0.5") {
		t.Fatalf("err = %v", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("not a *url.Error: %T", err)
	}
	if len(fn.calls()) != 0 {
		t.Fatal("socket reached")
	}
}

func TestContainerHostRewrite(t *testing.T) {
	res := testResolver()
	ctx := context.Background()
	strict, _ := newTestDialer(t, Policy{}, &fakeNet{}, res)
	listed, _ := newTestDialer(t, Policy{AllowedHosts: []string{DockerHostName}}, &fakeNet{}, res)
	gw := netip.MustParseAddr("172.29.0.1")

	// On the host itself nothing changes.
	if u, rw, err := strict.ContainerHostRewrite(ctx, "http://localhost:11434", HostEnv{}); err != nil || rw || u != "http://localhost:11434" {
		t.Fatalf("host: %q %v %v", u, rw, err)
	}
	// In a container the rewritten host must pass the policy.
	_, rw, err := strict.ContainerHostRewrite(ctx, "http://localhost:11434", HostEnv{InContainer: true})
	if de, ok := IsDenied(err); !ok || rw || !strings.Contains(de.Fix, "host.docker.internal to security.allowed_hosts") {
		t.Fatalf("container, strict: rw=%v err=%v", rw, err)
	}
	u, rw, err := listed.ContainerHostRewrite(ctx, "http://127.0.0.1:11434/api", HostEnv{InContainer: true})
	if err != nil || !rw || u != "http://host.docker.internal:11434/api" {
		t.Fatalf("container, listed: %q %v %v", u, rw, err)
	}
	// A listed name that resolves to a public address is still refused.
	res.names["host.docker.internal"] = []string{"93.184.216.34"}
	if _, _, err := listed.ContainerHostRewrite(ctx, "http://localhost:1234", HostEnv{InContainer: true}); err == nil {
		t.Fatal("public host.docker.internal accepted")
	}
	// WSL 2: the gateway address, checked like any other.
	if _, _, err := strict.ContainerHostRewrite(ctx, "http://[::1]:1234", HostEnv{WSL: true, Gateway: gw}); err == nil || !strings.Contains(err.Error(), "172.29.0.1/32") {
		t.Fatalf("wsl strict: %v", err)
	}
	wsl, _ := newTestDialer(t, Policy{AllowedCIDRs: []string{"172.16.0.0/12"}}, &fakeNet{}, res)
	if u, rw, err := wsl.ContainerHostRewrite(ctx, "http://localhost:1234/v1", HostEnv{WSL: true, Gateway: gw}); err != nil || !rw || u != "http://172.29.0.1:1234/v1" {
		t.Fatalf("wsl allowed: %q %v %v", u, rw, err)
	}
	// Non-loopback URLs are left alone.
	if u, rw, _ := listed.ContainerHostRewrite(ctx, "http://gpu01.lab.internal:1", HostEnv{InContainer: true}); rw || u != "http://gpu01.lab.internal:1" {
		t.Fatalf("non-loopback rewritten: %q", u)
	}
}

func TestDetectHostEnv(t *testing.T) {
	fsys := fstest.MapFS{
		".dockerenv":                {},
		"proc/sys/kernel/osrelease": {Data: []byte("5.15.153.1-microsoft-standard-WSL2\n")},
		"proc/net/route": {Data: []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			"eth0\t0000FEA9\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n" +
			"eth0\t00000000\t01001DAC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n")},
	}
	e := detectHostEnv(fsys, func(string) string { return "" })
	if !e.InContainer || !e.WSL || e.Gateway != netip.MustParseAddr("172.29.0.1") {
		t.Fatalf("got %+v", e)
	}
	e = detectHostEnv(fstest.MapFS{}, func(string) string { return "" })
	if e.InContainer || e.WSL || e.Gateway.IsValid() {
		t.Fatalf("bare host: %+v", e)
	}
	e = detectHostEnv(fstest.MapFS{"proc/1/cgroup": {Data: []byte("0::/kubepods/besteffort/pod1\n")}}, func(k string) string {
		if k == "WSL_DISTRO_NAME" {
			return "Ubuntu"
		}
		return ""
	})
	if !e.InContainer || !e.WSL {
		t.Fatalf("cgroup/env: %+v", e)
	}
}

func TestConnectTimeoutReachesDial(t *testing.T) {
	var gotDeadline bool
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		_, gotDeadline = ctx.Deadline()
		return nil, errors.New("refused")
	}
	d, err := NewDialer(Policy{}, WithDialFunc(dial), WithConnectTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	if !gotDeadline {
		t.Fatal("the connect timeout did not reach the dial function")
	}
	if err == nil || !strings.Contains(err.Error(), "security: dial 127.0.0.1:1: refused") {
		t.Fatalf("err = %v", err)
	}
}
