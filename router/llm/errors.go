package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// Error is the one error type for every failure talking to an LLM server:
// each of the servers' error body shapes, HTTP statuses, timeouts and
// connection failures. Use errors.As to inspect it.
type Error struct {
	// Kind is the server kind that produced the error.
	Kind Kind
	// Endpoint is the service's base URL.
	Endpoint string
	// Op says what was being done ("chat", "tokenize", "list models").
	Op string
	// Status is the HTTP status, 0 when no response arrived or the error came
	// mid-stream on a 200 response.
	Status int
	// Message is the server's own message, or a description of the failure.
	Message string
	// Retryable errors happened before the server started generating and may
	// be retried (connection refused, 503 while a model loads).
	Retryable bool
	// ModelNotFound: the server does not have the requested model.
	ModelNotFound bool
	// Auth: the server refused our credentials (or needs some).
	Auth bool
	// ContextTooLong: the prompt (plus the answer budget) does not fit the
	// model's context window; a shorter prompt can succeed.
	ContextTooLong bool
	// Timeout: the first-token or idle timeout expired.
	Timeout bool
	// MidStream: the error arrived after generation had started.
	MidStream bool
	// Err is the underlying cause, if any.
	Err error
	// emptyBody: the HTTP error answer had no body at all (GPT4All's 500
	// for a prompt that does not fit).
	emptyBody bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.DisplayName())
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	if e.Endpoint != "" {
		b.WriteString(" at ")
		b.WriteString(e.Endpoint)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (")
		b.WriteString(hint)
		b.WriteString(")")
	}
	return b.String()
}

// hint tells the user what to do about the most common failures.
func (e *Error) hint() string {
	switch {
	case e.Auth:
		return "set the service's API key through an environment variable or key file in the config"
	case e.ModelNotFound && e.Kind == KindOllama:
		return "pull it with `ollama pull <model>` or pick a listed model"
	case e.ModelNotFound:
		return "load the model in the server or pick a listed model"
	case e.ContextTooLong:
		return "shorten the prompt, pick a model with a larger context window, or set context_length for this endpoint in the config"
	}
	return ""
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinels matched by errors.Is against an *Error's flags, so callers can
// map failures without errors.As: errors.Is(err, llm.ErrModelNotFound).
var (
	ErrModelNotFound  = errors.New("model not found")
	ErrAuth           = errors.New("authentication failed")
	ErrContextTooLong = errors.New("prompt too long for the context window")
	ErrRetryable      = errors.New("retryable failure")
)

// Is reports whether target is the sentinel for one of e's flags.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrModelNotFound:
		return e.ModelNotFound
	case ErrAuth:
		return e.Auth
	case ErrContextTooLong:
		return e.ContextTooLong
	case ErrRetryable:
		return e.Retryable
	}
	return false
}

// IsRetryable reports whether err is an *Error marked retryable.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// parseErrorBody turns any of the servers' error body shapes into a message
// and a machine-readable code/type hint:
//
//	{"error":"msg"}                                   Ollama
//	{"error":{"message","type","code"}}               OpenAI style
//	{"object":"error","message","type","code"}        older vLLM, SGLang
//	{"detail":"msg"|{"msg"...}|[{"msg"...}]}          FastAPI servers
//	{"error":"msg","error_type":"..."}                TGI
//	plain text                                        Jan and proxies
func parseErrorBody(body []byte) (msg, code string) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return "", ""
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &raw); err != nil || raw == nil {
		return truncate(trimmed, 500), ""
	}
	if e, ok := raw["error"]; ok {
		var s string
		if json.Unmarshal(e, &s) == nil {
			var et string
			_ = json.Unmarshal(raw["error_type"], &et)
			return s, et
		}
		var obj struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
		}
		if json.Unmarshal(e, &obj) == nil && obj.Message != "" {
			return obj.Message, joinCode(obj.Type, obj.Code)
		}
	}
	if m, ok := raw["message"]; ok {
		var s string
		if json.Unmarshal(m, &s) == nil {
			var typ string
			_ = json.Unmarshal(raw["type"], &typ)
			return s, joinCode(typ, raw["code"])
		}
	}
	if d, ok := raw["detail"]; ok {
		return detailMessage(d), ""
	}
	return truncate(trimmed, 500), ""
}

func joinCode(typ string, code json.RawMessage) string {
	c := strings.Trim(string(code), `"`)
	if c == "null" {
		c = ""
	}
	switch {
	case typ != "" && c != "":
		return typ + " " + c
	case typ != "":
		return typ
	}
	return c
}

