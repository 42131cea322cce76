package router_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/security/audit"
)

// fixedServices is a ServiceSource over doubles, recording invalidations.
type fixedServices struct {
	mu          sync.Mutex
	services    []llm.Service
	invalidated []string
}

func (f *fixedServices) Services(context.Context) ([]llm.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]llm.Service(nil), f.services...), nil
}

func (f *fixedServices) Invalidate(endpoint string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, endpoint)
}

func serviceOf(srv *llmtest.Server, name string, priority int, models ...llm.Model) llm.Service {
	svc := srv.Service()
	svc.Name, svc.Priority, svc.Status = name, priority, llm.StatusOnline
	if models != nil {
		svc.Models = models
	}
	return svc
}

type memAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memAudit) Write(e audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil
}

func newPipeline(t testing.TB, svcs *fixedServices, mod func(*router.Deps)) *router.Pipeline {
	t.Helper()
	d := router.Deps{
		Services: svcs,
		NewClient: func(svc llm.Service) llm.Client {
			return llm.NewClient(svc, http.DefaultClient, llm.Options{MaxRetries: -1})
		},
		Sources:  []codectx.Source{&router.SyntaxSource{}, codectx.BufferSource{}},
		Breakers: selection.NewBreakers(2, 1<<40, nil),
	}
	if mod != nil {
		mod(&d)
	}
	p, err := router.New(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

const goSource = "package main\n\nimport \"strings\"\n\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tfor i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {\n\t\twords[i], words[j] = words[j], words[i]\n\t}\n\treturn strings.Join(words, \" \")\n}\n"

const goAnswer = "```go\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tslices.Reverse(words)\n\treturn strings.Join(words, \" \")\n}\n```\n"

func request(action router.Action, instruction string) router.Request {
	return router.Request{Action: action, Instruction: instruction, HasPosition: true, Query: codectx.Query{
		Path: "/ws/main.go", Text: goSource, Version: 3, LanguageID: "go", WorkspaceRoot: "/ws",
		Position: codectx.Position{Line: 5, Character: 1},
	}}
}

func TestRunRefactorProducesVersionedEdit(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: goAnswer})
	defer srv.Close()
	aud := &memAudit{}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Audit = aud })
	var stages []router.Stage
	res, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), func(pr router.Progress) { stages = append(stages, pr.Stage) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Edits) != 1 || res.Edits[0].Version != 3 || res.Edits[0].Path != "/ws/main.go" {
		t.Fatalf("edits %+v", res.Edits)
	}
	if !strings.Contains(res.Edits[0].Edits[0].NewText, "slices.Reverse(words)") || res.FallbackLevel != "primary" || res.Category != "coding" {
		t.Errorf("result %+v", res)
	}
	if res.TokensIn == 0 || res.TokensOut == 0 {
		t.Errorf("tokens %d/%d", res.TokensIn, res.TokensOut)
	}
	want := []router.Stage{router.StageGathering, router.StageSelecting, router.StageWaiting, router.StageGenerating}
	for _, w := range want {
		found := false
		for _, s := range stages {
			found = found || s == w
		}
		if !found {
			t.Errorf("no %s stage in %v", w, stages)
		}
	}
	// query_start before the request, the outcome after.
	if len(aud.events) != 2 || aud.events[0].Type != audit.EventQueryStart || !aud.events[1].Success || aud.events[1].Model == "" || aud.events[1].Query == "" {
		t.Errorf("audit %+v", aud.events)
	}
}

func TestRunRefusesAnswerWithoutCode(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "I would use slices.Reverse here."})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, nil)
	_, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
}

func TestFallbackLevelsAgainstDoubles(t *testing.T) {
	missing := llmtest.New(llm.KindOllama, llmtest.Options{Models: []llmtest.Model{{ID: "qwen2.5-coder:32b", ContextLength: 32768}}, Reply: goAnswer})
	defer missing.Close()
	broken := llmtest.New(llm.KindVLLM, llmtest.Options{FailWith: llmtest.FailInternal})
	defer broken.Close()
	good := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: goAnswer})
	defer good.Close()
	// The Ollama double lists a model it then claims not to have.
	svcs := &fixedServices{services: []llm.Service{
		serviceOf(missing, "Ollama", 10, llm.Model{ID: "qwen2.5-coder:14b", ContextLength: 32768, Chat: true}),
		serviceOf(broken, "vLLM", 20),
		serviceOf(good, "llama.cpp", 30),
	}}
	p := newPipeline(t, svcs, nil)
	res, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Service != "llama.cpp" || len(res.Notes) < 2 {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "model missing") {
		t.Errorf("notes %v", res.Notes)
	}
	if len(svcs.invalidated) < 2 {
		t.Errorf("failed services not re-probed: %v", svcs.invalidated)
	}
}

