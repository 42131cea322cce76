package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/discovery"
	"github.com/lsp-router/lsp-router/router/edits"
	"github.com/lsp-router/lsp-router/router/selection"
)

type askFlags struct {
	action    string
	file      string
	line, col int
	apply     bool
	force     bool
	dryRun    bool
}

func init() {
	var f askFlags
	register(&command{
		name:       "ask",
		summary:    "run an action from the command line: stream the answer, or show (and --apply) the edit",
		usage:      "[--action A] [--file F --line N --col N] [--json] [--apply [--force]] [--dry-run] \"request\"",
		printsData: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.action, "action", "ask", "action: explain, refactor, document, fix, tests, ask")
			fs.StringVar(&f.file, "file", "", "source `file` the request is about")
			fs.IntVar(&f.line, "line", 0, "1-based line of the cursor in --file")
			fs.IntVar(&f.col, "col", 1, "1-based column (in characters) of the cursor in --file")
			fs.BoolVar(&f.apply, "apply", false, "write the edit to --file (edit actions)")
			fs.BoolVar(&f.force, "force", false, "with --apply, write the edit even when verification found compiler errors it still adds")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print the gathered context and the prompt; call no model")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) int { return runAsk(e, f, args) },
	})
}

// askJSON is the shape of `ask --json`.
type askJSON struct {
	Model         string     `json:"model"`
	Service       string     `json:"service"`
	Category      string     `json:"category"`
	FallbackLevel string     `json:"fallback_level"`
	Answer        string     `json:"answer"`
	Edits         []editJSON `json:"edits"`
	TokensIn      int        `json:"tokens_in"`
	TokensOut     int        `json:"tokens_out"`
	Notes         []string   `json:"notes,omitempty"`
	// UnresolvedErrors are compiler errors the edit still adds.
	UnresolvedErrors []string `json:"unresolved_errors,omitempty"`
}

type editJSON struct {
	File    string        `json:"file"`
	Range   codectx.Range `json:"range"`
	NewText string        `json:"new_text"`
}

func runAsk(e *env, f askFlags, args []string) int {
	action, err := router.ParseAction(f.action)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router ask: %v\n", err)
		return exitUsage
	}
	req := router.Request{Action: action, Instruction: strings.TrimSpace(strings.Join(args, " ")), DryRun: f.dryRun}
	if action == router.ActionAsk && req.Instruction == "" && f.file == "" {
		// With --file, the question may be a marker comment in it
		// (router/marker.go); without, there is nowhere else to look.
		fmt.Fprintln(e.stderr, "lsp-router ask: give the question, e.g. lsp-router ask --file main.go --line 12 \"why does this allocate?\"")
		return exitUsage
	}
	if f.force && !f.apply {
		fmt.Fprintln(e.stderr, "lsp-router ask: --force only goes with --apply")
		return exitUsage
	}
	if f.apply && !action.EditsDocument() && action != router.ActionTests {
		fmt.Fprintf(e.stderr, "lsp-router ask: --apply only works with refactor, document, fix or tests (not %s)\n", action)
		return exitUsage
	}
	if f.file == "" && action != router.ActionAsk {
		fmt.Fprintf(e.stderr, "lsp-router ask: %s needs --file and --line\n", action)
		return exitUsage
	}
	wd, _ := os.Getwd()
	if f.file != "" {
		// The read cap applies to --file itself, read before the wiring;
		// a configuration error is reported by the wiring below.
		if cfg, err := config.Load(e.configPath, wd); err == nil {
			safefile.SetMaxBytes(cfg.Context.MaxFileBytes)
		}
		if err := fillQuery(&req, f, wd); err != nil {
			fmt.Fprintf(e.stderr, "lsp-router ask: %v\n", err)
			return exitUsage
		}
	}
	var w *wired
	var ok bool
	if f.file != "" {
		// Serena and the language servers work on the file's project.
		w, ok = e.wireFor(req.Query.WorkspaceRoot)
	} else {
		w, ok = e.wire(false)
	}
	if !ok {
		return exitFailure
	}
	defer w.close()
	if req.HasPosition {
		// The built-in language server learns the file as an editor would open it.
		w.engine.DidOpen(req.Query.Path, req.Query.LanguageID, req.Query.Version, req.Query.Text)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Answers stream; edits (and tests, which become one) print as a diff.
	streamAnswer := !e.json && !req.DryRun && !action.EditsDocument() && action != router.ActionTests
	sp := newSpinner(e.stderr)
	started := false
	// The streamed answer loses the model's reasoning and, being model
	// output, any terminal control sequence; a stray </think> cannot take
	// back text already printed (the final answer has the rule applied).
	var think answertext.Filter
	var term answertext.TerminalFilter
	res, err := w.engine.Run(ctx, req, func(p router.Progress) {
		switch {
		case p.Stage == router.StageGenerating && p.Delta != "":
			text, _ := think.Write(p.Delta)
			if text == "" {
				if think.Thinking() {
					sp.set(answertext.Terminal(p.Model) + ": thinking…")
				}
				return
			}
			sp.stop()
			if streamAnswer {
				started = true
				io.WriteString(e.stdout, term.Write(text))
			}
		case p.Message != "":
			sp.set(answertext.Terminal(p.Message))
		}
	})
	sp.stop()
	if started {
		fmt.Fprintln(e.stdout, term.Write(think.Flush())+term.Flush())
	}
	if err != nil {
		return e.askFailed(ctx, w, err)
	}
	if req.DryRun {
		return printDryRun(e, res)
	}
	if e.json {
		out := askJSON{Model: res.Model, Service: res.Service, Category: res.Category, FallbackLevel: res.FallbackLevel,
			Answer: res.Answer, Edits: []editJSON{}, TokensIn: res.TokensIn, TokensOut: res.TokensOut, Notes: res.Notes,
			UnresolvedErrors: res.UnresolvedErrors}
		for _, fe := range res.Edits {
			for _, te := range fe.Edits {
				out.Edits = append(out.Edits, editJSON{File: fe.Path, Range: te.Range, NewText: te.NewText})
			}
		}
		if code := printJSON(e, out); code != exitOK {
			return code
		}
	} else if !started && !action.EditsDocument() && len(res.Edits) == 0 {
		fmt.Fprintln(e.stdout, answertext.Terminal(res.Answer))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(e.stderr, "note: %s\n", answertext.Terminal(n))
	}
	if len(res.Edits) == 0 {
		if f.apply {
			// The notes above say why (tests not recognised, or their file refused).
			fmt.Fprintln(e.stderr, "lsp-router ask: no edit to apply; nothing was written")
			return exitFailure
		}
		return exitOK
	}
	return showOrApply(e, req, res, f)
}

