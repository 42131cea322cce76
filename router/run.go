package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/edits"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/prompt"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/router/session"
	"github.com/lsp-router/lsp-router/security/audit"
)

// Run executes one request end to end. Cancelling ctx closes the HTTP
// request, which stops the generation on the server.
func (p *Pipeline) Run(ctx context.Context, req Request, progress ProgressFunc) (*Result, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	start := time.Now()
	// A Refactor or Ask without instruction takes it from a marker comment
	// in the code (router/marker.go), for the CLI and every editor alike.
	req, mark, err := fillInstruction(req)
	if err != nil {
		return nil, err
	}
	// No audit record, no query: the log must take a record before anything
	// of the request reaches a model (the classifier included).
	warning, err := p.auditStart(req)
	if err != nil {
		return nil, fmt.Errorf("query refused, nothing was sent: %w", err)
	}
	ctx, secrets := withTally(ctx)
	res, run, err := p.run(ctx, req, progress)
	run.redactions = secrets.count()
	if res != nil {
		res.Redactions = run.redactions
	}
	removeMarker(req, res, mark)
	if aerr := p.audit(req, res, run, err, time.Since(start)); aerr != nil {
		switch {
		case isAuditWarning(aerr):
			warning = cmp.Or(warning, aerr.Error())
		case err == nil:
			return nil, fmt.Errorf("the answer is withheld because its audit record failed: %w", aerr)
		default:
			err = fmt.Errorf("%w (and its audit record failed: %v)", err, aerr)
		}
	}
	if warning != "" {
		if res != nil {
			res.Notes = append(res.Notes, "warning: "+warning)
		} else {
			p.log.Warn(warning)
		}
	}
	if err != nil && ctx.Err() == nil {
		// Users see UserLine(err); the whole chain is for the log.
		p.log.Info("request failed", "action", req.Action, "err", err)
	}
	return res, err
}

// runState is what the audit record needs from a run.
type runState struct {
	query      string
	category   string
	level      selection.Level
	redactions int
}

