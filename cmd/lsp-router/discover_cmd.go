package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/router/discovery"
	"github.com/lsp-router/lsp-router/security/checksum"
)

func init() {
	register(&command{
		name: "discover", summary: "find the local LLM services and their models", usage: "[--json]",
		printsData: true, run: runDiscover,
	})
	var pin bool
	register(&command{
		name: "models", summary: "list the available models joined with the catalog", usage: "[--json] [--pin]",
		printsData: true, run: func(e *env, fs *flag.FlagSet, args []string) int { return runModels(e, pin) },
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&pin, "pin", false, "print [security.model_pins] for the models installed now")
		},
	})
	var action string
	register(&command{
		name: "route", summary: "show which model would answer a request, and why, without calling it",
		usage: "[--json] [--action A] \"request\"", printsData: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&action, "action", "ask", "action: explain, refactor, document, fix, tests, ask")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) int { return runRoute(e, action, args) },
	})
}

// cliTimeout bounds the one-shot commands that probe services.
const cliTimeout = 30 * time.Second

// wire loads the configuration and builds the engine for a CLI command.
func (e *env) wire(withSources bool) (*wired, bool) {
	wd, _ := os.Getwd()
	cfg, ok := e.loadConfig(wd)
	if !ok {
		return nil, false
	}
	w, err := wire(cfg, wd, e.log, withSources)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router: %v\n", err)
		return nil, false
	}
	return w, true
}

func runDiscover(e *env, _ *flag.FlagSet, _ []string) int {
	w, ok := e.wire(false)
	if !ok {
		return exitFailure
	}
	defer w.close()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	services, err := discovery.Scan(ctx, w.discCfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router discover: %v\n", err)
		return exitFailure
	}
	if e.json {
		if err := discovery.WriteJSON(e.stdout, services); err != nil {
			fmt.Fprintln(e.stderr, err)
			return exitFailure
		}
		return exitOK
	}
	// Model names and server messages come from the servers: no escape codes.
	if err := discovery.WriteText(answertext.NewTerminalWriter(e.stdout), services, discovery.Endpoints(w.discCfg)); err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitFailure
	}
	return exitOK
}