// askError is the shape of `ask --json` when the request failed.
type askError struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

// askFailed reports a failed request: one line on stderr (the whole chain
// is in the log), or with --json an error object on stdout. The exit code
// is never 0.
func (e *env) askFailed(ctx context.Context, w *wired, err error) int {
	code := exitFailure
	if errors.Is(err, router.ErrNoServices) || errors.Is(err, selection.ErrNoCandidate) || onlyTooLong(err) {
		// README: 3 when no local LLM service could answer: none runs,
		// none may be used, or none has room for the request.
		code = exitNoService
	}
	msg, hint := router.UserError(err)
	if ctx.Err() != nil {
		msg, hint = "cancelled", ""
	}
	if e.json {
		printJSON(e, askError{Error: msg, Hint: hint})
		return code
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(e.stderr, "lsp-router ask: cancelled")
	case errors.Is(err, router.ErrNoServices):
		discovery.WriteText(answertext.NewTerminalWriter(e.stderr), nil, discovery.Endpoints(w.discCfg))
	default:
		fmt.Fprintf(e.stderr, "lsp-router ask: %s\n", answertext.Terminal(router.UserLine(err)))
	}
	return code
}

// onlyTooLong reports a request that every model tried refused as too
// long for its window: nothing can answer it (a server that failed is a
// failure, exit 1).
func onlyTooLong(err error) bool {
	var ex *selection.ExhaustedError
	if !errors.As(err, &ex) || len(ex.Attempts) == 0 {
		return false
	}
	for _, a := range ex.Attempts {
		if a.Kind != selection.KindContextTooLong {
			return false
		}
	}
	return true
}

// fillQuery reads the file and converts the 1-based line and character
// column into an LSP position.
func fillQuery(req *router.Request, f askFlags, wd string) error {
	path, err := filepath.Abs(f.file)
	if err != nil {
		return err
	}
	ws := workspaceOf(path, wd)
	// The file the user names is read like every workspace file: a
	// regular file, within the size cap, never a FIFO or a device.
	return queryAt(req, position{file: f.file, path: path, line: f.line, col: f.col, fileName: "--file", lineName: "--line", colName: "--col"}, ws, ws, filepath.Dir(path))
}

