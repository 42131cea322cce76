package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// customCfg probes only the given endpoints, with no hints from default ports.
func customCfg(eps ...CustomEndpoint) Config {
	return Config{NoDefaults: true, Custom: eps, HostAliases: []string{}, ProbeTimeout: 5 * time.Second}
}

func scan(t *testing.T, cfg Config) []llm.Service {
	t.Helper()
	svcs, err := Scan(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svcs
}

func one(t *testing.T, svcs []llm.Service) llm.Service {
	t.Helper()
	if len(svcs) != 1 {
		t.Fatalf("want 1 service, got %d: %+v", len(svcs), svcs)
	}
	return svcs[0]
}

// inventoryWant is what discovery must report for each double's default model.
var inventoryWant = map[llm.Kind]struct {
	id     string
	ctx    int
	loaded bool
}{
	llm.KindOllama:   {"qwen2.5-coder:7b", 32768, true},          // /api/show, /api/ps
	llm.KindLMStudio: {"qwen2.5-coder-7b-instruct", 32768, true}, // /api/v1/models loaded_instances
	// Servers that report no window get their kind's conservative default.
	llm.KindJan:          {"qwen2.5-coder-7b-instruct", 4096, true}, // lists running models only
	llm.KindOpenWebUI:    {"qwen2.5-coder:7b", 2048, false},
	llm.KindLocalAI:      {"qwen2.5-coder-7b-instruct", 4096, false},
	llm.KindVLLM:         {"Qwen/Qwen2.5-Coder-7B-Instruct", 32768, true}, // max_model_len
	llm.KindLlamaCpp:     {"qwen2.5-coder-7b-instruct-q4_k_m.gguf", 32768, true},
	llm.KindKoboldCpp:    {"koboldcpp/qwen2.5-coder-7b-instruct-q4_k_m", 32768, true}, // true_max_context_length
	llm.KindGPT4All:      {"Qwen2.5-Coder-7B-Instruct", 2048, false},
	llm.KindTextGenWebUI: {"Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf", 4096, true},
	llm.KindTGI:          {"Qwen/Qwen2.5-Coder-7B-Instruct", 32767, true}, // max_input_tokens
	llm.KindSGLang:       {"Qwen/Qwen2.5-Coder-7B-Instruct", 32768, true},
	llm.KindOpenAI:       {"qwen2.5-coder-7b-instruct", 0, false},
}

func TestFingerprintAndInventoryAllKinds(t *testing.T) {
	for _, kind := range llm.AllKinds() {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{})
			defer srv.Close()
			svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL + "/"})))
			if svc.Kind != kind {
				t.Fatalf("identified as %q, want %q", svc.Kind, kind)
			}
			if svc.Status != llm.StatusOnline || svc.Error != "" {
				t.Fatalf("status %s: %s", svc.Status, svc.Error)
			}
			if svc.Endpoint != srv.URL || svc.Name != kind.DisplayName() || svc.APIStyle != kind.DefaultStyle() {
				t.Fatalf("service fields: %+v", svc)
			}
			if len(svc.Models) != 1 {
				t.Fatalf("models: %+v", svc.Models)
			}
			m, want := svc.Models[0], inventoryWant[kind]
			if m.ID != want.id || m.ContextLength != want.ctx || m.Loaded != want.loaded || !m.Chat {
				t.Fatalf("model = %+v, want id=%s ctx=%d loaded=%v chat", m, want.id, want.ctx, want.loaded)
			}
			if m.Family == "" || m.ParamsB < 7 || m.ParamsB > 8 {
				t.Fatalf("family/size not filled: %+v", m)
			}
		})
	}
}