func (p *Pipeline) run(ctx context.Context, req Request, progress ProgressFunc) (*Result, *runState, error) {
	st := &runState{}
	cat, _, _ := p.category(ctx, req)
	st.category = cat

	var cctx codectx.Context
	if err := p.waitForSerena(ctx, cat, req, progress); err != nil {
		return nil, st, err
	}
	if req.HasPosition {
		progress(Progress{Stage: StageGathering, Message: "gathering context"})
		cctx = codectx.Gather(ctx, p.d.Sources, req.Query, p.d.Gather)
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		from := cctx.AnsweredSummary()
		p.log.Info("context gathered", "action", req.Action, "from", from)
		progress(Progress{Stage: StageGathering, Message: "context: " + from})
		if err := p.checkSerenaAnswered(cat, cctx); err != nil {
			return nil, st, err
		}
	}
	in := prompt.Input{
		Action: prompt.Action(req.Action), Instruction: req.Instruction, Language: req.Query.LanguageID,
		Path: p.displayPath(req.Query), Context: cctx, FileText: req.Query.Text,
	}
	if req.Action.EditsDocument() && cctx.Symbol == nil && req.Query.Selection == nil {
		return nil, st, fmt.Errorf("no symbol found at line %d: put the cursor inside a function, method or type, or select the code to %s", req.Query.Position.Line+1, req.Action)
	}
	if cctx.Symbol == nil && req.Query.Selection != nil {
		// A selection stands in for the symbol: edits replace exactly it.
		sel := *req.Query.Selection
		in.Context.Symbol = &codectx.Symbol{Name: "selection", Kind: "Selection", Path: req.Query.Path, Range: sel, SelectionRange: sel, Body: codectx.TextInRange(req.Query.Text, sel)}
		cctx.Symbol = in.Context.Symbol
	}

	// Size the prompt with a generous budget first, to choose a model that fits.
	progress(Progress{Stage: StageSelecting, Message: "selecting model"})
	full, err := p.d.Prompts.Build(in, prompt.Budget{ContextLength: 1 << 30, AnswerReserve: p.d.MaxAnswerTokens})
	if err != nil {
		return nil, st, fmt.Errorf("build prompt: %w", err)
	}
	// The audit log may keep the query text: never with the secrets.
	shown := p.redactMessages(ctx, full.Messages)
	st.query = joinMessages(shown)
	avail, services, refused, err := p.available(ctx)
	if err != nil {
		return nil, st, err
	}
	decision := p.selectModel(cat, full.Tokens, avail, req.Model)
	decision.Skipped = append(decision.Skipped, refused...)
	if req.DryRun {
		res := &Result{Category: cat, Model: decision.Model, Service: decision.Service, Context: &cctx,
			Prompt: toMessages(shown), TokensIn: full.Tokens}
		if decision.Err != nil {
			res.Notes = append(res.Notes, "no model would answer: "+decision.Err.Error())
		} else if len(avail) == 0 {
			res.Notes = append(res.Notes, noModels(refused).Error())
		}
		return res, st, nil
	}
	if len(avail) == 0 {
		return nil, st, noModels(refused)
	}
	key := p.sessionKey(req, cctx)
	// A follow-up on a symbol repeats the conversation's prefix: it goes
	// where the conversation went, while that endpoint is not overloaded.
	decision, release := p.inflight.reserve(decision, AffinityKey([]Message{{Role: "user", Content: key.Path + "\x00" + key.Symbol}}), false)
	defer release()
	var answer strings.Builder
	var usage llm.Usage
	var sent []prompt.Message
	attempt := func(ctx context.Context, c selection.Choice, level selection.Level) error {
		svc, ok := services[c.Endpoint]
		if !ok {
			return selection.Mark(selection.KindModelMissing, fmt.Errorf("service %s is gone", c.Service))
		}
		client := p.d.NewClient(svc)
		msgs, err := p.messagesFor(ctx, req, in, full, key, c, level)
		if err != nil {
			return err
		}
		msgs, err = p.fitExactly(ctx, client, in, msgs, c, level)
		if err != nil {
			return err
		}
		answer.Reset()
		progress(Progress{Stage: StageWaiting, Message: fmt.Sprintf("waiting for %s on %s", c.Model, c.Service), Model: c.Model, Service: c.Service})
		tokens := 0
		creq := llm.ChatRequest{Model: c.Model, Messages: toLLM(msgs), MaxTokens: answerReserve(p.d.MaxAnswerTokens, c), Temperature: p.d.Temperature}
		if len(msgs) > 0 && len(full.Messages) > 0 && &msgs[0] == &full.Messages[0] {
			// The prompt's size is known: what the window must hold (Ollama
			// rounds it to its loaded window or a fixed size).
			creq.NumCtx = full.Tokens + creq.MaxTokens + 256
		}
		u, err := client.Chat(ctx, creq,
			func(delta string) error {
				answer.WriteString(delta)
				tokens++
				// No message per chunk: this runs for every token, and the
				// editor's progress line is built from the deltas.
				progress(Progress{Stage: StageGenerating, Model: c.Model, Service: c.Service, Tokens: tokens, Delta: delta})
				return nil
			})
		if err != nil {
			if ctx.Err() == nil {
				p.d.Services.Invalidate(c.Endpoint)
				progress(Progress{Stage: StageWaiting, Message: fmt.Sprintf("%s failed; trying the next model", c.Model)})
			}
			return classifyLLMError(err)
		}
		usage, sent = u, msgs
		if usage.PromptTokens == 0 {
			usage.PromptTokens = prompt.CountMessages(msgs, prompt.Estimator(prompt.FamilyOf(c.Model)))
		}
		if usage.CompletionTokens == 0 {
			usage.CompletionTokens = prompt.EstimateTokens(prompt.FamilyOf(c.Model), answer.String())
		}
		return nil
	}
	run, err := p.exec.Run(ctx, decision, attempt)
	st.level = run.Level
	if err != nil {
		return nil, st, err
	}
	res := &Result{
		Model: run.Choice.Model, Service: run.Choice.Service, Category: cat, FallbackLevel: run.Level.String(),
		Answer: stripReasoning(answer.String()), TokensIn: usage.PromptTokens, TokensOut: usage.CompletionTokens,
	}
	for _, a := range run.Attempts {
		res.Notes = append(res.Notes, fmt.Sprintf("%s on %s failed (%s)", a.Choice.Model, a.Choice.Service, a.Kind))
	}
	p.remember(key, req, sent, answer.String(), cctx.Symbol)
	if req.Action == ActionTests && cctx.Symbol != nil {
		p.makeTestEdits(req, res, cctx.Symbol)
	}
	if req.Action.EditsDocument() {
		if err := p.makeEdits(ctx, req, in, cctx, run.Choice, sent, answer.String(), res, services, progress); err != nil {
			return res, st, err
		}
	}
	return res, st, nil
}

