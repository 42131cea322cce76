package lsp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/lsp-router/lsp-router/internal/safefile"
	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
)

// answerNotification is the payload of lsp-router/answer.
type answerNotification struct {
	Title    string          `json:"title"`
	Markdown string          `json:"markdown"`
	Model    string          `json:"model"`
	Service  string          `json:"service"`
	URI      string          `json:"uri,omitempty"`
	Range    *protocol.Range `json:"range,omitempty"`
}

// maxMessageAnswer bounds an answer shown with window/showMessage when it
// could not be written to a file: editors render it as a popup.
const maxMessageAnswer = 1500

// maxSummary bounds the answer's first line quoted in the one-line message
// that names the answer's file (Helix shows it in its status line).
const maxSummary = 100

// deliverAnswer shows an answer: our plugins render lsp-router/answer; other
// editors get a Markdown document (window/showDocument). An editor without
// showDocument (Helix, eglot) gets the answer written to a Markdown file
// under the cache directory and one line naming it, with the answer's first
// line: a status line cannot show a whole answer, a file can be opened.
func (s *Server) deliverAnswer(ctx context.Context, caps clientCaps, req router.Request, result *router.Result) {
	title := fmt.Sprintf("lsp-router %s (%s)", req.Action, result.Model)
	n := answerNotification{Title: title, Markdown: result.Answer, Model: result.Model, Service: result.Service}
	if req.HasPosition {
		n.URI = pathToURI(req.Query.Path)
		r := toRange(requestRange(req))
		n.Range = &r
	}
	s.notify(ctx, "lsp-router/answer", n)
	if caps.answerNotification {
		return
	}
	path, err := s.writeAnswer(req, title, result.Answer)
	if err != nil {
		s.log.Warn("answer not written to a file; showing it as a message", "err", err)
		s.showMessage(ctx, protocol.MessageTypeInfo, "%s\n\n%s", title, truncate(result.Answer, maxMessageAnswer))
		return
	}
	if caps.showDocument {
		takeFocus := false
		_, err = s.client.ShowDocument(context.WithoutCancel(ctx), &protocol.ShowDocumentParams{URI: uri.File(path), TakeFocus: &takeFocus})
		if err == nil {
			return
		}
		s.log.Warn("showDocument failed; naming the answer's file in a message", "err", err)
	}
	s.showMessage(ctx, protocol.MessageTypeInfo, "%s: %s (full answer: %s)", title, summary(result.Answer), path)
}

// summary is the first line of text of an answer, without its Markdown
// heading, quote or list mark, cut to fit a status line. Fence lines are
// skipped: the code is in the file.
func summary(answer string) string {
	for _, line := range strings.Split(answer, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			continue
		}
		line = strings.TrimSpace(blockMark.ReplaceAllString(line, ""))
		if line != "" {
			return truncate(line, maxSummary)
		}
	}
	return "(empty answer)"
}

// blockMark is the mark that opens a Markdown heading, quote or list item.
var blockMark = regexp.MustCompile(`^(?:#{1,6}|>|[-*+]|\d+[.)])\s+`)

func requestRange(req router.Request) codectx.Range {
	if req.Query.Selection != nil {
		return *req.Query.Selection
	}
	return codectx.Range{Start: req.Query.Position, End: req.Query.Position}
}

// writeAnswer stores the answer as Markdown under the cache directory.
func (s *Server) writeAnswer(req router.Request, title, answer string) (string, error) {
	dir := s.opts.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "lsp-router", "answers")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-%s.md", time.Now().Format("20060102-150405.000"), req.Action)
	path := filepath.Join(dir, name)
	body := "# " + title + "\n\n" + strings.TrimSpace(answer) + "\n"
	return path, safefile.CreatePrivate(path, []byte(body), dir)
}
