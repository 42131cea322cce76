package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/sourcegraph/conc/pool"

	"github.com/lsp-router/lsp-router/router/llm"
)

// inventory fills svc's models, status and version for its kind. It reuses
// the fingerprint answers and fetches what else the kind needs.
func inventory(ctx context.Context, hc *http.Client, svc *llm.Service, fp answers) {
	svc.Status = llm.StatusOnline
	var err error
	switch svc.Kind {
	case llm.KindOllama:
		err = ollamaInventory(ctx, hc, svc, fp)
	case llm.KindLMStudio:
		err = lmStudioInventory(svc, fp)
	case llm.KindOpenWebUI:
		err = openWebUIInventory(ctx, hc, svc)
	case llm.KindLlamaCpp:
		err = llamaCppInventory(ctx, hc, svc, fp)
	case llm.KindKoboldCpp:
		err = koboldInventory(ctx, hc, svc, fp)
	case llm.KindTextGenWebUI:
		err = textGenInventory(ctx, hc, svc)
	case llm.KindTGI:
		err = tgiInventory(svc, fp)
	default:
		// Jan, LocalAI, vLLM, SGLang, GPT4All, generic: /v1/models.
		err = openAIInventory(svc, fp["/v1/models"])
		if err == nil && svc.Kind == llm.KindSGLang {
			var mi struct {
				IsGeneration *bool `json:"is_generation"`
			}
			if fp["/get_model_info"].json(&mi) && mi.IsGeneration != nil && !*mi.IsGeneration {
				for i := range svc.Models {
					svc.Models[i].Chat = false
				}
			}
		}
	}
	version(svc, fp)
	if err != nil {
		setStatusFromErr(svc, err)
	}
	// Health routes answer 503 while the model loads (LocalAI's /readyz
	// while starting).
	health := map[llm.Kind]string{llm.KindLocalAI: "/readyz", llm.KindVLLM: "/health", llm.KindTGI: "/health",
		llm.KindSGLang: "/health", llm.KindLlamaCpp: "/health"}
	if p, ok := health[svc.Kind]; ok && svc.Status == llm.StatusOnline {
		if r := fp[p]; r.Err == nil && r.Status == http.StatusServiceUnavailable {
			svc.Status = llm.StatusLoading
			svc.Error = "the server is loading its model; it will be usable shortly"
		}
	}
	for i := range svc.Models {
		fillFromID(&svc.Models[i])
	}
}

// statusErr carries an HTTP answer that prevented listing models.
type statusErr struct {
	path   string
	status int
	msg    string
}

func (e *statusErr) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d: %s", e.path, e.status, e.msg)
}

func check(path string, r response) error {
	if r.Err != nil {
		return fmt.Errorf("GET %s: %w", path, unwrapURLError(r.Err))
	}
	if r.Status != http.StatusOK {
		msg := strings.TrimSpace(string(r.Body))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		return &statusErr{path: path, status: r.Status, msg: msg}
	}
	return nil
}

func setStatusFromErr(svc *llm.Service, err error) {
	se, ok := err.(*statusErr)
	switch {
	case ok && (se.status == http.StatusUnauthorized || se.status == http.StatusForbidden):
		svc.Status = llm.StatusAuthRequired
		if svc.APIKey == "" {
			svc.Error = "the server wants an API key: set one for this service (api key env var or key file)"
		} else {
			svc.Error = "the server refused the configured API key"
		}
	case ok && se.status == http.StatusServiceUnavailable:
		svc.Status = llm.StatusLoading
		svc.Error = "the server is loading a model; it will be usable shortly"
	default:
		svc.Status = llm.StatusError
		svc.Error = "listing models failed: " + err.Error()
	}
}

func version(svc *llm.Service, fp answers) {
	var v struct {
		Version string `json:"version"`
	}
	var paths []string
	switch svc.Kind {
	case llm.KindOllama, llm.KindOpenWebUI:
		paths = []string{"/api/version"}
	case llm.KindLocalAI, llm.KindVLLM:
		paths = []string{"/version"}
	case llm.KindKoboldCpp:
		paths = []string{"/api/extra/version"}
	case llm.KindTGI:
		paths = []string{"/info"}
	}
	for _, p := range paths {
		if fp[p].json(&v) && v.Version != "" {
			svc.Version = v.Version
			return
		}
	}
}

