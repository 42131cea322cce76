package llmtest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Flood selects a hostile stream that never ends, for testing the client's
// bounds. Each mode keeps writing until the client goes away. No real
// server sends these on purpose; the framing is each server's own (as in
// streamNDJSON and streamSSE), the content is the hostile part.
type Flood int

const (
	// FloodNone streams the reply normally.
	FloodNone Flood = iota
	// FloodEndless streams content chunks forever and never finishes, as a
	// server that ignores max_tokens or loops does.
	FloodEndless
	// FloodLongLine never ends a line: SSE "data:" lines that never get the
	// blank line ending the event (each line is short and well formed), and
	// for NDJSON one line that never gets its newline.
	FloodLongLine
	// FloodEmptyChunks streams well-formed chunks with empty text forever
	// (SSE adds ": keep-alive" comments between them): the server says it is
	// alive but never produces a token.
	FloodEmptyChunks
	// FloodReplyThenEmptyChunks streams the reply as one chunk, then does
	// what FloodEmptyChunks does: the model stalled mid-answer behind a
	// server or proxy that keeps the stream "alive".
	FloodReplyThenEmptyChunks
)

// floodChunk is the text of each FloodEndless chunk.
const floodChunk = "all work and no play makes a model a dull model. "

// FloodBytes is how many bytes the flood modes wrote before the client left.
func (s *Server) FloodBytes() int64 { return s.floodBytes.Load() }

// flood writes the selected endless stream in the wire format of the
// request (native NDJSON or OpenAI SSE). It returns when the client leaves.
func (s *Server) flood(w http.ResponseWriter, r *http.Request, md Model, text string, native bool) {
	if native {
		w.Header().Set("Content-Type", "application/x-ndjson")
	} else {
		w.Header().Set("Content-Type", "text/event-stream")
	}
	w.WriteHeader(200)
	st := stepper{s: s, r: r, w: w, f: w.(http.Flusher)}
	ndjson := func(content string) []byte {
		b, _ := json.Marshal(map[string]any{"model": md.ID, "created_at": "2025-01-01T00:00:00Z",
			"message": map[string]any{"role": "assistant", "content": content}, "done": false})
		return append(b, '\n')
	}
	sse := func(content string) []byte {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": created,
			"model": md.ID, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": content}, "finish_reason": nil}}})
		return []byte("data: " + string(b) + "\n\n")
	}
	// Write in batches of about 32 KiB so the flood is fast enough to
	// show unbounded growth within a test, and paced by ChunkDelay when set.
	var batch []byte
	switch s.opts.Flood {
	case FloodEndless:
		one := sse(floodChunk)
		if native {
			one = ndjson(floodChunk)
		}
		batch = []byte(strings.Repeat(string(one), max(1, (32<<10)/len(one))))
	case FloodLongLine:
		if native {
			// The opening of a line whose string never closes.
			if !st.write([]byte(`{"model":"` + md.ID + `","message":{"role":"assistant","content":"`)) {
				return
			}
			batch = []byte(strings.Repeat("x", 32<<10))
		} else {
			batch = []byte(strings.Repeat("data: {\"choices\":[]}\n", (32<<10)/21))
		}
	case FloodEmptyChunks, FloodReplyThenEmptyChunks:
		first := sse(text)
		batch = append([]byte(": keep-alive\n\n"), sse("")...)
		if native {
			first, batch = ndjson(text), ndjson("")
		}
		if s.opts.Flood == FloodReplyThenEmptyChunks && !st.write(first) {
			return
		}
	}
	for i := 0; ; i++ {
		if ok, _ := st.before(i); !ok {
			return
		}
		if !st.write(batch) {
			return
		}
		s.floodBytes.Add(int64(len(batch)))
	}
}
