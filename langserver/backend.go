// Package langserver is the built-in code-context backend: when Serena is
// not available it runs real language servers itself (gopls, pyright,
// typescript-language-server, rust-analyzer, clangd, from a command
// table), one per language and workspace root, started lazily, kept in
// sync with the documents the editor opened, and asked for document
// symbols, hover, references, definitions and diagnostics. It implements
// codectx.Source.
//
// It speaks LSP with go.lsp.dev/protocol v1.0.1 over go.lsp.dev/jsonrpc2
// (protocol.NewClient), the same library the editor side uses.
package langserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router/codectx"
)

// Config configures a Backend.
type Config struct {
	// Table maps language ids to server commands (default DefaultTable()).
	Table Table
	// Logger receives events and the servers' stderr (default slog.Default()).
	Logger *slog.Logger
	// InitTimeout bounds a server's start and handshake (default 1m).
	InitTimeout time.Duration
	// DiagnosticsWait is how long Diagnostics waits for a fresh
	// publishDiagnostics after a change, for servers without pull
	// diagnostics (default 2s).
	DiagnosticsWait time.Duration
	// ContextLines is how many lines above and below a reference its
	// snippet keeps (default 2).
	ContextLines int
	// IdleTimeout stops a server no request has used for this long
	// (default 10m); the next request that needs it starts it again.
	IdleTimeout time.Duration
}

// Backend runs language servers and answers code-context queries with
// them. It is safe for concurrent use.
type Backend struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	servers map[serverKey]*server
	docs    map[string]*document // by absolute path
	closed  bool
	reaping bool          // the idle reaper runs
	stop    chan struct{} // closed by Close
}

type serverKey struct{ lang, root string }

// document is a file the editor has open, as the editor has it.
type document struct {
	lang    string
	version int32
	text    string
}

var _ codectx.Source = (*Backend)(nil)

