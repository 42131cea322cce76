package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router"
)

// reportInterval throttles streaming progress: a token-by-token report would
// flood the editor for no visible gain.
const reportInterval = 100 * time.Millisecond

var tokenCounter atomic.Int64

// progress reports one command's progress through $/progress when the editor
// supports it, else through window/showMessage at the start and end only.
type progress struct {
	s       *Server
	title   string
	token   protocol.ProgressToken
	enabled bool

	mu         sync.Mutex
	lastReport time.Time
	lastStage  router.Stage
	ended      bool
}

func (s *Server) newProgress(ctx context.Context, caps clientCaps, clientToken protocol.ProgressToken, title string) *progress {
	p := &progress{s: s, title: title}
	if clientToken != nil {
		p.token, p.enabled = clientToken, true
		return p
	}
	p.token = protocol.String(fmt.Sprintf("lsp-router/%d", tokenCounter.Add(1)))
	if !caps.workDoneProgress {
		return p
	}
	err := s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: p.token})
	if err != nil {
		s.log.Debug("workDoneProgress/create refused; falling back to messages", "err", err)
		return p
	}
	p.enabled = true
	return p
}

// tokenKey identifies the progress token for cancellation.
func (p *progress) tokenKey() string { return tokenString(p.token) }

func (p *progress) send(ctx context.Context, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	err = p.s.client.Progress(context.WithoutCancel(ctx), &protocol.ProgressParams{Token: p.token, Value: protocol.LSPAny(b)})
	if err != nil {
		p.s.log.Debug("progress notification failed", "err", err)
	}
}

func (p *progress) begin(ctx context.Context, msg string) {
	if !p.enabled {
		p.s.showMessage(ctx, protocol.MessageTypeInfo, "%s: %s…", p.title, msg)
		return
	}
	cancellable := true
	p.send(ctx, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: p.title, Cancellable: &cancellable, Message: &msg})
}

func (p *progress) report(ctx context.Context, pr router.Progress) {
	p.s.status(ctx, pr.Model, pr.Service, string(pr.Stage))
	if !p.enabled {
		return
	}
	p.mu.Lock()
	now := time.Now()
	// Stage changes always go out; streaming updates are throttled.
	if p.ended || (pr.Stage == p.lastStage && now.Sub(p.lastReport) < reportInterval) {
		p.mu.Unlock()
		return
	}
	p.lastReport, p.lastStage = now, pr.Stage
	p.mu.Unlock()
	msg := pr.Message
	if msg == "" {
		msg = string(pr.Stage)
	}
	p.send(ctx, &protocol.WorkDoneProgressReport{Kind: "report", Message: &msg})
}

func (p *progress) end(ctx context.Context, msg string) {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	p.mu.Unlock()
	if !p.enabled {
		p.s.showMessage(ctx, protocol.MessageTypeInfo, "%s: %s", p.title, msg)
		return
	}
	p.send(ctx, &protocol.WorkDoneProgressEnd{Kind: "end", Message: &msg})
}
