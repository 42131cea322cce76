package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/security/audit"
)

func init() {
	var n int
	register(&command{
		name:       "audit",
		summary:    "check the audit log's hash chain (verify) or show recent events (tail)",
		usage:      "verify [--json] [FILE] | tail [-n N] [--json] [FILE]",
		printsData: true,
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&n, "n", 20, "tail: number of events")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) int {
			if len(args) == 0 {
				fmt.Fprintln(e.stderr, "lsp-router audit: say verify or tail")
				return exitUsage
			}
			if err := fs.Parse(args[1:]); err != nil {
				return exitUsage
			}
			sub, rest := args[0], fs.Args()
			path := ""
			if len(rest) > 0 {
				path = rest[0]
			} else {
				wd, _ := os.Getwd()
				cfg, ok := e.loadConfig(wd)
				if !ok {
					return exitFailure
				}
				path = cfg.AuditPath()
			}
			switch sub {
			case "verify":
				return auditVerify(e, path)
			case "tail":
				return auditTail(e, path, n)
			}
			fmt.Fprintf(e.stderr, "lsp-router audit: unknown subcommand %q; use verify or tail\n", sub)
			return exitUsage
		},
	})
}

func auditVerify(e *env, path string) int {
	res, err := audit.Verify(path)
	var te *audit.TamperError
	switch {
	case err == nil:
		if e.json {
			return printJSON(e, map[string]any{"file": path, "intact": true, "result": res})
		}
		fmt.Fprintf(e.stdout, "%s: intact (%d lines in %d file(s), sequence %d-%d)\nchain head: %s\nKeep a copy of the head elsewhere: it also proves that no lines were cut from the end.\n",
			path, res.Lines, len(res.Files), res.FirstSeq, res.LastSeq, res.Head)
		return exitOK
	case errors.As(err, &te):
		if e.json {
			printJSON(e, map[string]any{"file": path, "intact": false, "error": te})
			return exitFailure
		}
		fmt.Fprintf(e.stdout, "%s: TAMPERED\n  %v\n", path, te)
		return exitFailure
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(e.stderr, "lsp-router audit verify: %s does not exist yet: nothing has been logged (or audit_log_path points elsewhere)\n", path)
		return exitFailure
	default:
		fmt.Fprintf(e.stderr, "lsp-router audit verify: %v\n", err)
		return exitFailure
	}
}

func auditTail(e *env, path string, n int) int {
	recs, err := audit.Tail(path, n)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(e.stderr, "lsp-router audit tail: %s does not exist yet: nothing has been logged\n", path)
		} else {
			fmt.Fprintf(e.stderr, "lsp-router audit tail: %v\n", err)
		}
		return exitFailure
	}
	if e.json {
		if recs == nil {
			recs = []audit.Record{}
		}
		return printJSON(e, recs)
	}
	if err := audit.WriteText(answertext.NewTerminalWriter(e.stdout), recs); err != nil { // queries and model answers
		fmt.Fprintf(e.stderr, "lsp-router audit tail: %v\n", err)
		return exitFailure
	}
	return exitOK
}