func TestAllFailingListsEveryAttempt(t *testing.T) {
	a := llmtest.New(llm.KindOllama, llmtest.Options{FailWith: llmtest.FailInternal})
	defer a.Close()
	b := llmtest.New(llm.KindLlamaCpp, llmtest.Options{FailWith: llmtest.FailMidStream})
	defer b.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(a, "Ollama", 10), serviceOf(b, "llama.cpp", 20)}}, nil)
	_, err := p.Run(context.Background(), request(router.ActionExplain, ""), nil)
	var ex *selection.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "Ollama") || !strings.Contains(msg, "llama.cpp") {
		t.Errorf("message does not list the attempts:\n%s", msg)
	}
}

func TestNoServicesSaysHowToStartOne(t *testing.T) {
	p := newPipeline(t, &fixedServices{}, nil)
	_, err := p.Run(context.Background(), request(router.ActionExplain, ""), nil)
	if !errors.Is(err, router.ErrNoServices) || !strings.Contains(err.Error(), "ollama serve") {
		t.Fatalf("err = %v", err)
	}
}

func TestFollowUpContinuesTheConversation(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses words."})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, nil)
	ctx := context.Background()
	if _, err := p.Run(ctx, request(router.ActionExplain, ""), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, request(router.ActionAsk, "and what about empty input?"), nil); err != nil {
		t.Fatal(err)
	}
	chats := srv.Chats()
	second := chats[len(chats)-1].Messages
	var roles []string
	for _, m := range second {
		roles = append(roles, m.Role)
	}
	if len(second) < 4 || second[len(second)-2].Content != "It reverses words." || !strings.Contains(second[len(second)-1].Content, "empty input") {
		t.Fatalf("follow-up messages %v: %+v", roles, second)
	}
}

func TestCancelStopsGenerationUpstream(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: strings.Repeat("word ", 5000), ChunkDelay: 5e6})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := p.Run(ctx, request(router.ActionExplain, ""), func(pr router.Progress) {
		if pr.Stage == router.StageGenerating {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	<-srv.ClientGone()
	if srv.ChatRequests() != 1 {
		t.Errorf("%d chat requests", srv.ChatRequests())
	}
}

// BenchmarkRunOverhead measures the engine's own work for one explain
// request with a 10k-token function against an instant double.
func BenchmarkRunOverhead(b *testing.B) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "ok", Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 131072}}})
	defer srv.Close()
	p := newPipeline(b, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, nil)
	var src strings.Builder
	src.WriteString("package main\n\nimport \"strings\"\n\nfunc reverseWords(s string) string {\n")
	for i := 0; src.Len() < 40000; i++ {
		fmt.Fprintf(&src, "\ts = strings.Repeat(s, %d)\n", i)
	}
	src.WriteString("\treturn s\n}\n")
	req := request(router.ActionExplain, "")
	req.Query.Text = src.String()
	b.ResetTimer()
	for range b.N {
		if _, err := p.Run(context.Background(), req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeVerifier reports an error while the edited text mentions "slices."
// without importing it, like a compiler would.
type fakeVerifier struct{ calls int }

func (f *fakeVerifier) Diagnose(_ context.Context, path, _, original, edited string) (before, after []codectx.Diagnostic, err error) {
	f.calls++
	if strings.Contains(edited, "slices.") && !strings.Contains(edited, "\"slices\"") {
		after = []codectx.Diagnostic{{Path: path, Severity: codectx.SeverityError, Message: "undefined: slices"}}
	}
	return nil, after, nil
}

func TestVerificationRetriesOnceWithTheErrors(t *testing.T) {
	fixed := "```go\nimport (\n\t\"slices\"\n\t\"strings\"\n)\n\nfunc reverseWords(s string) string {\n\twords := strings.Fields(s)\n\tslices.Reverse(words)\n\treturn strings.Join(words, \" \")\n}\n```\n"
	srv := llmtest.New(llm.KindOllama, llmtest.Options{ReplyFunc: func(r llmtest.ChatRequest) string {
		if strings.Contains(r.Messages[len(r.Messages)-1].Content, "undefined: slices") {
			return fixed
		}
		return goAnswer
	}})
	defer srv.Close()
	v := &fakeVerifier{}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Verifier = v })
	res, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, e := range res.Edits[0].Edits {
		all.WriteString(e.NewText)
	}
	if !strings.Contains(all.String(), "\"slices\"") || srv.ChatRequests() != 2 || v.calls != 2 {
		t.Fatalf("edits %q, %d generations, %d verifications", all.String(), srv.ChatRequests(), v.calls)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "compiles cleanly") {
		t.Errorf("notes %v", res.Notes)
	}
}