// fillFromID completes what the server did not say from the model id.
func fillFromID(m *llm.Model) {
	f := llm.ParseModelID(m.ID)
	if m.DisplayName == "" {
		m.DisplayName = m.ID
	}
	if m.Family == "" {
		m.Family = f.Family
	}
	if m.ParameterSize == "" {
		m.ParameterSize = f.ParameterSize
	}
	if m.ParamsB == 0 {
		if m.ParameterSize != "" {
			m.ParamsB = llm.ParseParameterSize(m.ParameterSize)
		} else {
			m.ParamsB = f.ParamsB
		}
	}
	if m.Quantization == "" {
		m.Quantization = f.Quantization
	}
}

// --- Ollama ---

type ollamaDetails struct {
	Family            string `json:"family"`
	ParameterSize     string `json:"parameter_size"`
	QuantizationLevel string `json:"quantization_level"`
	ContextLength     int    `json:"context_length"`
}

// ollamaTag is one /api/tags entry (ListModelResponse in Ollama's
// api/types.go). RemoteModel and RemoteHost are set for cloud models.
type ollamaTag struct {
	Name        string        `json:"name"`
	Model       string        `json:"model"`
	RemoteModel string        `json:"remote_model"`
	RemoteHost  string        `json:"remote_host"`
	Digest      string        `json:"digest"`
	Details     ollamaDetails `json:"details"`
}

// maxReasonHost bounds the server-supplied host quoted in a reason.
const maxReasonHost = 200

// ollamaExternal tells whether Ollama runs a listed model elsewhere, and
// where. A remote_host or remote_model field says so; so does a tag ending
// in "cloud" (":cloud", "-cloud"), which Ollama sends to its cloud whatever
// the listing says (parseSourceSuffix in Ollama's internal/modelref).
func ollamaExternal(id, remoteModel, remoteHost string) (bool, string) {
	remoteHost = strings.TrimSpace(remoteHost)
	switch {
	case remoteHost != "":
		if len(remoteHost) > maxReasonHost {
			remoteHost = remoteHost[:maxReasonHost] + "..."
		}
		return true, fmt.Sprintf("runs on %s through Ollama", strings.ToValidUTF8(remoteHost, "?"))
	case remoteModel != "":
		return true, "runs on a remote host through Ollama (remote model " + truncateID(remoteModel) + ")"
	case ollamaCloudTag(id):
		return true, "runs on Ollama's cloud through Ollama (the tag ends in \"cloud\")"
	}
	return false, ""
}

func truncateID(s string) string {
	if len(s) > maxReasonHost {
		return strings.ToValidUTF8(s[:maxReasonHost], "?") + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// ollamaCloudTag reports a model reference Ollama resolves to its cloud:
// the part after the last ':' is "cloud" or ends in "-cloud".
func ollamaCloudTag(id string) bool {
	i := strings.LastIndex(id, ":")
	if i < 0 {
		return false
	}
	tag := strings.ToLower(strings.TrimSpace(id[i+1:]))
	return tag == "cloud" || (!strings.Contains(tag, "/") && strings.HasSuffix(tag, "-cloud"))
}

func ollamaInventory(ctx context.Context, hc *http.Client, svc *llm.Service, fp answers) error {
	var tags struct {
		Models []ollamaTag `json:"models"`
	}
	var ps struct {
		Models []struct {
			Name          string `json:"name"`
			Model         string `json:"model"`
			ContextLength int    `json:"context_length"`
		} `json:"models"`
	}
	var rt, rp response
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); rt = get(ctx, hc, svc.Endpoint, "/api/tags", svc.APIKey) }()
	go func() { defer wg.Done(); rp = get(ctx, hc, svc.Endpoint, "/api/ps", svc.APIKey) }()
	wg.Wait()
	if err := check("/api/tags", rt); err != nil {
		return err
	}
	if err := json.Unmarshal(rt.Body, &tags); err != nil {
		return fmt.Errorf("GET /api/tags: malformed answer: %w", err)
	}
	// /api/ps lists the loaded models with the window each was loaded with
	// (ProcessModelResponse.context_length in Ollama's api/types.go).
	loaded := map[string]int{}
	if rp.json(&ps) {
		for _, m := range ps.Models {
			loaded[m.Name] = max(m.ContextLength, 0)
			loaded[m.Model] = max(m.ContextLength, 0)
		}
	}
	svc.Models = make([]llm.Model, len(tags.Models))
	// /api/show per model gives the real context length and capabilities;
	// a few at a time so a big library does not flood the server.
	p := pool.New().WithMaxGoroutines(4)
	for i, t := range tags.Models {
		id := t.Name
		if id == "" {
			id = t.Model
		}
		m := llm.Model{ID: id, DisplayName: id, Family: t.Details.Family, ParameterSize: t.Details.ParameterSize,
			ParamsB: llm.ParseParameterSize(t.Details.ParameterSize), Quantization: t.Details.QuantizationLevel,
			ContextLength: t.Details.ContextLength, Chat: !llm.ParseModelID(id).Embedding, Digest: t.Digest}
		m.LoadedContext, m.Loaded = loaded[id]
		m.External, m.ExternalReason = ollamaExternal(id, t.RemoteModel, t.RemoteHost)
		svc.Models[i] = m
		if m.External {
			// Ollama answers /api/show for a cloud model by asking its
			// cloud: discovery must not cause that traffic.
			continue
		}
		p.Go(func() { ollamaShow(ctx, hc, svc.Endpoint, svc.APIKey, &svc.Models[i]) })
	}
	p.Wait()
	return nil
}

