package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lsp-router/lsp-router/security"
	"github.com/lsp-router/lsp-router/security/audit"
	"github.com/lsp-router/lsp-router/security/checksum"
)

type mapResolver map[string][]string

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	a, ok := m[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range a {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// recordingResolver records every name it is asked for.
type recordingResolver struct {
	mu      sync.Mutex
	m       mapResolver
	lookups []string
}

func (r *recordingResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.lookups = append(r.lookups, host)
	r.mu.Unlock()
	return r.m.LookupNetIP(ctx, network, host)
}

func (r *recordingResolver) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// Doctor looks up no outside name unless asked with --dns NAME; endpoint
// verdicts look up only names the allowlist lists.
func TestSecurityChecksLookUpNoOutsideNameByDefault(t *testing.T) {
	res := &recordingResolver{m: mapResolver{"gpu01.lab": {"10.1.2.3"}, "attacker.invalid": {"10.6.6.6"}}}
	d, err := security.NewDialer(security.Policy{AllowedHosts: []string{"gpu01.lab"}, AllowedCIDRs: []string{"10.0.0.0/8"}}, security.WithResolver(res))
	if err != nil {
		t.Fatal(err)
	}
	in := SecurityInput{Dialer: d, AuditPath: filepath.Join(t.TempDir(), "a.log"), Getenv: func(string) string { return "" },
		Endpoints: []Endpoint{{"ollama", "http://localhost:11434"}, {"lab", "http://gpu01.lab:8000"}, {"repo", "http://attacker.invalid:11434"}}}
	cs := SecurityChecks(context.Background(), in)
	if got := strings.Join(res.names(), ","); got != "gpu01.lab" {
		t.Fatalf("lookups %q, want only the listed gpu01.lab", got)
	}
	var dns, repo Check
	for _, c := range cs {
		switch {
		case c.Name == "network: external DNS":
			dns = c
		case strings.HasPrefix(c.Name, "network: endpoint repo"):
			repo = c
		}
	}
	if dns.Status != OK || !strings.Contains(dns.Detail, "not checked") {
		t.Errorf("DNS line: %+v", dns)
	}
	if repo.Status != Fail || !strings.Contains(repo.Detail, "host_not_listed") {
		t.Errorf("unlisted endpoint: %+v", repo)
	}
	// Asked: exactly that name is looked up.
	in.DNSName = "probe.invalid"
	SecurityChecks(context.Background(), in)
	if got := strings.Join(res.names(), ","); got != "gpu01.lab,gpu01.lab,probe.invalid" {
		t.Errorf("lookups with --dns: %q", got)
	}
}

func TestEndpointChecksNeverConnect(t *testing.T) {
	var mu sync.Mutex
	var dialed []string
	res := &recordingResolver{m: mapResolver{"gpu01.lab": {"10.1.2.3"}, "api.example.com": {"93.184.216.34"}}}
	d, err := security.NewDialer(security.Policy{AllowedHosts: []string{"gpu01.lab", "*.lab"}},
		security.WithResolver(res),
		security.WithDialFunc(func(_ context.Context, _, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, addr)
			mu.Unlock()
			return nil, errors.New("no")
		}))
	if err != nil {
		t.Fatal(err)
	}
	checks := EndpointChecks(context.Background(), d, []Endpoint{
		{"ollama", "http://127.0.0.1:11434"},
		{"lab", "http://gpu01.lab:8000"},
		{"cloud", "https://api.example.com/v1"},
		{"typo", "http://nosuch.lab:1"},
	})
	want := []Status{OK, OK, Fail, Warn}
	for i, c := range checks {
		if c.Status != want[i] {
			t.Errorf("%s: %s (%s), want %s", c.Name, c.Status, c.Detail, want[i])
		}
	}
	if !strings.Contains(checks[2].Fix, "add api.example.com to security.allowed_hosts") || !strings.Contains(checks[2].Detail, "host_not_listed") {
		t.Errorf("refusal check %+v", checks[2])
	}
	// The refused name was not even looked up.
	if got := strings.Join(res.names(), ","); got != "gpu01.lab,nosuch.lab" {
		t.Errorf("lookups %s, want only the listed names", got)
	}
	if len(dialed) != 0 {
		t.Fatalf("doctor connected to %v", dialed)
	}
}

func TestDNSCheck(t *testing.T) {
	ctx := context.Background()
	none := &recordingResolver{m: mapResolver{}}
	if c := DNSCheck(ctx, none, ""); c.Status != OK || !strings.Contains(c.Detail, "not checked") || !strings.Contains(c.Detail, "--dns NAME") || len(none.names()) != 0 {
		t.Errorf("no name: %+v, lookups %v", c, none.names())
	}
	if c := DNSCheck(ctx, mapResolver{}, "probe.invalid"); c.Status != OK || !strings.Contains(c.Detail, "probe.invalid does not resolve") {
		t.Errorf("air-gapped: %+v", c)
	}
	if c := DNSCheck(ctx, mapResolver{"probe.invalid": {"93.184.216.34"}}, "probe.invalid"); c.Status != Warn || c.Fix == "" {
		t.Errorf("open DNS: %+v", c)
	}
	if c := DNSCheck(ctx, mapResolver{"probe.test": {"0.0.0.0", "10.0.0.1"}}, "probe.test"); c.Status != OK || !strings.Contains(c.Detail, "sinkhole") {
		t.Errorf("sinkhole: %+v", c)
	}
}

func TestPolicyCheck(t *testing.T) {
	if cs := PolicyCheck(security.Policy{}); cs[0].Status != OK || cs[1].Status != OK {
		t.Errorf("default policy: %+v", cs)
	}
	if cs := PolicyCheck(security.Policy{AllowExternal: true, AllowProxy: true}); cs[0].Status != Warn || cs[1].Status != Warn {
		t.Errorf("open policy: %+v", cs)
	}
	if cs := PolicyCheck(security.Policy{AllowedCIDRs: []string{"nope"}}); len(cs) != 1 || cs[0].Status != Fail {
		t.Errorf("bad policy: %+v", cs)
	}
}

func TestAuditChecks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	cs := AuditChecks(path, "")
	if cs[0].Status != OK || cs[1].Status != OK || !strings.Contains(cs[0].Detail, "will be created") {
		t.Fatalf("no log yet: %+v", cs)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("doctor created the audit log")
	}
	l, err := audit.Open(path, audit.Options{Session: "s", Agent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := l.Write(audit.Event{Type: audit.EventQuery, Model: "m", Success: true}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	cs = AuditChecks(path, "")
	if cs[0].Status != OK || cs[1].Status != OK || !strings.Contains(cs[1].Detail, "3 events intact") {
		t.Fatalf("intact: %+v", cs)
	}
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	lines[0], lines[1] = lines[1], lines[0]
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
	cs = AuditChecks(path, "")
	if cs[1].Status != Fail || !strings.Contains(cs[1].Detail, "line 1: reordered") || cs[1].Fix == "" {
		t.Fatalf("tampered: %+v", cs[1])
	}
	if cs := AuditChecks("", ""); cs[0].Status != Fail {
		t.Fatalf("no path: %+v", cs)
	}
	if os.Geteuid() != 0 {
		os.Chmod(path, 0o400)
		if cs := AuditChecks(path, ""); cs[0].Status != Fail {
			t.Fatalf("read-only log: %+v", cs[0])
		}
	}
}

func TestModelPinChecks(t *testing.T) {
	pins := checksum.Pins{"a:1": strings.Repeat("1", 64), "b:1": strings.Repeat("2", 64)}
	results := []checksum.Result{
		pins.Verify("a:1", strings.Repeat("1", 64)),
		pins.Verify("b:1", strings.Repeat("3", 64)),
		pins.Verify("c:1", strings.Repeat("4", 64)),
	}
	cs := ModelPinChecks(true, results)
	if cs[0].Status != OK || cs[1].Status != Fail || cs[2].Status != Warn || cs[1].Fix == "" {
		t.Fatalf("%+v", cs)
	}
	if cs := ModelPinChecks(false, results); len(cs) != 1 || cs[0].Status != Warn {
		t.Fatalf("verify off: %+v", cs)
	}
}

func TestSerenaAndKeys(t *testing.T) {
	if c := SerenaUsageReportingCheck(true, "false", true); c.Status != OK {
		t.Errorf("%+v", c)
	}
	if c := SerenaUsageReportingCheck(true, "", false); c.Status != Fail || !strings.Contains(c.Fix, "SERENA_USAGE_REPORTING=false") {
		t.Errorf("%+v", c)
	}
	if c := SerenaUsageReportingCheck(true, "true", true); c.Status != Fail {
		t.Errorf("%+v", c)
	}
	if c := SerenaUsageReportingCheck(false, "", false); c.Status != OK {
		t.Errorf("%+v", c)
	}
	env := map[string]string{"OPENWEBUI_API_KEY": "sk-very-secret"}
	cs := APIKeyChecks([]KeyRequirement{
		{"openwebui", "OPENWEBUI_API_KEY", true},
		{"jan", "JAN_API_KEY", true},
		{"lmstudio", "LMSTUDIO_API_KEY", false},
	}, func(k string) string { return env[k] })
	if cs[0].Status != OK || cs[1].Status != Fail || cs[2].Status != OK || !strings.Contains(cs[1].Fix, "export JAN_API_KEY=") {
		t.Fatalf("%+v", cs)
	}
	var b bytes.Buffer
	WriteJSON(&b, Report{Checks: cs})
	if strings.Contains(b.String(), "sk-very-secret") {
		t.Fatal("key value leaked")
	}
}

func TestFileModeChecks(t *testing.T) {
	if os.Getenv("GOOS") == "windows" {
		t.Skip()
	}
	dir := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o600)
		os.Chmod(p, mode)
		return p
	}
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	inOpen := filepath.Join(open, "config.toml")
	os.WriteFile(inOpen, []byte("x"), 0o644)
	cs := FileModeChecks([]FileSpec{
		{"config", mk("config.toml", 0o644), ConfigMode},
		{"audit log", mk("audit.log", 0o600), SecretMode},
		{"audit log", mk("audit2.log", 0o644), SecretMode},
		{"config", mk("bad.toml", 0o666), ConfigMode},
		{"config", inOpen, ConfigMode},
		{"config", filepath.Join(dir, "none.toml"), ConfigMode},
	})
	want := []Status{OK, OK, Warn, Fail, Fail, OK}
	for i, c := range cs {
		if c.Status != want[i] {
			t.Errorf("%s: %s %s, want %s", c.Name, c.Status, c.Detail, want[i])
		}
	}
	if cs[2].Fix != "chmod 600 "+filepath.Join(dir, "audit2.log") {
		t.Errorf("fix %q", cs[2].Fix)
	}
}

func TestReportJSONAndText(t *testing.T) {
	var r Report
	r.Add(Check{Name: "network: allowlist", Status: OK, Detail: "enforced"},
		Check{Name: "models: x", Status: Warn, Detail: "unpinned", Fix: "pin it"},
		Check{Name: "network: endpoint cloud", Status: Fail, Detail: "refused", Fix: "add it"})
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Status Status           `json:"status"`
		OK     int              `json:"ok"`
		Warn   int              `json:"warn"`
		Fail   int              `json:"fail"`
		Checks []map[string]any `json:"checks"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Status != Fail || doc.OK != 1 || doc.Warn != 1 || doc.Fail != 1 || len(doc.Checks) != 3 {
		t.Fatalf("doc %+v", doc)
	}
	c := doc.Checks[2]
	if c["name"] != "network: endpoint cloud" || c["status"] != "fail" || c["detail"] != "refused" || c["fix"] != "add it" {
		t.Fatalf("check fields %v", c)
	}
	if _, ok := doc.Checks[0]["fix"]; ok {
		t.Errorf("ok check carries a fix field: %v", doc.Checks[0])
	}
	b.Reset()
	WriteJSON(&b, Report{})
	if !strings.Contains(b.String(), `"checks": []`) || !strings.Contains(b.String(), `"status": "ok"`) {
		t.Errorf("empty report: %s", b.String())
	}
	b.Reset()
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"ok    network: allowlist: enforced\n", "WARN  models: x: unpinned\n      fix: pin it\n", "FAIL  network: endpoint cloud", "1 ok, 1 warn, 1 fail\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestSecurityChecksOrder(t *testing.T) {
	d, _ := security.NewDialer(security.Policy{}, security.WithResolver(mapResolver{}))
	cs := SecurityChecks(context.Background(), SecurityInput{
		Dialer:    d,
		Endpoints: []Endpoint{{"ollama", "http://localhost:11434"}},
		AuditPath: filepath.Join(t.TempDir(), "a.log"),
		Getenv:    func(string) string { return "" },
	})
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	got := strings.Join(names, "|")
	for _, want := range []string{"network: allowlist", "network: endpoint ollama", "network: external DNS", "audit: hash chain", "models: integrity", "serena: usage reporting"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
}

// A keyed log is checked under the key file the configuration names, not
// the default one.
func TestAuditChainUsesTheConfiguredKeyFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv(audit.KeyFileEnv, "")
	path, key := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "team.key")
	l, err := audit.Open(path, audit.Options{Session: "s", Agent: "test", KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(audit.Event{Type: audit.EventQuery, Model: "m", Success: true}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if cs := AuditChecks(path, key); cs[1].Status != OK {
		t.Fatalf("with the configured key: %+v", cs[1])
	}
	if cs := AuditChecks(path, ""); cs[1].Status == OK && !strings.Contains(cs[1].Detail, "key") {
		t.Errorf("without the key the chain cannot be proved intact, yet doctor says: %+v", cs[1])
	}
}
