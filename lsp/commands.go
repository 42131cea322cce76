package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// ExecuteCommand runs a command. Action commands run until done on this
// request's goroutine (the middleware released the read loop), so the
// editor can cancel them with $/cancelRequest.
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
	return s.runAction(ctx, engine, req, params.WorkDoneToken)
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

// runAction runs one request with progress, delivers its edit or answer and
// returns the command result.
func (s *Server) runAction(ctx context.Context, engine router.Engine, req router.Request, clientToken protocol.ProgressToken) (protocol.LSPAny, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()

	p := s.newProgress(ctx, caps, clientToken, "lsp-router: "+string(req.Action))
	id := s.jobs.add(p.tokenKey(), cancel)
	defer s.jobs.remove(id)
	p.begin(ctx, "gathering context")

	result, err := engine.Run(ctx, req, func(pr router.Progress) { p.report(ctx, pr) })
	if err != nil {
		if ctx.Err() != nil {
			p.end(ctx, "cancelled")
			s.status(ctx, "", "", "idle")
			return nil, protocol.ErrRequestCancelled
		}
		p.end(ctx, "failed: "+err.Error())
		s.status(ctx, "", "", "idle")
		if !caps.answerNotification {
			s.showMessage(ctx, protocol.MessageTypeError, "lsp-router %s: %v", req.Action, err)
		}
		return nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "%s: %v", req.Action, err)
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
		applied, err := s.applyEdits(ctx, caps, req, result)
		if err != nil {
			p.end(ctx, "edit not applied: "+err.Error())
			if !caps.answerNotification {
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
		return d.Text, d.Version, true, nil
	}
	s.mu.Lock()
	ws := s.workspace
	s.mu.Unlock()
	return router.ReadFromDisk(path, ws)
}