// ollamaShow reads a model's maximum window and capabilities. The key goes
// on this route too: an Ollama behind an authenticating proxy refuses
// /api/show without it like any other route.
func ollamaShow(ctx context.Context, hc *http.Client, base, key string, m *llm.Model) {
	r := post(ctx, hc, base, "/api/show", key, map[string]string{"model": m.ID})
	var show struct {
		ModelInfo    map[string]any `json:"model_info"`
		Capabilities []string       `json:"capabilities"`
		RemoteModel  string         `json:"remote_model"`
		RemoteHost   string         `json:"remote_host"`
	}
	if !r.json(&show) {
		return
	}
	if ext, why := ollamaExternal(m.ID, show.RemoteModel, show.RemoteHost); ext {
		m.External, m.ExternalReason = true, why
	}
	arch, _ := show.ModelInfo["general.architecture"].(string)
	if v, ok := show.ModelInfo[arch+".context_length"].(float64); ok && v > 0 {
		m.ContextLength = int(v)
	}
	if v, ok := show.ModelInfo["general.parameter_count"].(float64); ok && v > 0 {
		m.ParamsB = v / 1e9
		if m.ParameterSize == "" {
			m.ParameterSize = llm.FormatParams(v)
		}
	}
	if show.Capabilities != nil {
		m.Chat = false
		for _, c := range show.Capabilities {
			if c == "completion" {
				m.Chat = true
			}
		}
	}
}

// --- LM Studio ---

// lmStudioDefaultWindow is the context length LM Studio loads a model with
// when nothing else says (its "Default Context Length" setting): a model
// loaded on demand by a chat request runs with it, not with its maximum.
const lmStudioDefaultWindow = 4096

