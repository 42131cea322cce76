package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
)

const commandPrefix = "lsp-router."

// Commands that are not router actions.
const (
	cmdModels = commandPrefix + "models"
	cmdCancel = commandPrefix + "cancel"
)

func commandNames() []string {
	names := make([]string, 0, len(router.Actions)+2)
	for _, a := range router.Actions {
		names = append(names, commandPrefix+string(a))
	}
	return append(names, cmdModels, cmdCancel)
}

// commandArgs is the one argument object of every action command; see
// docs/protocol.md.
type commandArgs struct {
	URI         string            `json:"uri,omitempty"`
	Range       codectx.Range     `json:"range"`
	Version     *int32            `json:"version,omitempty"`
	Instruction string            `json:"instruction,omitempty"`
	Diagnostics []json.RawMessage `json:"diagnostics,omitempty"`
}

// commandResult is what an action command answers.
type commandResult struct {
	Model         string   `json:"model"`
	Service       string   `json:"service"`
	Category      string   `json:"category"`
	FallbackLevel string   `json:"fallback_level"`
	Answer        string   `json:"answer"`
	Applied       bool     `json:"applied"`
	Notes         []string `json:"notes,omitempty"`
	// UnresolvedErrors are compiler errors the edit still adds; the user
	// was asked before it was applied.
	UnresolvedErrors []string `json:"unresolved_errors,omitempty"`
}

func invalidParams(format string, args ...any) error {
	return jsonrpc2.Errorf(jsonrpc2.InvalidParams, format, args...)
}

// startedResult is what an action command answers at once when the client
// did not ask to wait: the work goes on with $/progress, and its outcome
// reaches the editor as workspace/applyEdit, lsp-router/answer,
// window/showDocument or window/showMessage.
type startedResult struct {
	Started bool   `json:"started"`
	Action  string `json:"action"`
	// Token is the $/progress token; window/workDoneProgress/cancel with it
	// (or the lsp-router.cancel command) stops the work.
	Token any `json:"token"`
}

// ExecuteCommand runs a command. An action command is validated here and
// then, by default, answered at once while it runs in the background: a
// client that blocks on executeCommand (Emacs eglot times out after 10 s)
// must not wait for a model. A client that opted in to waiting gets the
// commandResult in the response and can cancel with $/cancelRequest.
func (s *Server) ExecuteCommand(ctx context.Context, params *protocol.ExecuteCommandParams) (protocol.LSPAny, error) {
	switch params.Command {
	case cmdCancel:
		n := s.jobs.cancelAll()
		return marshalAny(map[string]int{"cancelled": n})
	case cmdModels:
		engine, _, err := s.currentEngine(ctx)
		if err != nil {
			return nil, err
		}
		models, err := engine.Models(ctx)
		if err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		if models == nil {
			models = []router.ModelInfo{}
		}
		return marshalAny(models)
	}
	name, ok := strings.CutPrefix(params.Command, commandPrefix)
	if !ok {
		return nil, invalidParams("unknown command %q; known commands: %s", params.Command, strings.Join(commandNames(), ", "))
	}
	action, err := router.ParseAction(name)
	if err != nil {
		return nil, invalidParams("unknown command %q; known commands: %s", params.Command, strings.Join(commandNames(), ", "))
	}
	args, err := parseArgs(params.Arguments)
	if err != nil {
		return nil, invalidParams("%s: %v", params.Command, err)
	}
	req, err := s.buildRequest(action, args)
	if err != nil {
		return nil, err
	}
	engine, _, err := s.currentEngine(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	waits := s.caps.executeCommandWaits
	s.mu.Unlock()
	if waits {
		run := s.startAction(ctx, req, params.WorkDoneToken)
		return s.runAction(run, engine, req, true)
	}
	// The work outlives this request: it is cancelled through the job
	// table (progress cancel, lsp-router.cancel, shutdown), not by the
	// request's end.
	run := s.startAction(context.WithoutCancel(ctx), req, params.WorkDoneToken)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in command", "command", params.Command, "panic", p, "stack", string(debug.Stack()))
				run.p.end(run.ctx, "failed: internal error")
				s.showMessage(run.ctx, protocol.MessageTypeError, "lsp-router %s: internal error (%v); please report this with the log", req.Action, p)
				run.done()
			}
		}()
		_, _ = s.runAction(run, engine, req, false)
	}()
	return marshalAny(startedResult{Started: true, Action: string(req.Action), Token: tokenValue(run.p.token)})
}

