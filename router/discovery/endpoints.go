// Package discovery finds the local LLM services that are really running:
// it probes the default endpoints of every supported server and the user's
// custom endpoints concurrently, fingerprints what answers (several servers
// imitate Ollama and share ports), lists each service's models with their
// context length and loaded state, and caches the result.
//
// Facts come from each server's own source and documentation (the project's
// reference notes, not in this repository); each fingerprint in probe.go
// names the signal it relies on.
package discovery

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
)

// DefaultEndpoint is where a server listens out of the box.
type DefaultEndpoint struct {
	Kind     llm.Kind
	Endpoint string
	// Priority orders services: LOWER is preferred (as in router/selection).
	// Native servers rank before front-ends that proxy them (Open WebUI).
	Priority int
}

// DefaultEndpoints lists the defaults from the reference sheet. Port 8080
// is shared by llama.cpp, LocalAI and Open WebUI; llama.cpp moved to 9931;
// 3000 is TGI's default and Open WebUI's usual Docker mapping. The
// fingerprint, not the port, decides the kind.
func DefaultEndpoints() []DefaultEndpoint {
	return []DefaultEndpoint{
		{llm.KindOllama, "http://127.0.0.1:11434", 10},
		{llm.KindLlamaCpp, "http://127.0.0.1:8080", 20},
		{llm.KindLlamaCpp, "http://127.0.0.1:9931", 20},
		{llm.KindVLLM, "http://127.0.0.1:8000", 30},
		{llm.KindSGLang, "http://127.0.0.1:30000", 30},
		{llm.KindLMStudio, "http://127.0.0.1:1234", 40},
		{llm.KindTGI, "http://127.0.0.1:3000", 50},
		{llm.KindLocalAI, "http://127.0.0.1:8080", 60},
		{llm.KindKoboldCpp, "http://127.0.0.1:5001", 70},
		{llm.KindTextGenWebUI, "http://127.0.0.1:5000", 70},
		{llm.KindJan, "http://127.0.0.1:1337", 80},
		{llm.KindOpenWebUI, "http://127.0.0.1:8080", 90},
		{llm.KindOpenWebUI, "http://127.0.0.1:3000", 90},
		{llm.KindGPT4All, "http://127.0.0.1:4891", 100},
	}
}

// EndpointConfig overrides one kind's default probing.
type EndpointConfig struct {
	// Enabled must be true for the kind to be probed when an entry exists.
	Enabled bool
	// Endpoint replaces all of the kind's default endpoints when set.
	Endpoint string
	// Priority replaces the default priority when non-zero (lower is preferred).
	Priority int
	// Timeout replaces Config.ProbeTimeout for this kind when non-zero.
	Timeout time.Duration
	// APIKey is sent as a Bearer token (read from an env var or key file by
	// the config layer; never from the config file itself).
	APIKey string
	// ContextLength, when > 0, is the window every model of this kind is
	// sized for, whatever the server reports (config
	// services.<kind>.context_length).
	ContextLength int
}

// CustomEndpoint is a user-configured service, e.g. one of several vLLM
// servers on the internal network.
type CustomEndpoint struct {
	Name     string
	Endpoint string
	// Priority: lower is preferred; 0 (unset) ranks custom endpoints before
	// every default.
	Priority int
	// Kind, when set, skips fingerprinting.
	Kind llm.Kind
	// APIStyle forces the chat protocol (e.g. "openai" for Ollama's /v1).
	APIStyle llm.APIStyle
	APIKey   string
	Timeout  time.Duration
	// ContextLength, when > 0, overrides the window of every model the
	// endpoint serves (config custom_endpoints[].context_length).
	ContextLength int
}

// Config controls a scan.
type Config struct {
	// Defaults overrides per kind. Kinds without an entry are probed at
	// their default endpoints; an entry with Enabled=false turns a kind off.
	Defaults map[llm.Kind]EndpointConfig
	// NoDefaults skips all default endpoints (only Custom are probed).
	NoDefaults bool
	Custom     []CustomEndpoint
	// HTTPClient carries the dialer (allowlist, connect timeout). nil means
	// a client with a short connect timeout.
	HTTPClient *http.Client
	// ProbeTimeout bounds fingerprinting one endpoint (default 1s).
	ProbeTimeout time.Duration
	// InventoryTimeout bounds listing one service's models (default 5s).
	InventoryTimeout time.Duration
	// Getenv reads the environment (OLLAMA_HOST); nil means os.Getenv.
	Getenv func(string) string
	// HostAliases are extra hosts where default endpoints are also probed,
	// e.g. the Docker or WSL host. nil means DetectHostAliases(MayResolve);
	// use an empty non-nil slice for none.
	HostAliases []string
	// MayResolve tells whether the network policy lets a host name be
	// looked up in DNS (security.Dialer.MayResolve). Container host names
	// are only looked up, and probed, when it says yes; nil looks none up.
	MayResolve func(host string) bool
}