// lmStudioInventory prefers /api/v1/models (LM Studio >= 0.4), whose
// loaded_instances[].config.context_length is the window a loaded model runs
// with (lmstudio-ai/docs 1_developer/2_rest/list.md, commit e70f746). The
// older /api/v0/models only gives max_context_length, the model's MAXIMUM
// (docs example: loaded at 4096, maximum 262144), so there a window is
// assumed no larger than LM Studio's default load length.
func lmStudioInventory(svc *llm.Service, fp answers) error {
	var v1 struct {
		Models []struct {
			Key              string `json:"key"`
			DisplayName      string `json:"display_name"`
			Type             string `json:"type"`
			Architecture     string `json:"architecture"`
			ParamsString     string `json:"params_string"`
			MaxContextLength int    `json:"max_context_length"`
			Quantization     any    `json:"quantization"`
			LoadedInstances  []struct {
				ID     string `json:"id"`
				Config struct {
					ContextLength int `json:"context_length"`
				} `json:"config"`
			} `json:"loaded_instances"`
		} `json:"models"`
	}
	if r := fp["/api/v1/models"]; r.json(&v1) && v1.Models != nil {
		for _, d := range v1.Models {
			if d.Key == "" {
				continue
			}
			m := llm.Model{ID: d.Key, DisplayName: d.DisplayName, Family: d.Architecture, ParameterSize: d.ParamsString,
				Loaded: len(d.LoadedInstances) > 0, Chat: d.Type != "embedding" && d.Type != "embeddings"}
			if q, ok := d.Quantization.(string); ok {
				m.Quantization = q
			} else if q, ok := d.Quantization.(map[string]any); ok {
				m.Quantization, _ = q["name"].(string)
			}
			// Several instances may run with different windows; a request
			// may land on any of them, so the smallest counts.
			for _, in := range d.LoadedInstances {
				if c := in.Config.ContextLength; c > 0 && (m.LoadedContext == 0 || c < m.LoadedContext) {
					m.LoadedContext = c
				}
			}
			m.ContextLength = m.LoadedContext
			if m.ContextLength == 0 {
				m.ContextLength = lmStudioWindow(d.MaxContextLength)
			}
			svc.Models = append(svc.Models, m)
		}
		return nil
	}
	var v0 struct {
		Data []struct {
			ID                string `json:"id"`
			Type              string `json:"type"`
			Arch              string `json:"arch"`
			Quantization      string `json:"quantization"`
			State             string `json:"state"`
			MaxContextLength  int    `json:"max_context_length"`
			CompatibilityType string `json:"compatibility_type"`
		} `json:"data"`
	}
	if fp["/api/v0/models"].json(&v0) && v0.Data != nil {
		for _, d := range v0.Data {
			svc.Models = append(svc.Models, llm.Model{ID: d.ID, Family: d.Arch, Quantization: d.Quantization,
				ContextLength: lmStudioWindow(d.MaxContextLength), Loaded: d.State == "loaded", Chat: d.Type != "embeddings"})
		}
		return nil
	}
	if err := check("/api/v0/models", fp["/api/v0/models"]); err != nil {
		return err
	}
	return openAIInventory(svc, fp["/v1/models"])
}

// lmStudioWindow is the window assumed for a model whose loaded window is
// unknown: LM Studio's default load length, or the maximum when smaller.
func lmStudioWindow(maxContext int) int {
	if maxContext > 0 && maxContext < lmStudioDefaultWindow {
		return maxContext
	}
	return lmStudioDefaultWindow
}

// --- OpenAI-compatible /v1/models (Jan, LocalAI, vLLM, SGLang, GPT4All, generic) ---

type openAIModel struct {
	ID               string `json:"id"`
	OwnedBy          string `json:"owned_by"`
	MaxModelLen      int    `json:"max_model_len"`
	ContextLength    int    `json:"context_length"`
	MaxContextLength int    `json:"max_context_length"`
	Meta             *struct {
		NCtx      int     `json:"n_ctx"`
		NCtxTrain int     `json:"n_ctx_train"`
		NParams   float64 `json:"n_params"`
	} `json:"meta"`
}

func openAIInventory(svc *llm.Service, r response) error {
	if err := check("/v1/models", r); err != nil {
		return err
	}
	var list struct {
		Data []openAIModel `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		return fmt.Errorf("GET /v1/models: malformed answer: %w", err)
	}
	for _, d := range list.Data {
		ctx := d.MaxModelLen
		if ctx == 0 {
			ctx = max(d.ContextLength, d.MaxContextLength)
		}
		m := llm.Model{ID: d.ID, ContextLength: ctx, Chat: !llm.ParseModelID(d.ID).Embedding}
		switch svc.Kind {
		case llm.KindVLLM, llm.KindSGLang, llm.KindJan:
			// vLLM and SGLang serve what they loaded; Jan lists running models only.
			m.Loaded = true
		}
		if d.Meta != nil {
			m.ContextLength = d.Meta.NCtx
			m.ParamsB = d.Meta.NParams / 1e9
			m.Loaded = true
		}
		svc.Models = append(svc.Models, m)
	}
	return nil
}

// --- Open WebUI ---

func openWebUIInventory(ctx context.Context, hc *http.Client, svc *llm.Service) error {
	r := get(ctx, hc, svc.Endpoint, "/api/models", svc.APIKey)
	if err := check("/api/models", r); err != nil {
		return err
	}
	var list struct {
		Data []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Ollama *struct {
				Digest      string        `json:"digest"`
				RemoteModel string        `json:"remote_model"`
				RemoteHost  string        `json:"remote_host"`
				Details     ollamaDetails `json:"details"`
			} `json:"ollama"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		return fmt.Errorf("GET /api/models: malformed answer: %w", err)
	}
	for _, d := range list.Data {
		m := llm.Model{ID: d.ID, DisplayName: d.Name, Chat: !llm.ParseModelID(d.ID).Embedding}
		if d.Ollama != nil {
			m.Family = d.Ollama.Details.Family
			m.ParameterSize = d.Ollama.Details.ParameterSize
			m.Quantization = d.Ollama.Details.QuantizationLevel
			m.ContextLength = d.Ollama.Details.ContextLength
			m.Digest = d.Ollama.Digest
			// Open WebUI passes Ollama's /api/tags entry on as is.
			m.External, m.ExternalReason = ollamaExternal(d.ID, d.Ollama.RemoteModel, d.Ollama.RemoteHost)
		}
		svc.Models = append(svc.Models, m)
	}
	return nil
}

