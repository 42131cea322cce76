package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/catalog"
	"github.com/lsp-router/lsp-router/router/codectx"
)

// The MCP tools. Inputs and outputs are typed: the go-sdk derives the
// schemas from them, checks the arguments before a handler runs, and sends
// the output as structured content next to the text an agent reads.

type askIn struct {
	Question string `json:"question" jsonschema:"the question, in plain words"`
	File     string `json:"file,omitempty" jsonschema:"a file of the workspace the question is about: relative to the workspace, or absolute"`
	Line     int    `json:"line,omitempty" jsonschema:"1-based line in file (needed with file)"`
	Column   int    `json:"column,omitempty" jsonschema:"1-based column in characters on the line (default 1)"`
	Model    string `json:"model,omitempty" jsonschema:"a model id from the models tool to try first (id@service pins the service); default: the model routing picks for the task"`
}

type explainIn struct {
	File   string `json:"file" jsonschema:"a file of the workspace: relative to the workspace, or absolute"`
	Line   int    `json:"line" jsonschema:"1-based line of the code to explain"`
	Column int    `json:"column" jsonschema:"1-based column in characters on the line"`
}

type proposeIn struct {
	Action      string `json:"action" jsonschema:"refactor, document, fix or tests"`
	File        string `json:"file" jsonschema:"a file of the workspace: relative to the workspace, or absolute"`
	Line        int    `json:"line" jsonschema:"1-based line of the code to change"`
	Column      int    `json:"column" jsonschema:"1-based column in characters on the line"`
	Instruction string `json:"instruction,omitempty" jsonschema:"what to change (needed for refactor)"`
	Apply       bool   `json:"apply,omitempty" jsonschema:"write the edit to the files; only when the user set mcp.allow_apply = true in their configuration"`
}

type routeIn struct {
	Request string `json:"request" jsonschema:"the request to route, in plain words"`
}

// answerOut is what ask and explain return.
type answerOut struct {
	Answer        string   `json:"answer"`
	Model         string   `json:"model"`
	Service       string   `json:"service"`
	Category      string   `json:"category"`
	FallbackLevel string   `json:"fallback_level,omitempty"`
	TokensIn      int      `json:"tokens_in"`
	TokensOut     int      `json:"tokens_out"`
	Notes         []string `json:"notes,omitempty"`
}

// editOut is one text edit with 1-based lines and character columns; the
// end is exclusive.
type editOut struct {
	File        string `json:"file"`
	StartLine   int    `json:"start_line"`
	StartColumn int    `json:"start_column"`
	EndLine     int    `json:"end_line"`
	EndColumn   int    `json:"end_column"`
	NewText     string `json:"new_text"`
}

type proposeOut struct {
	Diff    string    `json:"diff"`
	Edits   []editOut `json:"edits"`
	Applied bool      `json:"applied"`
	// Written lists the files written (workspace-relative) when applied.
	Written          []string `json:"written,omitempty"`
	Model            string   `json:"model"`
	Service          string   `json:"service"`
	Category         string   `json:"category"`
	UnresolvedErrors []string `json:"unresolved_errors,omitempty"`
	Notes            []string `json:"notes,omitempty"`
}

type modelOut struct {
	ID            string          `json:"id"`
	Service       string          `json:"service"`
	Family        string          `json:"family,omitempty"`
	ParamsB       float64         `json:"params_b,omitempty"`
	Quantization  string          `json:"quantization,omitempty"`
	ContextLength int             `json:"context_length"`
	State         string          `json:"state"`
	CatalogID     string          `json:"catalog_id,omitempty"`
	Estimated     bool            `json:"estimated"`
	Scores        *catalog.Scores `json:"scores,omitempty"`
	Refused       string          `json:"refused,omitempty"`
}

type modelsOut struct {
	Models []modelOut `json:"models"`
}