// splitWaitOption takes the executeCommandWaits opt-in out of the
// initializationOptions (the rest is configuration, which rejects unknown
// keys), at the top level or under "lsp-router".
func splitWaitOption(raw protocol.LSPAny) (protocol.LSPAny, bool) {
	var top map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &top) != nil {
		return raw, false
	}
	take := func(m map[string]json.RawMessage) (bool, bool) {
		v, ok := m["executeCommandWaits"]
		if !ok {
			return false, false
		}
		delete(m, "executeCommandWaits")
		var b bool
		_ = json.Unmarshal(v, &b)
		return b, true
	}
	waits, found := take(top)
	if inner, ok := top["lsp-router"]; ok {
		var m map[string]json.RawMessage
		if json.Unmarshal(inner, &m) == nil {
			if w, f := take(m); f {
				waits, found = waits || w, true
				if b, err := json.Marshal(m); err == nil {
					top["lsp-router"] = b
				}
			}
		}
	}
	if !found {
		return raw, false
	}
	b, err := json.Marshal(top)
	if err != nil {
		return raw, waits
	}
	return protocol.LSPAny(b), waits
}

func tokenValue(t protocol.ProgressToken) any {
	switch v := t.(type) {
	case protocol.String:
		return string(v)
	case protocol.Integer:
		return int32(v)
	}
	return nil
}