func TestOllamaInventoryDetails(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{
		{ID: "qwen2.5-coder:7b", Family: "qwen2", ParameterSize: "7.6B", Quantization: "Q4_K_M", ContextLength: 32768, Loaded: true, Digest: "abc123"},
		{ID: "llama3.1:70b", Family: "llama", ParameterSize: "70.6B", Quantization: "Q4_0", ContextLength: 131072},
		{ID: "nomic-embed-text:latest", Family: "nomic-bert", ParameterSize: "137M", Quantization: "F16", ContextLength: 2048, Embedding: true},
	}})
	defer srv.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if svc.Version != "0.12.6" {
		t.Errorf("version %q", svc.Version)
	}
	got := map[string]llm.Model{}
	for _, m := range svc.Models {
		got[m.ID] = m
	}
	q := got["qwen2.5-coder:7b"]
	if q.Family != "qwen2" || q.ParameterSize != "7.6B" || q.Quantization != "Q4_K_M" || q.Digest != "abc123" ||
		!q.Loaded || !q.Chat || q.ContextLength != 32768 || q.ParamsB < 7.5 || q.ParamsB > 7.7 {
		t.Errorf("qwen: %+v", q)
	}
	if l := got["llama3.1:70b"]; l.Loaded || l.ContextLength != 131072 || !l.Chat {
		t.Errorf("llama: %+v", l)
	}
	if e := got["nomic-embed-text:latest"]; e.Chat || e.ContextLength != 2048 {
		t.Errorf("embedding model: %+v", e)
	}
}

func TestLMStudioEmbeddingAndState(t *testing.T) {
	srv := llmtest.New(llm.KindLMStudio, llmtest.Options{Models: []llmtest.Model{
		{ID: "qwen2.5-coder-14b-instruct", Family: "qwen2", Quantization: "Q4_K_M", ContextLength: 32768},
		{ID: "text-embedding-nomic-embed-text-v1.5", Family: "nomic-bert", ContextLength: 2048, Embedding: true, Loaded: true},
	}})
	defer srv.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if m := svc.Models[0]; m.Loaded || !m.Chat || m.ParameterSize != "14B" || m.Quantization != "Q4_K_M" {
		t.Errorf("llm: %+v", m)
	}
	if m := svc.Models[1]; !m.Loaded || m.Chat {
		t.Errorf("embeddings: %+v", m)
	}
}

func TestOllamaImitatorsAreNotOllama(t *testing.T) {
	// Every kind, imitating as much of Ollama as the double can (GET / says
	// "Ollama is running", /api/version and /api/tags answer). Jan and a
	// generic server are left out: with "/" taken they have no other
	// fingerprint, and neither imitates Ollama in reality.
	for _, kind := range llm.AllKinds() {
		if kind == llm.KindOllama || kind == llm.KindJan || kind == llm.KindOpenAI {
			continue
		}
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{ImitateOllama: true})
			defer srv.Close()
			// Configured as if it were Ollama's default endpoint: the hint says
			// Ollama, the fingerprint must win.
			cfg := Config{HostAliases: []string{}, Defaults: map[llm.Kind]EndpointConfig{}}
			for _, k := range llm.AllKinds() {
				cfg.Defaults[k] = EndpointConfig{Enabled: false}
			}
			cfg.Defaults[llm.KindOllama] = EndpointConfig{Enabled: true, Endpoint: srv.URL}
			// Sanity: the imitation is there.
			resp, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if b.String() != "Ollama is running" {
				t.Fatalf("double does not imitate: %q", b.String())
			}
			svc := one(t, scan(t, cfg))
			if svc.Kind != kind || svc.APIStyle != llm.StyleOpenAI {
				t.Fatalf("%s imitating Ollama identified as %s (%s)", kind, svc.Kind, svc.APIStyle)
			}
		})
	}
}

func TestSamePortDifferentHosts(t *testing.T) {
	// Port 8080 is shared by llama.cpp, LocalAI and Open WebUI; 3000 by TGI
	// and Open WebUI. The same port number on two hosts holds two kinds.
	for _, pair := range [][2]llm.Kind{
		{llm.KindLlamaCpp, llm.KindLocalAI}, {llm.KindLocalAI, llm.KindOpenWebUI},
		{llm.KindOpenWebUI, llm.KindLlamaCpp}, {llm.KindTGI, llm.KindOpenWebUI},
	} {
		t.Run(string(pair[0])+"+"+string(pair[1]), func(t *testing.T) {
			a := llmtest.New(pair[0], llmtest.Options{})
			defer a.Close()
			_, port, _ := net.SplitHostPort(a.Addr())
			b, err := llmtest.Start(pair[1], llmtest.Options{Addr: "127.0.0.2:" + port})
			if err != nil {
				t.Skipf("127.0.0.2 not usable here: %v", err)
			}
			defer b.Close()
			svcs := scan(t, customCfg(CustomEndpoint{Endpoint: a.URL}, CustomEndpoint{Endpoint: b.URL}))
			if len(svcs) != 2 {
				t.Fatalf("want 2 services, got %+v", svcs)
			}
			kinds := map[string]llm.Kind{}
			for _, s := range svcs {
				kinds[s.Endpoint] = s.Kind
			}
			if kinds["http://127.0.0.1:"+port] != pair[0] || kinds["http://127.0.0.2:"+port] != pair[1] {
				t.Fatalf("kinds by endpoint: %v", kinds)
			}
		})
	}
}

