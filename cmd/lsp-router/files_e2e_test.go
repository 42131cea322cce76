//go:build unix

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// goProject writes a module with helloGo in dir and returns main.go's path.
func goProject(t *testing.T, dir string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.invalid/hello\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte(helloGo), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestCLITestsApplyRefusesASymlinkOutOfTheWorkspace(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: testsAnswer})
	defer srv.Close()
	dir, outside := t.TempDir(), t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := goProject(t, dir)
	target := filepath.Join(outside, "main_test.go")
	link := filepath.Join(dir, "main_test.go")
	if err := os.Symlink(target, link); err != nil { // dangling: the target does not exist
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "tests", "--file", file, "--line", "9", "--col", "6", "--apply")
	if code == 0 || !strings.Contains(errOut, "outside the workspace") || !strings.Contains(errOut, "nothing was written") {
		t.Fatalf("want a refusal, got exit %d:\n%s", code, errOut)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the outside target was created (%v)", err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", st, err)
	}
}

func TestCLITestsApplyCreatesACompilingTestFile(t *testing.T) {
	// The model leaves out the package clause and the import.
	answer := "```go\nfunc TestReverseWords(t *testing.T) {\n\tif got := reverseWords(\"a b\"); !strings.EqualFold(got, \"b a\") {\n\t\tt.Errorf(\"got %q\", got)\n\t}\n}\n```\n"
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: answer})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := goProject(t, dir)
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "tests", "--file", file, "--line", "9", "--col", "6", "--apply")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "main_test.go"))
	if err != nil || !strings.HasPrefix(string(b), "package main\n\nimport (\n\t\"strings\"\n\t\"testing\"\n)\n\nfunc TestReverseWords(") {
		t.Fatalf("test file: %v\n%s", err, b)
	}
	// The created file compiles with the package: go vet type-checks it.
	if _, err := exec.LookPath("go"); err == nil {
		cmd := exec.Command("go", "vet", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go vet: %v\n%s", err, out)
		}
	}
}

