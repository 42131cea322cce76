package discovery

import (
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func TestOllamaCloudModelIsExternal(t *testing.T) {
	local := llmtest.DefaultModel(llm.KindOllama)
	cloud := llmtest.OllamaCloudModel()
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{local, cloud}})
	defer srv.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	got := map[string]llm.Model{}
	for _, m := range svc.Models {
		got[m.ID] = m
	}
	c, ok := got[cloud.ID]
	if !ok || !c.External || c.ExternalReason != "runs on https://ollama.invalid:443 through Ollama" {
		t.Fatalf("cloud model not marked external with its host: %+v", c)
	}
	if l := got[local.ID]; l.External || l.ExternalReason != "" || l.ContextLength != 32768 {
		t.Errorf("local model: %+v", l)
	}
	// Ollama answers /api/show for a cloud model by asking its cloud: only
	// the local model may be shown.
	shows := 0
	for _, p := range srv.Paths() {
		if p == "POST /api/show" {
			shows++
		}
	}
	if shows != 1 {
		t.Errorf("%d /api/show requests, want 1 (none for the cloud model): %v", shows, srv.Paths())
	}
	var b strings.Builder
	if err := WriteJSON(&b, []llm.Service{svc}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"external": true`) || !strings.Contains(b.String(), `"external_reason": "runs on https://ollama.invalid:443 through Ollama"`) {
		t.Errorf("discover --json lacks the external flag and reason:\n%s", b.String())
	}
	if strings.Count(b.String(), `"external"`) != 1 {
		t.Errorf("only the cloud model is external:\n%s", b.String())
	}
	b.Reset()
	_ = WriteText(&b, []llm.Service{svc}, nil)
	if !strings.Contains(b.String(), "EXTERNAL: runs on https://ollama.invalid:443 through Ollama") {
		t.Errorf("text output: %s", b.String())
	}
}

func TestOllamaExternalSignals(t *testing.T) {
	cases := []struct {
		id, remoteModel, remoteHost string
		external                    bool
		reason                      string
	}{
		{"qwen2.5-coder:7b", "", "", false, ""},
		{"llama3.2:latest", "", "", false, ""},
		{"registry.lab.internal:5000/coder", "", "", false, ""},
		{"my-cloud-notes:7b", "", "", false, ""},
		{"gpt-oss:120b-cloud", "gpt-oss:120b", "https://ollama.invalid:443", true, "runs on https://ollama.invalid:443 through Ollama"},
		{"renamed:latest", "", "https://203.0.113.7:443", true, "runs on https://203.0.113.7:443 through Ollama"},
		{"renamed:latest", "deepseek-v3.1:671b", "", true, "remote model deepseek-v3.1:671b"},
		// Ollama sends these tags to its cloud even without remote fields.
		{"gpt-oss:120b-cloud", "", "", true, "Ollama's cloud"},
		{"gpt-oss:20b:cloud", "", "", true, "Ollama's cloud"},
		{"qwen3-coder:480B-Cloud", "", "", true, "Ollama's cloud"},
		{"x:y", "", strings.Repeat("h", 5000), true, "..."},
	}
	for _, c := range cases {
		ext, why := ollamaExternal(c.id, c.remoteModel, c.remoteHost)
		if ext != c.external || !strings.Contains(why, c.reason) || len(why) > 400 {
			t.Errorf("ollamaExternal(%q, %q, %q) = %v, %q", c.id, c.remoteModel, c.remoteHost, ext, why)
		}
	}
}

func TestOpenWebUIPassesOllamaCloudModelOn(t *testing.T) {
	// Open WebUI's /api/models embeds Ollama's /api/tags entry under "ollama".
	srv := llmtest.New(llm.KindOpenWebUI, llmtest.Options{Models: []llmtest.Model{{ID: "gpt-oss:120b-cloud", Family: "gptoss"}}})
	defer srv.Close()
	svc := one(t, scan(t, customCfg(CustomEndpoint{Endpoint: srv.URL})))
	if len(svc.Models) != 1 || !svc.Models[0].External {
		t.Fatalf("%+v", svc.Models)
	}
}

func TestContainerHostNamesNeedThePolicy(t *testing.T) {
	asked := []string{}
	deny := func(h string) bool { asked = append(asked, h); return false }
	for _, got := range [][]string{DetectHostAliases(nil), DetectHostAliases(deny)} {
		for _, h := range got {
			if strings.Contains(h, "internal") {
				t.Errorf("host name %q probed although the policy refuses it", h)
			}
		}
	}
	if inContainer() && len(asked) != 2 {
		t.Errorf("policy asked about %v, want both container host names", asked)
	}
}