func TestSeveralServersOfOneKindAreSeparate(t *testing.T) {
	var eps []CustomEndpoint
	for i := 0; i < 3; i++ {
		srv := llmtest.New(llm.KindVLLM, llmtest.Options{})
		defer srv.Close()
		eps = append(eps, CustomEndpoint{Endpoint: srv.URL, Priority: i})
	}
	svcs := scan(t, customCfg(eps...))
	if len(svcs) != 3 {
		t.Fatalf("want 3, got %d", len(svcs))
	}
	names := map[string]bool{}
	for _, s := range svcs {
		if s.Kind != llm.KindVLLM || !strings.HasPrefix(s.Name, "vLLM (127.0.0.1:") {
			t.Errorf("service %+v", s)
		}
		names[s.Name] = true
	}
	if len(names) != 3 || svcs[0].Priority != 0 || svcs[2].Priority != 2 {
		t.Fatalf("names not unique or not sorted by priority: %+v", svcs)
	}
}

func TestPriorityFollowsIdentifiedKind(t *testing.T) {
	// Port 8080's target carries llama.cpp's, LocalAI's and Open WebUI's
	// priorities; the kind that answers decides.
	srv := llmtest.New(llm.KindOpenWebUI, llmtest.Options{})
	defer srv.Close()
	ts := []Target{{Endpoint: srv.URL, Hints: []llm.Kind{llm.KindLlamaCpp, llm.KindOpenWebUI}, Priority: 20,
		KindPriority: map[llm.Kind]int{llm.KindLlamaCpp: 20, llm.KindOpenWebUI: 90}}}
	svcs := scanTargets(context.Background(), customCfg(), ts)
	if len(svcs) != 1 || svcs[0].Kind != llm.KindOpenWebUI || svcs[0].Priority != 90 {
		t.Fatalf("%+v", svcs)
	}
}

func TestDefaultEndpointOverride(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	cfg := Config{HostAliases: []string{}, Defaults: map[llm.Kind]EndpointConfig{}}
	for _, k := range llm.AllKinds() {
		cfg.Defaults[k] = EndpointConfig{Enabled: false}
	}
	cfg.Defaults[llm.KindOllama] = EndpointConfig{Enabled: true, Endpoint: srv.URL, Priority: 7}
	svc := one(t, scan(t, cfg))
	if svc.Kind != llm.KindOllama || svc.Priority != 7 || svc.Custom {
		t.Fatalf("%+v", svc)
	}
}

func TestAuthRequired(t *testing.T) {
	for _, kind := range []llm.Kind{llm.KindOpenWebUI, llm.KindVLLM, llm.KindJan, llm.KindLMStudio, llm.KindKoboldCpp} {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{APIKey: "k"})
			defer srv.Close()
			svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
			if svc.Kind != kind || svc.Status != llm.StatusAuthRequired || !strings.Contains(svc.Error, "API key") {
				t.Fatalf("without key: %+v", svc)
			}
			svc = one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL, APIKey: "k"})))
			if svc.Status != llm.StatusOnline || len(svc.Models) != 1 {
				t.Fatalf("with key: %+v", svc)
			}
		})
	}
}

func TestLoadingServer(t *testing.T) {
	for _, kind := range []llm.Kind{llm.KindLlamaCpp, llm.KindLocalAI, llm.KindVLLM, llm.KindTGI, llm.KindSGLang} {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{FailWith: llmtest.FailLoading})
			defer srv.Close()
			svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
			if svc.Kind != kind || svc.Status != llm.StatusLoading || !strings.Contains(svc.Error, "loading") {
				t.Fatalf("%+v", svc)
			}
			if kind == llm.KindLlamaCpp && svc.Models[0].Loaded {
				t.Fatal("llama.cpp model reported loaded while loading")
			}
		})
	}
}