// New returns a backend; servers start when first needed.
func New(cfg Config) *Backend {
	if cfg.Table == nil {
		cfg.Table = DefaultTable()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = time.Minute
	}
	if cfg.DiagnosticsWait <= 0 {
		cfg.DiagnosticsWait = 2 * time.Second
	}
	if cfg.ContextLines <= 0 {
		cfg.ContextLines = 2
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	return &Backend{cfg: cfg, log: cfg.Logger.With("component", "langserver"),
		servers: map[serverKey]*server{}, docs: map[string]*document{}, stop: make(chan struct{})}
}

// Name implements codectx.Source.
func (b *Backend) Name() string { return "langserver" }

// Lazy implements codectx.Lazy: starting a language server costs hundreds
// of megabytes, so it is asked only for what Serena and the editor's own
// language servers did not answer.
func (b *Backend) Lazy() bool { return true }

// reap stops servers that no request used for IdleTimeout. It runs while
// any server does; b.mu is not held.
func (b *Backend) reap() {
	every := max(b.cfg.IdleTimeout/4, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		var idle []*server
		b.mu.Lock()
		for k, s := range b.servers {
			if now.Sub(s.lastUsed()) >= b.cfg.IdleTimeout {
				idle = append(idle, s)
				delete(b.servers, k)
			}
		}
		done := len(b.servers) == 0
		if done {
			b.reaping = false
		}
		b.mu.Unlock()
		for _, s := range idle {
			s.log.Info("stopping idle language server", "idle_timeout", b.cfg.IdleTimeout)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.shutdown(ctx)
			cancel()
		}
		if done {
			return
		}
	}
}

// rootMarkers identify a project root, nearest first.
var rootMarkers = []string{"go.work", "go.mod", "pyproject.toml", "setup.py", "package.json", "tsconfig.json",
	"Cargo.toml", "compile_commands.json", ".git"}

// RootFor returns the nearest directory above path holding a project
// marker (go.mod, package.json, Cargo.toml, .git, ...), or path's
// directory. For Go, the go.mod nearest the file wins over an outer
// go.work only when no go.work exists above it.
func RootFor(path string) string {
	dir := filepath.Dir(path)
	for d := dir; ; {
		for _, m := range rootMarkers {
			if _, err := os.Stat(filepath.Join(d, m)); err == nil {
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// running returns the live server of lang whose workspace holds path
// (the outermost root wins: a module inside the editor's folder is the
// same workspace), or nil. b.mu is held.
func (b *Backend) running(lang, path string) *server {
	var best *server
	for k, s := range b.servers {
		if k.lang != lang || !within(k.root, path) || !s.alive() {
			continue
		}
		if best == nil || len(k.root) < len(best.root) {
			best = s
		}
	}
	return best
}

// Running reports whether a server of lang runs (or starts) for the
// workspace that holds path.
func (b *Backend) Running(lang, path string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running(lang, path) != nil
}

// ensure returns the running (or starting) server for lang whose
// workspace holds path, starting one for root when there is none; a
// server that died is replaced. One server serves a workspace whether it
// was started for the editor's folder or for the module inside it.
func (b *Backend) ensure(lang, root, path string) (*server, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("langserver: backend closed")
	}
	cmds, ok := b.cfg.Table[lang]
	if !ok || len(cmds) == 0 {
		return nil, fmt.Errorf("langserver: %w %q", errNoServer, lang)
	}
	if s := b.running(lang, path); s != nil {
		s.touch()
		return s, nil
	}
	key := serverKey{lang, root}
	res := lookupOne(lang, cmds)
	if !res.Found {
		return nil, fmt.Errorf("langserver: %s is not on PATH: install it or set the %s server command in the configuration", res.Command[0], lang)
	}
	s := startServer(lang, root, res.Command, b.log, b.cfg.InitTimeout)
	b.servers[key] = s
	if !b.reaping {
		b.reaping = true
		go b.reap()
	}
	return s, nil
}

// DidOpen records a document the editor opened and forwards it to a
// server of its language that already runs for its workspace. It never
// starts one: a server starts when a request needs it (prepare).
func (b *Backend) DidOpen(ctx context.Context, path, languageID string, version int32, text string) error {
	b.mu.Lock()
	b.docs[path] = &document{lang: languageID, version: version, text: text}
	s := b.running(languageID, path)
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	go func() {
		// Opening waits for a starting server; the editor must not.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.InitTimeout)
		defer cancel()
		if err := b.sync(wctx, s, path); err != nil {
			b.log.Debug("didOpen not forwarded", "path", path, "error", err)
		}
	}()
	return nil
}

// DidChange records the document's new full text and forwards it to the
// server that has it open.
func (b *Backend) DidChange(ctx context.Context, path string, version int32, text string) error {
	b.mu.Lock()
	d := b.docs[path]
	if d == nil {
		b.mu.Unlock()
		return fmt.Errorf("langserver: didChange for %s, which was not opened", path)
	}
	d.version, d.text = version, text
	servers := b.serversWith(path)
	b.mu.Unlock()
	for _, s := range servers {
		if err := b.sync(ctx, s, path); err != nil {
			return err
		}
	}
	return nil
}

// DidClose forgets the document and closes it in the servers.
func (b *Backend) DidClose(ctx context.Context, path string) error {
	b.mu.Lock()
	delete(b.docs, path)
	servers := b.serversWith(path)
	b.mu.Unlock()
	var errs []error
	for _, s := range servers {
		s.mu.Lock()
		delete(s.opened, path)
		s.mu.Unlock()
		err := s.srv.DidClose(ctx, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}})
		if err != nil {
			errs = append(errs, fmt.Errorf("didClose %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// serversWith lists the ready servers that have path open. b.mu is held.
func (b *Backend) serversWith(path string) []*server {
	var out []*server
	for _, s := range b.servers {
		s.mu.Lock()
		_, ok := s.opened[path]
		s.mu.Unlock()
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// sync makes the server's copy of path match ours: didOpen the first
// time, didChange (full text) when our version moved on.
func (b *Backend) sync(ctx context.Context, s *server, path string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	d := b.docs[path]
	var doc document
	if d != nil {
		doc = *d
	}
	b.mu.Unlock()
	if d == nil {
		return nil
	}
	// The lock keeps didOpen/didChange for one server in version order.
	s.mu.Lock()
	defer s.mu.Unlock()
	sent, open := s.opened[path]
	u := uri.File(path)
	switch {
	case !open:
		s.opened[path] = sentDoc{doc.version, doc.text}
		return s.srv.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
			URI: u, LanguageID: protocol.LanguageKind(doc.lang), Version: doc.version, Text: doc.text}})
	case sent.version != doc.version || sent.text != doc.text:
		// Servers require increasing versions; a text that changed under
		// the same version (a query newer than the editor's last
		// notification, or a reopen) gets the next one.
		v := doc.version
		if v <= sent.version {
			v = sent.version + 1
		}
		s.opened[path] = sentDoc{v, doc.text}
		var change protocol.TextDocumentContentChangeEvent = &protocol.TextDocumentContentChangeWholeDocument{Text: doc.text}
		if s.incremental() {
			change = changeBetween(sent.text, doc.text)
		}
		return s.srv.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: v},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{change}})
	}
	return nil
}

// prepare readies the server for q and makes sure it has q's text: a
// query for a document the editor did not open (the CLI) opens it.
func (b *Backend) prepare(ctx context.Context, q codectx.Query) (*server, string, error) {
	lang := q.LanguageID
	b.mu.Lock()
	d := b.docs[q.Path]
	switch {
	case d == nil && q.Text != "":
		d = &document{lang: lang, version: max(q.Version, 1), text: q.Text}
		b.docs[q.Path] = d
	case d == nil:
		root := q.WorkspaceRoot
		if root == "" {
			root = RootFor(q.Path)
		}
		data, err := safefile.ReadFile(q.Path, root)
		if err != nil {
			b.mu.Unlock()
			return nil, "", fmt.Errorf("langserver: read %s: %w", q.Path, err)
		}
		d = &document{lang: lang, version: 1, text: string(data)}
		b.docs[q.Path] = d
	case q.Text != "" && q.Text != d.text && q.Version >= d.version:
		// The query is newer than what we were told.
		d.text, d.version = q.Text, max(q.Version, d.version+1)
	}
	if lang == "" {
		lang = d.lang
	}
	text := d.text
	b.mu.Unlock()
	root := q.WorkspaceRoot
	if root == "" || !within(root, q.Path) {
		root = RootFor(q.Path)
	}
	s, err := b.ensure(lang, root, q.Path)
	if err != nil {
		return nil, "", err
	}
	if err := b.sync(ctx, s, q.Path); err != nil {
		return nil, "", err
	}
	return s, text, nil
}

func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Close shuts every server down.
func (b *Backend) Close() error {
	b.mu.Lock()
	if !b.closed {
		close(b.stop)
	}
	b.closed = true
	servers := make([]*server, 0, len(b.servers))
	for _, s := range b.servers {
		servers = append(servers, s)
	}
	b.servers = map[serverKey]*server{}
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s.shutdown(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func toPos(p codectx.Position) protocol.Position {
	return protocol.Position{Line: uint32(max(p.Line, 0)), Character: uint32(max(p.Character, 0))}
}

func fromPos(p protocol.Position) codectx.Position {
	return codectx.Position{Line: int(p.Line), Character: int(p.Character)}
}

func fromRange(r protocol.Range) codectx.Range {
	return codectx.Range{Start: fromPos(r.Start), End: fromPos(r.End)}
}

func tdpp(path string, p codectx.Position) protocol.TextDocumentPositionParams {
	return protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(path)}, Position: toPos(p)}
}

// Symbol implements codectx.Source: the innermost document symbol whose
// range contains the cursor (or the selection's start). Language servers
// that do not report function literals (gopls) yield the function or
// method that encloses a closure.
func (b *Backend) Symbol(ctx context.Context, q codectx.Query) (*codectx.Symbol, error) {
	s, text, err := b.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	res, err := s.srv.DocumentSymbol(ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(q.Path)}})
	if err != nil {
		s.noteErr(err)
		return nil, fmt.Errorf("%s documentSymbol: %w", s.command[0], err)
	}
	pos := q.Position
	if q.Selection != nil {
		pos = q.Selection.Start
	}
	sym := SymbolAt(res, q.Path, pos, text)
	if sym == nil {
		return nil, fmt.Errorf("%s: no symbol at %s:%d:%d", s.command[0], filepath.Base(q.Path), pos.Line+1, pos.Character+1)
	}
	return sym, nil
}

// SymbolAt is the innermost symbol of a documentSymbol answer for path
// (either form) that contains pos, with its body taken from text, or nil.
// Language servers that do not report function literals (gopls) yield the
// function or method that encloses a closure.
func SymbolAt(res protocol.DocumentSymbolResult, path string, pos codectx.Position, text string) *codectx.Symbol {
	var chain []namedRange
	switch r := res.(type) {
	case protocol.DocumentSymbolSlice:
		chain = innermostDocumentSymbol(r, pos, nil)
	case protocol.SymbolInformationSlice:
		chain = innermostSymbolInformation(r, path, pos)
	}
	if len(chain) == 0 {
		return nil
	}
	last := chain[len(chain)-1]
	var names []string
	for _, c := range chain {
		names = append(names, namePathElems(c.name)...)
	}
	sym := &codectx.Symbol{Name: shortName(last.name), NamePath: strings.Join(names, "/"), Kind: kindName(last.kind),
		Path: path, Range: last.rng, SelectionRange: last.sel}
	sym.Body = codectx.TextInRange(text, sym.Range)
	return sym
}

type namedRange struct {
	name     string
	kind     protocol.SymbolKind
	rng, sel codectx.Range
}

func innermostDocumentSymbol(syms []protocol.DocumentSymbol, pos codectx.Position, chain []namedRange) []namedRange {
	var best *protocol.DocumentSymbol
	for i := range syms {
		r := fromRange(syms[i].Range)
		if !r.Contains(pos) {
			continue
		}
		if best == nil || fromRange(best.Range).Contains(r.Start) && fromRange(best.Range).Contains(r.End) {
			best = &syms[i]
		}
	}
	if best == nil {
		return chain
	}
	chain = append(chain, namedRange{best.Name, best.Kind, fromRange(best.Range), fromRange(best.SelectionRange)})
	return innermostDocumentSymbol(best.Children, pos, chain)
}

// innermostSymbolInformation handles servers that answer with the flat
// SymbolInformation form: the smallest range containing pos wins.
func innermostSymbolInformation(syms []protocol.SymbolInformation, path string, pos codectx.Position) []namedRange {
	var best *namedRange
	for _, si := range syms {
		if si.Location.URI.FsPath() != path {
			continue
		}
		r := fromRange(si.Location.Range)
		if !r.Contains(pos) {
			continue
		}
		if best == nil || best.rng.Contains(r.Start) && best.rng.Contains(r.End) {
			nr := namedRange{si.Name, si.Kind, r, codectx.Range{Start: r.Start, End: r.Start}}
			best = &nr
		}
	}
	if best == nil {
		return nil
	}
	return []namedRange{*best}
}

// receiverRe matches gopls's method names, "(*T).M" or "(T[K]).M".
var receiverRe = regexp.MustCompile(`^\(\*?([^)\[]+)(?:\[[^)]*\])?\)\.(.+)$`)

// namePathElems splits a symbol name into name path elements: gopls's
// "(*T).M" becomes T, M.
func namePathElems(name string) []string {
	if m := receiverRe.FindStringSubmatch(name); m != nil {
		return []string{m[1], m[2]}
	}
	return []string{name}
}

func shortName(name string) string {
	e := namePathElems(name)
	return e[len(e)-1]
}

var kindNames = [...]string{"", "File", "Module", "Namespace", "Package", "Class", "Method", "Property", "Field",
	"Constructor", "Enum", "Interface", "Function", "Variable", "Constant", "String", "Number", "Boolean", "Array",
	"Object", "Key", "Null", "EnumMember", "Struct", "Event", "Operator", "TypeParameter"}

// kindName is the LSP SymbolKind name, as Serena reports kinds.
func kindName(k protocol.SymbolKind) string {
	if int(k) > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// symbolPos is where to ask about sym: its name, else the cursor.
func symbolPos(q codectx.Query, sym *codectx.Symbol) (string, codectx.Position) {
	if sym != nil && sym.Path != "" {
		return sym.Path, sym.SelectionRange.Start
	}
	return q.Path, q.Position
}

// Hover implements codectx.Source with textDocument/hover on the symbol's
// name.
func (b *Backend) Hover(ctx context.Context, q codectx.Query, sym *codectx.Symbol) (string, error) {
	s, _, err := b.prepare(ctx, q)
	if err != nil {
		return "", err
	}
	path, pos := symbolPos(q, sym)
	h, err := s.srv.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(path, pos)})
	if err != nil {
		s.noteErr(err)
		return "", fmt.Errorf("%s hover: %w", s.command[0], err)
	}
	if h == nil {
		return "", nil
	}
	return hoverText(h.Contents), nil
}

