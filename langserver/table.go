package langserver

import (
	"os/exec"
	"slices"
)

// Table maps an LSP language id ("go", "python", ...) to the commands that
// can serve it, in order of preference; the first one found on PATH runs.
type Table map[string][][]string

// DefaultTable is the built-in command table.
func DefaultTable() Table {
	ts := [][]string{{"typescript-language-server", "--stdio"}}
	clangd := [][]string{{"clangd"}}
	return Table{
		"go":              {{"gopls"}},
		"python":          {{"pyright-langserver", "--stdio"}, {"basedpyright-langserver", "--stdio"}},
		"typescript":      ts,
		"typescriptreact": ts,
		"javascript":      ts,
		"javascriptreact": ts,
		"rust":            {{"rust-analyzer"}},
		"c":               clangd,
		"cpp":             clangd,
	}
}

// LookupResult says which command would serve a language.
type LookupResult struct {
	Language string
	// Command is the chosen command: the first found on PATH, or the first
	// configured one when none is found.
	Command []string
	Found   bool
	// Path is the resolved program, when found.
	Path string
}

// Lookup resolves every language of t against PATH, sorted by language,
// for `lsp-router doctor` and for starting servers.
func Lookup(t Table) []LookupResult {
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	out := make([]LookupResult, 0, len(langs))
	for _, l := range langs {
		out = append(out, lookupOne(l, t[l]))
	}
	return out
}

func lookupOne(lang string, cmds [][]string) LookupResult {
	res := LookupResult{Language: lang}
	for _, c := range cmds {
		if len(c) == 0 {
			continue
		}
		if res.Command == nil {
			res.Command = c
		}
		if p, err := exec.LookPath(c[0]); err == nil {
			return LookupResult{Language: lang, Command: c, Found: true, Path: p}
		}
	}
	return res
}