func (s *mcpService) addTools() {
	mcp.AddTool(s.server, &mcp.Tool{Name: "ask",
		Description: "Ask the local LLMs a question, optionally about a place in a workspace file (then Serena and the language server add the code context). The task is classified and routed to the best available model; the answer names the model and service."},
		s.ask)
	mcp.AddTool(s.server, &mcp.Tool{Name: "explain",
		Description: "Explain the code at a place of a workspace file, with its definitions and references as context. Returns Markdown."},
		s.explain)
	mcp.AddTool(s.server, &mcp.Tool{Name: "propose_edit",
		Description: "Propose an edit at a place of a workspace file: refactor (with an instruction), document, fix, or tests. Returns a unified diff and the edits; the edit is checked with the language server first. Writes the files only with apply: true when the user allowed it (mcp.allow_apply)."},
		s.proposeEdit)
	mcp.AddTool(s.server, &mcp.Tool{Name: "models",
		Description: "List the models of the local LLM services: context window, state (loaded, refused) and catalog scores per task.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		s.models)
	mcp.AddTool(s.server, &mcp.Tool{Name: "route",
		Description: "Show how a request would be routed, without calling a model: its category, the chosen model, the fallbacks and the models skipped, with reasons.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		s.route)
}

func (s *mcpService) ask(ctx context.Context, req *mcp.CallToolRequest, in askIn) (*mcp.CallToolResult, answerOut, error) {
	r := router.Request{Action: router.ActionAsk, Instruction: strings.TrimSpace(in.Question), Model: strings.TrimSpace(in.Model)}
	if r.Instruction == "" {
		return nil, answerOut{}, errors.New("question is empty: give the question in plain words")
	}
	switch {
	case in.File != "":
		if err := s.locate(&r, in.File, in.Line, in.Column); err != nil {
			return nil, answerOut{}, err
		}
	case in.Line != 0 || in.Column != 0:
		return nil, answerOut{}, errors.New("line and column need file: name the file they are in")
	}
	return s.answer(ctx, req, r)
}

func (s *mcpService) explain(ctx context.Context, req *mcp.CallToolRequest, in explainIn) (*mcp.CallToolResult, answerOut, error) {
	r := router.Request{Action: router.ActionExplain}
	if err := s.locate(&r, in.File, in.Line, in.Column); err != nil {
		return nil, answerOut{}, err
	}
	return s.answer(ctx, req, r)
}

func (s *mcpService) answer(ctx context.Context, req *mcp.CallToolRequest, r router.Request) (*mcp.CallToolResult, answerOut, error) {
	res, err := s.run(ctx, req, r)
	if err != nil {
		return nil, answerOut{}, err
	}
	out := answerOut{Answer: res.Answer, Model: res.Model, Service: res.Service, Category: res.Category,
		FallbackLevel: res.FallbackLevel, TokensIn: res.TokensIn, TokensOut: res.TokensOut, Notes: res.Notes}
	text := fmt.Sprintf("%s\n\n---\n%s by %s on %s (%s)%s", res.Answer, r.Action, res.Model, res.Service, res.Category, notesText(res.Notes))
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, out, nil
}

func notesText(notes []string) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString("\nnote: " + n)
	}
	return b.String()
}

// applyRefused is the one line that refuses apply: true.
const applyRefused = "apply refused: writing files needs mcp.allow_apply = true in your own configuration (lsp-router config path); call propose_edit without apply to get the diff"

func (s *mcpService) proposeEdit(ctx context.Context, req *mcp.CallToolRequest, in proposeIn) (*mcp.CallToolResult, proposeOut, error) {
	action, err := router.ParseAction(in.Action)
	if err != nil || (!action.EditsDocument() && action != router.ActionTests) {
		return nil, proposeOut{}, fmt.Errorf("action %q is not an edit: use refactor, document, fix or tests (explain and ask have their own tools)", in.Action)
	}
	r := router.Request{Action: action, Instruction: strings.TrimSpace(in.Instruction)}
	if action == router.ActionRefactor && r.Instruction == "" {
		return nil, proposeOut{}, errors.New("refactor needs an instruction: say what to change, e.g. \"extract the loop into a function\"")
	}
	// Refused before any model runs: the answer would be thrown away.
	if in.Apply && !s.allowApply() {
		return nil, proposeOut{}, errors.New(applyRefused)
	}
	if err := s.locate(&r, in.File, in.Line, in.Column); err != nil {
		return nil, proposeOut{}, err
	}
	res, err := s.run(ctx, req, r)
	if err != nil {
		return nil, proposeOut{}, err
	}
	out := proposeOut{Edits: []editOut{}, Model: res.Model, Service: res.Service, Category: res.Category,
		UnresolvedErrors: res.UnresolvedErrors, Notes: res.Notes}
	if len(res.Edits) == 0 {
		// The notes say why (tests not recognised, their file refused).
		return nil, proposeOut{}, fmt.Errorf("no edit came out of the answer of %s on %s%s; try again with a clearer instruction", res.Model, res.Service, oneLineNotes(res.Notes))
	}
	roots := []string{s.workspace}
	plan, err := planEdits(r, res, roots)
	if err != nil {
		return nil, proposeOut{}, err
	}
	var diff strings.Builder
	for _, pe := range plan {
		diff.WriteString(pe.diff())
	}
	out.Diff = diff.String()
	for i, fe := range res.Edits {
		for _, te := range fe.Edits {
			out.Edits = append(out.Edits, oneBased(plan[i].rel, plan[i].old, te))
		}
	}
	summary := fmt.Sprintf("%s by %s on %s", action, res.Model, res.Service)
	switch {
	case !in.Apply:
		summary += ": not written (review the diff; apply: true writes it when the user allows it)"
		if len(res.UnresolvedErrors) > 0 {
			summary += fmt.Sprintf("\nwarning: the edit still adds %d compiler error(s): %s", len(res.UnresolvedErrors), strings.Join(res.UnresolvedErrors, "; "))
		}
	case len(res.UnresolvedErrors) > 0:
		msg := fmt.Sprintf("not written: the edit still adds %d compiler error(s) (%s); fix the instruction or apply the diff yourself", len(res.UnresolvedErrors), strings.Join(res.UnresolvedErrors, "; "))
		return toolErrorWith(msg, out.Diff), out, nil
	default:
		err := writePlan(plan, roots, func(pe plannedEdit) { out.Written = append(out.Written, pe.rel) })
		if err != nil {
			return toolErrorWith(err.Error(), out.Diff), out, nil
		}
		out.Applied = true
		summary += ": written to " + strings.Join(out.Written, ", ")
	}
	text := summary + notesText(res.Notes) + "\n\n" + out.Diff
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, out, nil
}

// toolErrorWith is a tool error whose first line says what went wrong,
// followed by the diff the agent can still use.
func toolErrorWith(msg, diff string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg + "\n\n" + diff}}}
}