// messagesFor builds the messages for one attempt: a new conversation, or a
// follow-up in the session for this symbol, fitted to the model's budget.
func (p *Pipeline) messagesFor(ctx context.Context, req Request, in prompt.Input, full prompt.Prompt, key session.Key, c selection.Choice, level selection.Level) ([]prompt.Message, error) {
	limit := c.ContextLength
	if limit <= 0 {
		limit = 4096
	}
	if level.Reduced() {
		// The reduced level keeps the essentials: half the window.
		limit /= 2
	}
	reserve := answerReserve(p.d.MaxAnswerTokens, c)
	count := prompt.Estimator(prompt.FamilyOf(c.Model))
	budget := prompt.Budget{ContextLength: limit, AnswerReserve: reserve, Count: count}
	if conversational(req.Action) {
		if se, ok := p.d.Sessions.Get(key); ok && len(se.Messages()) > 0 {
			follow, err := p.d.Prompts.FollowUp(in)
			if err == nil {
				se.Append(follow)
				if _, err := se.Fit(ctx, session.Budget{Model: c.Model, Limit: limit - reserve, Count: count}); err != nil {
					return nil, selection.Mark(selection.KindContextTooLong, err)
				}
				return se.Messages(), nil
			}
		}
	}
	if !level.Reduced() && full.Tokens+reserve <= limit {
		// The whole prompt, sized with the most conservative estimate, fits:
		// building it again for this model would give the same messages.
		return full.Messages, nil
	}
	pr, err := p.d.Prompts.Build(in, budget)
	if err != nil {
		if errors.Is(err, prompt.ErrBudget) {
			return nil, selection.Mark(selection.KindContextTooLong, err)
		}
		return nil, err
	}
	return pr.Messages, nil
}

// fitExactly checks the prompt with the server's own tokenizer where it has
// one (llama.cpp, vLLM, LocalAI, KoboldCpp, text-generation-webui, TGI): the
// estimate can be off for unusual text, and a prompt the server truncates
// silently gives a wrong answer. A prompt over the budget is rebuilt once
// with the budget shrunk by the estimate's error.
func (p *Pipeline) fitExactly(ctx context.Context, client llm.Client, in prompt.Input, msgs []prompt.Message, c selection.Choice, level selection.Level) ([]prompt.Message, error) {
	limit := c.ContextLength
	if limit <= 0 || !llm.Kind(c.ServiceKind).HasTokenizer() {
		return msgs, nil
	}
	if level.Reduced() {
		limit /= 2
	}
	reserve := answerReserve(p.d.MaxAnswerTokens, c)
	count := prompt.Estimator(prompt.FamilyOf(c.Model))
	estimate := prompt.CountMessages(msgs, count)
	if !nearWindow(estimate+reserve, limit) {
		// Far below the window the estimate's error cannot matter: do not
		// send the whole prompt twice.
		return msgs, nil
	}
	n, exact, err := client.CountTokens(ctx, c.Model, joinContents(msgs))
	if err != nil || !exact {
		return msgs, nil
	}
	exactTotal := n + len(msgs)*prompt.MessageOverhead + prompt.ReplyPriming
	if exactTotal+reserve <= limit {
		return msgs, nil
	}
	scaled := int(float64(limit-reserve)*float64(estimate)/float64(exactTotal)) + reserve
	pr, err := p.d.Prompts.Build(in, prompt.Budget{ContextLength: scaled, AnswerReserve: reserve, Count: count})
	if err != nil {
		return nil, selection.Mark(selection.KindContextTooLong, err)
	}
	return pr.Messages, nil
}

