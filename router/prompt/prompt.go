// Package prompt builds the chat messages for an action (explain, refactor,
// document, fix, tests, ask) from embedded, overridable templates, within
// the selected model's token budget: sections are kept in priority order
// (instruction, symbol body, diagnostics, hover/type text, references,
// surrounding code) and what does not fit is cut by section, on line
// boundaries, with a visible marker.
package prompt

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// Action is what the user asked for.
type Action string

// The actions, as the editor and the CLI name them.
const (
	Explain  Action = "explain"
	Refactor Action = "refactor"
	Document Action = "document"
	Fix      Action = "fix"
	Tests    Action = "tests"
	Ask      Action = "ask"
)

// Actions lists every action in a stable order.
func Actions() []Action { return []Action{Explain, Refactor, Document, Fix, Tests, Ask} }

// Message is one chat message.
type Message struct {
	Role    string `json:"role"` // "system", "user", "assistant", "tool"
	Content string `json:"content"`
}

// Input is one request to turn into a prompt.
type Input struct {
	Action Action
	// Instruction is the user's text: what to change (refactor), the
	// question (ask), extra wishes for the other actions.
	Instruction string
	// Language is the LSP language id of the file ("go", "python", ...).
	Language string
	// Path is the file's path as shown to the model.
	Path string
	// Context is what gathering found around the cursor.
	Context codectx.Context
	// FileText is the document's text; when Context has no surrounding
	// code it supplies the code around the symbol.
	FileText string
}

// Budget bounds the prompt.
type Budget struct {
	// ContextLength is the selected model's real context window, in
	// tokens.
	ContextLength int
	// AnswerReserve is the room kept for the answer.
	AnswerReserve int
	// Count counts the tokens of a text with the model's tokenizer (or an
	// estimate such as EstimateTokens). Nil uses EstimateTokens with the
	// most conservative family. Build calls it O(sections x log(lines))
	// times and caches results for identical texts.
	Count func(string) int
}

// Prompt is the result of Build.
type Prompt struct {
	Messages []Message
	// Tokens is the prompt's size as counted: contents plus the per-message
	// overhead of chat templates (MessageOverhead) and ReplyPriming.
	Tokens int
	// Dropped describes what was cut to fit, e.g. "references: 3 of 5
	// dropped"; empty when everything fit.
	Dropped []string
}

// Chat templates wrap every message in role markers, and the reply is
// primed with an assistant header; these constants cover that overhead
// (OpenAI's accounting uses 3-4 per message and 3 for the reply; local
// templates such as ChatML and Llama 3's use 4-5 per message).
const (
	MessageOverhead = 5
	ReplyPriming    = 3
)

// CountMessages counts msgs as Build does: each content plus
// MessageOverhead, plus ReplyPriming once.
func CountMessages(msgs []Message, count func(string) int) int {
	if count == nil {
		count = func(s string) int { return EstimateTokens("", s) }
	}
	n := ReplyPriming
	for _, m := range msgs {
		n += count(m.Content) + MessageOverhead
	}
	return n
}

//go:embed templates/*.tmpl
var templateFS embed.FS

// ErrBudget is wrapped by Build's error when even the essential part of
// the prompt does not fit the budget.
var ErrBudget = errors.New("prompt does not fit the model's context")

// Builder renders prompts. It is safe for concurrent use.
type Builder struct {
	tmpl map[Action]*template.Template
}

// New parses the embedded templates and applies overrides, keyed by action
// name. An override may redefine {{define "system"}} and/or
// {{define "user"}}; text outside any define replaces the user message.
// Overrides can use {{template "context" .}} and
// {{template "search-replace" .}} and the fields of TemplateData. Every
// template is executed once on sample data, so a misspelt field is
// reported here and not at the user's first request.
func New(overrides map[string]string) (*Builder, error) {
	common, err := templateFS.ReadFile("templates/common.tmpl")
	if err != nil {
		return nil, fmt.Errorf("read embedded templates: %w", err)
	}
	known := map[string]bool{}
	for _, a := range Actions() {
		known[string(a)] = true
	}
	var unknown []string
	for k := range overrides {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("prompt templates: no action named %s (actions: explain, refactor, document, fix, tests, ask)", strings.Join(unknown, ", "))
	}
	b := &Builder{tmpl: map[Action]*template.Template{}}
	for _, a := range Actions() {
		src, err := templateFS.ReadFile("templates/" + string(a) + ".tmpl")
		if err != nil {
			return nil, fmt.Errorf("read embedded template %s: %w", a, err)
		}
		t := template.New(string(a)).Option("missingkey=error")
		if _, err := t.Parse(string(common)); err != nil {
			return nil, fmt.Errorf("embedded template common: %w", err)
		}
		if _, err := t.Parse(string(src)); err != nil {
			return nil, fmt.Errorf("embedded template %s: %w", a, err)
		}
		if ov, ok := overrides[string(a)]; ok {
			if strings.TrimSpace(ov) == "" {
				return nil, fmt.Errorf("prompt template override for %s is empty; remove it to use the built-in template", a)
			}
			target := t
			if !strings.Contains(ov, "{{define") && !strings.Contains(ov, "{{- define") {
				target = t.New("user")
			}
			if _, err := target.Parse(ov); err != nil {
				return nil, fmt.Errorf("prompt template override for %s: %w", a, err)
			}
		}
		for _, name := range []string{"system", "user"} {
			if t.Lookup(name) == nil {
				return nil, fmt.Errorf("prompt template for %s defines no %q template", a, name)
			}
		}
		for _, sample := range sampleData(a) {
			for _, name := range []string{"system", "user"} {
				if err := t.ExecuteTemplate(&bytes.Buffer{}, name, sample); err != nil {
					return nil, fmt.Errorf("prompt template for %s (%s message) fails on sample data: %w", a, name, err)
				}
			}
		}
		b.tmpl[a] = t
	}
	return b, nil
}

