package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/lsp-router/lsp-router/config"
)

func init() {
	var force bool
	register(&command{
		name:    "config",
		summary: "write (init), print (show) or check (validate) the configuration",
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

func configShow(e *env) int {
	wd, _ := os.Getwd()
	cfg, ok := e.loadConfig(wd)
	if !ok {
		return exitFailure
	}
	if e.json {
		return printJSON(e, cfg)
	}
	b, err := config.Encode(cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router config show: %v\n", err)
		return exitFailure
	}
	src := cfg.Source
	if src == "" {
		src = "built-in defaults (no configuration file found)"
	}
	fmt.Fprintf(e.stdout, "# effective configuration from %s\n%s", src, b)
	return exitOK
}

func configValidate(e *env, args []string) int {
	path := e.configPath
	if len(args) > 0 {
		path = args[0]
	}
	if path == "" {
		wd, _ := os.Getwd()
		found, err := config.Find("", wd)
		if err != nil {
			fmt.Fprintf(e.stderr, "lsp-router config validate: %v\n", err)
			return exitFailure
		}
		if found == "" {
			fmt.Fprintln(e.stdout, "No configuration file found; the built-in defaults apply. Create one with: lsp-router config init")
			return exitOK
		}
		path = found
	}
	_, err := config.LoadFile(path)
	var ce *config.Error
	switch {
	case err == nil:
		if e.json {
			return printJSON(e, map[string]any{"file": path, "valid": true, "problems": []config.Problem{}})
		}
		fmt.Fprintf(e.stdout, "%s: valid\n", path)
		return exitOK
	case errors.As(err, &ce):
		if e.json {
			printJSON(e, map[string]any{"file": path, "valid": false, "problems": ce.Problems})
			return exitFailure
		}
		fmt.Fprintf(e.stdout, "%s: %d problem(s)\n", path, len(ce.Problems))
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
