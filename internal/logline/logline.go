// Package logline turns a child process's stderr into log records, one per
// line, so language servers and Serena log through lsp-router's logger and
// never onto the editor's protocol stream.
package logline

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// maxLine bounds a line held back while waiting for its newline; a runaway
// line is logged in pieces rather than growing without limit.
const maxLine = 64 << 10

// Writer logs every complete line written to it at Level with message Msg.
type Writer struct {
	Log   *slog.Logger
	Level slog.Level
	Msg   string

	mu  sync.Mutex
	buf []byte
}

var _ io.Writer = (*Writer)(nil)

// Write implements io.Writer; it never fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := slices.Index(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		if line != "" {
			w.Log.Log(context.Background(), w.Level, w.Msg, "line", line)
		}
	}
	if len(w.buf) > maxLine {
		w.Log.Log(context.Background(), w.Level, w.Msg, "line", string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}
