package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/sourcegraph/conc"

	"github.com/lsp-router/lsp-router/router/llm"
)

// response is what one probe GET saw.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

func (r response) ok() bool { return r.Err == nil && r.Status == http.StatusOK }

func (r response) json(v any) bool {
	return r.ok() && json.Unmarshal(r.Body, v) == nil
}

// maxProbeBody bounds what is read from any probe answer.
const maxProbeBody = 1 << 20

func get(ctx context.Context, hc *http.Client, base, path, key string) response {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return response{Err: err}
	}
	req.Header.Set("Accept", "application/json, text/plain, */*")
	return do(hc, req, key)
}

func post(ctx context.Context, hc *http.Client, base, path, key string, in any) response {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return response{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	return do(hc, req, key)
}

// do sends a probe with the service's key and reads a bounded answer.
func do(hc *http.Client, req *http.Request, key string) response {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return response{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body, Err: err}
}

// fingerprintPaths are fetched concurrently once "/" has answered. Each is
// the strongest signal of one server (see identify).
var fingerprintPaths = []string{
	"/.well-known/localai.json", "/api/extra/version", "/info", "/v1/internal/health",
	"/get_model_info", "/health", "/api/version", "/api/v0/models", "/api/v1/models",
	"/v1/models", "/props", "/version", "/readyz",
}

// answers is the set of answers one endpoint gave to the probe paths.
type answers map[string]response

// fingerprint fetches "/" and, if anything answered, all fingerprint paths.
// ok is false when nothing is listening.
func fingerprint(ctx context.Context, hc *http.Client, base, key string) (answers, error) {
	root := get(ctx, hc, base, "/", key)
	if root.Err != nil {
		return nil, root.Err
	}
	fp := answers{"/": root}
	var mu sync.Mutex
	var wg conc.WaitGroup
	for _, p := range fingerprintPaths {
		wg.Go(func() {
			r := get(ctx, hc, base, p, key)
			mu.Lock()
			fp[p] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return fp, nil
}

func (fp answers) header(name string) string {
	for _, r := range fp {
		if r.Header != nil {
			if v := r.Header.Get(name); v != "" {
				return v
			}
		}
	}
	return ""
}

// ownedBy returns /v1/models' first owned_by value.
func (fp answers) ownedBy() string {
	var m struct {
		Data []struct {
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if fp["/v1/models"].json(&m) && len(m.Data) > 0 {
		return m.Data[0].OwnedBy
	}
	return ""
}

// identify decides the kind from the strongest signal first: the first
// fingerprint in the table that matches names it. Ollama is concluded only
// from its own pair of signals when no other server's fingerprint matched,
// because llama.cpp, LocalAI and KoboldCpp imitate its routes. A plain
// OpenAI-compatible /v1/models comes last. ok is false when nothing looked
// like an LLM server.
func identify(fp answers, hints []llm.Kind) (llm.Kind, bool) {
	for _, f := range fingerprints {
		if f.match(fp) {
			return f.kind, true
		}
	}
	if openAICompatible(fp) {
		// The default port's kind if only one kind lives there, else generic.
		if len(hints) == 1 {
			return hints[0], true
		}
		return llm.KindOpenAI, true
	}
	return "", false
}

// versionAnswer is /api/version or /version: Ollama's and vLLM's version,
// Open WebUI's deployment id. Both fields are decoded wherever one is
// checked, so a mistyped other field fails the match as it always has.
type versionAnswer struct {
	Version      string `json:"version"`
	DeploymentID string `json:"deployment_id"`
}

// fingerprintRule is one server's signal in the probe answers.
type fingerprintRule struct {
	kind  llm.Kind
	match func(fp answers) bool
}

// fingerprints are tried in order; the order is part of the rules (see the
// comment on each and identify).
var fingerprints = []fingerprintRule{
	// Jan first: it runs llama-server behind its own proxy, so answers it
	// passes through carry "Server: llama.cpp". Its own root page (Swagger)
	// and its plain-text Host header refusal are Jan's alone.
	{llm.KindJan, janRoot},
	{llm.KindLlamaCpp, func(fp answers) bool { return strings.HasPrefix(fp.header("Server"), "llama.cpp") }},
	{llm.KindKoboldCpp, koboldCpp},
	{llm.KindLocalAI, localAI},
	{llm.KindTGI, func(fp answers) bool {
		var info struct {
			Router  string `json:"router"`
			ModelID string `json:"model_id"`
		}
		return fp["/info"].json(&info) && info.Router == "text-generation-router"
	}},
	{llm.KindTextGenWebUI, func(fp answers) bool {
		var st struct {
			Status any `json:"status"`
		}
		return fp["/v1/internal/health"].json(&st) && st.Status == "ok"
	}},
	{llm.KindSGLang, func(fp answers) bool {
		var mi struct {
			ModelPath string `json:"model_path"`
		}
		return fp["/get_model_info"].json(&mi) && mi.ModelPath != ""
	}},
	{llm.KindOpenWebUI, openWebUI},
	{llm.KindLMStudio, lmStudioModels},
	// LM Studio answers unknown routes, / included, with this message and
	// status 200 ("Returning 200 anyway" in its log), even with auth on.
	{llm.KindLMStudio, func(fp answers) bool {
		return bytes.Contains(fp["/"].Body, []byte("Unexpected endpoint or method"))
	}},
	{llm.KindJan, func(fp answers) bool {
		r := fp["/"]
		return r.Status == http.StatusOK && bytes.Contains(r.Body, []byte("<title>API Docs</title>"))
	}},
	{llm.KindLlamaCpp, func(fp answers) bool {
		var props struct {
			DGS map[string]any `json:"default_generation_settings"`
		}
		return fp["/props"].json(&props) && props.DGS != nil
	}},
	{llm.KindVLLM, ownedBy("vllm")},
	{llm.KindSGLang, ownedBy("sglang")},
	{llm.KindLlamaCpp, ownedBy("llamacpp")},
	{llm.KindKoboldCpp, ownedBy("koboldcpp")},
	{llm.KindGPT4All, ownedBy("humanity")},
	// Jan (403, plain text) and text-generation-webui (400, JSON) refuse
	// Host headers that are not loopback names, on every route.
	{llm.KindJan, func(fp answers) bool { return hostRefused(fp) && fp["/"].Status == http.StatusForbidden }},
	{llm.KindTextGenWebUI, hostRefused},
	{llm.KindVLLM, vllmBehindKey},
	{llm.KindOllama, func(fp answers) bool {
		var ver versionAnswer
		r := fp["/"]
		return r.ok() && strings.TrimSpace(string(r.Body)) == "Ollama is running" &&
			fp["/api/version"].json(&ver) && ver.Version != ""
	}},
}

func janRoot(fp answers) bool {
	r := fp["/"]
	if r.Err != nil {
		return false
	}
	return (r.Status == http.StatusOK && bytes.Contains(r.Body, []byte("<title>API Docs</title>"))) ||
		(r.Status == http.StatusForbidden && strings.TrimSpace(string(r.Body)) == "Invalid host header")
}

func koboldCpp(fp answers) bool {
	var kv struct {
		Result string `json:"result"`
	}
	return strings.Contains(fp.header("Server"), "ConcedoLlamaForKoboldServer") ||
		(fp["/api/extra/version"].json(&kv) && kv.Result == "KoboldCpp")
}

func localAI(fp answers) bool {
	var obj map[string]any
	return fp["/.well-known/localai.json"].json(&obj) && len(obj) > 0 && obj["error"] == nil && obj["detail"] == nil
}

func openWebUI(fp answers) bool {
	var st struct {
		Status any `json:"status"`
	}
	var ver versionAnswer
	return (fp["/health"].json(&st) && st.Status == true) ||
		(fp["/api/version"].json(&ver) && ver.DeploymentID != "")
}

func lmStudioModels(fp answers) bool {
	for _, p := range []string{"/api/v0/models", "/api/v1/models"} {
		var lms struct {
			Data   []any `json:"data"`
			Models []any `json:"models"`
		}
		if fp[p].json(&lms) && (lms.Data != nil || lms.Models != nil) {
			return true
		}
	}
	return false
}

// ownedBy matches /v1/models' first owned_by value.
func ownedBy(owner string) func(answers) bool {
	return func(fp answers) bool { return fp.ownedBy() == owner }
}

func hostRefused(fp answers) bool {
	r := fp["/"]
	return r.Err == nil && bytes.Contains(r.Body, []byte("Invalid host header"))
}

// vllmBehindKey: vLLM with --api-key hides /v1/models but not /version
// and /health (200, empty body).
func vllmBehindKey(fp answers) bool {
	var ver versionAnswer
	return fp["/version"].json(&ver) && ver.Version != "" && fp["/health"].ok() && len(bytes.TrimSpace(fp["/health"].Body)) == 0
}

// openAICompatible: /v1/models lists models, or refuses without a key.
func openAICompatible(fp answers) bool {
	r := fp["/v1/models"]
	if r.Err != nil || (r.Status != http.StatusOK && r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden) {
		return false
	}
	var m struct {
		Data []any `json:"data"`
	}
	return r.Status != http.StatusOK || json.Unmarshal(r.Body, &m) == nil && m.Data != nil
}

// notLLM is reported for custom endpoints where something answered that is
// not an LLM server (a wrong port, or a server of another kind): it names
// the address and what /v1/models answered.
func notLLM(base string, fp answers) string {
	addr := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	what := "no known LLM API"
	if r := fp["/v1/models"]; r.Err == nil && r.Status != 0 {
		what = fmt.Sprintf("HTTP %d on /v1/models, no known LLM API", r.Status)
	}
	return fmt.Sprintf("%s answered, but it is not an LLM server (%s): check the port and URL in the config", addr, what)
}

// Probe fingerprints one target and lists its models. found is false when
// nothing listens there (or, for default endpoints, when what listens is not
// an LLM server); custom endpoints are always returned, offline or not, so
// the user sees what became of them.
func Probe(ctx context.Context, cfg Config, t Target) (llm.Service, bool) {
	hc := cfg.httpClient()
	base := normalize(t.Endpoint)
	svc := llm.Service{Endpoint: base, Priority: t.Priority, APIKey: t.APIKey, Custom: t.Custom, Name: t.Name,
		Kind: t.Kind, Models: []llm.Model{}}
	timeout := cfg.probeTimeout()
	if t.Timeout > 0 {
		timeout = t.Timeout
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	fp, err := fingerprint(pctx, hc, base, t.APIKey)
	cancel()
	if err != nil {
		if !t.Custom {
			return svc, false
		}
		if svc.Kind == "" {
			svc.Kind = llm.KindOpenAI
		}
		svc.Status = llm.StatusOffline
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			svc.Error = fmt.Sprintf("no HTTP answer within the probe timeout of %s: something accepts connections there but does not answer (wrong port, or a firewall)", timeout)
		} else {
			svc.Error = fmt.Sprintf("not reachable: %v", unwrapURLError(err))
		}
		finish(&svc, t)
		return svc, true
	}
	if svc.Kind == "" {
		kind, ok := identify(fp, t.Hints)
		if !ok && t.APIStyle == llm.StyleOllama {
			// The user says it speaks Ollama's API (e.g. behind a proxy that
			// hides the fingerprint routes): list it the Ollama way.
			kind, ok = llm.KindOllama, true
		}
		if !ok {
			if !t.Custom {
				return svc, false
			}
			svc.Kind = llm.KindOpenAI
			svc.Status = llm.StatusError
			svc.Error = notLLM(base, fp)
			finish(&svc, t)
			return svc, true
		}
		svc.Kind = kind
		if p, ok := t.KindPriority[kind]; ok && !t.Custom {
			svc.Priority = p
		}
	}
	if r := fp["/"]; bytes.Contains(r.Body, []byte("Invalid host header")) {
		svc.Status = llm.StatusError
		svc.Error = fmt.Sprintf("%s refuses the host name in %s (Host header check): use 127.0.0.1 or localhost, or add the name to the server's trusted hosts", svc.Kind.DisplayName(), base)
		finish(&svc, t)
		return svc, true
	}
	ictx, cancel := context.WithTimeout(ctx, cfg.inventoryTimeout())
	defer cancel()
	inventory(ictx, hc, &svc, fp)
	applyWindow(&svc, t)
	finish(&svc, t)
	return svc, true
}

// applyWindow settles each model's window: the configured context_length
// wins (the user knows what the server runs with); else kinds that report
// no usable window get their conservative default, so prompts are not
// sized to a catalog's trained context the server never loads.
func applyWindow(svc *llm.Service, t Target) {
	override := t.KindContext[svc.Kind]
	if t.Custom || override <= 0 {
		override = max(t.ContextLength, 0)
	}
	def := svc.Kind.DefaultContext()
	for i := range svc.Models {
		m := &svc.Models[i]
		switch {
		case override > 0:
			m.ContextLength = override
			if m.LoadedContext > override {
				m.LoadedContext = override
			}
		case svc.Kind.ReportsNoWindow() && def > 0:
			m.ContextLength = def
		}
	}
}

func finish(svc *llm.Service, t Target) {
	if svc.Name == "" {
		svc.Name = svc.Kind.DisplayName()
	}
	svc.APIStyle = t.APIStyle
	if svc.APIStyle == "" {
		svc.APIStyle = svc.Kind.DefaultStyle()
	}
	if svc.Models == nil {
		svc.Models = []llm.Model{}
	}
}

// unwrapURLError drops net/http's "Get \"url\":" prefix, which repeats the
// endpoint the message is already about.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.HasPrefix(err.Error(), "Get ") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