func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// blackHole accepts connections and never answers.
func blackHole(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				close(done)
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return "http://" + l.Addr().String()
}

func TestUnreachableCustomEndpoints(t *testing.T) {
	notLLM := httptest.NewServer(http.NotFoundHandler())
	defer notLLM.Close()
	cfg := customCfg(
		CustomEndpoint{Name: "refused", Endpoint: closedPort(t)},
		CustomEndpoint{Name: "hole", Endpoint: blackHole(t)},
		CustomEndpoint{Name: "web", Endpoint: notLLM.URL},
	)
	cfg.ProbeTimeout = 200 * time.Millisecond
	got := map[string]llm.Service{}
	for _, s := range scan(t, cfg) {
		got[s.Name] = s
	}
	if s := got["refused"]; s.Status != llm.StatusOffline || !strings.Contains(s.Error, "refused") {
		t.Errorf("refused: %+v", s)
	}
	if s := got["hole"]; s.Status != llm.StatusOffline || !strings.Contains(s.Error, "probe timeout") {
		t.Errorf("black hole: %+v", s)
	}
	if s := got["web"]; s.Status != llm.StatusError || !strings.Contains(s.Error, "answered, but it is not an LLM server (HTTP 404 on /v1/models") {
		t.Errorf("not an LLM: %+v", s)
	}
}

func TestDefaultsNotListeningAreOmitted(t *testing.T) {
	cfg := Config{HostAliases: []string{}, Defaults: map[llm.Kind]EndpointConfig{
		llm.KindOllama: {Enabled: true, Endpoint: closedPort(t)}}}
	for _, s := range scan(t, cfg) {
		if s.Status == llm.StatusOffline {
			t.Errorf("offline default reported: %+v", s)
		}
	}
}

func TestTargets(t *testing.T) {
	ts, err := Targets(Config{HostAliases: []string{"host.docker.internal"},
		Custom: []CustomEndpoint{{Name: "mine", Endpoint: "http://127.0.0.1:8000/v1/", Kind: llm.KindVLLM}}})
	if err != nil {
		t.Fatal(err)
	}
	byEP := map[string]Target{}
	for _, tg := range ts {
		if _, dup := byEP[tg.Endpoint]; dup {
			t.Fatalf("endpoint probed twice: %s", tg.Endpoint)
		}
		byEP[tg.Endpoint] = tg
	}
	if h := byEP["http://127.0.0.1:8080"].Hints; len(h) != 3 {
		t.Errorf("8080 hints %v, want llama.cpp, LocalAI and Open WebUI", h)
	}
	for _, ep := range []string{"http://127.0.0.1:9931", "http://127.0.0.1:11434", "http://127.0.0.1:3000",
		"http://host.docker.internal:11434", "http://host.docker.internal:9931"} {
		if _, ok := byEP[ep]; !ok {
			t.Errorf("%s not probed", ep)
		}
	}
	if tg := byEP["http://127.0.0.1:8000"]; !tg.Custom || tg.Name != "mine" {
		t.Errorf("custom entry should replace the default at the same address: %+v", tg)
	}

	for _, bad := range []CustomEndpoint{{Name: "x", Endpoint: "127.0.0.1:8000"}, {Name: "y", Endpoint: "http://"},
		{Name: "z", Endpoint: "http://h:1", Kind: "chatgpt"}, {Name: "w", Endpoint: "http://h:1", APIStyle: "grpc"}} {
		if _, err := Targets(Config{NoDefaults: true, Custom: []CustomEndpoint{bad}}); err == nil ||
			!strings.Contains(err.Error(), bad.Name) {
			t.Errorf("%+v: want an error naming the entry, got %v", bad, err)
		}
	}
	ts, _ = Targets(Config{HostAliases: []string{}, Defaults: map[llm.Kind]EndpointConfig{llm.KindLlamaCpp: {Enabled: true, Endpoint: "http://gpu:8081"}}})
	for _, tg := range ts {
		if tg.Endpoint == "http://127.0.0.1:9931" {
			t.Error("an endpoint override must replace both llama.cpp defaults")
		}
	}
}

