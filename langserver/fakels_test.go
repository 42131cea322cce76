package langserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// TestMain lets the test binary act as a small language server (FAKELS=1)
// with the features gopls lacks: pull diagnostics, the flat
// SymbolInformation form and MarkedString hovers.
func TestMain(m *testing.M) {
	if os.Getenv("FAKELS") == "1" {
		os.Exit(runFakeLS())
	}
	os.Exit(m.Run())
}

// lspCodec marshals payloads with the protocol package's union-aware
// encoding, as protocol.NewServer does internally.
type lspCodec struct{}

func (lspCodec) Marshal(v any) ([]byte, error)      { return protocol.Marshal(v) }
func (lspCodec) Unmarshal(data []byte, v any) error { return protocol.Unmarshal(data, v) }

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdin.Close() }

func runFakeLS() int {
	conn := jsonrpc2.NewConn(jsonrpc2.NewStream(stdio{}), jsonrpc2.WithCodec(lspCodec{}))
	// Inline handling keeps didChange and the requests after it in order.
	conn.Go(context.Background(), protocol.ServerHandler(&fakeLS{docs: map[uri.URI]string{}}, jsonrpc2.MethodNotFoundHandler))
	<-conn.Done()
	return 0
}

// fakeLS understands documents made of "def NAME" ... "end" blocks and
// reports a warning on every line containing TODO.
type fakeLS struct {
	protocol.UnimplementedServer
	mu   sync.Mutex
	docs map[uri.URI]string
}

func (f *fakeLS) Initialize(context.Context, *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	sync := protocol.TextDocumentSyncKindFull
	if os.Getenv("FAKELS_INCREMENTAL") == "1" {
		sync = protocol.TextDocumentSyncKindIncremental
	}
	return &protocol.InitializeResult{Capabilities: protocol.ServerCapabilities{
		TextDocumentSync:       sync,
		HoverProvider:          protocol.Boolean(true),
		DocumentSymbolProvider: protocol.Boolean(true),
		DiagnosticProvider:     &protocol.DiagnosticOptions{},
	}, ServerInfo: protocol.ServerInfo{Name: "fakels"}}, nil
}

func (f *fakeLS) Initialized(context.Context, *protocol.InitializedParams) error { return nil }
func (f *fakeLS) Shutdown(context.Context) error                                 { return nil }
func (f *fakeLS) Exit(context.Context) error                                     { os.Exit(0); return nil }

func (f *fakeLS) DidOpen(_ context.Context, p *protocol.DidOpenTextDocumentParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[p.TextDocument.URI] = p.TextDocument.Text
	return nil
}

func (f *fakeLS) DidChange(_ context.Context, p *protocol.DidChangeTextDocumentParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range p.ContentChanges {
		switch c := c.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			if os.Getenv("FAKELS_INCREMENTAL") == "1" {
				continue // it announced ranged changes: a whole text is a client bug
			}
			f.docs[p.TextDocument.URI] = c.Text
		case *protocol.TextDocumentContentChangePartial:
			text := f.docs[p.TextDocument.URI]
			start, err1 := codectx.Offset(text, codectx.Position{Line: int(c.Range.Start.Line), Character: int(c.Range.Start.Character)})
			end, err2 := codectx.Offset(text, codectx.Position{Line: int(c.Range.End.Line), Character: int(c.Range.End.Character)})
			if err1 != nil || err2 != nil || end < start {
				return fmt.Errorf("bad range %+v", c.Range)
			}
			f.docs[p.TextDocument.URI] = text[:start] + c.Text + text[end:]
		}
	}
	return nil
}

func (f *fakeLS) lines(u uri.URI) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return codectx.SplitLines(f.docs[u])
}

func (f *fakeLS) DocumentSymbol(_ context.Context, p *protocol.DocumentSymbolParams) (protocol.DocumentSymbolResult, error) {
	var out protocol.SymbolInformationSlice
	start, name := -1, ""
	for i, l := range f.lines(p.TextDocument.URI) {
		if n, ok := strings.CutPrefix(l, "def "); ok {
			start, name = i, n
		}
		if l == "end" && start >= 0 {
			out = append(out, protocol.SymbolInformation{
				BaseSymbolInformation: protocol.BaseSymbolInformation{Name: name, Kind: protocol.SymbolKindFunction},
				Location: protocol.Location{URI: p.TextDocument.URI, Range: protocol.Range{
					Start: protocol.Position{Line: uint32(start)}, End: protocol.Position{Line: uint32(i), Character: 3}}}})
			start = -1
		}
	}
	return out, nil
}