func parseArgs(raw []protocol.LSPAny) (commandArgs, error) {
	var args commandArgs
	if len(raw) != 1 {
		return args, fmt.Errorf("want one argument object {uri, range, version, instruction}, got %d arguments", len(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&args); err != nil {
		return args, fmt.Errorf("malformed argument: %v", err)
	}
	return args, nil
}

// buildRequest turns command arguments into a router request, reading the
// document from the store (or from disk when the editor never opened it).
func (s *Server) buildRequest(action router.Action, args commandArgs) (router.Request, error) {
	s.mu.Lock()
	ws := s.workspace
	s.mu.Unlock()
	// A missing instruction is the router's to fill: from a marker comment
	// in the code, or the default refactor (router/marker.go).
	req := router.Request{Action: action, Instruction: strings.TrimSpace(args.Instruction), ReadFile: s.readFile}
	req.Query.WorkspaceRoot = ws
	if args.URI == "" {
		if action != router.ActionAsk {
			return req, invalidParams("%s needs \"uri\" and \"range\" of the code to work on", action)
		}
		return req, nil
	}
	d, ok := s.docs.get(args.URI)
	if ok && d.OutOfSync {
		return req, outOfSyncError(d)
	}
	if !ok {
		path := uriToPath(args.URI)
		if path == "" {
			return req, invalidParams("uri %q is not a file URI", args.URI)
		}
		text, err := safefile.ReadFile(path, ws)
		if err != nil {
			return req, invalidParams("%s is not open in the editor and cannot be read: %v", path, err)
		}
		d = Document{URI: args.URI, Path: path, Text: string(text), Version: -1}
	} else if args.Version != nil && *args.Version != d.Version {
		return req, jsonrpc2.Errorf(protocol.CodeContentModified, "the document changed (version %d, command was for %d); run the command again", d.Version, *args.Version)
	}
	if _, err := codectx.Offset(d.Text, args.Range.Start); err != nil {
		return req, invalidParams("range start: %v", err)
	}
	if _, err := codectx.Offset(d.Text, args.Range.End); err != nil {
		return req, invalidParams("range end: %v", err)
	}
	q := &req.Query
	q.Path, q.Text, q.Version, q.LanguageID = d.Path, d.Text, d.Version, d.LanguageID
	if q.LanguageID == "" {
		q.LanguageID = codectx.LanguageID(d.Path)
	}
	q.Position = args.Range.Start
	if args.Range.Start != args.Range.End {
		r := args.Range
		q.Selection = &r
	}
	for _, raw := range args.Diagnostics {
		var diag protocol.Diagnostic
		if err := protocol.Unmarshal(raw, &diag); err != nil {
			return req, invalidParams("malformed diagnostic: %v", err)
		}
		q.Diagnostics = append(q.Diagnostics, fromDiagnostic(d.Path, diag))
	}
	req.HasPosition = true
	return req, nil
}

func fromDiagnostic(path string, d protocol.Diagnostic) codectx.Diagnostic {
	out := codectx.Diagnostic{Path: path, Range: fromRange(d.Range), Severity: codectx.Severity(d.Severity), Message: diagnosticMessage(d)}
	if src, ok := d.Source.Get(); ok {
		out.Source = src
	}
	switch c := d.Code.(type) {
	case protocol.String:
		out.Code = string(c)
	case protocol.Integer:
		out.Code = fmt.Sprint(int32(c))
	}
	if out.Severity == 0 {
		out.Severity = codectx.SeverityError
	}
	return out
}

// actionRun is one running action: its context, progress and job entry.
type actionRun struct {
	ctx    context.Context
	cancel context.CancelFunc
	caps   clientCaps
	p      *progress
	done   func()
}

// startAction registers the action as a job (so it can be cancelled from
// the moment the editor hears of it) and announces its progress.
func (s *Server) startAction(ctx context.Context, req router.Request, clientToken protocol.ProgressToken) *actionRun {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()
	p := s.newProgress(ctx, caps, clientToken, "lsp-router: "+string(req.Action))
	id := s.jobs.add(p.tokenKey(), cancel)
	var once sync.Once
	run := &actionRun{ctx: ctx, cancel: cancel, caps: caps, p: p, done: func() {
		once.Do(func() {
			s.jobs.remove(id)
			cancel()
		})
	}}
	p.begin(ctx, "gathering context")
	return run
}

// runAction runs one request with progress and delivers its edit or answer.
// When reply is set the client waits for the outcome in the response;
// otherwise the outcome, failures included, is shown to the user.
func (s *Server) runAction(run *actionRun, engine router.Engine, req router.Request, reply bool) (protocol.LSPAny, error) {
	defer run.done()
	ctx, caps, p := run.ctx, run.caps, run.p
	// Without a response to carry it, an error must reach the user.
	tell := !caps.answerNotification || !reply

	result, err := engine.Run(s.withEditorContext(ctx, caps), req, func(pr router.Progress) { p.report(ctx, pr) })
	if err != nil {
		if ctx.Err() != nil {
			p.end(ctx, "cancelled")
			s.status(ctx, "", "", "idle")
			return nil, protocol.ErrRequestCancelled
		}
		p.end(ctx, "failed: "+router.UserLine(err))
		s.status(ctx, "", "", "idle")
		if tell {
			s.showMessage(ctx, protocol.MessageTypeError, "lsp-router %s: %s", req.Action, router.UserLine(err))
		}
		return nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "%s: %s", req.Action, router.UserLine(err))
	}
	s.status(ctx, result.Model, result.Service, "idle")
	out := commandResult{Model: result.Model, Service: result.Service, Category: result.Category,
		FallbackLevel: result.FallbackLevel, Answer: result.Answer, Notes: result.Notes,
		UnresolvedErrors: result.UnresolvedErrors}
	if needsCreate(result.Edits) && !caps.createFiles {
		// The editor cannot create files: the tests stay in the answer.
		result.Edits = nil
		out.Notes = append(out.Notes, "your editor cannot create files through LSP: copy the tests from the answer")
	}
	if len(result.Edits) > 0 {
		// Until the editor answers (a preview may wait for the user), the
		// progress must not keep saying the edit is being checked.
		p.report(ctx, router.Progress{Stage: router.StageApplying, Message: "waiting for the editor to apply the edit", Model: result.Model, Service: result.Service})
		applied, err := s.applyEdits(ctx, caps, req, result)
		if err != nil {
			p.end(ctx, "edit not applied: "+err.Error())
			if tell {
				s.showMessage(ctx, protocol.MessageTypeWarning, "lsp-router: %v", err)
			}
			return nil, err
		}
		out.Applied = applied
		msg := "edit applied"
		if !applied {
			msg = "edit declined"
		}
		p.end(ctx, fmt.Sprintf("%s (%s)", msg, result.Model))
	} else {
		s.deliverAnswer(ctx, caps, req, result)
		p.end(ctx, "done ("+result.Model+")")
	}
	if !reply && len(out.Notes) > 0 {
		s.showMessage(ctx, protocol.MessageTypeInfo, "lsp-router %s: %s", req.Action, strings.Join(out.Notes, "; "))
	}
	return marshalAny(out)
}

func marshalAny(v any) (protocol.LSPAny, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal result: %w", err)
	}
	return protocol.LSPAny(b), nil
}