func TestOllamaHostEnv(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0": "http://127.0.0.1:11434", ":11500": "http://127.0.0.1:11500", "http://box:11434/": "http://box:11434",
		"127.0.0.1:8000": "http://127.0.0.1:8000", "https://[::1]:9": "https://[::1]:9", "": "", "ftp://x": "",
	} {
		if got := ollamaHostEndpoint(in); got != want {
			t.Errorf("OLLAMA_HOST=%q -> %q, want %q", in, got, want)
		}
	}
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	cfg := Config{HostAliases: []string{}, Defaults: map[llm.Kind]EndpointConfig{},
		Getenv: func(k string) string {
			if k == "OLLAMA_HOST" {
				return strings.TrimPrefix(srv.URL, "http://")
			}
			return ""
		}}
	for _, k := range llm.AllKinds() {
		if k != llm.KindOllama {
			cfg.Defaults[k] = EndpointConfig{Enabled: false}
		}
	}
	// An Ollama on the default port (every developer's machine) is found
	// too; what matters is that OLLAMA_HOST's address is probed as Ollama.
	svcs := scan(t, cfg)
	i := slices.IndexFunc(svcs, func(s llm.Service) bool { return s.Endpoint == srv.URL })
	if i < 0 || svcs[i].Kind != llm.KindOllama {
		t.Fatalf("OLLAMA_HOST's server not found as Ollama: %+v", svcs)
	}
}

func TestHostDetectionHelpers(t *testing.T) {
	dir := t.TempDir()
	route := filepath.Join(dir, "route")
	os.WriteFile(route, []byte("Iface\tDestination\tGateway \tFlags\neth0\t0000FEA9\t00000000\t0001\neth0\t00000000\t0100A8C0\t0003\n"), 0o644)
	if gw := defaultGateway(route); gw != "192.168.0.1" {
		t.Errorf("gateway %q", gw)
	}
	rc := filepath.Join(dir, "resolv.conf")
	os.WriteFile(rc, []byte("# generated by WSL\nnameserver 172.29.64.1\n"), 0o644)
	if ns := resolvConfNameserver(rc); ns != "172.29.64.1" {
		t.Errorf("nameserver %q", ns)
	}
}