// position is a 1-based line and character column in a file, as people
// (and coding agents) count, with the names the caller gave them for errors.
type position struct {
	file, path                  string // as given, and absolute
	line, col                   int
	fileName, lineName, colName string
}

// queryAt reads pos.path (inside one of roots) into req.Query with the LSP
// position of pos, and sets the workspace root ws. The CLI and the MCP
// server share it, so a line means the same thing to both.
func queryAt(req *router.Request, pos position, ws string, roots ...string) error {
	b, err := safefile.ReadFile(pos.path, roots...)
	if err != nil {
		return fmt.Errorf("read %s: %w", pos.fileName, err)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("%s is not UTF-8 text", pos.file)
	}
	text := string(b)
	lines := codectx.SplitLines(text)
	if pos.line < 1 || pos.line > len(lines) {
		return fmt.Errorf("%s %d is outside %s (1-%d)", pos.lineName, pos.line, pos.file, len(lines))
	}
	line := strings.TrimRight(lines[pos.line-1], "\r\n")
	runes := []rune(line)
	if pos.col < 1 || pos.col > len(runes)+1 {
		return fmt.Errorf("%s %d is outside line %d (1-%d)", pos.colName, pos.col, pos.line, len(runes)+1)
	}
	q := &req.Query
	q.Path, q.Text, q.Version, q.LanguageID = pos.path, text, 1, codectx.LanguageID(pos.path)
	q.Position = codectx.Position{Line: pos.line - 1, Character: codectx.UTF16Len(string(runes[:pos.col-1]))}
	q.WorkspaceRoot = ws
	req.HasPosition = true
	return nil
}

// workspaceOf finds the project root: the nearest directory with a VCS or
// module marker, else the working directory.
func workspaceOf(path, wd string) string {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		for _, marker := range []string{".git", "go.mod", "package.json", "pyproject.toml", "Cargo.toml"} {
			if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
				return dir
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			return wd
		}
	}
}

// plannedEdit is one file's edit as the CLI shows and writes it.
type plannedEdit struct {
	path, rel string
	old, new  string
	create    bool
}

// writeRoots are where the CLI may read and write: the workspace and the
// directory of the file the user named.
func writeRoots(req router.Request) []string {
	return []string{req.Query.WorkspaceRoot, filepath.Dir(req.Query.Path)}
}

// unresolvedMessage is the one line that refuses a still-broken edit.
func unresolvedMessage(errs []string) string {
	shown := errs
	if len(shown) > 3 {
		shown = shown[:3]
	}
	more := ""
	if len(errs) > len(shown) {
		more = fmt.Sprintf("; and %d more", len(errs)-len(shown))
	}
	return fmt.Sprintf("the edit still adds %d compiler error(s) after the retry (%s%s); nothing was written (run again with --force to write it anyway)",
		len(errs), strings.Join(shown, "; "), more)
}

func showOrApply(e *env, req router.Request, res *router.Result, f askFlags) int {
	roots := writeRoots(req)
	plan, err := planEdits(req, res, roots)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router ask: %v\n", err)
		return exitFailure
	}
	if !e.json {
		for _, pe := range plan {
			fmt.Fprint(e.stdout, pe.diff())
		}
	}
	if !f.apply {
		if !e.json {
			fmt.Fprintf(e.stderr, "%s by %s on %s. Run again with --apply to write it.\n", req.Action, res.Model, res.Service)
		}
		return exitOK
	}
	if len(res.UnresolvedErrors) > 0 && !f.force {
		fmt.Fprintf(e.stderr, "lsp-router ask: %s\n", unresolvedMessage(res.UnresolvedErrors))
		return exitFailure
	}
	err = writePlan(plan, roots, func(pe plannedEdit) { fmt.Fprintf(e.stderr, "Applied to %s.\n", pe.rel) })
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router ask: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// diff is the edit as a unified diff, named by its workspace-relative path.
func (pe plannedEdit) diff() string { return edits.UnifiedDiff(pe.rel, pe.old, pe.new) }

