package main

import (
	"flag"
	"fmt"
	"github.com/lsp-router/lsp-router/security/audit"
	"os"

	"github.com/lsp-router/lsp-router/config"
)

func init() {
	var list bool
	var revoke string
	register(&command{
		name:    "trust",
		summary: "trust a workspace's .lsp-router.toml (its programs, endpoints and security keys then apply)",
		usage:   "[DIR] | --list | --revoke DIR",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&list, "list", false, "list the trusted workspace files")
			fs.StringVar(&revoke, "revoke", "", "stop trusting `DIR`'s workspace file")
		},
		printsData: true,
		run: func(e *env, fs *flag.FlagSet, args []string) int {
			store := config.DefaultTrustStore()
			switch {
			case list:
				return trustList(e, store)
			case revoke != "":
				return trustRevoke(e, store, revoke)
			case len(args) > 1:
				fmt.Fprintln(e.stderr, "lsp-router trust: give one directory")
				return exitUsage
			}
			dir, _ := os.Getwd()
			if len(args) == 1 {
				dir = args[0]
			}
			return trustDir(e, store, dir)
		},
	})
}

// trustDir shows what trusting changes (the keys ignored until now), then
// records the file's SHA-256.
func trustDir(e *env, store *config.TrustStore, dir string) int {
	file := config.WorkspaceFile(dir)
	if file == "" {
		fmt.Fprintf(e.stderr, "lsp-router trust: %s has no %s; nothing to trust\n", dir, config.FileName)
		return exitFailure
	}
	// What the file does without trust, to name the keys that will apply.
	var ignored []config.IgnoredKey
	cfg, err := (config.Loader{Explicit: e.configPath, Trust: store}).Load(dir)
	if err == nil {
		ignored = cfg.Provenance.Ignored
	} else {
		cfg = nil
	}
	entry, err := store.Trust(dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router trust: %v\n", err)
		return exitFailure
	}
	// A trust decision opens the file's programs and endpoints: with no
	// audit record of it, it is not made.
	if err := auditTrust(cfg, "trust", entry); err != nil {
		_, _ = store.Revoke(dir)
		fmt.Fprintf(e.stderr, "lsp-router trust: not trusted, the decision could not be audited: %v\n", err)
		return exitFailure
	}
	if e.json {
		return printJSON(e, map[string]any{"trusted": entry, "now_applied": ignored, "store": store.Path})
	}
	fmt.Fprintf(e.stdout, "Trusted %s (sha256 %s).\n", entry.File, entry.SHA256)
	if len(ignored) > 0 {
		fmt.Fprintf(e.stdout, "These keys now apply:\n")
		for _, k := range ignored {
			fmt.Fprintf(e.stdout, "  %s:%d: %s = %s (%s)\n", entry.File, k.Line, k.Key, config.TOMLValue(k.Value), k.Class)
		}
	}
	fmt.Fprintf(e.stdout, "Any change to the file makes it untrusted again. Undo with: lsp-router trust --revoke %s\n", dir)
	return exitOK
}

func trustList(e *env, store *config.TrustStore) int {
	entries, err := store.List()
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router trust: %v\n", err)
		return exitFailure
	}
	if e.json {
		if entries == nil {
			entries = []config.TrustEntry{}
		}
		return printJSON(e, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintln(e.stdout, "No workspace file is trusted.")
		return exitOK
	}
	for _, en := range entries {
		fmt.Fprintf(e.stdout, "%s  sha256 %s  trusted %s\n", en.File, en.SHA256, en.TrustedAt.Format("2006-01-02 15:04 UTC"))
	}
	return exitOK
}

func trustRevoke(e *env, store *config.TrustStore, dir string) int {
	found, err := store.Revoke(dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router trust: %v\n", err)
		return exitFailure
	}
	if !found {
		fmt.Fprintf(e.stderr, "lsp-router trust: %s was not trusted (see lsp-router trust --list)\n", config.WorkspaceConfigPath(dir))
		return exitFailure
	}
	if cfg, err := (config.Loader{Explicit: e.configPath, Trust: store}).Load(dir); err == nil {
		if err := auditTrust(cfg, "revoke", config.TrustEntry{File: config.WorkspaceConfigPath(dir)}); err != nil {
			fmt.Fprintf(e.stderr, "lsp-router trust: revoked, but the audit record failed: %v\n", err)
		}
	}
	fmt.Fprintf(e.stdout, "No longer trusted: %s\n", config.WorkspaceConfigPath(dir))
	return exitOK
}

// auditTrust records a trust decision in the user's audit log (the
// configuration without the workspace file's untrusted keys decides where).
func auditTrust(cfg *config.Config, action string, entry config.TrustEntry) error {
	if cfg == nil {
		cfg = config.Default()
	}
	if !cfg.Security.AuditEnabled {
		return nil
	}
	return recordAuditEvent(cfg, audit.TrustEvent(action, entry.File, entry.SHA256))
}