func TestCacheServesStaleAndReprobes(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{})
	b := llmtest.New(llm.KindVLLM, llmtest.Options{})
	defer a.Close()
	c, err := NewCache(customCfg(CustomEndpoint{Endpoint: a.URL, Kind: llm.KindOllama}, CustomEndpoint{Endpoint: b.URL}), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	svcs, err := c.Services(ctx)
	if err != nil || len(svcs) != 2 {
		t.Fatalf("%v %+v", err, svcs)
	}
	reqs := a.Requests()
	if _, _ = c.Services(ctx); a.Requests() != reqs {
		t.Fatal("a fresh cache must not probe again")
	}
	// A call to b failed: b went away. Re-probe marks it offline.
	b.Close()
	svc, found := c.Reprobe(ctx, b.URL+"/v1")
	if !found || svc.Status != llm.StatusOffline {
		t.Fatalf("reprobe: %v %+v", found, svc)
	}
	svcs, _ = c.Services(ctx)
	for _, s := range svcs {
		if s.Endpoint == b.URL && s.Status != llm.StatusOffline {
			t.Fatalf("cache still offers the dead service: %+v", s)
		}
	}
	// Stale: the old answer comes at once and a background scan refreshes.
	c.mu.Lock()
	c.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	c.mu.Unlock()
	if svcs, _ := c.Services(ctx); len(svcs) != 2 {
		t.Fatalf("stale answer: %+v", svcs)
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	scans := c.scanCount
	c.mu.Unlock()
	if scans < 2 {
		t.Fatalf("scans = %d", scans)
	}
	// Invalidate runs in the background; Close waits for it.
	c.Invalidate(a.URL)
}

func TestWriteJSONShape(t *testing.T) {
	svcs := []llm.Service{{Kind: llm.KindOllama, Name: "Ollama", Endpoint: "http://127.0.0.1:11434", Status: llm.StatusOnline,
		APIStyle: llm.StyleOllama, APIKey: "secret", Models: []llm.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}}},
		{Kind: llm.KindVLLM, Name: "vLLM", Endpoint: "http://gpu:8000", Status: llm.StatusOffline, APIStyle: llm.StyleOpenAI}}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, svcs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "secret") {
		t.Fatal("API key in JSON")
	}
	var doc struct {
		Services []struct {
			Kind, Name, Endpoint, Status, APIStyle string `json:"-"`
			Models                                 []struct {
				ID            string `json:"id"`
				ContextLength int    `json:"context_length"`
				Loaded        *bool  `json:"loaded"`
			} `json:"models"`
		} `json:"services"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var raw map[string][]map[string]any
	json.Unmarshal(buf.Bytes(), &raw)
	first := raw["services"][0]
	for k, v := range map[string]string{"kind": "ollama", "name": "Ollama", "endpoint": "http://127.0.0.1:11434", "status": "online", "api_style": "ollama"} {
		if first[k] != v {
			t.Errorf("%s = %v, want %s", k, first[k], v)
		}
	}
	if m := doc.Services[0].Models[0]; m.ID != "qwen2.5-coder:7b" || m.ContextLength != 32768 || m.Loaded == nil || *m.Loaded {
		t.Errorf("model %+v", m)
	}
	if raw["services"][1]["models"] == nil {
		t.Error("models must be [] not null")
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	WriteText(&buf, nil, nil)
	out := buf.String()
	for _, want := range []string{"No local LLM service found", "11434", "9931", "8080", "ollama serve", "llama-server"} {
		if !strings.Contains(out, want) {
			t.Errorf("hint lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	WriteText(&buf, []llm.Service{{Kind: llm.KindLlamaCpp, Name: "llama.cpp", Endpoint: "http://127.0.0.1:8080",
		Status: llm.StatusOnline, APIStyle: llm.StyleOpenAI, Models: []llm.Model{{ID: "m.gguf", ContextLength: 4096, Loaded: true, Chat: true}}}}, nil)
	if s := buf.String(); !strings.Contains(s, "llama.cpp") || !strings.Contains(s, "m.gguf") || !strings.Contains(s, "ctx 4096") ||
		!strings.Contains(s, "loaded") {
		t.Errorf("text:\n%s", s)
	}
	fmt.Fprint(&buf)
}

func TestCacheBackgroundRefresh(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{})
	defer srv.Close()
	c, err := NewCache(customCfg(CustomEndpoint{Endpoint: srv.URL}), 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c.StartBackground()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		n := c.scanCount
		c.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no background refresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	if _, err := NewCache(Config{Custom: []CustomEndpoint{{Name: "bad", Endpoint: "ftp://x"}}}, 0); err == nil ||
		!strings.Contains(err.Error(), "http://host:port") {
		t.Fatalf("bad config: %v", err)
	}
}

func TestHostHeaderCheckIsExplained(t *testing.T) {
	for _, kind := range []llm.Kind{llm.KindJan, llm.KindTextGenWebUI} {
		t.Run(string(kind), func(t *testing.T) {
			srv := llmtest.New(kind, llmtest.Options{})
			defer srv.Close()
			// Reach the double under a non-loopback name, as through a host alias.
			hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, srv.Addr())
			}}}
			cfg := customCfg(CustomEndpoint{Endpoint: "http://llm-box.example:1337"})
			cfg.HTTPClient = hc
			svc := one(t, scan(t, cfg))
			if svc.Kind != kind || svc.Status != llm.StatusError || !strings.Contains(svc.Error, "trusted hosts") {
				t.Fatalf("%+v", svc)
			}
		})
	}
}

func TestCacheInvalidateReprobesInBackground(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{})
	c, err := NewCache(customCfg(CustomEndpoint{Name: "a", Endpoint: a.URL}), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if svcs, _ := c.Services(context.Background()); len(svcs) != 1 || svcs[0].Status != llm.StatusOnline {
		t.Fatalf("%+v", svcs)
	}
	a.Close() // a call to it fails: the caller invalidates
	c.Invalidate(a.URL)
	deadline := time.Now().Add(10 * time.Second)
	for {
		svcs, _ := c.Services(context.Background())
		if len(svcs) == 1 && svcs[0].Status == llm.StatusOffline {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry not re-probed: %+v", svcs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