func oneLineNotes(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

// oneBased converts an LSP edit (0-based lines, UTF-16 columns) on text
// into the 1-based line and character columns agents count in.
func oneBased(file, text string, te router.TextEdit) editOut {
	sl, sc := charPosition(text, te.Range.Start)
	el, ec := charPosition(text, te.Range.End)
	return editOut{File: file, StartLine: sl, StartColumn: sc, EndLine: el, EndColumn: ec, NewText: te.NewText}
}

func charPosition(text string, p codectx.Position) (line, col int) {
	off, err := codectx.Offset(text, p)
	if err != nil {
		return p.Line + 1, p.Character + 1
	}
	start, err := codectx.Offset(text, codectx.Position{Line: p.Line})
	if err != nil || start > off {
		return p.Line + 1, p.Character + 1
	}
	return p.Line + 1, utf8.RuneCountInString(text[start:off]) + 1
}

func (s *mcpService) models(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, modelsOut, error) {
	w, err := s.engineFor(agentName(req))
	if err != nil {
		return nil, modelsOut{}, oneLine(err)
	}
	cctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	infos, err := w.engine.Models(cctx)
	if err != nil {
		return nil, modelsOut{}, oneLine(err)
	}
	cat, err := loadCatalog(w.cfg)
	if err != nil {
		return nil, modelsOut{}, oneLine(err)
	}
	out := modelsOut{Models: []modelOut{}}
	var b strings.Builder
	for _, m := range infos {
		mo := modelOut{ID: m.ID, Service: m.Service, Family: m.Family, ParamsB: m.ParamsB, Quantization: m.Quantization,
			ContextLength: m.ContextLength, CatalogID: m.CatalogID, Estimated: m.Estimated, Refused: m.Refused, State: modelState(m)}
		if e, ok := cat.Get(m.CatalogID); ok && m.CatalogID != "" {
			sc := e.Scores
			mo.Scores = &sc
		}
		out.Models = append(out.Models, mo)
		fmt.Fprintf(&b, "- %s on %s: context %d, %s", mo.ID, mo.Service, mo.ContextLength, mo.State)
		if mo.Scores != nil {
			fmt.Fprintf(&b, "; scores coding %d, reasoning %d, analysis %d, documentation %d", mo.Scores.Coding, mo.Scores.Reasoning, mo.Scores.Analysis, mo.Scores.Documentation)
		}
		b.WriteString("\n")
	}
	if len(infos) == 0 {
		b.WriteString(router.ErrNoServices.Error())
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: b.String()}}}, out, nil
}

// modelState says whether a model can answer now, and how fast.
func modelState(m router.ModelInfo) string {
	switch {
	case m.Refused != "":
		return "refused: " + m.Refused
	case !m.Chat:
		return "embedding only"
	case m.Loaded:
		return "loaded"
	}
	return "available (not loaded)"
}