// HoverText is the text of a hover answer in any of its forms, code
// blocks fenced.
func HoverText(c protocol.HoverContents) string { return hoverText(c) }

func hoverText(c protocol.HoverContents) string {
	switch v := c.(type) {
	case *protocol.MarkupContent:
		return v.Value
	case protocol.String:
		return string(v)
	//lint:ignore SA1019 servers still send the deprecated MarkedString hover form
	case *protocol.MarkedStringWithLanguage:
		return "```" + v.Language + "\n" + v.Value + "\n```"
	case protocol.MarkedStringSlice:
		var parts []string
		for _, m := range v {
			switch x := m.(type) {
			case protocol.String:
				parts = append(parts, string(x))
			//lint:ignore SA1019 servers still send the deprecated MarkedString hover form
			case *protocol.MarkedStringWithLanguage:
				parts = append(parts, "```"+x.Language+"\n"+x.Value+"\n```")
			}
		}
		return strings.Join(parts, "\n\n")
	}
	return ""
}

// References implements codectx.Source with textDocument/references
// (declaration excluded), sorted by file and position, capped at limit,
// each with ContextLines lines around it.
func (b *Backend) References(ctx context.Context, q codectx.Query, sym *codectx.Symbol, limit int) ([]codectx.Reference, error) {
	s, _, err := b.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	path, pos := symbolPos(q, sym)
	locs, err := s.srv.References(ctx, &protocol.ReferenceParams{TextDocumentPositionParams: tdpp(path, pos),
		Context: protocol.ReferenceContext{IncludeDeclaration: false}})
	if err != nil {
		s.noteErr(err)
		return nil, fmt.Errorf("%s references: %w", s.command[0], err)
	}
	out := b.locations(locs)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	texts := map[string][]string{}
	root := q.WorkspaceRoot
	if root == "" {
		root = RootFor(q.Path)
	}
	refs := make([]codectx.Reference, 0, len(out))
	for _, l := range out {
		lines, ok := texts[l.Path]
		if !ok {
			lines = codectx.SplitLines(b.textOf(l.Path, root))
			texts[l.Path] = lines
		}
		refs = append(refs, codectx.Reference{Location: l, Snippet: snippet(lines, l.Range.Start.Line, b.cfg.ContextLines)})
	}
	return refs, nil
}

