package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeRenders guards the page people read first: an unbalanced code
// fence turns everything after it inside out, and a lost heading hides a
// whole editor's set-up.
func TestReadmeRenders(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fence := regexp.MustCompile("^\\s*```")
	open, openedAt := false, 0
	headings := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		if fence.MatchString(line) {
			if !open {
				openedAt = i + 1
			}
			open = !open
			continue
		}
		if !open && strings.HasPrefix(line, "#") {
			headings[strings.TrimSpace(strings.TrimLeft(line, "#"))] = true
		}
	}
	if open {
		t.Fatalf("README.md: the code block opened at line %d is never closed", openedAt)
	}
	for _, h := range []string{"What it is", "Install", "A CLI session", "Editor set-up", "Neovim", "VS Code",
		"Helix", "Emacs", "Configuration", "CLI reference", "Security in air-gapped networks", "Development"} {
		found := false
		for got := range headings {
			if got == h || strings.HasPrefix(got, h+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("README.md: section %q is missing (or swallowed by a code block)", h)
		}
	}
	if !strings.HasPrefix(string(data), "# lsp-router\n\n```sh\nmake run") {
		t.Error("README.md must open with the two set-up commands (make run, make test)")
	}
}