// Defaults for Config's zero values.
const (
	DefaultProbeTimeout     = time.Second
	DefaultInventoryTimeout = 5 * time.Second
)

func (c Config) probeTimeout() time.Duration {
	if c.ProbeTimeout > 0 {
		return c.ProbeTimeout
	}
	return DefaultProbeTimeout
}

func (c Config) inventoryTimeout() time.Duration {
	if c.InventoryTimeout > 0 {
		return c.InventoryTimeout
	}
	return DefaultInventoryTimeout
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultClient
}

var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 nil, // local services: never through a proxy
	DialContext:           (&net.Dialer{Timeout: time.Second}).DialContext,
	MaxIdleConnsPerHost:   4,
	IdleConnTimeout:       30 * time.Second,
	ResponseHeaderTimeout: 0,
}}

// Target is one endpoint a scan probes.
type Target struct {
	Endpoint string
	// Hints are the kinds expected here (from the defaults); the fingerprint
	// decides, hints only break ties for plain OpenAI-compatible answers.
	Hints []llm.Kind
	// KindPriority is each hinted kind's priority; the identified kind's
	// applies (8080 may be llama.cpp, LocalAI or Open WebUI).
	KindPriority map[llm.Kind]int
	Kind         llm.Kind // set for custom endpoints with a declared kind
	Name         string
	Priority     int
	APIStyle     llm.APIStyle
	APIKey       string
	Timeout      time.Duration
	Custom       bool
	// ContextLength overrides the models' window (custom endpoints);
	// KindContext does so per identified kind (default endpoints).
	ContextLength int
	KindContext   map[llm.Kind]int
}

// Targets lists what Scan probes for cfg: every enabled default endpoint on
// 127.0.0.1 and on each host alias, then each custom endpoint. An endpoint
// listed by several kinds is probed once.
func Targets(cfg Config) ([]Target, error) {
	l := &targetList{index: map[string]int{}}
	if !cfg.NoDefaults {
		if err := l.addDefaults(cfg); err != nil {
			return nil, err
		}
		l.addOllamaHost(cfg)
	}
	for i, c := range cfg.Custom {
		if err := checkCustom(i, c); err != nil {
			return nil, err
		}
		l.add(Target{Endpoint: c.Endpoint, Kind: c.Kind, Name: c.Name, Priority: c.Priority,
			APIStyle: c.APIStyle, APIKey: c.APIKey, Timeout: c.Timeout, Custom: true, ContextLength: c.ContextLength})
	}
	return l.out, nil
}

// targetList collects targets, one per normalized endpoint.
type targetList struct {
	out   []Target
	index map[string]int
}

// add appends t, or merges it into the target already at its address: the
// user's own entry wins over a default; two defaults pool their hints.
func (l *targetList) add(t Target) {
	key := normalize(t.Endpoint)
	t.Endpoint = key
	i, ok := l.index[key]
	if !ok {
		l.index[key] = len(l.out)
		l.out = append(l.out, t)
		return
	}
	prev := &l.out[i]
	if t.Custom {
		*prev = t
		return
	}
	if !prev.Custom {
		mergeDefault(prev, t)
	}
}

// mergeDefault folds default target t into prev at the same address.
func mergeDefault(prev *Target, t Target) {
	prev.Hints = append(prev.Hints, t.Hints...)
	prev.Priority = min(prev.Priority, t.Priority)
	for k, p := range t.KindPriority {
		prev.KindPriority[k] = p
	}
	for k, c := range t.KindContext {
		if prev.KindContext == nil {
			prev.KindContext = map[llm.Kind]int{}
		}
		prev.KindContext[k] = c
	}
	if prev.APIKey == "" {
		prev.APIKey = t.APIKey
	}
	prev.Timeout = max(prev.Timeout, t.Timeout)
}