// TemplateData is what templates see. Section fields hold text already
// cut to the budget, with omission markers.
type TemplateData struct {
	Action       string
	Instruction  string
	Language     string // LSP language id
	LanguageName string // "Go", "Python", "TypeScript", ...
	Path         string
	Fence        string // fence info string for code: "go", "python", ...
	Ticks        string // a backtick fence longer than any run in the code
	DocStyle     string // how a doc comment looks in this language
	TestStyle    string // the usual test framework
	Symbol       *SymbolData
	Diagnostics  string
	Hover        string
	References   string
	Surrounding  string
	// FollowUp is set when rendering a follow-up request in a running
	// conversation: the context was sent already and is left out.
	FollowUp bool
}

// SymbolData describes the symbol in templates.
type SymbolData struct {
	Name, NamePath, Kind string
	Line                 int // 1-based
	Body                 string
}

func sampleData(a Action) []TemplateData {
	base := TemplateData{Action: string(a), Instruction: "sample", Language: "go", LanguageName: "Go", Path: "x.go",
		Fence: "go", Ticks: "```", DocStyle: "x", TestStyle: "x", Diagnostics: "d", Hover: "h", References: "r", Surrounding: "s",
		Symbol: &SymbolData{Name: "F", NamePath: "F", Kind: "Function", Line: 1, Body: "func F() {}"}}
	noSym := base
	noSym.Symbol = nil
	follow := base
	follow.FollowUp = true
	if a == Document || a == Tests {
		return []TemplateData{base, follow}
	}
	return []TemplateData{base, noSym, follow}
}

type langInfo struct{ name, fence, doc, tests string }

var languages = map[string]langInfo{
	"go":              {"Go", "go", "a Go doc comment: // lines that start with the name", "the testing package, table-driven where it helps"},
	"python":          {"Python", "python", `a docstring in triple double quotes (""") following PEP 257`, "pytest"},
	"typescript":      {"TypeScript", "typescript", "a JSDoc /** ... */ block", "the project's test framework (describe/it/expect)"},
	"typescriptreact": {"TypeScript (TSX)", "tsx", "a JSDoc /** ... */ block", "the project's test framework (describe/it/expect)"},
	"javascript":      {"JavaScript", "javascript", "a JSDoc /** ... */ block", "the project's test framework (describe/it/expect)"},
	"javascriptreact": {"JavaScript (JSX)", "jsx", "a JSDoc /** ... */ block", "the project's test framework (describe/it/expect)"},
	"rust":            {"Rust", "rust", "/// doc comment lines", "#[test] functions in a tests module"},
	"java":            {"Java", "java", "a Javadoc /** ... */ block", "JUnit 5"},
	"c":               {"C", "c", "a /** ... */ comment block", "the project's test framework"},
	"cpp":             {"C++", "cpp", "a /** ... */ comment block", "the project's test framework"},
}

func languageInfo(id, path string) langInfo {
	if li, ok := languages[strings.ToLower(id)]; ok {
		return li
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".go":
		return languages["go"]
	case ".py":
		return languages["python"]
	case ".ts":
		return languages["typescript"]
	case ".tsx":
		return languages["typescriptreact"]
	case ".js", ".mjs", ".cjs":
		return languages["javascript"]
	}
	name := id
	if name == "" {
		name = "the file's language"
	}
	return langInfo{name, id, "a doc comment in the language's usual style", "the project's test framework"}
}
