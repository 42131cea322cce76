package selection

import (
	"strings"
	"testing"
)

func TestAnswerReserveScalesWithTheWindow(t *testing.T) {
	for _, tc := range []struct{ max, window, want int }{
		{2048, 32768, 2048}, // a large window keeps the whole answer budget
		{2048, 8192, 2048},  // a quarter of 8192 is 2048
		{2048, 4096, 1024},  // a quarter
		{2048, 2048, 512},   // a 2048-token model keeps 1536 for the question
		{2048, 512, 256},    // the floor
		{100, 2048, 100},    // never more than the user allows
		{2048, 0, 2048},     // window unknown
		{0, 4096, 0},        // no answer budget set
	} {
		if got := AnswerReserve(tc.max, tc.window); got != tc.want {
			t.Errorf("AnswerReserve(%d, %d) = %d, want %d", tc.max, tc.window, got, tc.want)
		}
	}
}

// A 2048-token model is chosen for a short request although
// max_answer_tokens is 2048; a request that does not fit says to lower
// max_answer_tokens.
func TestSmallWindowModelAnswersShortRequests(t *testing.T) {
	small := ollama("qwen2.5-coder:1.5b", 2048, true)
	d := Select(Request{Category: "documentation", PromptTokens: 400, AnswerTokens: 2048}, []Available{small}, nil, nil)
	if d.Err != nil || d.Model != small.ModelID || d.Chosen.Level != LevelPrimary {
		t.Fatalf("decision %+v (%v)", d, d.Err)
	}
	d = Select(Request{Category: "documentation", PromptTokens: 1800, AnswerTokens: 2048}, []Available{small}, nil, nil)
	s, ok := skipFor(d, small.ModelID)
	if !ok || !strings.Contains(s.Reason, "2312 tokens (1800 prompt + 512 answer)") || !strings.Contains(s.Reason, "generation.max_answer_tokens (now 2048)") {
		t.Fatalf("skip %+v", s)
	}
}
