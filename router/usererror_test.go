package router_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/security"
)

func chatErr(t *testing.T, endpoint string) error {
	t.Helper()
	c := llm.NewClient(llm.Service{Kind: llm.KindLlamaCpp, Endpoint: endpoint}, nil, llm.Options{MaxRetries: -1})
	_, err := c.Chat(context.Background(), llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "user", Content: "hi"}}}, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	return err
}

func TestUserErrorIsOneActionableLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()

	refused := chatErr(t, dead)
	notLLM := chatErr(t, web.URL)
	exhausted := fmt.Errorf("explain: %w", &selection.ExhaustedError{Category: "documentation", Attempts: []selection.Attempt{
		{Choice: selection.Choice{Model: "big", Service: "vLLM"}, Kind: selection.KindRetryable, Err: errors.New("boom")},
		{Choice: selection.Choice{Model: "qwen", Service: "llama.cpp"}, Kind: selection.KindRetryable, Err: refused},
	}})
	tooLarge := fmt.Errorf("explain: documentation request: %w", &llm.Error{Kind: llm.KindOllama, Endpoint: "http://127.0.0.1:1", Op: "chat",
		MidStream: true, Err: llm.ErrAnswerTooLarge, Message: "the answer exceeded 64 KiB and was cut there; raise generation.max_answer_tokens or ask for less"})
	denied := fmt.Errorf("explain: documentation request: %w", &llm.Error{Kind: llm.KindVLLM, Endpoint: "http://203.0.113.5:8000", Op: "chat",
		Err: fmt.Errorf("dial: %w", &security.DeniedError{Host: "203.0.113.5", Rule: security.RuleNotAllowed, Fix: "add it to security.allowed_cidrs if it is yours"})})
	deep := fmt.Errorf("explain: %w", fmt.Errorf("documentation request: %w", fmt.Errorf("a very long layer of context that nobody needs to read on one line %s: %w",
		strings.Repeat("x", 120), errors.New("the real cause"))))

	cases := []struct {
		name          string
		err           error
		msg, hint     string
		notInMessage  string
		wantHintEmpty bool
	}{
		{name: "no services", err: fmt.Errorf("ask: %w", router.ErrNoServices), msg: "no local LLM service with a chat model is running", hint: "lsp-router discover"},
		{name: "connection refused", err: refused, msg: "llama.cpp at " + dead + " is not reachable (connection refused)", hint: "start the server", notInMessage: "dial tcp"},
		{name: "not an LLM server", err: notLLM, msg: "answered, but it is not an LLM chat API (HTTP 404", hint: "check the port"},
		{name: "exhausted", err: exhausted, msg: "no local model could answer: qwen on llama.cpp: llama.cpp at " + dead + " is not reachable (connection refused) (1 other attempt(s) failed too", hint: "start the server"},
		{name: "answer too large", err: tooLarge, msg: "Ollama at http://127.0.0.1:1: the answer exceeded 64 KiB and was cut there", hint: "raise generation.max_answer_tokens", notInMessage: "documentation request"},
		{name: "allowlist", err: denied, msg: "connection to 203.0.113.5 refused by the network allowlist (rule not_allowlisted)", hint: "security.allowed_cidrs", notInMessage: "documentation request"},
		{name: "long chain", err: deep, msg: "the real cause", wantHintEmpty: true},
		{name: "cancelled", err: fmt.Errorf("run: %w", context.Canceled), msg: "cancelled", wantHintEmpty: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg, hint := router.UserError(c.err)
			if !strings.Contains(msg, c.msg) || (c.hint != "" && !strings.Contains(hint, c.hint)) || (c.wantHintEmpty && hint != "") {
				t.Fatalf("UserError:\n msg  %q\n hint %q\nwant msg with %q, hint with %q", msg, hint, c.msg, c.hint)
			}
			line := router.UserLine(c.err)
			if strings.Contains(line, "\n") || len(line) > 400 || (c.notInMessage != "" && strings.Contains(line, c.notInMessage)) {
				t.Fatalf("not one clean line: %q", line)
			}
		})
	}
}