func runModels(e *env, pin bool) int {
	w, ok := e.wire(false)
	if !ok {
		return exitFailure
	}
	defer w.close()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	models, err := w.engine.Models(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router models: %v\n", err)
		return exitFailure
	}
	if pin {
		var ms []checksum.Model
		for _, m := range models {
			if m.Digest != "" {
				ms = append(ms, checksum.Model{ID: m.ID, Digest: m.Digest, Source: m.Service})
			}
		}
		if len(ms) == 0 {
			fmt.Fprintln(e.stderr, "lsp-router models --pin: no service reported model digests (Ollama does; for servers started from a GGUF file, pin its SHA-256: sha256sum model.gguf)")
			return exitFailure
		}
		fmt.Fprint(e.stdout, answertext.Terminal(checksum.FormatPins(ms)))
		return exitOK
	}
	if e.json {
		if models == nil {
			models = []router.ModelInfo{}
		}
		return printJSON(e, models)
	}
	if len(models) == 0 {
		fmt.Fprintln(e.stdout, "No models: no local LLM service is running. Run 'lsp-router discover' to see what was tried.")
		return exitOK
	}
	sort.SliceStable(models, func(i, j int) bool { return models[i].Service < models[j].Service })
	tw := tabwriter.NewWriter(answertext.NewTerminalWriter(e.stdout), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tSERVICE\tPARAMS\tQUANT\tCONTEXT\tCATALOG\tSTATE")
	for _, m := range models {
		catalogID := m.CatalogID
		if m.Estimated {
			catalogID = "(estimated)"
		}
		var state []string
		if m.Loaded {
			state = append(state, "loaded")
		}
		if !m.Chat {
			state = append(state, "embedding only")
		}
		if m.Refused != "" {
			state = append(state, "refused: "+m.Refused)
		}
		if m.External {
			state = append(state, "external: "+m.ExternalReason)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Service, params(m.ParamsB), orDash(m.Quantization), m.ContextLength, orDash(catalogID), strings.Join(state, ", "))
	}
	tw.Flush()
	return exitOK
}

func params(b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%gB", b)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// routeOf explains which model would answer text, as `route` and the MCP
// route tool show it. rep is nil when nothing could be decided; err is
// also set when the decision names no model.
func routeOf(ctx context.Context, eng *router.Pipeline, a router.Action, text, agent string) (routeJSON, *router.RouteReport, error) {
	// Without a file, the request text and a typical context stand in for the prompt.
	tokens := len(text)/3 + 1500
	rep, err := eng.Route(ctx, router.Request{Action: a, Instruction: text, Agent: agent}, tokens)
	if rep == nil {
		return routeJSON{}, nil, err
	}
	out := routeJSON{Category: rep.Category, Confidence: rep.Confidence, Why: rep.CategoryWhy, Model: rep.Decision.Model, Service: rep.Decision.Service,
		Fallbacks: []routeModel{}, Skipped: []routeSkip{}}
	for _, f := range rep.Decision.Fallbacks {
		out.Fallbacks = append(out.Fallbacks, routeModel{f.Model, f.Service, f.Level.String(), f.Why})
	}
	for _, s := range rep.Decision.Skipped {
		out.Skipped = append(out.Skipped, routeSkip{s.Model, s.Service, s.Reason})
	}
	if err != nil {
		out.Error = err.Error()
	}
	return out, rep, err
}

// routeJSON is the shape of `route --json`.
type routeJSON struct {
	Category   string       `json:"category"`
	Confidence float64      `json:"confidence"`
	Why        string       `json:"why"`
	Model      string       `json:"model"`
	Service    string       `json:"service"`
	Fallbacks  []routeModel `json:"fallbacks"`
	Skipped    []routeSkip  `json:"skipped"`
	Error      string       `json:"error,omitempty"`
}

type routeModel struct {
	Model   string `json:"model"`
	Service string `json:"service"`
	Level   string `json:"level"`
	Why     string `json:"why"`
}

type routeSkip struct {
	Model   string `json:"model"`
	Service string `json:"service,omitempty"`
	Reason  string `json:"reason"`
}

func runRoute(e *env, action string, args []string) int {
	a, err := router.ParseAction(action)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router route: %v\n", err)
		return exitUsage
	}
	text := strings.TrimSpace(strings.Join(args, " "))
	if text == "" && a == router.ActionAsk {
		fmt.Fprintln(e.stderr, "lsp-router route: give the request text, e.g. lsp-router route \"is this SQL query safe?\"")
		return exitUsage
	}
	w, ok := e.wire(false)
	if !ok {
		return exitFailure
	}
	defer w.close()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	out, rep, err := routeOf(ctx, w.engine, a, text, "")
	if rep == nil {
		fmt.Fprintf(e.stderr, "lsp-router route: %v\n", err)
		return exitFailure
	}
	if e.json {
		printJSON(e, out)
	} else {
		stdout := answertext.NewTerminalWriter(e.stdout)
		fmt.Fprintf(stdout, "category: %s (confidence %.2f; %s)\n", out.Category, out.Confidence, out.Why)
		if out.Model != "" {
			fmt.Fprintf(stdout, "model:    %s on %s (%s)\n", out.Model, out.Service, rep.Decision.Chosen.Why)
		}
		for i, f := range out.Fallbacks {
			fmt.Fprintf(stdout, "fallback %d: %s on %s [%s] %s\n", i+1, f.Model, f.Service, f.Level, f.Why)
		}
		for _, s := range out.Skipped {
			fmt.Fprintf(stdout, "skipped:  %s %s: %s\n", s.Model, s.Service, s.Reason)
		}
		if err != nil {
			fmt.Fprintf(stdout, "\n%v\n", err)
		}
	}
	if err != nil {
		return exitNoService
	}
	return exitOK
}