func (s *mcpService) route(ctx context.Context, req *mcp.CallToolRequest, in routeIn) (*mcp.CallToolResult, routeJSON, error) {
	text := strings.TrimSpace(in.Request)
	if text == "" {
		return nil, routeJSON{}, errors.New("request is empty: give the request to route in plain words")
	}
	agent := agentName(req)
	w, err := s.engineFor(agent)
	if err != nil {
		return nil, routeJSON{}, oneLine(err)
	}
	cctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	out, rep, err := routeOf(cctx, w.engine, router.ActionAsk, text, agent)
	if rep == nil {
		return nil, routeJSON{}, oneLine(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "category: %s (confidence %.2f; %s)\n", out.Category, out.Confidence, out.Why)
	if out.Model != "" {
		fmt.Fprintf(&b, "model: %s on %s (%s)\n", out.Model, out.Service, rep.Decision.Chosen.Why)
	}
	for i, f := range out.Fallbacks {
		fmt.Fprintf(&b, "fallback %d: %s on %s [%s] %s\n", i+1, f.Model, f.Service, f.Level, f.Why)
	}
	for _, sk := range out.Skipped {
		fmt.Fprintf(&b, "skipped: %s %s: %s\n", sk.Model, sk.Service, sk.Reason)
	}
	if err != nil {
		// The explanation still helps: the skips say why nothing fits.
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: oneLine(err).Error() + "\n\n" + b.String()}}}, out, nil
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: b.String()}}}, out, nil
}

// locate fills r.Query from a workspace file and a 1-based position.
func (s *mcpService) locate(r *router.Request, file string, line, col int) error {
	if strings.TrimSpace(file) == "" {
		return errors.New("file is empty: name a file of the workspace, relative to " + s.workspace)
	}
	if line == 0 {
		return fmt.Errorf("line is missing: give the 1-based line in %s", file)
	}
	if col == 0 {
		col = 1
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.workspace, path)
	}
	path = filepath.Clean(path)
	if !safefile.Within(path, s.workspace) {
		return fmt.Errorf("file %s is outside the workspace %s: name a file inside it (start lsp-router mcp with --workspace DIR for another project)", file, s.workspace)
	}
	return queryAt(r, position{file: file, path: path, line: line, col: col, fileName: "file", lineName: "line", colName: "column"}, s.workspace, s.workspace)
}

// run runs r on the calling agent's engine, reporting progress when the
// agent asked for it. Cancelling the MCP request cancels ctx, which stops
// the generation on the LLM server.
func (s *mcpService) run(ctx context.Context, req *mcp.CallToolRequest, r router.Request) (*router.Result, error) {
	agent := agentName(req)
	r.Agent = agent
	w, err := s.engineFor(agent)
	if err != nil {
		return nil, oneLine(err)
	}
	if r.Model != "" {
		if err := checkModel(ctx, w, r.Model); err != nil {
			return nil, err
		}
	}
	if r.HasPosition {
		s.syncFile(agent, w, r)
	}
	res, err := w.engine.Run(ctx, r, progressReporter(ctx, req))
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.New("cancelled: the request was cancelled before the answer was complete")
		}
		return nil, oneLine(err)
	}
	return res, nil
}

// checkModel refuses a model the agent named that no service offers, so
// the agent learns it instead of getting another model's answer.
func checkModel(ctx context.Context, w *wired, model string) error {
	cctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	infos, err := w.engine.Models(cctx)
	if err != nil {
		return oneLine(err)
	}
	id, svc, _ := strings.Cut(model, "@")
	for _, m := range infos {
		if m.ID == id && m.Chat && (svc == "" || strings.EqualFold(m.Service, svc)) {
			return nil
		}
	}
	return fmt.Errorf("model %q is not offered by any local service: pick one from the models tool, or leave model out to let routing choose", model)
}

// oneLine makes an error a tool error of one line: agents show the first.
func oneLine(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " "))
}

// progressTokensStep is how many generated tokens pass between two
// progress notifications: enough to show life, few enough messages.
const progressTokensStep = 16

// progressReporter sends MCP progress notifications for the request's
// progress token: one per stage, then one per progressTokensStep tokens
// while generating. Without a token it reports nothing.
func progressReporter(ctx context.Context, req *mcp.CallToolRequest) router.ProgressFunc {
	token := req.Params.GetProgressToken()
	if token == nil || req.Session == nil {
		return func(router.Progress) {}
	}
	var (
		mu     sync.Mutex
		n      float64
		stage  router.Stage
		tokens int
	)
	return func(p router.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Stage == stage && p.Tokens < tokens+progressTokensStep {
			return
		}
		stage, tokens = p.Stage, p.Tokens
		n++
		msg := p.Message
		if p.Stage == router.StageGenerating && p.Model != "" {
			msg = fmt.Sprintf("generating with %s on %s: %d tokens", p.Model, p.Service, p.Tokens)
		}
		if msg == "" {
			msg = string(p.Stage)
		}
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: n, Message: msg})
	}
}
