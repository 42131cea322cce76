package lsp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router"
)

// helixCaps is what Helix 25.07 advertises as far as answers go: progress,
// but neither window/showDocument nor our plugin's answer rendering.
var helixCaps = func() fakeeditor.Caps {
	c := fakeeditor.FullCaps
	c.ShowDocument = false
	return c
}()

func messagesOf(ed *fakeeditor.Editor, typ protocol.MessageType) []string {
	var out []string
	for _, m := range ed.Messages() {
		if m.Type == typ {
			out = append(out, m.Message)
		}
	}
	return out
}

func TestAnswerWithoutShowDocumentIsWrittenToAFileNamedInOneLine(t *testing.T) {
	answer := "## reverseWords\nIt reverses the words of s.\n\n" + strings.Repeat("More detail. ", 200)
	s := start(t, helixCaps, &stubEngine{run: func(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
		return &router.Result{Model: "m", Service: "svc", Answer: answer}, nil
	}})
	s.init(t)
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(context.Background(), path, "go", "package a\n")
	if _, err := s.ed.Execute(context.Background(), "lsp-router.explain", s.ed.Args(path, rng(0, 0, 0, 0), "")); err != nil {
		t.Fatal(err)
	}
	if !s.ed.WaitFor(5*time.Second, func() bool { return len(messagesOf(s.ed, protocol.MessageTypeInfo)) == 1 }) {
		t.Fatalf("messages %+v", s.ed.Messages())
	}
	msg := messagesOf(s.ed, protocol.MessageTypeInfo)[0]
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "lsp-router explain (m): reverseWords (full answer: ") {
		t.Fatalf("message %q", msg)
	}
	file := strings.TrimSuffix(msg[strings.Index(msg, "(full answer: ")+len("(full answer: "):], ")")
	if filepath.Dir(file) != filepath.Join(s.dir, "answers") || !strings.HasSuffix(file, "-explain.md") {
		t.Fatalf("file %q", file)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), "It reverses the words of s.") || !strings.HasSuffix(strings.TrimSpace(string(b)), "More detail.") {
		t.Fatalf("file: %v\n%s", err, b)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if len(s.ed.Shown()) != 0 {
		t.Errorf("showDocument sent to a client without it: %v", s.ed.Shown())
	}
}

func TestCommandErrorsReachAnEditorWithoutThePluginAsMessages(t *testing.T) {
	s := start(t, helixCaps, &stubEngine{run: func(context.Context, router.Request, router.ProgressFunc) (*router.Result, error) {
		return nil, errors.New("no question to ask: give one")
	}})
	s.init(t)
	path := filepath.Join(s.dir, "a.go")
	s.ed.Open(context.Background(), path, "go", "package a\n")
	if _, err := s.ed.Execute(context.Background(), "lsp-router.ask", s.ed.Args(path, rng(0, 0, 0, 0), "")); err == nil {
		t.Fatal("no error response")
	}
	if !s.ed.WaitFor(5*time.Second, func() bool { return len(messagesOf(s.ed, protocol.MessageTypeError)) == 1 }) {
		t.Fatalf("messages %+v", s.ed.Messages())
	}
	if msg := messagesOf(s.ed, protocol.MessageTypeError)[0]; msg != "lsp-router ask: no question to ask: give one" {
		t.Errorf("message %q", msg)
	}
}