func TestCLIApplyRefusesAStillBrokenEdit(t *testing.T) {
	if _, err := exec.LookPath("gopls"); err != nil {
		t.Skip("gopls not on PATH: go install golang.org/x/tools/gopls@v0.23.0")
	}
	// The model forgets the import every time, also when told about it.
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := goProject(t, dir)
	os.Chmod(file, 0o640)
	args := []string{"--config", cfg, "ask", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "--apply"}
	_, errOut, code := runCLI(t, dir, append(args, "use slices.Reverse")...)
	if code == 0 {
		t.Fatalf("a still-broken edit was applied:\n%s", errOut)
	}
	last := errOut[strings.LastIndex(strings.TrimRight(errOut, "\n"), "\n")+1:]
	for _, want := range []string{"undefined: slices", "--force", "nothing was written"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line lacks %q: %q", want, last)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != helloGo {
		t.Fatalf("file changed:\n%s", b)
	}
	if n := srv.ChatRequests(); n != 2 {
		t.Errorf("%d generations, want the answer and one retry", n)
	}
	// --json carries the errors too.
	out, _, _ := runCLI(t, dir, "--config", cfg, "ask", "--json", "--action", "refactor", "--file", file, "--line", "9", "--col", "6", "use slices.Reverse")
	var j struct {
		UnresolvedErrors []string `json:"unresolved_errors"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || len(j.UnresolvedErrors) != 1 || !strings.Contains(j.UnresolvedErrors[0], "undefined: slices") {
		t.Errorf("json: %v %s", err, out)
	}
	// --force writes it, keeping the mode.
	_, errOut, code = runCLI(t, dir, append(args, "--force", "use slices.Reverse")...)
	b, _ := os.ReadFile(file)
	if code != 0 || string(b) != wantRefactored {
		t.Fatalf("--force: %d %s\n%s", code, errOut, b)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode())
	}
}

func TestCLIRefusesFilesThatAreNotRegular(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "never asked"})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	fifo := filepath.Join(dir, "pipe.go")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct{ file, want string }{
		{"/dev/zero", "/dev/zero: not a regular file (character device)"},
		{"/proc/self/fd/0", "/proc/self/fd/0: not a regular file"},
		{fifo, fifo + ": not a regular file (named pipe); lsp-router reads only regular files in the workspace"},
	} {
		// runCLI waits for the process: a read that blocks on the FIFO
		// (nobody writes it) or never ends (/dev/zero) hangs the test.
		_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", c.file, "--line", "1")
		if code != exitUsage || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want one line with %q", c.file, code, errOut, c.want)
		}
	}
	if n := srv.ChatRequests(); n != 0 {
		t.Errorf("%d model calls for refused files", n)
	}
}

func TestEditorRefusesDevicesAndFIFOsFast(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "never asked"})
	defer srv.Close()
	p, dir := editorSession(t, srv.URL, llm.KindOllama, fakeeditor.FullCaps)
	fifo := filepath.Join(dir, "pipe.go")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct{ uri, want string }{
		{"file:///dev/zero", "/dev/zero: not a regular file"},
		{"file:///proc/self/fd/0", "/proc/self/fd/0: not a regular file"},
		{fakeeditor.URI(fifo), "not a regular file (named pipe)"},
	} {
		// The deadline only guards against a hang; a refusal comes at once.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t0 := time.Now()
		_, err := p.ed.Execute(ctx, "lsp-router.explain", map[string]any{"uri": c.uri, "range": codectx.Range{}})
		cancel()
		t.Logf("%s answered in %v", c.uri, time.Since(t0))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.uri, err, c.want)
		}
	}
	if n := srv.ChatRequests(); n != 0 {
		t.Errorf("%d model calls for refused files", n)
	}
	// The server still answers afterwards. (The FIFO goes first: the
	// language server would block reading it while loading the package.)
	os.Remove(fifo)
	path := filepath.Join(dir, "main.go")
	os.WriteFile(path, []byte(helloGo), 0o644)
	p.ed.Open(context.Background(), path, "go", helloGo)
	if _, err := p.ed.Execute(context.Background(), "lsp-router.explain", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 9, Character: 1}, End: codectx.Position{Line: 9, Character: 1}}, "")); err != nil {
		t.Fatalf("a valid request after the refusals: %v", err)
	}
}

func TestEditorAsksBeforeApplyingAStillBrokenEdit(t *testing.T) {
	if _, err := exec.LookPath("gopls"); err != nil {
		t.Skip("gopls not on PATH: go install golang.org/x/tools/gopls@v0.23.0")
	}
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer})
	defer srv.Close()
	run := func(t *testing.T, caps fakeeditor.Caps, confirm string) (*serverProc, string, json.RawMessage) {
		p, dir := editorSession(t, srv.URL, llm.KindOllama, caps)
		p.ed.SetConfirm(confirm)
		path := goProject(t, dir)
		ctx := context.Background()
		p.ed.Open(ctx, path, "go", helloGo)
		res, err := p.ed.Execute(ctx, "lsp-router.refactor", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 9, Character: 5}, End: codectx.Position{Line: 9, Character: 5}}, "use slices.Reverse"))
		if err != nil {
			t.Fatalf("execute: %v", err)
		}
		return p, path, res
	}
	t.Run("change annotations: the preview names the errors", func(t *testing.T) {
		p, _, _ := run(t, fakeeditor.FullCaps, "")
		reqs := p.ed.EditRequests()
		if len(reqs) != 1 {
			t.Fatalf("%d applyEdit requests", len(reqs))
		}
		ann, ok := reqs[0].Edit.ChangeAnnotations["lsp-router"]
		if !ok || ann.NeedsConfirmation == nil || !*ann.NeedsConfirmation || !strings.Contains(ann.Label, "undefined: slices") {
			t.Fatalf("annotation %+v", ann)
		}
	})
	t.Run("no annotations, user dismisses: nothing applied", func(t *testing.T) {
		p, path, res := run(t, fakeeditor.Caps{DocumentChanges: true}, "")
		if q := p.ed.Requests(); len(q) != 1 || !strings.Contains(q[0].Message, "undefined: slices") {
			t.Fatalf("prompts: %+v", q)
		}
		if n := len(p.ed.EditRequests()); n != 0 {
			t.Fatalf("%d edits sent although the user said no", n)
		}
		if text, _ := p.ed.Text(path); text != helloGo {
			t.Fatalf("buffer changed:\n%s", text)
		}
		var out struct {
			Applied          bool     `json:"applied"`
			UnresolvedErrors []string `json:"unresolved_errors"`
		}
		if err := json.Unmarshal(res, &out); err != nil || out.Applied || len(out.UnresolvedErrors) == 0 {
			t.Fatalf("result %s", res)
		}
	})
	t.Run("no annotations, user applies anyway", func(t *testing.T) {
		p, path, _ := run(t, fakeeditor.Caps{DocumentChanges: true}, "Apply anyway")
		if text, _ := p.ed.Text(path); text != wantRefactored {
			t.Fatalf("buffer:\n%s", text)
		}
	})
}

func TestCLIApplyRefusesReadOnlyAndWritesThroughAnInsideLink(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: refactorAnswer})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	file := goProject(t, dir)
	// --force: whether gopls verifies the edit or not, only the file's
	// own state decides here.
	args := func(f string) []string {
		return []string{"--config", cfg, "ask", "--action", "refactor", "--file", f, "--line", "9", "--col", "6", "--apply", "--force", "use slices.Reverse"}
	}
	os.Chmod(file, 0o444)
	_, errOut, code := runCLI(t, dir, args(file)...)
	if code == 0 || !strings.Contains(errOut, "read-only (mode 0444)") || !strings.Contains(errOut, "chmod u+w") {
		t.Fatalf("read-only file: exit %d\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != helloGo {
		t.Fatalf("read-only file changed:\n%s", b)
	}
	// A link inside the workspace to main.go: the edit lands in main.go,
	// the link stays a link, setgid and mode stay.
	os.Chmod(file, 0o750|fs.ModeSetgid)
	link := filepath.Join(dir, "alias.go")
	os.Symlink("main.go", link)
	_, errOut, code = runCLI(t, dir, args(link)...)
	if code != 0 {
		t.Fatalf("through the link: %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != wantRefactored {
		t.Fatalf("target:\n%s", b)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if st, _ := os.Stat(file); st.Mode()&(fs.ModePerm|fs.ModeSetgid) != 0o750|fs.ModeSetgid {
		t.Errorf("mode %v", st.Mode())
	}
}

func TestCLIMaxFileBytesFromConfig(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "never asked"})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\n[context]\nmax_file_bytes = 64\n")
	f.Close()
	file := goProject(t, dir)
	_, errOut, code := runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "9")
	if code == 0 || !strings.Contains(errOut, "over the 64 bytes limit; raise context.max_file_bytes") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