// detailMessage flattens FastAPI's "detail", which is a string, an object or a
// list of validation errors.
func detailMessage(d json.RawMessage) string {
	var s string
	if json.Unmarshal(d, &s) == nil {
		return s
	}
	type item struct {
		Msg     string `json:"msg"`
		Message string `json:"message"`
		Error   string `json:"error"`
		Loc     []any  `json:"loc"`
	}
	text := func(it item) string {
		m := it.Msg
		if m == "" {
			m = it.Message
		}
		if m == "" {
			m = it.Error
		}
		if len(it.Loc) > 0 {
			parts := make([]string, len(it.Loc))
			for i, l := range it.Loc {
				parts[i] = fmt.Sprint(l)
			}
			m = strings.Join(parts, ".") + ": " + m
		}
		return m
	}
	var one item
	if json.Unmarshal(d, &one) == nil {
		if t := text(one); t != "" {
			return t
		}
	}
	var list []item
	if json.Unmarshal(d, &list) == nil && len(list) > 0 {
		msgs := make([]string, 0, len(list))
		for _, it := range list {
			msgs = append(msgs, text(it))
		}
		return strings.Join(msgs, "; ")
	}
	return truncate(string(d), 500)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// newHTTPError classifies a non-2xx response.
func newHTTPError(kind Kind, endpoint, op string, status int, body []byte) *Error {
	msg, code := parseErrorBody(body)
	if msg == "" {
		if len(strings.TrimSpace(string(body))) == 0 {
			msg = fmt.Sprintf("empty response body with status %d", status)
		} else {
			msg = fmt.Sprintf("error without a message: %s", truncate(strings.TrimSpace(string(body)), 200))
		}
	}
	e := &Error{Kind: kind, Endpoint: endpoint, Op: op, Status: status, Message: msg,
		emptyBody: len(strings.TrimSpace(string(body))) == 0}
	classify(e, code)
	return e
}

// classify sets the flags from status, code and message text.
func classify(e *Error, code string) {
	lower := strings.ToLower(e.Message + " " + code)
	hostHeader := strings.Contains(lower, "invalid host header")
	switch {
	case e.Status == 401, e.Status == 403 && !hostHeader:
		e.Auth = true
	case strings.Contains(lower, "api key") || strings.Contains(lower, "unauthorized") ||
		strings.Contains(lower, "authentication"):
		e.Auth = true
	}
	if !e.Auth && (strings.Contains(lower, "not found") || strings.Contains(lower, "does not exist") ||
		strings.Contains(lower, "model_not_found") || strings.Contains(lower, "no such model") ||
		strings.Contains(lower, "unknown model")) {
		// A 404 on a route (not a model) says "404 page not found" on Go
		// servers; only model-related messages count.
		if strings.Contains(lower, "model") {
			e.ModelNotFound = true
		}
	}
	if e.Status == 404 && strings.Contains(lower, "model") {
		e.ModelNotFound = true
	}
	for _, p := range contextTooLongPhrases {
		if strings.Contains(lower, p) {
			e.ContextTooLong = true
			e.ModelNotFound = false
			break
		}
	}
	switch e.Status {
	case 502, 503, 504, 429:
		// 503 while a model loads (llama.cpp, LocalAI /readyz, Jan with no model
		// running), gateway errors from a proxy in front, and rate limiting all
		// happen before generation starts.
		e.Retryable = !e.MidStream
	}
}

// contextTooLongPhrases are how the servers say a prompt does not fit:
// llama.cpp "exceeds the available context size" (exceed_context_size_error),
// vLLM/SGLang/OpenAI "maximum context length is N tokens"
// (context_length_exceeded), LM Studio "...when context the overflows",
// TGI "`inputs` tokens + `max_new_tokens` must be <= N", vLLM's input
// processor "The decoder prompt (length N) is longer than the maximum model
// length of M".
var contextTooLongPhrases = []string{
	"context size", "exceed_context_size", "maximum context length", "context_length_exceeded",
	"context the overflows", "context length of only", "tokens + `max_new_tokens` must be", "prompt is too long",
	"input is too long", "longer than the maximum model length",
}

// newTransportError classifies a failure to get any response.
func newTransportError(kind Kind, endpoint, op string, err error) *Error {
	e := &Error{Kind: kind, Endpoint: endpoint, Op: op, Message: err.Error(), Err: err}
	// Only a refused or failed dial is certainly before the server saw the
	// request; a reset after sending could mean a started generation.
	var opErr *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &opErr) && opErr.Op == "dial") {
		e.Retryable = true
	}
	return e
}