// --- llama.cpp ---

func llamaCppInventory(ctx context.Context, hc *http.Client, svc *llm.Service, fp answers) error {
	var role struct {
		Role string `json:"role"`
	}
	if (fp["/props"].json(&role) && role.Role == "router") || llamaRouterList(fp["/v1/models"]) != nil {
		return llamaRouterInventory(ctx, hc, svc, fp)
	}
	if h := fp["/health"]; h.Err == nil && h.Status == http.StatusServiceUnavailable {
		svc.Status = llm.StatusLoading
		svc.Error = "llama-server is loading its model; it will be usable shortly"
	}
	if err := openAIInventory(svc, fp["/v1/models"]); err != nil {
		return err
	}
	var props struct {
		DGS struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
	}
	if fp["/props"].json(&props) && props.DGS.NCtx > 0 {
		for i := range svc.Models {
			if svc.Models[i].ContextLength == 0 {
				svc.Models[i].ContextLength = props.DGS.NCtx
			}
		}
	}
	for i := range svc.Models {
		svc.Models[i].Loaded = svc.Status != llm.StatusLoading
	}
	return nil
}

// llamaRouterModel is one entry of llama-server's model list in router mode
// (several models behind one server): each has a status object, and a
// loaded one also the meta of its own instance (tools/server/README.md
// "Using multiple models", GET /models, ggml-org/llama.cpp commit 00dc805).
type llamaRouterModel struct {
	ID     string `json:"id"`
	Status *struct {
		Value  string   `json:"value"`
		Args   []string `json:"args"`
		Failed bool     `json:"failed"`
	} `json:"status"`
	Meta *struct {
		NCtx    int     `json:"n_ctx"`
		NParams float64 `json:"n_params"`
	} `json:"meta"`
}

// llamaRouterList returns the model list when r is a router-mode listing
// (entries carry a status), else nil.
func llamaRouterList(r response) []llamaRouterModel {
	var list struct {
		Data []llamaRouterModel `json:"data"`
	}
	if !r.json(&list) {
		return nil
	}
	for _, d := range list.Data {
		if d.Status != nil {
			return list.Data
		}
	}
	return nil
}

// maxRouterModels bounds the models read from one router, and so the
// per-model /props requests.
const maxRouterModels = 256

// llamaRouterInventory lists every model of a llama-server in router mode
// with its own status: only "loaded" models are loaded (the others load on
// the first request, which takes time), and each loaded model's window is
// its instance's n_ctx, from the forwarded meta, the instance's -c argument,
// or /props?model=<id>&autoload=false (which never loads a model).
func llamaRouterInventory(ctx context.Context, hc *http.Client, svc *llm.Service, fp answers) error {
	list := llamaRouterList(fp["/v1/models"])
	if list == nil {
		r := get(ctx, hc, svc.Endpoint, "/models", svc.APIKey)
		if err := check("/models", r); err != nil {
			return err
		}
		if list = llamaRouterList(r); list == nil {
			return fmt.Errorf("GET /models: no model list with per-model status in the answer")
		}
	}
	if len(list) > maxRouterModels {
		list = list[:maxRouterModels]
	}
	svc.Models = make([]llm.Model, 0, len(list))
	for _, d := range list {
		if d.ID == "" {
			continue
		}
		m := llm.Model{ID: d.ID, Chat: !llm.ParseModelID(d.ID).Embedding}
		if d.Status != nil {
			m.Loaded = d.Status.Value == "loaded"
			m.ContextLength = ctxFromArgs(d.Status.Args)
		}
		if d.Meta != nil {
			if d.Meta.NCtx > 0 {
				m.ContextLength = d.Meta.NCtx
			}
			m.ParamsB = d.Meta.NParams / 1e9
		}
		svc.Models = append(svc.Models, m)
	}
	p := pool.New().WithMaxGoroutines(4)
	for i := range svc.Models {
		m := &svc.Models[i]
		if !m.Loaded || m.ContextLength > 0 {
			continue
		}
		p.Go(func() {
			var props struct {
				DGS struct {
					NCtx int `json:"n_ctx"`
				} `json:"default_generation_settings"`
			}
			r := get(ctx, hc, svc.Endpoint, "/props?autoload=false&model="+url.QueryEscape(m.ID), svc.APIKey)
			if r.json(&props) && props.DGS.NCtx > 0 {
				m.ContextLength = props.DGS.NCtx
			}
		})
	}
	p.Wait()
	for i := range svc.Models {
		if svc.Models[i].Loaded {
			svc.Models[i].LoadedContext = svc.Models[i].ContextLength
		}
	}
	return nil
}