func (f *fakeLS) Hover(_ context.Context, p *protocol.HoverParams) (*protocol.Hover, error) {
	if marker := os.Getenv("FAKELS_CRASH_MARKER"); marker != "" {
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			_ = os.WriteFile(marker, nil, 0o644)
			os.Exit(2) // dies mid-request
		}
	}
	lines := f.lines(p.TextDocument.URI)
	word := strings.TrimPrefix(lines[p.Position.Line], "def ")
	return &protocol.Hover{Contents: protocol.MarkedStringSlice{
		protocol.String("hover for " + word),
		//lint:ignore SA1019 the fake answers like older servers do
		&protocol.MarkedStringWithLanguage{Language: "fake", Value: word + "()"},
	}}, nil
}

func (f *fakeLS) Diagnostic(_ context.Context, p *protocol.DocumentDiagnosticParams) (protocol.DocumentDiagnosticReport, error) {
	var items []protocol.Diagnostic
	for i, l := range f.lines(p.TextDocument.URI) {
		if c := strings.Index(l, "TODO"); c >= 0 {
			items = append(items, protocol.Diagnostic{
				Range:    protocol.Range{Start: protocol.Position{Line: uint32(i), Character: uint32(c)}, End: protocol.Position{Line: uint32(i), Character: uint32(c + 4)}},
				Severity: protocol.DiagnosticSeverityWarning, Message: protocol.String("todo left"),
				Code: protocol.Integer(7), Source: protocol.NewOptional("fakels")})
		}
	}
	return &protocol.RelatedFullDocumentDiagnosticReport{FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{
		Kind: string(protocol.DocumentDiagnosticReportKindFull), Items: items}}, nil
}

func TestPullDiagnosticsFlatSymbolsAndRestart(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKELS", "1")
	marker := filepath.Join(t.TempDir(), "crashed")
	t.Setenv("FAKELS_CRASH_MARKER", marker)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.fake")
	b := New(Config{Table: Table{"fake": {{exe}}}, Logger: quietLogger()})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	text := "def alpha\n  x = 1\n  # TODO\nend\n\ndef beta\nend\n"
	if err := b.DidOpen(ctx, path, "fake", 1, text); err != nil {
		t.Fatal(err)
	}
	q := codectx.Query{Path: path, Text: text, Version: 1, LanguageID: "fake", WorkspaceRoot: dir, Position: codectx.Position{Line: 1, Character: 2}}
	sym, err := b.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if sym.Name != "alpha" || sym.Kind != "Function" || sym.Body != "def alpha\n  x = 1\n  # TODO\nend" {
		t.Errorf("symbol from SymbolInformation = %+v", sym)
	}
	ds, err := b.Diagnostics(ctx, q, sym)
	if err != nil || len(ds) != 1 || ds[0].Code != "7" || ds[0].Source != "fakels" || ds[0].Severity != codectx.SeverityWarning || ds[0].Message != "todo left" {
		t.Fatalf("pulled diagnostics = %+v, %v", ds, err)
	}
	if st := b.Status(); len(st) != 1 || !st[0].PullDiagnostics {
		t.Errorf("status = %+v, want pull diagnostics", st)
	}
	changed := strings.Replace(text, "def beta\n", "def beta\n  # TODO again\n", 1)
	if err := b.DidChange(ctx, path, 2, changed); err != nil {
		t.Fatal(err)
	}
	q.Text, q.Version = changed, 2
	if ds, err := b.Diagnostics(ctx, q, sym); err != nil || len(ds) != 2 || ds[1].Range.Start.Line != 6 {
		t.Errorf("diagnostics after didChange = %+v, %v", ds, err)
	}

	// The server dies during hover; the next request starts a new one,
	// which gets the document's current text.
	if _, err := b.Hover(ctx, q, sym); err == nil {
		t.Fatal("hover on a dying server succeeded")
	}
	h, err := b.Hover(ctx, q, sym)
	if err != nil {
		t.Fatalf("hover after restart: %v", err)
	}
	if h != "hover for alpha\n\n```fake\nalpha()\n```" {
		t.Errorf("hover = %q", h)
	}
	if ds, err := b.Diagnostics(ctx, q, sym); err != nil || len(ds) != 2 {
		t.Errorf("the restarted server lacks the current text: %+v, %v", ds, err)
	}
}

var _ io.ReadWriteCloser = stdio{}