// answerReserve is the answer's share of c's window (selection.AnswerReserve).
func answerReserve(maxAnswer int, c selection.Choice) int {
	return selection.AnswerReserve(maxAnswer, c.ContextLength)
}

// tokenizeMargin is how close to the window (as a share of it) an
// estimated prompt must come before the server's tokenizer is asked: the
// estimate errs by a few percent on ordinary code, by more on unusual text.
const tokenizeMargin = 0.2

// nearWindow reports whether tokens, an estimate, is within tokenizeMargin
// of limit.
func nearWindow(tokens, limit int) bool {
	return float64(tokens) >= float64(limit)*(1-tokenizeMargin)
}

func joinContents(msgs []prompt.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// conversational actions continue a conversation on the same symbol; edit
// actions always start from the current code.
func conversational(a Action) bool { return a == ActionExplain || a == ActionAsk }

func (p *Pipeline) sessionKey(req Request, cctx codectx.Context) session.Key {
	k := session.Key{Path: req.Query.Path}
	if cctx.Symbol != nil {
		k.Symbol = firstNonEmpty(cctx.Symbol.NamePath, cctx.Symbol.Name)
	}
	return k
}

// remember records the exchange so a follow-up continues it, with the code
// under discussion kept through compaction.
func (p *Pipeline) remember(key session.Key, req Request, sent []prompt.Message, answer string, sym *codectx.Symbol) {
	if !conversational(req.Action) {
		p.d.Sessions.Delete(key)
		return
	}
	se, created := p.d.Sessions.GetOrCreate(key)
	if created || len(se.Messages()) == 0 {
		for i, m := range sent {
			if i == len(sent)-1 && m.Role == "user" {
				se.AppendContext(m)
			} else {
				se.Append(m)
			}
		}
	}
	if sym != nil && sym.Body != "" {
		se.SetSubject(fmt.Sprintf("%s %s:\n```%s\n%s\n```", p.displayPath(req.Query), firstNonEmpty(sym.NamePath, sym.Name), req.Query.LanguageID, strings.TrimRight(sym.Body, "\n")))
	}
	se.Append(prompt.Message{Role: "assistant", Content: stripReasoning(answer)})
}

// classifyLLMError maps the LLM client's typed error onto the fallback
// executor's kinds.
func classifyLLMError(err error) error {
	var le *llm.Error
	if !errors.As(err, &le) {
		return err
	}
	switch {
	case le.ModelNotFound:
		return selection.Mark(selection.KindModelMissing, err)
	case le.ContextTooLong:
		return selection.Mark(selection.KindContextTooLong, err)
	case le.Retryable, le.Timeout, le.Status >= 500:
		return selection.Mark(selection.KindRetryable, err)
	}
	return err
}

func (p *Pipeline) displayPath(q codectx.Query) string {
	if q.WorkspaceRoot != "" && strings.HasPrefix(q.Path, q.WorkspaceRoot+"/") {
		return strings.TrimPrefix(q.Path, q.WorkspaceRoot+"/")
	}
	return q.Path
}

// stripReasoning removes the model's reasoning blocks and the white space
// around the answer (answertext has the rules).
func stripReasoning(s string) string { return answertext.StripTrim(s) }

func toLLM(msgs []prompt.Message) []llm.Message {
	out := make([]llm.Message, len(msgs))
	for i, m := range msgs {
		out[i] = llm.Message{Role: m.Role, Content: m.Content}
	}
	return out
}

func toMessages(msgs []prompt.Message) []Message {
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		out[i] = Message{Role: m.Role, Content: m.Content}
	}
	return out
}

