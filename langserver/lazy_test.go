package langserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/router/codectx"
)

func TestChangeBetween(t *testing.T) {
	cases := []struct{ old, new string }{
		{"abc\ndef\n", "abc\ndXef\n"},
		{"abc\ndef\n", "abc\n"},
		{"", "x\n"},
		{"héllo wörld\n", "héllo wörld!\n"},
		{"a😀b\n", "a😁b\n"}, // differs inside one 4-byte rune
		{"same\n", "same\n"},
		{"aaa", "aaaa"},
	}
	for _, c := range cases {
		ch := changeBetween(c.old, c.new)
		start, err1 := codectx.Offset(c.old, codectx.Position{Line: int(ch.Range.Start.Line), Character: int(ch.Range.Start.Character)})
		end, err2 := codectx.Offset(c.old, codectx.Position{Line: int(ch.Range.End.Line), Character: int(ch.Range.End.Character)})
		if err1 != nil || err2 != nil {
			t.Fatalf("%q -> %q: range %+v does not fit: %v %v", c.old, c.new, ch.Range, err1, err2)
		}
		if got := c.old[:start] + ch.Text + c.old[end:]; got != c.new {
			t.Errorf("%q -> %q: applying %+v gives %q", c.old, c.new, ch, got)
		}
	}
}

// TestLazyStartIncrementalSyncAndIdleStop: opening a document starts no
// server; the first request does; later edits reach it as ranged changes
// (the fake applies them, and its diagnostics follow the text); and an
// idle server is stopped, then started again by the next request.
func TestLazyStartIncrementalSyncAndIdleStop(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKELS", "1")
	t.Setenv("FAKELS_INCREMENTAL", "1")
	t.Setenv("FAKELS_CRASH_MARKER", "") // this server never crashes
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "pkg")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "go.mod"), []byte("module m/pkg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "a.fake")
	b := New(Config{Table: Table{"fake": {{exe}}}, Logger: quietLogger(), IdleTimeout: 300 * time.Millisecond})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	text := "def alpha\n  x = 1\n  # TODO\nend\n"
	if err := b.DidOpen(ctx, path, "fake", 1, text); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); len(st) != 0 {
		t.Fatalf("didOpen started a server: %+v", st)
	}
	// The editor's folder is dir; the file's nearest go.mod is sub. Both
	// queries must share one server.
	q := codectx.Query{Path: path, Text: text, Version: 1, LanguageID: "fake", WorkspaceRoot: dir, Position: codectx.Position{Line: 1, Character: 2}}
	sym, err := b.Symbol(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	q2 := q
	q2.WorkspaceRoot = ""
	if _, err := b.Symbol(ctx, q2); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); len(st) != 1 || st[0].Root != dir {
		t.Fatalf("servers = %+v, want one for %s", st, dir)
	}
	changed := strings.Replace(text, "  x = 1\n", "  x = 1\n  # TODO two\n", 1)
	if err := b.DidChange(ctx, path, 2, changed); err != nil {
		t.Fatal(err)
	}
	q.Text, q.Version = changed, 2
	if ds, err := b.Diagnostics(ctx, q, sym); err != nil || len(ds) != 2 || ds[0].Range.Start.Line != 2 {
		t.Fatalf("diagnostics after an incremental change = %+v, %v", ds, err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for len(b.Status()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("idle server still running: %+v", b.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := b.Hover(ctx, q, sym); err != nil {
		t.Fatalf("hover after the idle stop: %v", err)
	}
	if st := b.Status(); len(st) != 1 {
		t.Fatalf("the next request did not start the server again: %+v", st)
	}
}
