package router

import (
	"context"
	"errors"
	"fmt"
	"github.com/lsp-router/lsp-router/security/audit"
	"strings"
	"syscall"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/selection"
	"github.com/lsp-router/lsp-router/security"
)

// maxUserLine bounds the line a user is shown; the full chain goes to the log.
const maxUserLine = 300

// UserError turns an error chain into what a user reads: msg says in one
// line what failed, hint (possibly empty) what to do about it. Callers log
// the full error next to it: "explain: documentation request: security:
// dial …" is for the log, not for the editor's message line.
func UserError(err error) (msg, hint string) {
	if err == nil {
		return "", ""
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled", ""
	}
	if errors.Is(err, ErrNoServices) {
		m, h, _ := strings.Cut(ErrNoServices.Error(), ": ")
		return m, h
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		return oneLine(refused.Summary()), RefusedFix
	}
	// The audit refusal names the log and the fix: keep both whole.
	var af *audit.FailureError
	if errors.As(err, &af) {
		return strings.Replace(err.Error(), ": "+af.Fix(), "", 1), af.Fix()
	}
	if d, ok := security.IsDenied(err); ok {
		m := fmt.Sprintf("connection to %s refused by the network allowlist (rule %s)", d.Host, d.Rule)
		return m, d.Fix
	}
	var ex *selection.ExhaustedError
	if errors.As(err, &ex) && len(ex.Attempts) > 0 {
		// The last attempt is the most telling: it ran at the lowest level.
		a := ex.Attempts[len(ex.Attempts)-1]
		for i := len(ex.Attempts) - 1; i >= 0; i-- {
			var le *llm.Error
			if errors.As(ex.Attempts[i].Err, &le) {
				a = ex.Attempts[i]
				break
			}
		}
		m, h := UserError(a.Err)
		msg = fmt.Sprintf("no local model could answer: %s on %s: %s", a.Choice.Model, a.Choice.Service, m)
		if n := len(ex.Attempts) - 1; n > 0 {
			msg += fmt.Sprintf(" (%d other attempt(s) failed too; the log has each)", n)
		}
		if h == "" {
			h = "check the services with `lsp-router models`, pull a listed model, or change task_routing"
		}
		return oneLine(msg), oneLine(h)
	}
	var le *llm.Error
	if errors.As(err, &le) {
		return llmUserError(le)
	}
	return oneLine(plainMessage(err)), ""
}

// UserLine is UserError in one line, "msg: hint", for message lines and
// terminals.
func UserLine(err error) string {
	msg, hint := UserError(err)
	if hint == "" {
		return msg
	}
	return msg + ": " + hint
}

func llmUserError(e *llm.Error) (msg, hint string) {
	where := e.Kind.DisplayName()
	if e.Endpoint != "" {
		where += " at " + e.Endpoint
	}
	switch {
	case e.Status == 0 && !e.Timeout && !e.MidStream && e.Err != nil && !errors.Is(e.Err, llm.ErrAnswerTooLarge):
		cause := "no connection"
		if errors.Is(e.Err, syscall.ECONNREFUSED) {
			cause = "connection refused"
		} else if leaf := leafMessage(e.Err); leaf != "" {
			cause = leaf
		}
		return oneLine(where + " is not reachable (" + cause + ")"),
			"start the server or fix its endpoint in the config; `lsp-router discover` shows what runs"
	case e.Status == 404 && !e.ModelNotFound:
		return oneLine(fmt.Sprintf("%s answered, but it is not an LLM chat API (HTTP 404 on its %s request)", where, e.Op)),
			"check the port, and the service's kind or api_style in the config"
	}
	m := e.Message
	if e.Status != 0 {
		m = fmt.Sprintf("HTTP %d: %s", e.Status, m)
	}
	hint = llmHint(e)
	if hint == "" {
		// The client's own messages put the advice after "; ".
		if i := strings.Index(m, "; "); i > 0 {
			m, hint = m[:i], m[i+2:]
		}
	}
	return oneLine(where + ": " + m), oneLine(hint)
}

// llmHint is the advice an *llm.Error's message already carries in
// parentheses ("(pull it with …)"), for the common failures.
func llmHint(e *llm.Error) string {
	full := e.Error()
	if !e.Auth && !e.ModelNotFound && !e.ContextTooLong {
		return ""
	}
	if i := strings.LastIndex(full, " ("); i > 0 && strings.HasSuffix(full, ")") {
		return full[i+2 : len(full)-1]
	}
	return ""
}

// plainMessage is the message of an error the cases above do not know: its
// first line when short, else the innermost cause, which names the failure
// without the chain of "doing X: doing Y:" prefixes.
func plainMessage(err error) string {
	m, _, _ := strings.Cut(err.Error(), "\n")
	// A message that fits is kept whole: errors that wrap a sentinel in the
	// middle ("…: %w: detail; fix") carry their detail and fix after it.
	if len([]rune(m)) <= maxUserLine {
		return m
	}
	if leaf := leafMessage(err); leaf != "" {
		return leaf
	}
	return m
}

// leafMessage is the message of the innermost error in a single-Unwrap chain.
func leafMessage(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			m, _, _ := strings.Cut(err.Error(), "\n")
			return m
		}
		err = next
	}
}

// oneLine folds line breaks and bounds the length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	if r := []rune(s); len(r) > maxUserLine {
		s = string(r[:maxUserLine-1]) + "…"
	}
	return s
}
