package router_test

import (
	"context"
	"github.com/lsp-router/lsp-router/security/audit"
	"strings"
	"sync"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// recordingClient records what the engine hands to an LLM client.
type recordingClient struct {
	mu     *sync.Mutex
	chats  *[]llm.ChatRequest
	counts *[]string
	reply  string
}

func (c recordingClient) Chat(_ context.Context, req llm.ChatRequest, onDelta func(string) error) (llm.Usage, error) {
	c.mu.Lock()
	*c.chats = append(*c.chats, req)
	c.mu.Unlock()
	return llm.Usage{PromptTokens: 10, CompletionTokens: 3}, onDelta(c.reply)
}

func (c recordingClient) CountTokens(_ context.Context, _, text string) (int, bool, error) {
	c.mu.Lock()
	*c.counts = append(*c.counts, text)
	c.mu.Unlock()
	return len(strings.Fields(text)), true, nil
}

var pat = "gl" + "pat-" + "x9Kd2mZq7Lw3Rt8Yv1Bn"

const secretSource = "package main\n\nfunc connect() string {\n\treturn \"postgres://app:S3cr3t-pa55@db.lab.internal:5432/app?token=%s\"\n}\n"

func TestEveryClientCallIsRedacted(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		var mu sync.Mutex
		var chats []llm.ChatRequest
		var counts []string
		srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{})
		defer srv.Close()
		svcs := &fixedServices{services: []llm.Service{serviceOf(srv, "llama.cpp", 1)}}
		mem := &memAudit{}
		p := newPipeline(t, svcs, func(d *router.Deps) {
			d.NewClient = func(llm.Service) llm.Client {
				return recordingClient{mu: &mu, chats: &chats, counts: &counts, reply: "It connects."}
			}
			d.Audit = mem
			d.DisableRedaction = disabled
			// A window the prompt nearly fills, where the server's
			// tokenizer is asked: that text must be redacted too.
			d.MaxAnswerTokens = 256
		})
		svcs.services[0].Models[0].ContextLength = 560
		req := request(router.ActionExplain, "")
		req.Query.Text = secretSource
		req.Query.Position.Line = 3
		req.Instruction = "what is " + pat + " for?"
		req.Action = router.ActionAsk
		res, err := p.Run(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sent strings.Builder
		for _, c := range chats {
			for _, m := range c.Messages {
				sent.WriteString(m.Content)
			}
		}
		for _, c := range counts {
			sent.WriteString(c)
		}
		leaked := strings.Contains(sent.String(), pat) || strings.Contains(sent.String(), "S3cr3t-pa55")
		if disabled {
			if !leaked || res.Redactions != 0 {
				t.Errorf("redaction off: the prompt should be unchanged (redactions %d)", res.Redactions)
			}
			continue
		}
		if leaked || len(counts) == 0 {
			t.Fatalf("a secret reached the client (chat or token count %d):\n%s", len(counts), sent.String())
		}
		queries := queryRecords(mem.events)
		if res.Redactions != 2 || len(queries) != 1 || queries[0].Redactions != 2 {
			t.Errorf("redactions: result %d, audit %+v", res.Redactions, mem.events)
		}
		if strings.Contains(queries[0].Query, pat) {
			t.Error("the audit query text holds the secret")
		}
		// A follow-up in the same conversation is redacted too, and counted
		// in its own record.
		req.Instruction = "and " + pat + " again?"
		if _, err := p.Run(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		last := chats[len(chats)-1].Messages
		for _, m := range last {
			if strings.Contains(m.Content, pat) {
				t.Errorf("follow-up leaked: %q", m.Content)
			}
		}
		if queries := queryRecords(mem.events); len(queries) != 2 || queries[1].Redactions != 2 {
			t.Errorf("follow-up audit: %+v", queries)
		}
	}
}

// queryRecords keeps the query records (each query also has a query_start).
func queryRecords(evs []audit.Event) []audit.Event {
	var out []audit.Event
	for _, e := range evs {
		if e.Type == audit.EventQuery {
			out = append(out, e)
		}
	}
	return out
}

// Summaries and classification use the smallest model: never an external
// one, unless allowed.
func TestSmallestModelIsNeverExternal(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{llmtest.OllamaCloudModel()}, Reply: "coding"})
	defer srv.Close()
	svc := serviceOf(srv, "Ollama", 1)
	if !svc.Models[0].External {
		t.Fatal("the double's service does not mark the cloud model external")
	}
	for _, allow := range []bool{false, true} {
		p := newPipeline(t, &fixedServices{services: []llm.Service{svc}}, func(d *router.Deps) {
			d.ClassifyWithLLM = true
			d.AllowExternal = allow
		})
		before := srv.ChatRequests()
		_, err := p.Route(context.Background(), router.Request{Action: router.ActionAsk, Instruction: "hmm"}, 100)
		if got := srv.ChatRequests() - before; (got > 0) != allow {
			t.Errorf("allow_external=%v: %d classification requests to the cloud model (route err %v)", allow, got, err)
		}
		ms, _ := p.Models(context.Background())
		if len(ms) != 1 || !ms[0].External || !strings.Contains(ms[0].ExternalReason, "through Ollama") {
			t.Errorf("models: %+v", ms)
		}
	}
}