// planEdits computes each file's text after res's edits, reading the files
// other than the request's own inside roots. Its errors end with what was
// (not) done.
func planEdits(req router.Request, res *router.Result, roots []string) ([]plannedEdit, error) {
	var plan []plannedEdit
	for _, fe := range res.Edits {
		pe := plannedEdit{path: fe.Path, rel: fe.Path, create: fe.Create}
		if r, err := filepath.Rel(req.Query.WorkspaceRoot, fe.Path); err == nil {
			pe.rel = r
		}
		switch {
		case fe.Path == req.Query.Path:
			pe.old = req.Query.Text
		case !fe.Create:
			b, err := safefile.ReadFile(fe.Path, roots...)
			if err != nil {
				return nil, fmt.Errorf("%w; nothing was changed", err)
			}
			pe.old = string(b)
		}
		tes := make([]edits.TextEdit, len(fe.Edits))
		for i, te := range fe.Edits {
			tes[i] = edits.TextEdit{Range: te.Range, NewText: te.NewText}
		}
		var err error
		if pe.new, err = edits.Apply(pe.old, tes); err != nil {
			return nil, fmt.Errorf("the edit to %s does not apply: %v; nothing was changed", pe.rel, err)
		}
		plan = append(plan, pe)
	}
	return plan, nil
}

// writePlan writes every planned file through safefile, or none: it
// refuses when a file changed while the model was answering, and checks
// every write before the first. applied is called after each file written.
func writePlan(plan []plannedEdit, roots []string, applied func(plannedEdit)) error {
	for _, pe := range plan {
		cur, err := safefile.ReadFile(pe.path, roots...)
		switch {
		case errors.Is(err, safefile.ErrRefused):
			return fmt.Errorf("%w; nothing was written", err)
		case pe.create && !errors.Is(err, os.ErrNotExist), !pe.create && (err != nil || string(cur) != pe.old):
			return fmt.Errorf("%s changed while the model was answering; nothing was written", pe.rel)
		}
	}
	for _, pe := range plan {
		if err := safefile.CheckWrite(pe.path, roots...); err != nil {
			return err
		}
	}
	for _, pe := range plan {
		if err := safefile.WriteFile(pe.path, []byte(pe.new), pe.create, roots...); err != nil {
			return fmt.Errorf("write %s: %v", pe.rel, err)
		}
		if applied != nil {
			applied(pe)
		}
	}
	return nil
}

func printDryRun(e *env, res *router.Result) int {
	if e.json {
		return printJSON(e, map[string]any{"category": res.Category, "model": res.Model, "service": res.Service,
			"context": res.Context, "prompt": res.Prompt, "tokens": res.TokensIn, "notes": res.Notes, "redactions": res.Redactions})
	}
	fmt.Fprintf(e.stdout, "== context sources\n")
	if res.Context != nil {
		for _, s := range res.Context.Sources {
			status := "ok"
			if !s.OK {
				status = "no: " + s.Error
			}
			fmt.Fprintf(e.stdout, "  %-8s %-12s %s (%s)\n", s.Source, s.Part, status, s.Duration.Round(time.Millisecond))
		}
		fmt.Fprintf(e.stdout, "  answered: %s\n", res.Context.AnsweredSummary())
	}
	fmt.Fprintf(e.stdout, "== routing\n  category %s; model %s on %s; about %d prompt tokens\n", res.Category, orDash(res.Model), orDash(res.Service), res.TokensIn)
	for _, n := range res.Notes {
		fmt.Fprintf(e.stdout, "  note: %s\n", n)
	}
	fmt.Fprintf(e.stdout, "  redactions: %d secret(s) replaced before sending\n", res.Redactions)
	fmt.Fprintf(e.stdout, "== prompt (exactly what would be sent)\n")
	for _, m := range res.Prompt {
		fmt.Fprintf(e.stdout, "--- %s\n%s\n", m.Role, m.Content)
	}
	return exitOK
}

// spinner shows progress on stderr while waiting for the first token, only
// when stderr is a terminal.
type spinner struct {
	mu      sync.Mutex
	w       io.Writer
	msg     string
	done    chan struct{}
	stopped bool
}

func newSpinner(w io.Writer) *spinner {
	s := &spinner{w: w, done: make(chan struct{})}
	f, ok := w.(*os.File)
	if st, err := f.Stat(); !ok || err != nil || st.Mode()&os.ModeCharDevice == 0 {
		s.stopped = true
		return s
	}
	go func() {
		frames := `|/-\`
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.mu.Lock()
				fmt.Fprintf(s.w, "\r\033[K%c %s", frames[i%4], s.msg)
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *spinner) set(msg string) {
	s.mu.Lock()
	s.msg = msg
	s.mu.Unlock()
}

func (s *spinner) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.done)
	fmt.Fprint(s.w, "\r\033[K")
}
