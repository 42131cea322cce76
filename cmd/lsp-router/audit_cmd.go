package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/security/audit"
)

func init() {
	var (
		n              int
		keyFile, check string
	)
	register(&command{
		name:       "audit",
		summary:    "check the audit log's keyed chain (verify), print its head to keep elsewhere (anchor), or show recent events (tail)",
		usage:      "verify [--key FILE] [--anchor SEQ:MAC] [--json] [FILE] | anchor [--key FILE] [FILE] | tail [-n N] [--json] [FILE]",
		printsData: true,
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&n, "n", 20, "tail: number of events")
			fs.StringVar(&keyFile, "key", "", "verify, anchor: the audit key file (default: $"+audit.KeyFileEnv+", security.audit_key_file, or the state directory)")
			fs.StringVar(&check, "anchor", "", "verify: a head printed earlier by `lsp-router audit anchor`; detects records cut from the end")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) int {
			if len(args) == 0 {
				fmt.Fprintln(e.stderr, "lsp-router audit: say verify, anchor or tail")
				return exitUsage
			}
			if err := fs.Parse(args[1:]); err != nil {
				return exitUsage
			}
			sub, rest := args[0], fs.Args()
			path := ""
			configuredKey := ""
			if len(rest) > 0 {
				path = rest[0]
			}
			if path == "" || keyFile == "" {
				wd, _ := os.Getwd()
				cfg, ok := e.loadConfig(wd)
				if !ok {
					return exitFailure
				}
				if path == "" {
					path = cfg.AuditPath()
				}
				configuredKey = cfg.Security.AuditKeyFile
			}
			if keyFile == "" {
				keyFile = audit.ResolveKeyFile(configuredKey)
			}
			opts := audit.VerifyOptions{KeyFile: keyFile, Anchor: check}
			switch sub {
			case "verify":
				return auditVerify(e, path, opts)
			case "anchor":
				return auditAnchor(e, path, opts)
			case "tail":
				return auditTail(e, path, n)
			}
			fmt.Fprintf(e.stderr, "lsp-router audit: unknown subcommand %q; use verify, anchor or tail\n", sub)
			return exitUsage
		},
	})
}

func auditVerify(e *env, path string, opts audit.VerifyOptions) int {
	res, err := audit.VerifyWith(path, opts)
	var te *audit.TamperError
	switch {
	case err == nil:
		if e.json {
			return printJSON(e, map[string]any{"file": path, "intact": true, "keyed": res.KeyID != "", "anchor": res.Anchor(), "result": res})
		}
		fmt.Fprintf(e.stdout, "%s: intact (%d lines in %d file(s), sequence %d-%d)\n", path, res.Lines, len(res.Files), res.FirstSeq, res.LastSeq)
		switch {
		case res.Lines == 0:
		case res.KeyID == "":
			fmt.Fprintf(e.stdout, "unkeyed (legacy) chain: anyone who can write the file can edit it and recompute the hashes; lsp-router continues it with keyed records on its next write\n")
			fmt.Fprintf(e.stderr, "warning: %s is an unkeyed (legacy) chain: it shows accidents, not deliberate edits\n", path)
		case res.LegacyLines > 0:
			fmt.Fprintf(e.stdout, "keyed chain (key id %s) from seq %d; the %d unkeyed (legacy) records before it are fixed by the first keyed one\n", res.KeyID, res.FirstSeq+uint64(res.LegacyLines), res.LegacyLines)
		default:
			fmt.Fprintf(e.stdout, "keyed chain (HMAC-SHA256, key id %s)\n", res.KeyID)
		}
		for _, r := range res.Recoveries {
			fmt.Fprintf(e.stdout, "torn tail from a crash, repaired at %s (seq %d: %d bytes cut, sha256 %s)\n", r.Time.UTC().Format(time.RFC3339), r.Seq, r.DroppedBytes, r.DroppedSHA256)
		}
		if t := res.TornTail; t != nil {
			fmt.Fprintf(e.stdout, "torn tail from a crash, not repaired yet: %s ends with %d bytes of an unfinished record; the next write cuts them off and records it\n", t.File, t.Bytes)
		}
		if res.AnchorChecked {
			fmt.Fprintf(e.stdout, "anchor %s matches: nothing was cut from the end since\n", opts.Anchor)
		}
		if res.Lines > 0 {
			fmt.Fprintf(e.stdout, "head: %s\nKeep the head elsewhere (lsp-router audit anchor): `audit verify --anchor HEAD` then proves that no records were cut from the end.\n", res.Anchor())
		}
		return exitOK
	case errors.As(err, &te):
		if e.json {
			printJSON(e, map[string]any{"file": path, "intact": false, "error": te})
			return exitFailure
		}
		if te.Kind == audit.KindWrongKey {
			fmt.Fprintf(e.stdout, "%s: CANNOT VERIFY with key %s\n  %v\n", path, opts.KeyFile, te)
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

// auditAnchor verifies the chain and prints its head: a record count and
// the last record's MAC, to keep where whoever can write the log cannot.
func auditAnchor(e *env, path string, opts audit.VerifyOptions) int {
	opts.Anchor = ""
	res, err := audit.VerifyWith(path, opts)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router audit anchor: %v (run lsp-router audit verify)\n", err)
		return exitFailure
	}
	if res.Lines == 0 {
		fmt.Fprintf(e.stderr, "lsp-router audit anchor: %s has no records yet\n", path)
		return exitFailure
	}
	if e.json {
		return printJSON(e, map[string]any{"file": path, "anchor": res.Anchor(), "seq": res.LastSeq, "head": res.Head, "keyed": res.KeyID != ""})
	}
	fmt.Fprintln(e.stdout, res.Anchor())
	return exitOK
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
