// Package codectx defines the semantic code context the router gathers for one
// request (symbol, hover text, references, diagnostics) and the Source
// interface that Serena, the built-in language-server backend and the
// editor's buffer implement. It is a leaf package: it imports nothing of
// lsp-router, so every backend can depend on it.
package codectx

import (
	"context"
	"time"
)

// Position is a 0-based line and a 0-based column counted in UTF-16 code
// units, exactly as LSP counts them, so positions pass through from the
// editor without conversion.
type Position struct {
	Line      int `json:"line"`
	Character int `json:"character"`
}

// Range is a half-open span [Start, End) in a document.
type Range struct {
	Start Position `json:"start"`
	End   Position `json:"end"`
}

// Location is a range inside a file, identified by absolute path.
type Location struct {
	Path  string `json:"path"`
	Range Range  `json:"range"`
}

// Symbol is the code symbol a request is about.
type Symbol struct {
	Name     string `json:"name"`      // short name, e.g. "CreateUser"
	NamePath string `json:"name_path"` // container path, e.g. "UserService/CreateUser"
	Kind     string `json:"kind"`      // LSP SymbolKind name: "Method", "Function", ...
	Path     string `json:"path"`      // absolute file path
	// Range covers the whole declaration, including its body; edits that
	// replace the symbol replace exactly this range.
	Range Range `json:"range"`
	// SelectionRange covers the symbol's name.
	SelectionRange Range `json:"selection_range"`
	// Body is the text of Range as it is in the document.
	Body string `json:"body"`
}

// Reference is one use of the symbol with a few lines around it.
type Reference struct {
	Location Location `json:"location"`
	// Snippet holds the referencing line and a few lines around it, as
	// plain source text.
	Snippet string `json:"snippet"`
	// Container names the symbol that contains the reference, when known.
	Container string `json:"container,omitempty"`
}

// Severity follows LSP DiagnosticSeverity: 1 error, 2 warning, 3 info, 4 hint.
type Severity int

// Diagnostic severities, as LSP numbers them.
const (
	SeverityError   Severity = 1
	SeverityWarning Severity = 2
	SeverityInfo    Severity = 3
	SeverityHint    Severity = 4
)

// Diagnostic is a problem reported in a file.
type Diagnostic struct {
	Path     string   `json:"path"`
	Range    Range    `json:"range"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Source   string   `json:"source,omitempty"`
	Code     string   `json:"code,omitempty"`
}

// Query asks for the context of one position or selection.
type Query struct {
	// Path is the absolute path of the file; Text is its current content as
	// the editor has it (it may differ from disk).
	Path    string
	Text    string
	Version int32
	// LanguageID is the LSP language id ("go", "python", "typescript", ...).
	LanguageID string
	// Position is the cursor; Selection, when non-nil, the selected range.
	Position  Position
	Selection *Range
	// Diagnostics are the ones the editor sent with the request.
	Diagnostics []Diagnostic
	// WorkspaceRoot is the absolute path of the project root.
	WorkspaceRoot string
}

// Context is what gathering produced for one request.
type Context struct {
	Symbol      *Symbol      `json:"symbol,omitempty"`
	Hover       string       `json:"hover,omitempty"`
	References  []Reference  `json:"references,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	// Surrounding holds the lines around the cursor or the selection when no
	// symbol was found (buffer-only context).
	Surrounding string `json:"surrounding,omitempty"`
	// Sources reports, per source and part, whether it answered.
	Sources []SourceReport `json:"sources"`
	// Answered names, per part ("symbol", "hover", ...), the source whose
	// answer the context holds.
	Answered map[string]string `json:"answered,omitempty"`
}

// AnsweredSummary says which source answered each part, in a fixed order,
// for progress messages and logs: "symbol editor, hover editor, ...".
func (c Context) AnsweredSummary() string {
	var b []byte
	for _, part := range []string{PartSymbol, PartHover, PartReferences, PartDiagnostics, PartSurrounding} {
		src, ok := c.Answered[part]
		if !ok {
			continue
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, part...)
		b = append(b, ' ')
		b = append(b, src...)
	}
	if len(b) == 0 {
		return "nothing"
	}
	return string(b)
}

// SourceReport says how one source fared for one part of the context.
type SourceReport struct {
	Source   string        `json:"source"` // "serena", "gopls", "buffer", ...
	Part     string        `json:"part"`   // "symbol", "hover", "references", "diagnostics"
	OK       bool          `json:"ok"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Source provides context parts for a query. Implementations return
// ErrUnsupported for a part they cannot provide, and must honour ctx
// cancellation promptly: gathering gives each call its own deadline.
type Source interface {
	// Name identifies the source in reports and logs.
	Name() string
	Symbol(ctx context.Context, q Query) (*Symbol, error)
	Hover(ctx context.Context, q Query, sym *Symbol) (string, error)
	References(ctx context.Context, q Query, sym *Symbol, limit int) ([]Reference, error)
	Diagnostics(ctx context.Context, q Query, sym *Symbol) ([]Diagnostic, error)
}

// ErrUnsupported is returned by a Source for a part it cannot provide.
var ErrUnsupported = errUnsupported{}

type errUnsupported struct{}

func (errUnsupported) Error() string { return "not supported by this source" }
