package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

const addGo = "package main\n\nfunc add(a, b int) int {\n\t\n}\n"

// completionSession starts the binary against one double, checks that
// initialize offers inline completion, and opens main.go with addGo.
func completionSession(t *testing.T, srv *llmtest.Server, kind llm.Kind, extraConfig string) (*serverProc, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := onlyService(t, dir, kind, srv.URL)
	if extraConfig != "" {
		os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("\n"+extraConfig)...), 0o600)
	}
	p := startServerWith(t, fakeeditor.FullCaps, "--config", cfg, "serve")
	res, err := p.ed.Initialize(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("initialize: %v\n%s", err, p.stderr)
	}
	if b, ok := res.Capabilities.InlineCompletionProvider.(protocol.Boolean); !ok || !bool(b) {
		t.Fatalf("initialize does not offer inlineCompletionProvider: %#v", res.Capabilities.InlineCompletionProvider)
	}
	path := filepath.Join(dir, "main.go")
	os.WriteFile(path, []byte(addGo), 0o644)
	if err := p.ed.Open(context.Background(), path, "go", addGo); err != nil {
		t.Fatal(err)
	}
	return p, path
}

// inlineAt asks for an inline completion at line:col of path.
func inlineAt(ctx context.Context, p *serverProc, path string, line, col uint32, kind protocol.InlineCompletionTriggerKind) ([]string, error) {
	res, err := p.ed.Server.InlineCompletion(ctx, &protocol.InlineCompletionParams{
		TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: uri.URI(fakeeditor.URI(path))},
			Position:     protocol.Position{Line: line, Character: col}},
		Context: protocol.InlineCompletionContext{TriggerKind: kind}})
	if err != nil {
		return nil, err
	}
	var items []protocol.InlineCompletionItem
	switch r := res.(type) {
	case *protocol.InlineCompletionList:
		items = r.Items
	case protocol.InlineCompletionItemSlice:
		items = r
	}
	var out []string
	for _, it := range items {
		switch s := it.InsertText.(type) {
		case protocol.String:
			out = append(out, string(s))
		case *protocol.StringValue:
			out = append(out, s.Value)
		}
	}
	return out, nil
}

func TestInlineCompletionOllamaNativeFIMEndToEnd(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FIMReply: "return a + b\n}\n\nfunc main() {\n}\n"})
	defer srv.Close()
	p, path := completionSession(t, srv, llm.KindOllama, "")
	items, err := inlineAt(context.Background(), p, path, 3, 1, protocol.InlineCompletionTriggerKindInvoked)
	if err != nil {
		t.Fatalf("inlineCompletion: %v\n%s", err, p.stderr)
	}
	// Cut at the end of the block, the "}" the file already has dropped.
	if len(items) != 1 || items[0] != "return a + b" {
		t.Fatalf("items %q", items)
	}
	reqs := srv.FIMRequests()
	if len(reqs) != 1 || reqs[0].Path != "/api/generate" {
		t.Fatalf("upstream %+v", reqs)
	}
	if r := reqs[0]; !strings.HasSuffix(r.Prefix, "func add(a, b int) int {\n\t") || r.Suffix != "\n}\n" || r.Raw["raw"] != false {
		t.Errorf("Ollama was not sent its native FIM form: prompt %q suffix %q raw %v", r.Prefix, r.Suffix, r.Raw["raw"])
	}
	// Automatic requests are answered too (after the debounce).
	items, err = inlineAt(context.Background(), p, path, 3, 1, protocol.InlineCompletionTriggerKindAutomatic)
	if err != nil || len(items) != 1 || items[0] != "return a + b" {
		t.Fatalf("automatic: %q %v", items, err)
	}
}

func TestInlineCompletionLlamaCppInfillEndToEnd(t *testing.T) {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	p, path := completionSession(t, srv, llm.KindLlamaCpp, "")
	items, err := inlineAt(context.Background(), p, path, 3, 1, protocol.InlineCompletionTriggerKindInvoked)
	if err != nil || len(items) != 1 || items[0] != "return a + b" {
		t.Fatalf("items %q err %v\n%s", items, err, p.stderr)
	}
	r := srv.FIMRequests()[0]
	if r.Path != "/infill" || r.Raw["input_prefix"] != "package main\n\nfunc add(a, b int) int {\n\t" || r.Raw["input_suffix"] != "\n}\n" {
		t.Fatalf("llama.cpp was not sent input_prefix/input_suffix: %v", r.Raw)
	}
}