// Definition returns where the symbol at the cursor is defined.
func (b *Backend) Definition(ctx context.Context, q codectx.Query) ([]codectx.Location, error) {
	s, _, err := b.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	res, err := s.srv.Definition(ctx, &protocol.DefinitionParams{TextDocumentPositionParams: tdpp(q.Path, q.Position)})
	if err != nil {
		s.noteErr(err)
		return nil, fmt.Errorf("%s definition: %w", s.command[0], err)
	}
	switch v := res.(type) {
	case *protocol.Location:
		return b.locations([]protocol.Location{*v}), nil
	case protocol.LocationSlice:
		return b.locations(v), nil
	case protocol.DefinitionLinkSlice:
		var locs []protocol.Location
		for _, l := range v {
			locs = append(locs, protocol.Location{URI: l.TargetURI, Range: l.TargetSelectionRange})
		}
		return b.locations(locs), nil
	}
	return nil, nil
}

func (b *Backend) locations(locs []protocol.Location) []codectx.Location {
	out := make([]codectx.Location, 0, len(locs))
	for _, l := range locs {
		out = append(out, codectx.Location{Path: l.URI.FsPath(), Range: fromRange(l.Range)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Range.Start.Before(out[j].Range.Start)
	})
	return out
}

// textOf is the editor's text of path when open, else the file on disk
// when it is a regular file inside root (a reference elsewhere gets no
// snippet).
func (b *Backend) textOf(path, root string) string {
	b.mu.Lock()
	d := b.docs[path]
	b.mu.Unlock()
	if d != nil {
		return d.text
	}
	data, err := safefile.ReadFile(path, root)
	if err != nil {
		return ""
	}
	return string(data)
}

// Snippet is line of lines with around lines either side, the way
// references carry their context.
func Snippet(lines []string, line, around int) string { return snippet(lines, line, around) }

func snippet(lines []string, line, around int) string {
	if line < 0 || line >= len(lines) {
		return ""
	}
	return strings.Join(lines[max(line-around, 0):min(line+around+1, len(lines))], "\n")
}

// Diagnostics implements codectx.Source: pulled with textDocument/diagnostic
// when the server supports it, else the latest publishDiagnostics for the
// document, waiting up to DiagnosticsWait for one that reflects the
// current version.
func (b *Backend) Diagnostics(ctx context.Context, q codectx.Query, _ *codectx.Symbol) ([]codectx.Diagnostic, error) {
	s, _, err := b.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	u := uri.File(q.Path)
	s.mu.Lock()
	pull := s.pull
	s.mu.Unlock()
	if pull {
		ds, err := b.pullDiagnostics(ctx, s, u)
		if err == nil {
			return convertDiagnostics(q.Path, ds), nil
		}
		s.noteErr(err)
		b.log.Debug("pull diagnostics failed; using published ones", "error", err)
	}
	ds, err := b.awaitPublished(ctx, s, q.Path, u)
	if err != nil {
		return nil, err
	}
	return convertDiagnostics(q.Path, ds), nil
}

func (b *Backend) pullDiagnostics(ctx context.Context, s *server, u uri.URI) ([]protocol.Diagnostic, error) {
	rep, err := s.srv.Diagnostic(ctx, &protocol.DocumentDiagnosticParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r := rep.(type) {
	case *protocol.RelatedFullDocumentDiagnosticReport:
		s.lastPull[u] = r.Items
		return r.Items, nil
	case *protocol.RelatedUnchangedDocumentDiagnosticReport:
		return s.lastPull[u], nil
	}
	return nil, fmt.Errorf("unexpected diagnostic report %T", rep)
}

// awaitPublished returns the published diagnostics of u once they are for
// the version the server was sent (or, for servers that send no version,
// once one arrived after it), waiting at most DiagnosticsWait; then it
// returns the latest it has, possibly none.
func (b *Backend) awaitPublished(ctx context.Context, s *server, path string, u uri.URI) ([]protocol.Diagnostic, error) {
	timer := time.NewTimer(b.cfg.DiagnosticsWait)
	defer timer.Stop()
	s.mu.Lock()
	want := s.opened[path].version
	startSeq := uint64(0)
	if p := s.diags[u]; p != nil {
		startSeq = p.seq + 1
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		p, changed := s.diags[u], s.changed
		s.mu.Unlock()
		if p != nil && (p.version >= want && p.version != 0 || p.version == 0 && p.seq >= startSeq) {
			return p.diags, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			if p != nil {
				return p.diags, nil
			}
			return nil, nil
		case <-ctx.Done():
			if p != nil {
				return p.diags, nil
			}
			return nil, ctx.Err()
		}
	}
}

// ConvertDiagnostics turns a document's LSP diagnostics into the router's.
func ConvertDiagnostics(path string, ds []protocol.Diagnostic) []codectx.Diagnostic {
	return convertDiagnostics(path, ds)
}

func convertDiagnostics(path string, ds []protocol.Diagnostic) []codectx.Diagnostic {
	out := make([]codectx.Diagnostic, 0, len(ds))
	for _, d := range ds {
		cd := codectx.Diagnostic{Path: path, Range: fromRange(d.Range), Severity: codectx.Severity(d.Severity)}
		if cd.Severity == 0 {
			cd.Severity = codectx.SeverityError // LSP: the client interprets a missing severity; errors are safest
		}
		switch m := d.Message.(type) {
		case protocol.String:
			cd.Message = string(m)
		case *protocol.MarkupContent:
			cd.Message = m.Value
		}
		if src, ok := d.Source.Get(); ok {
			cd.Source = src
		}
		switch c := d.Code.(type) {
		case protocol.String:
			cd.Code = string(c)
		case protocol.Integer:
			cd.Code = fmt.Sprint(int32(c))
		}
		out = append(out, cd)
	}
	return out
}

// ServerStatus describes one language server the backend started.
type ServerStatus struct {
	Language, Root string
	Command        []string
	// State is "starting", "ready", "failed" or "exited".
	State string
	// Error says why it failed.
	Error string
	// PullDiagnostics is true when diagnostics are pulled
	// (textDocument/diagnostic) rather than taken from publishDiagnostics.
	PullDiagnostics bool
}

// Status lists the servers started so far, sorted by language and root.
func (b *Backend) Status() []ServerStatus {
	b.mu.Lock()
	servers := make([]*server, 0, len(b.servers))
	for _, s := range b.servers {
		servers = append(servers, s)
	}
	b.mu.Unlock()
	out := make([]ServerStatus, 0, len(servers))
	for _, s := range servers {
		st := ServerStatus{Language: s.lang, Root: s.root, Command: s.command, State: "starting"}
		select {
		case <-s.ready:
			s.mu.Lock()
			switch {
			case s.err != nil:
				st.State, st.Error = "failed", s.err.Error()
			case s.exited:
				st.State = "exited"
			default:
				st.State = "ready"
			}
			st.PullDiagnostics = s.pull
			s.mu.Unlock()
		default:
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Language != out[j].Language {
			return out[i].Language < out[j].Language
		}
		return out[i].Root < out[j].Root
	})
	return out
}
