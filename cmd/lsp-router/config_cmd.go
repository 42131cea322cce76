package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/lsp-router/lsp-router/config"
)

func init() {
	var force bool
	register(&command{
		name:    "config",
		summary: "write (init), print with origins (show) or check (validate) the configuration",
		usage:   "init [--force] [PATH] | show [--json] | validate [--json] [PATH]",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&force, "force", false, "init: overwrite an existing file")
		},
		printsData: true,
		run: func(e *env, fs *flag.FlagSet, args []string) int {
			if len(args) == 0 {
				fmt.Fprintln(e.stderr, "lsp-router config: say init, show or validate")
				return exitUsage
			}
			// Flags may also follow the subcommand: config init --force.
			if err := fs.Parse(args[1:]); err != nil {
				return exitUsage
			}
			sub, rest := args[0], fs.Args()
			switch sub {
			case "init":
				return configInit(e, rest, force)
			case "show":
				return configShow(e)
			case "validate":
				return configValidate(e, rest)
			}
			fmt.Fprintf(e.stderr, "lsp-router config: unknown subcommand %q; use init, show or validate\n", sub)
			return exitUsage
		},
	})
}

func configInit(e *env, args []string, force bool) int {
	path := config.UserPath()
	if len(args) > 0 {
		path = args[0]
	} else if e.configPath != "" {
		path = e.configPath
	}
	if err := config.WriteTemplate(path, force); err != nil {
		fmt.Fprintf(e.stderr, "lsp-router config init: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "Wrote %s\nEdit it, then check it with: lsp-router config validate %s\n", path, path)
	return exitOK
}

// configShow prints the effective configuration, one key a line, with the
// layer each value came from, and the workspace keys that were ignored.
func configShow(e *env) int {
	wd, _ := os.Getwd()
	cfg, ok := e.loadConfig(wd)
	if !ok {
		return exitFailure
	}
	prov := cfg.Provenance
	if prov == nil {
		prov = &config.Provenance{}
	}
	values := config.Values(cfg)
	if e.json {
		return printJSON(e, struct {
			*config.Provenance
			Values []config.Value `json:"values"`
			Config *config.Config `json:"config"`
		}{prov, values, cfg})
	}
	fmt.Fprintf(e.stdout, "# effective configuration\n# user file: %s\n", orDefault(prov.UserFile, "none (built-in defaults)"))
	switch {
	case prov.WorkspaceFile == "":
		fmt.Fprintf(e.stdout, "# workspace file: none (%s in %s)\n", config.FileName, wd)
	case prov.WorkspaceTrusted:
		fmt.Fprintf(e.stdout, "# workspace file: %s (trusted, sha256 %s)\n", prov.WorkspaceFile, prov.WorkspaceSHA256)
	default:
		fmt.Fprintf(e.stdout, "# workspace file: %s (untrusted: %d key(s) ignored)\n", prov.WorkspaceFile, len(prov.Ignored))
	}
	// Origins line up after the usual short values; long lists do not
	// push every other line to the right.
	width := 0
	for _, v := range values {
		if n := len(v.Key) + 3 + len(config.TOMLValue(v.Value)); n <= 60 {
			width = max(width, n)
		}
	}
	for _, v := range values {
		line := v.Key + " = " + config.TOMLValue(v.Value)
		if v.Value == nil {
			line = "# " + v.Key + " is unset"
		}
		if v.Origin == config.OriginIgnored {
			fmt.Fprintf(e.stdout, "# %-*s  # %s, line %d\n", width, line, v.Origin, v.Line)
			continue
		}
		fmt.Fprintf(e.stdout, "%-*s  # %s\n", width, line, v.Origin)
	}
	return exitOK
}

// configValidate checks one file (PATH or --config), or with neither the
// layered configuration of this directory: the user's file and the
// workspace file.
func configValidate(e *env, args []string) int {
	path := e.configPath
	if len(args) > 0 {
		path = args[0]
	}
	var err error
	var files []string
	if path == "" {
		wd, _ := os.Getwd()
		var cfg *config.Config
		cfg, err = config.Load("", wd)
		if user, uerr := config.UserFile(""); uerr == nil && user != "" {
			files = append(files, user)
		}
		if ws := config.WorkspaceFile(wd); ws != "" {
			files = append(files, ws)
		}
		if err == nil && len(files) == 0 {
			fmt.Fprintln(e.stdout, "No configuration file found; the built-in defaults apply. Create one with: lsp-router config init")
			return exitOK
		}
		if err == nil {
			if n := cfg.Provenance.IgnoredNotice(); n != "" {
				fmt.Fprintln(e.stderr, n)
			}
		}
	} else {
		files = []string{path}
		_, err = config.LoadFile(path)
	}
	name := strings.Join(files, " + ")
	var ce *config.Error
	switch {
	case err == nil:
		if e.json {
			return printJSON(e, map[string]any{"file": name, "files": files, "valid": true, "problems": []config.Problem{}})
		}
		fmt.Fprintf(e.stdout, "%s: valid\n", name)
		return exitOK
	case errors.As(err, &ce):
		if e.json {
			printJSON(e, map[string]any{"file": name, "files": files, "valid": false, "problems": ce.Problems})
			return exitFailure
		}
		fmt.Fprintf(e.stdout, "%s: %d problem(s)\n", name, len(ce.Problems))
		for _, p := range ce.Problems {
			fmt.Fprintf(e.stdout, "  %s\n", p)
		}
		return exitFailure
	default:
		fmt.Fprintf(e.stderr, "lsp-router config validate: %v\n", err)
		return exitFailure
	}
}

func printJSON(e *env, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(e.stderr, "lsp-router: %v\n", err)
		return exitFailure
	}
	return exitOK
}
