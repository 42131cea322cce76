package classify

import "testing"

// BenchmarkConversation is an agent's request: system prompt, wrappers,
// tool output and the latest user turn.
func BenchmarkConversation(b *testing.B) {
	turns := []Turn{{Role: "system", Content: "You are a coding agent. Use the tools."},
		{Role: "user", Content: "<task>\nCompare SQLite and Postgres for the desktop app's local storage.\n</task>\n<environment_details>\n# Current Time\n11/30/2026\n</environment_details>"},
		{Role: "assistant", Content: "Let me look."}, {Role: "tool", Content: "FAIL: TestX\npanic: nil pointer"}}
	b.ReportAllocs()
	for b.Loop() {
		Conversation(turns, true)
	}
}