// addDefaults adds each enabled default endpoint, as configured, and its
// copies on the host aliases unless the user moved it.
func (l *targetList) addDefaults(cfg Config) error {
	aliases := cfg.HostAliases
	if aliases == nil {
		aliases = DetectHostAliases(cfg.MayResolve)
	}
	replaced := map[llm.Kind]bool{}
	for _, d := range DefaultEndpoints() {
		ec, has := cfg.Defaults[d.Kind]
		if has && !ec.Enabled {
			continue
		}
		if has && ec.Endpoint != "" {
			if replaced[d.Kind] {
				continue
			}
			replaced[d.Kind] = true
			if _, err := parseEndpoint(ec.Endpoint); err != nil {
				return fmt.Errorf("%s endpoint: %w", d.Kind, err)
			}
		}
		t := defaultTarget(d, ec, has)
		l.add(t)
		if !has || ec.Endpoint == "" {
			for _, h := range aliases {
				l.add(aliasTarget(t, d.Kind, h))
			}
		}
	}
	return nil
}

// defaultTarget is default endpoint d with the user's settings ec (has
// tells whether there are any).
func defaultTarget(d DefaultEndpoint, ec EndpointConfig, has bool) Target {
	t := Target{Endpoint: d.Endpoint, Hints: []llm.Kind{d.Kind}, Priority: d.Priority}
	if has {
		if ec.Endpoint != "" {
			t.Endpoint = ec.Endpoint
		}
		if ec.Priority != 0 {
			t.Priority = ec.Priority
		}
		t.Timeout = ec.Timeout
		t.APIKey = ec.APIKey
		if ec.ContextLength > 0 {
			t.KindContext = map[llm.Kind]int{d.Kind: ec.ContextLength}
		}
	}
	t.KindPriority = map[llm.Kind]int{d.Kind: t.Priority}
	return t
}

// aliasTarget copies t onto host alias h, with maps of its own.
func aliasTarget(t Target, kind llm.Kind, h string) Target {
	a := t
	a.Hints = append([]llm.Kind(nil), t.Hints...)
	a.KindPriority = map[llm.Kind]int{kind: t.Priority}
	if t.KindContext != nil {
		a.KindContext = map[llm.Kind]int{kind: t.KindContext[kind]}
	}
	a.Endpoint = withHost(t.Endpoint, h)
	return a
}

// addOllamaHost adds the address in OLLAMA_HOST unless the user configured
// Ollama's endpoint or disabled it.
func (l *targetList) addOllamaHost(cfg Config) {
	ec, has := cfg.Defaults[llm.KindOllama]
	if has && (!ec.Enabled || ec.Endpoint != "") {
		return
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	ep := ollamaHostEndpoint(getenv("OLLAMA_HOST"))
	if ep == "" {
		return
	}
	prio := 10
	if ec.Priority != 0 {
		prio = ec.Priority
	}
	l.add(Target{Endpoint: ep, Hints: []llm.Kind{llm.KindOllama}, Priority: prio,
		KindPriority: map[llm.Kind]int{llm.KindOllama: prio}, APIKey: ec.APIKey, Timeout: ec.Timeout,
		KindContext: map[llm.Kind]int{llm.KindOllama: ec.ContextLength}})
}

// checkCustom refuses a custom endpoint with a bad address, kind or style.
func checkCustom(i int, c CustomEndpoint) error {
	if _, err := parseEndpoint(c.Endpoint); err != nil {
		return fmt.Errorf("custom endpoint %d (%q): %w", i+1, c.Name, err)
	}
	if c.Kind != "" && !c.Kind.Valid() {
		_, err := llm.ParseKind(string(c.Kind))
		return fmt.Errorf("custom endpoint %q: %w", c.Name, err)
	}
	if c.APIStyle != "" && c.APIStyle != llm.StyleOllama && c.APIStyle != llm.StyleOpenAI {
		return fmt.Errorf("custom endpoint %q: unknown api_style %q: use \"ollama\" or \"openai\"", c.Name, c.APIStyle)
	}
	return nil
}

// Endpoints lists the base URLs Scan would probe, for messages such as
// "nothing found; tried ...".
func Endpoints(cfg Config) []string {
	ts, _ := Targets(cfg)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Endpoint
	}
	return out
}