// gatedVerifier declines every file before the edited text is built.
type gatedVerifier struct{ fakeVerifier }

func (g *gatedVerifier) Verifies(context.Context, string, string) bool { return false }

// A verifier that says it will not check the file is not handed the edited
// text, and the edit reaches the editor unverified, without a retry.
func TestVerifierThatDeclinesIsNotAskedToDiagnose(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: goAnswer})
	defer srv.Close()
	v := &gatedVerifier{}
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.Verifier = v })
	res, err := p.Run(context.Background(), request(router.ActionRefactor, "use slices.Reverse"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Edits) != 1 || len(res.Edits[0].Edits) == 0 || v.calls != 0 || srv.ChatRequests() != 1 {
		t.Fatalf("edits %+v, %d verifications, %d generations", res.Edits, v.calls, srv.ChatRequests())
	}
}

func TestSameModelOnSeveralEndpointsSpreadsByOutstandingRequests(t *testing.T) {
	var started sync.WaitGroup
	started.Add(2)
	release := make(chan struct{})
	reply := func(llmtest.ChatRequest) string {
		started.Done()
		<-release
		return "ok"
	}
	model := []llmtest.Model{{ID: "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", ContextLength: 32768}}
	a := llmtest.New(llm.KindVLLM, llmtest.Options{Models: model, ReplyFunc: reply})
	defer a.Close()
	b := llmtest.New(llm.KindVLLM, llmtest.Options{Models: model, ReplyFunc: reply})
	defer b.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(a, "gpu1", 10), serviceOf(b, "gpu2", 10)}}, nil)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Run(context.Background(), request(router.ActionExplain, ""), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	started.Wait() // both generations are running at once
	close(release)
	wg.Wait()
	if a.ChatRequests() != 1 || b.ChatRequests() != 1 {
		t.Fatalf("requests: gpu1 %d, gpu2 %d; want one each", a.ChatRequests(), b.ChatRequests())
	}
}

func TestLowConfidenceRequestsAskTheSmallestModel(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{
		Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768}, {ID: "qwen2.5:0.5b", ContextLength: 32768}},
		ReplyFunc: func(r llmtest.ChatRequest) string {
			if strings.Contains(r.Messages[0].Content, "Classify the developer's request") {
				return "reasoning"
			}
			return "Use a mutex."
		}})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) { d.ClassifyWithLLM = true })
	rep, err := p.Route(context.Background(), router.Request{Action: router.ActionAsk, Instruction: "hmm"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var classifier string
	for _, c := range srv.Chats() {
		if strings.Contains(c.Messages[0].Content, "Classify") {
			classifier = c.Model
		}
	}
	if rep.Category != "reasoning" || classifier != "qwen2.5:0.5b" {
		t.Fatalf("category %q by %q", rep.Category, classifier)
	}
}

func TestLongConversationsAreSummarisedByTheSmallestModel(t *testing.T) {
	// Long answers: the 4096-token window keeps a quarter for the answer
	// (selection.AnswerReserve), so three follow-ups must outgrow 3072.
	long := strings.Repeat("The function splits the words and reverses them. ", 100)
	srv := llmtest.New(llm.KindOllama, llmtest.Options{
		Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 4096}, {ID: "qwen2.5:0.5b", ContextLength: 4096}},
		ReplyFunc: func(r llmtest.ChatRequest) string {
			if strings.Contains(r.Messages[0].Content, "Summarise this conversation") {
				return "- reverseWords reverses word order\n- the user asked about edge cases"
			}
			return long
		}})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, func(d *router.Deps) {
		d.MaxAnswerTokens = 2500
		d.SessionOptions.KeepLast = 2
	})
	ctx := context.Background()
	if _, err := p.Run(ctx, request(router.ActionExplain, ""), nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"what about empty input?", "and unicode spaces?", "is it allocation free?"} {
		if _, err := p.Run(ctx, request(router.ActionAsk, q), nil); err != nil {
			t.Fatal(err)
		}
	}
	var summarised, carried bool
	for _, c := range srv.Chats() {
		if strings.Contains(c.Messages[0].Content, "Summarise this conversation") {
			summarised = c.Model == "qwen2.5:0.5b"
			continue
		}
		for _, m := range c.Messages {
			carried = carried || strings.Contains(m.Content, "reverseWords reverses word order")
		}
	}
	if !summarised || !carried {
		t.Fatalf("summarised by the small model: %v; summary carried into the conversation: %v", summarised, carried)
	}
}
