package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/answertext"
)

// reportInterval throttles streaming progress: a token-by-token report would
// flood the editor for no visible gain.
const reportInterval = 100 * time.Millisecond

var tokenCounter atomic.Int64

// progress reports one command's progress through $/progress when the editor
// supports it, else through window/showMessage at the start and end only.
//
// window/workDoneProgress/create is a round trip to the editor; it runs
// beside the command instead of before it, so the model request is not
// delayed by it. Reports that arrive before the editor answered are held
// (the latest one) and sent after begin.
type progress struct {
	s      *Server
	title  string
	token  protocol.ProgressToken
	create bool          // the server made the token: ask the editor to create it
	ready  chan struct{} // closed when begin went out (or could not)

	mu         sync.Mutex
	enabled    bool
	begun      bool
	lastReport time.Time
	lastStage  router.Stage
	pending    *router.Progress
	ended      bool
	// tail keeps the end of the answer streamed so far, so the progress
	// line shows the answer as it is written, not just a counter.
	tail  []rune
	think answertext.Filter // hides a reasoning model's <think> blocks
	// status is the last lsp-router/status sent: it changes per stage, not
	// per streamed chunk.
	status [3]string
}

// tailRunes is how much of the streamed answer a progress line shows.
const tailRunes = 80

func (s *Server) newProgress(ctx context.Context, caps clientCaps, clientToken protocol.ProgressToken, title string) *progress {
	p := &progress{s: s, title: title, ready: make(chan struct{})}
	switch {
	case clientToken != nil:
		p.token, p.enabled = clientToken, true
	case caps.workDoneProgress:
		p.token = protocol.String(fmt.Sprintf("lsp-router/%d", tokenCounter.Add(1)))
		p.enabled, p.create = true, true // enabled until the editor refuses the token
	default:
		p.token = protocol.String(fmt.Sprintf("lsp-router/%d", tokenCounter.Add(1)))
	}
	return p
}

// begin announces the command; see the type's comment for the order.
func (p *progress) begin(ctx context.Context, msg string) {
	go func() {
		if p.create {
			err := p.s.client.WorkDoneProgressCreate(context.WithoutCancel(ctx), &protocol.WorkDoneProgressCreateParams{Token: p.token})
			if err != nil {
				p.s.log.Debug("workDoneProgress/create refused; falling back to messages", "err", err)
				p.mu.Lock()
				p.enabled = false
				p.mu.Unlock()
			}
		}
		p.mu.Lock()
		enabled := p.enabled
		p.mu.Unlock()
		if enabled {
			cancellable := true
			p.send(ctx, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: p.title, Cancellable: &cancellable, Message: &msg})
		} else {
			p.s.showMessage(ctx, protocol.MessageTypeInfo, "%s: %s…", p.title, msg)
		}
		p.mu.Lock()
		p.begun = true
		pending := p.pending
		p.pending = nil
		p.mu.Unlock()
		if pending != nil {
			p.report(ctx, *pending) // before ready, so before end
		}
		close(p.ready)
	}()
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

func (p *progress) report(ctx context.Context, pr router.Progress) {
	p.mu.Lock()
	if st := [3]string{pr.Model, pr.Service, string(pr.Stage)}; st != p.status {
		p.status = st
		p.mu.Unlock()
		p.s.status(ctx, pr.Model, pr.Service, string(pr.Stage))
		p.mu.Lock()
	}
	if pr.Delta != "" {
		delta, reset := p.think.Write(pr.Delta)
		if reset {
			p.tail = p.tail[:0] // what was shown was reasoning
		}
		p.tail = append(p.tail, []rune(delta)...)
		if len(p.tail) > tailRunes {
			p.tail = p.tail[len(p.tail)-tailRunes:]
		}
		switch line := strings.Join(strings.Fields(string(p.tail)), " "); {
		case p.think.Thinking():
			pr.Message = pr.Model + ": thinking…"
		case line != "":
			pr.Message = pr.Model + ": …" + line
		}
	}
	if !p.begun {
		p.pending = &pr
		p.mu.Unlock()
		return
	}
	if !p.enabled {
		p.mu.Unlock()
		return
	}
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
	select {
	case <-p.ready:
	case <-time.After(5 * time.Second):
		// The editor never answered create: end on the token anyway.
	}
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	enabled := p.enabled
	p.mu.Unlock()
	if !enabled {
		p.s.showMessage(ctx, protocol.MessageTypeInfo, "%s: %s", p.title, msg)
		return
	}
	p.send(ctx, &protocol.WorkDoneProgressEnd{Kind: "end", Message: &msg})
}