func joinMessages(msgs []prompt.Message) string {
	var b strings.Builder
	n := 0
	for _, m := range msgs {
		n += len(m.Role) + len(m.Content) + 3
	}
	b.Grow(n) // a 400 KB prompt is copied once, not regrown
	for _, m := range msgs {
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// auditStart writes the query_start record. It returns the warning to show
// when the log failed and the policy lets the query go on, and an error
// when the query must be refused.
func (p *Pipeline) auditStart(req Request) (string, error) {
	// A dry run sends nothing, unless the LLM classifier reads the request.
	if p.d.Audit == nil || req.DryRun && !p.d.ClassifyWithLLM {
		return "", nil
	}
	ev := audit.Event{Type: audit.EventQueryStart, Command: string(req.Action), Agent: req.Agent, Success: true}
	if req.DryRun {
		ev.Detail = "dry run: only the LLM classifier may see the request"
	}
	err := p.d.Audit.Write(ev)
	switch {
	case err == nil:
		return "", nil
	case isAuditWarning(err):
		return err.Error(), nil
	}
	return "", err
}

// isAuditWarning reports a failed record that the policy
// (security.audit_on_failure = "warn") lets pass.
func isAuditWarning(err error) bool {
	var fe *audit.FailureError
	return errors.As(err, &fe) && fe.Warn
}

// audit writes one query record: model, category, fallback level, tokens,
// latency and outcome, with the query as a hash unless configured otherwise.
// An error that may quote the answer carries a summary without it, for logs
// that keep no responses.
func (p *Pipeline) audit(req Request, res *Result, st *runState, err error, latency time.Duration) error {
	if p.d.Audit == nil || req.DryRun {
		return nil
	}
	ev := audit.Event{Type: audit.EventQuery, Command: string(req.Action), Agent: req.Agent, Category: st.category,
		LatencyMS: latency.Milliseconds(), Success: err == nil, Query: st.query, Redactions: st.redactions}
	if st.level > 0 {
		ev.FallbackLevel = int(st.level) - 1
	}
	if res != nil {
		ev.Model, ev.Service, ev.TokensIn, ev.TokensOut, ev.Response = res.Model, res.Service, res.TokensIn, res.TokensOut, res.Answer
	}
	if err != nil {
		ev.Error = err.Error()
		var refusal *edits.RefusalError
		if errors.As(err, &refusal) {
			ev.ErrorSummary = fmt.Sprintf("the answer was not turned into an edit (%s)", refusal.Reason)
		}
	}
	// The caller shows the failure to the user; no log line of its own.
	return p.d.Audit.Write(ev)
}

// makeEdits turns the answer into edits, verifies them with the language
// server when one is available, and retries once with the new errors.
func (p *Pipeline) makeEdits(ctx context.Context, req Request, in prompt.Input, cctx codectx.Context, choice selection.Choice, sent []prompt.Message, answer string, res *Result, services map[string]llm.Service, progress ProgressFunc) error {
	file := edits.File{Path: req.Query.Path, Text: req.Query.Text, Language: req.Query.LanguageID}
	sym := *cctx.Symbol
	tes, err := edits.FromAnswer(string(req.Action), answer, file, sym)
	if err != nil {
		return fmt.Errorf("%s answered, but %w", res.Model, err)
	}
	if p.d.Verifier != nil {
		progress(Progress{Stage: StageVerifying, Message: "checking the edit with the language server", Model: res.Model, Service: res.Service})
		newErrs, verr := p.newErrors(ctx, req, tes)
		if verr != nil {
			p.log.Debug("verification unavailable", "err", verr)
		} else if len(newErrs) > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("the first edit introduced %d error(s); asked %s to fix them", len(newErrs), res.Model))
			retry := append(append([]prompt.Message(nil), sent...),
				prompt.Message{Role: "assistant", Content: answer},
				prompt.Message{Role: "user", Content: "Your change introduces these compiler errors:\n" + formatDiagnostics(newErrs) + "\nReply again in the same format with a corrected version."})
			svc := services[choice.Endpoint]
			var b strings.Builder
			u, err := p.d.NewClient(svc).Chat(ctx, llm.ChatRequest{Model: choice.Model, Messages: toLLM(retry), MaxTokens: answerReserve(p.d.MaxAnswerTokens, choice), Temperature: p.d.Temperature},
				func(d string) error { b.WriteString(d); return nil })
			if err == nil {
				res.TokensIn += u.PromptTokens
				res.TokensOut += u.CompletionTokens
				if second, err2 := edits.FromAnswer(string(req.Action), b.String(), file, sym); err2 == nil {
					remaining, verr2 := p.newErrors(ctx, req, second)
					if verr2 == nil && len(remaining) < len(newErrs) {
						tes, newErrs = second, remaining
						res.Answer = stripReasoning(b.String())
					}
				}
			} else if ctx.Err() != nil {
				return ctx.Err()
			}
			if len(newErrs) > 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("the edit still has %d new error(s): %s", len(newErrs), newErrs[0].Message))
				for _, d := range newErrs {
					res.UnresolvedErrors = append(res.UnresolvedErrors, fmt.Sprintf("line %d: %s", d.Range.Start.Line+1, d.Message))
				}
			} else {
				res.Notes = append(res.Notes, "the corrected edit compiles cleanly")
			}
		}
	}
	fe := FileEdit{Path: req.Query.Path, Version: req.Query.Version}
	for _, te := range tes {
		fe.Edits = append(fe.Edits, TextEdit{Range: te.Range, NewText: te.NewText})
	}
	if err := p.restoreSecrets(req.Query.Text, fe.Edits); err != nil {
		return err
	}
	res.Edits = []FileEdit{fe}
	res.Label = fmt.Sprintf("lsp-router: %s %s (%s)", req.Action, firstNonEmpty(sym.NamePath, sym.Name), res.Model)
	return nil
}