func TestInlineCompletionTemplateOverCompletionsEndToEnd(t *testing.T) {
	srv := llmtest.New(llm.KindVLLM, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	p, path := completionSession(t, srv, llm.KindVLLM, "")
	if items, err := inlineAt(context.Background(), p, path, 3, 1, protocol.InlineCompletionTriggerKindInvoked); err != nil || len(items) != 1 {
		t.Fatalf("items %q err %v\n%s", items, err, p.stderr)
	}
	want := "<|fim_prefix|>package main\n\nfunc add(a, b int) int {\n\t<|fim_suffix|>\n}\n<|fim_middle|>"
	if r := srv.FIMRequests()[0]; r.Path != "/v1/completions" || r.Prompt != want {
		t.Fatalf("prompt %q, want the Qwen2.5-Coder template %q", r.Prompt, want)
	}
}

func TestInlineCompletionSupersededIsCancelledUpstream(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FirstTokenDelay: time.Minute})
	defer srv.Close()
	p, path := completionSession(t, srv, llm.KindOllama, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan []string, 1)
	go func() {
		items, _ := inlineAt(ctx, p, path, 3, 1, protocol.InlineCompletionTriggerKindInvoked)
		first <- items
	}()
	if !p.ed.WaitFor(15*time.Second, func() bool { return len(srv.FIMRequests()) == 1 }) {
		t.Fatalf("the first request never reached the server\n%s", p.stderr)
	}
	// The user typed on: a newer request for the same document.
	p.ed.Edit(context.Background(), path, rangeAt(3, 1), "r")
	go inlineAt(ctx, p, path, 3, 2, protocol.InlineCompletionTriggerKindInvoked)
	select {
	case <-srv.ClientGone():
	case <-time.After(15 * time.Second):
		t.Fatalf("the superseded request stayed open upstream\n%s", p.stderr)
	}
	select {
	case items := <-first:
		if len(items) != 0 {
			t.Fatalf("the superseded request showed %q", items)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the superseded request was never answered")
	}
	if srv.FIMCancelled() < 1 {
		t.Fatal("the double saw no cancelled generation")
	}
}

func TestInlineCompletionOffLeavesTheCapabilityOut(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("\n[completion]\nenabled = false\n")...), 0o600)
	p := startServerWith(t, fakeeditor.FullCaps, "--config", cfg, "serve")
	res, err := p.ed.Initialize(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Capabilities.InlineCompletionProvider != nil || res.Capabilities.CompletionProvider != nil {
		t.Fatalf("completion offered while off: %#v", res.Capabilities)
	}
}

func TestCompletionItemsForClientsWithoutInline(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{FIMReply: "return a + b"})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("\n[completion]\nlsp_completion_items = true\n")...), 0o600)
	p := startServerWith(t, fakeeditor.FullCaps, "--config", cfg, "serve")
	res, err := p.ed.Initialize(context.Background(), dir, nil)
	if err != nil || res.Capabilities.CompletionProvider == nil {
		t.Fatalf("completionProvider not offered: %v", err)
	}
	path := filepath.Join(dir, "main.go")
	p.ed.Open(context.Background(), path, "go", addGo)
	cr, err := p.ed.Server.Completion(context.Background(), &protocol.CompletionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: uri.URI(fakeeditor.URI(path))},
		Position:     protocol.Position{Line: 3, Character: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	list, ok := cr.(*protocol.CompletionList)
	if !ok || len(list.Items) != 1 {
		t.Fatalf("completion %#v", cr)
	}
	te, _ := list.Items[0].TextEdit.(*protocol.TextEdit)
	if te == nil || te.NewText != "return a + b" || list.Items[0].Label != "return a + b" {
		t.Fatalf("item %#v", list.Items[0])
	}
}

// rangeAt is the empty range at line:col.
func rangeAt(line, col int) codectx.Range {
	p := codectx.Position{Line: line, Character: col}
	return codectx.Range{Start: p, End: p}
}
