package router_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// The answer a user reads, the audit record and the conversation kept for a
// follow-up all lose the reasoning, whatever tag style the model uses.
func TestReasoningIsRemovedFromAnswersAuditAndSession(t *testing.T) {
	for _, reply := range []string{
		"<THINKING>the user wants words reversed</THINKING>It reverses words.",
		"<think>plan</think>It reverses words.<think>double-check</think>",
		"the template opened the block in the prompt</think>\nIt reverses words.",
	} {
		t.Run(reply[:12], func(t *testing.T) {
			srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: reply})
			defer srv.Close()
			aud := &memAudit{}
			p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Audit = aud })
			ctx := context.Background()
			res, err := p.Run(ctx, request(router.ActionExplain, ""), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Answer != "It reverses words." {
				t.Fatalf("answer %q", res.Answer)
			}
			// query_start, then the query record with the answer.
			if len(aud.events) != 2 || aud.events[1].Response == "" || strings.Contains(strings.ToLower(aud.events[1].Response), "think") {
				t.Fatalf("audit records %+v", aud.events)
			}
			if _, err := p.Run(ctx, request(router.ActionAsk, "and for empty input?"), nil); err != nil {
				t.Fatal(err)
			}
			chats := srv.Chats()
			for _, m := range chats[len(chats)-1].Messages {
				if m.Role == "assistant" && m.Content != "It reverses words." {
					t.Fatalf("remembered answer %q", m.Content)
				}
			}
		})
	}
}