// verifyGate is implemented by verifiers that can tell, before the edited
// text is built, that they will not check a file (cmd/lsp-router's, when the
// editor's language servers gave the context): newErrors then does not copy
// a large file only for Diagnose to decline.
type verifyGate interface {
	Verifies(ctx context.Context, path, languageID string) bool
}

// newErrors returns the error diagnostics the edit adds.
func (p *Pipeline) newErrors(ctx context.Context, req Request, tes []edits.TextEdit) ([]codectx.Diagnostic, error) {
	if g, ok := p.d.Verifier.(verifyGate); ok && !g.Verifies(ctx, req.Query.Path, req.Query.LanguageID) {
		return nil, errors.New("not verified: the verifier does not check this file")
	}
	edited, err := edits.Apply(req.Query.Text, tes)
	if err != nil {
		return nil, err
	}
	before, after, err := p.d.Verifier.Diagnose(ctx, req.Query.Path, req.Query.LanguageID, req.Query.Text, edited)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, d := range before {
		if d.Severity == codectx.SeverityError {
			seen[d.Message]++
		}
	}
	var out []codectx.Diagnostic
	for _, d := range after {
		if d.Severity != codectx.SeverityError {
			continue
		}
		if seen[d.Message] > 0 {
			seen[d.Message]--
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

func formatDiagnostics(ds []codectx.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "- line %d: %s\n", d.Range.Start.Line+1, d.Message)
	}
	return b.String()
}

// testFileFor names the test file that belongs to path by the language's
// convention, or "" when there is none.
func testFileFor(path, languageID string) string {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	switch {
	case languageID == "go" && !strings.HasSuffix(stem, "_test"):
		return filepath.Join(dir, stem+"_test.go")
	case languageID == "python" && !strings.HasPrefix(stem, "test_"):
		return filepath.Join(dir, "test_"+stem+ext)
	case (languageID == "typescript" || languageID == "javascript") && !strings.HasSuffix(stem, ".test"):
		return filepath.Join(dir, stem+".test"+ext)
	}
	return ""
}

// makeTestEdits adds the answer's tests to the symbol's test file (created
// when missing). When they cannot be taken from the answer, the answer
// alone is the result and a note says why.
func (p *Pipeline) makeTestEdits(req Request, res *Result, sym *codectx.Symbol) {
	path := testFileFor(req.Query.Path, req.Query.LanguageID)
	if path == "" {
		return
	}
	read := req.ReadFile
	if read == nil {
		read = func(p string) (string, int32, bool, error) { return ReadFromDisk(p, req.Query.WorkspaceRoot) }
	}
	text, version, exists, err := read(path)
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("tests not written: %v", err))
		return
	}
	if version < 0 {
		// Whoever writes a file no editor has open (the CLI, or the
		// editor with a CreateFile), a dangling symlink in its place must
		// not lead it out of the workspace, nor a read-only file be
		// replaced.
		if err := safefile.CheckWrite(path, req.Query.WorkspaceRoot); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("tests not written: %v", err))
			return
		}
	}
	file := edits.File{Path: path, Text: text, Language: req.Query.LanguageID}
	if req.Query.LanguageID == "go" {
		// A new test file starts with the package of the code under test.
		if f, err := parser.ParseFile(token.NewFileSet(), req.Query.Path, req.Query.Text, parser.PackageClauseOnly); err == nil {
			file.Package = f.Name.Name
		}
	}
	if lang := req.Query.LanguageID; lang == "typescript" || lang == "javascript" {
		file.Import = moduleImport(req.Query.Path, req.Query.Text, sym)
	}
	tes, err := edits.FromAnswer(string(ActionTests), res.Answer, file, codectx.Symbol{})
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("tests not written to %s: %v", filepath.Base(path), err))
		return
	}
	fe := FileEdit{Path: path, Version: version, Create: !exists}
	for _, te := range tes {
		fe.Edits = append(fe.Edits, TextEdit{Range: te.Range, NewText: te.NewText})
		if strings.Contains(te.NewText, "[REDACTED:") {
			res.Notes = append(res.Notes, "the tests contain a [REDACTED:...] placeholder where a secret was hidden from the model: replace it before running them")
		}
	}
	res.Edits = []FileEdit{fe}
	res.Label = fmt.Sprintf("lsp-router: tests in %s (%s)", filepath.Base(path), res.Model)
}