// ollamaHostEndpoint turns OLLAMA_HOST ("0.0.0.0", ":11500",
// "http://box:11434", "127.0.0.1:8000") into a URL to probe, the way Ollama's
// own client reads it. A wildcard bind address is reached on 127.0.0.1.
func ollamaHostEndpoint(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	scheme := "http"
	if i := strings.Index(v, "://"); i >= 0 {
		scheme, v = v[:i], v[i+3:]
	}
	v = strings.TrimRight(v, "/")
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		host, port = v, "11434"
	}
	if port == "" {
		port = "11434"
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	if scheme != "http" && scheme != "https" {
		return ""
	}
	return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// parseEndpoint checks a configured endpoint and says how to fix it.
func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid URL %q: want http://host:port or https://host:port", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host; want http://host:port", s)
	}
	return u, nil
}

// normalize gives one spelling per endpoint: no trailing slash or "/v1".
func normalize(endpoint string) string {
	return llm.BaseURL(endpoint)
}

func withHost(endpoint, host string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	u.Host = net.JoinHostPort(host, u.Port())
	return u.String()
}

// DetectHostAliases returns the addresses of the machine hosting this one
// when running in WSL or a container, where servers on the host are not on
// 127.0.0.1: the WSL host gateway, and in a container host.docker.internal
// and host.containers.internal when they resolve. Those names are looked up
// only when mayResolve allows it (nil allows none): a name the network
// policy refuses is never sent to DNS.
func DetectHostAliases(mayResolve func(host string) bool) []string {
	hostAliasesOnce.Do(func() { hostAliases, containerNames = detectHostAliases() })
	out := append([]string(nil), hostAliases...)
	for _, name := range containerNames {
		if mayResolve != nil && mayResolve(name) && containerNameResolves(name) {
			out = append(out, name)
		}
	}
	return out
}

var (
	hostAliasesOnce sync.Once
	hostAliases     []string
	// containerNames are the host names a container may resolve; they are
	// looked up on demand, only when the policy allows it.
	containerNames []string
	nameResolves   sync.Map // name -> bool, cached lookups of containerNames
)

// aliasLookupTimeout bounds the check that a container host name exists; on
// a closed network an unknown name must not hold up start-up.
const aliasLookupTimeout = 300 * time.Millisecond

// detectHostAliases finds the WSL host addresses (no lookup: they come from
// the routing table and resolv.conf) and, in a container, the candidate
// host names, without looking them up.
func detectHostAliases() (addrs, names []string) {
	if isWSL() {
		if gw := defaultGateway("/proc/net/route"); gw != "" {
			addrs = append(addrs, gw)
		}
		if ns := resolvConfNameserver("/etc/resolv.conf"); ns != "" && ns != "127.0.0.53" && !contains(addrs, ns) {
			addrs = append(addrs, ns)
		}
	}
	if inContainer() {
		// Docker Desktop and Podman provide these names, plain Docker only
		// with --add-host.
		names = []string{"host.docker.internal", "host.containers.internal"}
	}
	return addrs, names
}

// containerNameResolves looks name up once per process.
func containerNameResolves(name string) bool {
	if v, ok := nameResolves.Load(name); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), aliasLookupTimeout)
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	cancel()
	ok := err == nil && len(addrs) > 0
	nameResolves.Store(name, ok)
	return ok
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func isWSL() bool {
	if os.Getenv("WSL_DISTRO_NAME") != "" || os.Getenv("WSL_INTEROP") != "" {
		return true
	}
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	return err == nil && bytes.Contains(bytes.ToLower(b), []byte("microsoft"))
}

func inContainer() bool {
	for _, f := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// defaultGateway reads the default route's gateway from /proc/net/route
// (little-endian hex), which in WSL2 is the Windows host.
func defaultGateway(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[1] != "00000000" {
			continue
		}
		var gw uint32
		if _, err := fmt.Sscanf(fields[2], "%08X", &gw); err != nil || gw == 0 {
			continue
		}
		return net.IPv4(byte(gw), byte(gw>>8), byte(gw>>16), byte(gw>>24)).String()
	}
	return ""
}

func resolvConfNameserver(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && net.ParseIP(f[1]) != nil {
			return f[1]
		}
	}
	return ""
}
