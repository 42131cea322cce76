package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/gateway"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// BenchmarkChatAuto is one non-streamed `model: auto` chat through the
// gateway's handler and the engine to the double (two loopback HTTP hops),
// without the audit log; tools/bench measures the binary.
func BenchmarkChatAuto(b *testing.B) {
	d := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words.", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768, Loaded: true}}})
	defer d.Close()
	hs, _ := setup(b, gateway.Options{MaxConcurrentPerKey: 1000}, func(dp *router.Deps) { dp.Audit = nil }, service(d, "Ollama"))
	body := `{"model":"auto","messages":[{"role":"system","content":"You are a coding agent."},{"role":"user","content":"write a function that reverses the words of a string"}]}`
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Post(hs.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}