// status tells the editor plugins what is running, for a status line.
func (s *Server) status(ctx context.Context, model, service, state string) {
	s.notify(ctx, "lsp-router/status", map[string]string{"model": model, "service": service, "state": state})
}

// jobTable tracks running commands so they can be cancelled by progress
// token (window/workDoneProgress/cancel) or all at once.
type jobTable struct {
	mu   sync.Mutex
	next atomic.Int64
	jobs map[int64]job
}

type job struct {
	token  string
	cancel context.CancelFunc
}

func newJobTable() *jobTable { return &jobTable{jobs: map[int64]job{}} }

func (t *jobTable) add(token string, cancel context.CancelFunc) int64 {
	id := t.next.Add(1)
	t.mu.Lock()
	t.jobs[id] = job{token: token, cancel: cancel}
	t.mu.Unlock()
	return id
}

func (t *jobTable) remove(id int64) {
	t.mu.Lock()
	delete(t.jobs, id)
	t.mu.Unlock()
}

func (t *jobTable) cancelToken(token string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range t.jobs {
		if j.token == token {
			j.cancel()
			return true
		}
	}
	return false
}

func (t *jobTable) cancelAll() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range t.jobs {
		j.cancel()
	}
	return len(t.jobs)
}

// WorkDoneProgressCancel cancels the command that reports on the token.
func (s *Server) WorkDoneProgressCancel(ctx context.Context, params *protocol.WorkDoneProgressCancelParams) error {
	if !s.jobs.cancelToken(tokenString(params.Token)) {
		s.log.Debug("cancel for unknown progress token", "token", tokenString(params.Token))
	}
	return nil
}

func tokenString(t protocol.ProgressToken) string {
	switch v := t.(type) {
	case protocol.String:
		return "s:" + string(v)
	case protocol.Integer:
		return fmt.Sprintf("i:%d", int32(v))
	}
	return ""
}

func needsCreate(fes []router.FileEdit) bool {
	for _, fe := range fes {
		if fe.Create {
			return true
		}
	}
	return false
}

// readFile gives the engine another file as the editor has it: from the
// document store when open, else from disk.
func (s *Server) readFile(path string) (string, int32, bool, error) {
	if d, ok := s.docs.get(pathToURI(path)); ok {
		if d.OutOfSync {
			return "", 0, false, outOfSyncError(d)
		}
		return d.Text, d.Version, true, nil
	}
	s.mu.Lock()
	ws := s.workspace
	s.mu.Unlock()
	return router.ReadFromDisk(path, ws)
}
