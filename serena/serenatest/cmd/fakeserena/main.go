// Command fakeserena is Serena's test double as a program: it accepts
// `start-mcp-server --project <path> ...` like serena and serves a fake
// project over stdio, so the real launch path can be exercised by hand or
// by `lsp-router doctor` without Python.
package main

import (
	"os"

	"github.com/lsp-router/lsp-router/serena/serenatest"
)

func main() {
	os.Exit(serenatest.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
