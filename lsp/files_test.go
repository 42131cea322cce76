//go:build unix

package lsp_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
)

// brokenEngine answers every command with an edit that verification says
// still adds a compiler error.
func brokenEngine() *stubEngine {
	return &stubEngine{run: func(ctx context.Context, req router.Request, _ router.ProgressFunc) (*router.Result, error) {
		return &router.Result{Model: "m", Service: "svc", Label: "lsp-router: refactor F (m)",
			UnresolvedErrors: []string{"line 3: undefined: slices"},
			Edits: []router.FileEdit{{Path: req.Query.Path, Version: req.Query.Version,
				Edits: []router.TextEdit{{Range: rng(2, 0, 2, 11), NewText: "func F() { slices.Sort(nil) }"}}}}}, nil
	}}
}

func TestStillBrokenEditNeedsConfirmation(t *testing.T) {
	const src = "package a\n\nfunc F() {}\n"
	run := func(t *testing.T, caps fakeeditor.Caps, confirm string) (*session, string, json.RawMessage) {
		s := start(t, caps, brokenEngine())
		s.init(t)
		s.ed.SetConfirm(confirm)
		ctx := context.Background()
		path := filepath.Join(s.dir, "a.go")
		s.ed.Open(ctx, path, "go", src)
		res, err := s.ed.Execute(ctx, "lsp-router.refactor", s.ed.Args(path, rng(2, 5, 2, 5), "sort"))
		if err != nil {
			t.Fatal(err)
		}
		return s, path, res
	}
	t.Run("annotated edit names the errors", func(t *testing.T) {
		s, _, _ := run(t, fakeeditor.FullCaps, "")
		reqs := s.ed.EditRequests()
		if len(reqs) != 1 {
			t.Fatalf("%d applyEdit requests", len(reqs))
		}
		ann := reqs[0].Edit.ChangeAnnotations["lsp-router"]
		if ann.NeedsConfirmation == nil || !*ann.NeedsConfirmation || !strings.Contains(ann.Label, "line 3: undefined: slices") {
			t.Fatalf("annotation %+v", ann)
		}
		if len(s.ed.Requests()) != 0 {
			t.Error("asked twice: annotation and prompt")
		}
	})
	t.Run("without annotations the user is asked; dismissing applies nothing", func(t *testing.T) {
		s, path, res := run(t, fakeeditor.Caps{DocumentChanges: true}, "")
		q := s.ed.Requests()
		if len(q) != 1 || !strings.Contains(q[0].Message, "undefined: slices") || len(q[0].Actions) != 2 {
			t.Fatalf("prompts %+v", q)
		}
		if len(s.ed.EditRequests()) != 0 {
			t.Fatal("edit sent although the user did not confirm")
		}
		if text, _ := s.ed.Text(path); text != src {
			t.Fatalf("buffer changed: %q", text)
		}
		if !strings.Contains(string(res), `"applied":false`) || !strings.Contains(string(res), `"unresolved_errors":["line 3: undefined: slices"]`) {
			t.Fatalf("result %s", res)
		}
	})
	t.Run("without annotations, Apply anyway applies", func(t *testing.T) {
		s, path, _ := run(t, fakeeditor.Caps{DocumentChanges: true}, "Apply anyway")
		if text, _ := s.ed.Text(path); text != "package a\n\nfunc F() { slices.Sort(nil) }\n" {
			t.Fatalf("buffer %q", text)
		}
	})
}

func TestCommandsOnFilesThatAreNotRegularAreRefused(t *testing.T) {
	s := start(t, fakeeditor.FullCaps, &stubEngine{run: echoText})
	s.init(t)
	fifo := filepath.Join(s.dir, "pipe.go")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.go")
	os.WriteFile(outside, []byte("package secret\n"), 0o644)
	link := filepath.Join(s.dir, "link.go")
	os.Symlink(outside, link)
	big := filepath.Join(s.dir, "big.go")
	os.WriteFile(big, make([]byte, 9<<20), 0o644)
	for _, c := range []struct{ uri, want string }{
		{"file:///dev/zero", "/dev/zero: not a regular file (character device); lsp-router reads only regular files in the workspace"},
		{"file:///proc/self/fd/0", "/proc/self/fd/0: not a regular file"},
		{fakeeditor.URI(fifo), "not a regular file (named pipe)"},
		{fakeeditor.URI(link), "outside the workspace"},
		{fakeeditor.URI(big), "over the 8.0 MB limit"},
	} {
		// The deadline only guards against a hang.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := s.ed.Execute(ctx, "lsp-router.explain", map[string]any{"uri": c.uri, "range": rng(0, 0, 0, 0)})
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.uri, err, c.want)
		}
	}
	if n := len(s.engine.requests()); n != 0 {
		t.Errorf("%d requests reached the engine", n)
	}
}