// ctxFromArgs reads the context size from an instance's command line
// (-c N, --ctx-size N, or -ctx N as the README's examples write it).
func ctxFromArgs(args []string) int {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-c", "--ctx-size", "-ctx":
			if n, err := strconv.Atoi(args[i+1]); err == nil && n > 0 && n <= 1<<24 {
				return n
			}
		}
	}
	return 0
}

// --- KoboldCpp ---

func koboldInventory(ctx context.Context, hc *http.Client, svc *llm.Service, fp answers) error {
	// KoboldCpp started with --password still answers its GET routes (the
	// model name included) and refuses only generation: a service listed
	// online without the key would fail at the first question. Its version
	// answer says "protected" (koboldcpp.py, /api/extra/version).
	var ver struct {
		Protected bool `json:"protected"`
	}
	if fp["/api/extra/version"].json(&ver) && ver.Protected && svc.APIKey == "" {
		svc.Status = llm.StatusAuthRequired
		svc.Error = "KoboldCpp runs with --password: set that password as this service's API key " +
			"(services.koboldcpp.api_key_env or api_key_file, or the custom endpoint's)"
		return nil
	}
	var name struct {
		Result string `json:"result"`
	}
	var n struct {
		Value int `json:"value"`
	}
	rm := get(ctx, hc, svc.Endpoint, "/api/v1/model", svc.APIKey)
	if err := check("/api/v1/model", rm); err != nil {
		return err
	}
	if err := json.Unmarshal(rm.Body, &name); err != nil || name.Result == "" {
		return fmt.Errorf("GET /api/v1/model: malformed answer %q", rm.Body)
	}
	rc := get(ctx, hc, svc.Endpoint, "/api/extra/true_max_context_length", svc.APIKey)
	_ = rc.json(&n)
	svc.Models = []llm.Model{{ID: name.Result, ContextLength: n.Value, Loaded: true, Chat: true}}
	return nil
}

// --- text-generation-webui ---

func textGenInventory(ctx context.Context, hc *http.Client, svc *llm.Service) error {
	r := get(ctx, hc, svc.Endpoint, "/v1/internal/model/info", svc.APIKey)
	if err := check("/v1/internal/model/info", r); err != nil {
		return err
	}
	var info struct {
		ModelName string `json:"model_name"`
		Loader    string `json:"loader"`
	}
	if err := json.Unmarshal(r.Body, &info); err != nil {
		return fmt.Errorf("GET /v1/internal/model/info: malformed answer: %w", err)
	}
	if info.ModelName != "" && info.ModelName != "None" {
		svc.Models = []llm.Model{{ID: info.ModelName, Loaded: true, Chat: true}}
	}
	return nil
}

// --- TGI ---

func tgiInventory(svc *llm.Service, fp answers) error {
	var info struct {
		ModelID        string `json:"model_id"`
		MaxInputTokens int    `json:"max_input_tokens"`
		MaxTotalTokens int    `json:"max_total_tokens"`
	}
	if err := check("/info", fp["/info"]); err != nil {
		return err
	}
	if err := json.Unmarshal(fp["/info"].Body, &info); err != nil {
		return fmt.Errorf("GET /info: malformed answer: %w", err)
	}
	ctxLen := info.MaxInputTokens
	if ctxLen == 0 {
		ctxLen = info.MaxTotalTokens
	}
	svc.Models = []llm.Model{{ID: info.ModelID, ContextLength: ctxLen, Loaded: true, Chat: true}}
	return nil
}
