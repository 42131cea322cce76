// Command lsp-router is an LSP sidecar that brings local-LLM help to any
// editor without a byte leaving the network. Run `lsp-router help`.
//
// The CLI uses the standard library's flag package: the command set is small,
// flag's behaviour is stable, and no dependency has to be vetted for an
// air-gapped install.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/lsp-router/lsp-router/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitNoService: no local LLM service could answer.
	exitNoService = 3
)

// env carries what every command needs.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	logLevel       string
	logFile        string
	json           bool
	log            *slog.Logger
	closeLog       func()
	// noticeShown: the untrusted-workspace line is said once per run.
	noticeShown bool
}

type command struct {
	name    string
	summary string
	usage   string // after "lsp-router <name>"
	run     func(e *env, fs *flag.FlagSet, args []string) int
	// flags registers the command's own flags.
	flags func(fs *flag.FlagSet)
	// printsData commands get --json.
	printsData bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, closeLog: func() {}}
	global := flag.NewFlagSet("lsp-router", flag.ContinueOnError)
	global.SetOutput(stderr)
	addGlobalFlags(global, e)
	global.Usage = func() { usage(stderr) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := global.Args()
	name := "serve"
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	} else if isTerminal(stdin) {
		usage(stdout)
		return exitOK
	}
	if name == "help" || name == "-h" {
		if len(rest) > 0 {
			if c, ok := commands[rest[0]]; ok {
				commandUsage(stdout, c, newFlagSet(c, e, stdout))
				return exitOK
			}
		}
		usage(stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "lsp-router: unknown command %q\nRun 'lsp-router help' for the list of commands.\n", name)
		return exitUsage
	}
	fs := newFlagSet(c, e, stderr)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	// One-shot commands keep the terminal for their output: info logs only
	// when asked for (serve logs at info: editors keep stderr in a log).
	levelSet := false
	fs.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
	global.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
	if !levelSet && name != "serve" {
		e.logLevel = "warn"
	}
	if err := e.setupLog(); err != nil {
		fmt.Fprintf(stderr, "lsp-router: %v\n", err)
		return exitUsage
	}
	defer e.closeLog()
	return c.run(e, fs, fs.Args())
}

func addGlobalFlags(fs *flag.FlagSet, e *env) {
	fs.StringVar(&e.configPath, "config", e.configPath, "your configuration `file` (default: $LSP_ROUTER_CONFIG, else ~/.config/lsp-router/config.toml); a workspace's .lsp-router.toml is merged over it (see 'lsp-router trust')")
	fs.StringVar(&e.logLevel, "log-level", orDefault(e.logLevel, "info"), "log `level`: debug, info, warn, error")
	fs.StringVar(&e.logFile, "log-file", e.logFile, "write logs to `file` instead of stderr")
}

func newFlagSet(c *command, e *env, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lsp-router "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	addGlobalFlags(fs, e)
	if c.printsData {
		fs.BoolVar(&e.json, "json", false, "print JSON instead of text")
	}
	if c.flags != nil {
		c.flags(fs)
	}
	fs.Usage = func() { commandUsage(out, c, fs) }
	return fs
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "lsp-router %s: local-LLM code help over LSP, for offline networks.\n\nUsage: lsp-router [--config FILE] [--log-level LEVEL] [--log-file FILE] <command> [flags]\n\nCommands:\n", version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nWith no command and stdin not a terminal, lsp-router serves LSP on stdio.\nRun 'lsp-router <command> --help' for a command's flags.\n")
}

func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: lsp-router %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func (e *env) setupLog() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", e.logLevel)
	}
	w := e.stderr
	if e.logFile != "" {
		f, err := os.OpenFile(e.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--log-file: %w", err)
		}
		w = f
		e.closeLog = func() { f.Close() }
	}
	e.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	return nil
}

// loadConfig loads the layered configuration for workspace, printing its
// problems, and once the line that says how many workspace keys were
// ignored and how to trust the file.
func (e *env) loadConfig(workspace string) (*config.Config, bool) {
	cfg, err := config.Load(e.configPath, workspace)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router: configuration error:\n%v\nFix the file, or check it with 'lsp-router config validate'.\n", indent(err.Error()))
		return nil, false
	}
	if n := cfg.Provenance.IgnoredNotice(); n != "" && !e.noticeShown {
		e.noticeShown = true
		fmt.Fprintln(e.stderr, n)
	}
	return cfg, true
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func init() {
	register(&command{name: "version", summary: "print the version", usage: "[--json]", printsData: true, run: func(e *env, _ *flag.FlagSet, _ []string) int {
		if e.json {
			return printJSON(e, map[string]string{"version": version, "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH})
		}
		fmt.Fprintf(e.stdout, "lsp-router %s\n", version)
		return exitOK
	}})
}
