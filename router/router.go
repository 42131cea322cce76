// Package router is lsp-router's engine: one request in (an action on a
// position of a document), one result out (an answer and, for edit actions,
// text edits). It gathers code context, classifies the task, picks a model on
// the local LLM services, builds the prompt, streams the answer and turns it
// into edits. It knows nothing of LSP: lsp/ converts in one place.
package router

import (
	"context"
	"fmt"
	"slices"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// Action is what the user asked for.
type Action string

// The actions the editor and the CLI offer.
const (
	ActionExplain  Action = "explain"
	ActionRefactor Action = "refactor"
	ActionDocument Action = "document"
	ActionFix      Action = "fix"
	ActionTests    Action = "tests"
	ActionAsk      Action = "ask"
)

// Actions lists every action in menu order.
var Actions = []Action{ActionExplain, ActionRefactor, ActionDocument, ActionFix, ActionTests, ActionAsk}

// ParseAction validates a user-supplied action name.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if slices.Contains(Actions, a) {
		return a, nil
	}
	return "", fmt.Errorf("unknown action %q: use one of explain, refactor, document, fix, tests, ask", s)
}

// EditsDocument reports whether the action's result is an edit to the
// document rather than an answer to read.
func (a Action) EditsDocument() bool {
	return a == ActionRefactor || a == ActionDocument || a == ActionFix
}

// NeedsInstruction reports whether the action needs free text from the user.
func (a Action) NeedsInstruction() bool { return a == ActionRefactor || a == ActionAsk }

// Request is one action on one place of one document.
type Request struct {
	Action      Action
	Instruction string
	// Query locates the request: file, text as the editor has it, version,
	// cursor or selection, and the diagnostics the editor sent.
	Query codectx.Query
	// HasPosition is false for a free-form ask without a position.
	HasPosition bool
	// Agent names who asked when one process serves several (an MCP
	// client's name); it goes into the request's audit records instead of
	// the log's default.
	Agent string
	// Model, when set, is tried first (a model id, "id@service" to pin the
	// service): the caller's choice, e.g. an MCP agent's. The category's
	// fallbacks still follow when it fails.
	Model string
	// DryRun gathers context and builds the prompt without calling a model.
	DryRun bool
	// ReadFile reads another file of the workspace as the editor has it
	// (the test file for "tests"): its text, its version (-1 when the editor
	// does not have it open) and whether it exists. Nil reads from disk.
	ReadFile func(path string) (text string, version int32, exists bool, err error)
}

// Stage names a step of a request, for progress reports.
type Stage string

// Stages in the order a request passes them.
const (
	StageGathering  Stage = "gathering"
	StageSelecting  Stage = "selecting"
	StageWaiting    Stage = "waiting"
	StageGenerating Stage = "generating"
	StageVerifying  Stage = "verifying"
	// StageApplying: the edit is with the editor (or the CLI's --apply).
	StageApplying Stage = "applying"
)

// Progress is one progress report of a running request.
type Progress struct {
	Stage   Stage
	Message string // short, human-readable
	Model   string
	Service string
	// Tokens counts the tokens generated so far.
	Tokens int
	// Delta is the newly generated text, for streaming answers.
	Delta string
}

// ProgressFunc receives progress reports; it must not block for long.
type ProgressFunc func(Progress)

// TextEdit replaces Range of a document with NewText.
type TextEdit struct {
	Range   codectx.Range `json:"range"`
	NewText string        `json:"new_text"`
}

// FileEdit is the edits to one document, computed for one version of it.
type FileEdit struct {
	Path string `json:"file"`
	// Version is the document version the edits were computed for; -1 when
	// the editor does not have the file open (the edit then goes by disk).
	Version int32 `json:"version"`
	// Create is set when the file does not exist yet.
	Create bool       `json:"create,omitempty"`
	Edits  []TextEdit `json:"edits"`
}

// Result is what a request produced.
type Result struct {
	Model         string `json:"model"`
	Service       string `json:"service"`
	Category      string `json:"category"`
	FallbackLevel string `json:"fallback_level"`
	// Answer is the model's answer as Markdown (reasoning blocks removed).
	Answer string     `json:"answer"`
	Edits  []FileEdit `json:"edits,omitempty"`
	// Label describes the edit for an undo stack: "lsp-router: refactor CreateUser (qwen2.5-coder:7b)".
	Label     string `json:"label,omitempty"`
	TokensIn  int    `json:"tokens_in"`
	TokensOut int    `json:"tokens_out"`
	// Notes tells the user what happened on the way (a verification retry,
	// a refused edit), one short sentence each.
	Notes []string `json:"notes,omitempty"`
	// UnresolvedErrors are the compiler errors the edit still adds after
	// the verification retry ("line 12: undefined: slices"); an edit with
	// any is not written without the user's confirmation (--force, or the
	// editor's confirmation).
	UnresolvedErrors []string `json:"unresolved_errors,omitempty"`
	// Prompt is set for dry runs: the messages that would be sent.
	Prompt []Message `json:"prompt,omitempty"`
	// Redactions counts the distinct secrets replaced in what was (or, for
	// a dry run, would be) sent.
	Redactions int `json:"redactions,omitempty"`
	// Context is the gathered code context (dry runs and JSON output).
	Context *codectx.Context `json:"context,omitempty"`
}

// Message is one chat message of a prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ModelInfo describes one available model joined with the catalog, as
// `lsp-router models --json` prints it.
type ModelInfo struct {
	ID            string  `json:"id"`
	Service       string  `json:"service"`
	Family        string  `json:"family"`
	ParamsB       float64 `json:"params_b"`
	Quantization  string  `json:"quantization"`
	ContextLength int     `json:"context_length"`
	CatalogID     string  `json:"catalog_id"`
	Estimated     bool    `json:"estimated"`
	Chat          bool    `json:"chat"`
	Loaded        bool    `json:"loaded"`
	Digest        string  `json:"digest,omitempty"`
	// Refused says why routing will not use the model (checksum policy).
	Refused string `json:"refused,omitempty"`
	// External marks a model a local server runs elsewhere (Ollama cloud
	// models); ExternalReason says where. Routing skips it unless
	// security.allow_external = true.
	External       bool   `json:"external,omitempty"`
	ExternalReason string `json:"external_reason,omitempty"`
}

// Engine runs requests. Implementations must honour ctx: cancelling it stops
// the generation on the LLM server.
type Engine interface {
	Run(ctx context.Context, req Request, progress ProgressFunc) (*Result, error)
	Models(ctx context.Context) ([]ModelInfo, error)
}
