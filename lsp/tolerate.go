package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// tolerate is the outermost handler. jsonrpc2 fails the whole connection when
// a notification handler returns an error or any handler panics, and
// go.lsp.dev/protocol returns errors for unknown methods and for params it
// cannot decode, even on notifications. So here: a failed notification is
// logged and dropped, a failed request is answered with the JSON-RPC code
// that says what was wrong, and a panic becomes InternalError.
func (s *Server) tolerate(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		call := req.IsCall()
		method := strings.Clone(req.Method())
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic while handling a message; the server keeps running", "method", method, "panic", p, "stack", string(debug.Stack()))
				result, err = nil, nil
				if call {
					err = jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v (the server keeps running; please report this with the log)", method, p)
				}
			}
		}()
		result, err = next(ctx, req)
		if err == nil {
			return result, nil
		}
		if !call {
			s.droppedNotification(method, req.Params(), err)
			return nil, nil
		}
		return nil, replyError(method, err)
	}
}

// replyError maps what go.lsp.dev/protocol reports onto the code a client
// expects: params it could not decode are InvalidParams (it says ParseError,
// which means the message itself was not JSON).
func replyError(method string, err error) error {
	switch {
	case errors.Is(err, jsonrpc2.ErrParse):
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params for %s: %v", method, err)
	case errors.Is(err, jsonrpc2.ErrMethodNotFound):
		return jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method %q is not served by lsp-router", method)
	}
	var coded *jsonrpc2.Error
	if !errors.As(err, &coded) {
		// A plain error would go out with code 0, which JSON-RPC does not define.
		return jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
	}
	return err
}

// droppedNotification logs a notification that could not be handled. A
// text-sync notification that was lost means the stored text may differ
// from the editor's: the document is marked out of sync so no edit is ever
// computed on it.
func (s *Server) droppedNotification(method string, params jsonrpc2.RawMessage, err error) {
	if errors.Is(err, jsonrpc2.ErrMethodNotFound) {
		// $/ notifications are optional by specification; others (telemetry,
		// other servers' extensions) are merely unknown here.
		level := s.log.Warn
		if strings.HasPrefix(method, "$/") {
			level = s.log.Debug
		}
		level("notification not served by lsp-router; ignored", "method", method)
		return
	}
	s.log.Warn("malformed notification ignored", "method", method, "err", err)
	switch method {
	case protocol.MethodTextDocumentDidOpen, protocol.MethodTextDocumentDidChange:
	default:
		return
	}
	var p struct {
		TextDocument struct {
			URI string `json:"uri"`
		} `json:"textDocument"`
	}
	if json.Unmarshal(params, &p) != nil || p.TextDocument.URI == "" {
		return
	}
	s.markOutOfSync(p.TextDocument.URI, method+" could not be read: "+err.Error())
}

// Request answers the methods go.lsp.dev/protocol does not know. lsp-router
// serves none beyond the standard ones.
func (s *Server) Request(_ context.Context, method string, _ any) (any, error) {
	return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method %q is not served by lsp-router", method)
}