// moduleImport is the statement a new TypeScript/JavaScript test file
// needs to reach the symbol under test, in the module style of its source
// file, or "" when the symbol is not exported (the model's own imports
// stand then).
func moduleImport(path, text string, sym *codectx.Symbol) string {
	if sym == nil {
		return ""
	}
	name := firstNonEmpty(sym.NamePath, sym.Name)
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i] // a method is reached through its class
	}
	if name == "" || !jsIdent.MatchString(name) {
		return ""
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	q := regexp.QuoteMeta(name)
	switch {
	case regexp.MustCompile(`(?m)^\s*export\s+default\s+(?:async\s+)?(?:function|class)\s+` + q + `\b`).MatchString(text):
		return fmt.Sprintf("import %s from \"./%s\";", name, stem)
	case regexp.MustCompile(`(?m)^\s*export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|class|const|let|var|interface|type|enum|abstract\s+class)\s+` + q + `\b|export\s*\{[^}]*\b` + q + `\b`).MatchString(text):
		return fmt.Sprintf("import { %s } from \"./%s\";", name, stem)
	case regexp.MustCompile(`\bexports\.` + q + `\b|module\.exports\s*=\s*\{[^}]*\b` + q + `\b`).MatchString(text):
		return fmt.Sprintf("const { %s } = require(\"./%s\");", name, stem)
	}
	return ""
}

var jsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// ReadFromDisk is Request.ReadFile for files no editor has open: version -1,
// and a missing file is not an error (the test file to create). Only
// regular files inside roots are read (see safefile.ReadFile).
func ReadFromDisk(path string, roots ...string) (string, int32, bool, error) {
	b, err := safefile.ReadFile(path, roots...)
	if errors.Is(err, os.ErrNotExist) {
		return "", -1, false, nil
	}
	if err != nil {
		return "", -1, false, err
	}
	return string(b), -1, true, nil
}
