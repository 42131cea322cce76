package langserver

import (
	"go.lsp.dev/protocol"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// changeBetween is the one ranged change that turns old into new: the
// span between their common prefix and common suffix. A keystroke in a
// large file then travels as a few bytes instead of the whole text, and
// finding the span is one linear pass with no allocation beyond the
// inserted text.
func changeBetween(old, new string) *protocol.TextDocumentContentChangePartial {
	pre := 0
	for pre < len(old) && pre < len(new) && old[pre] == new[pre] {
		pre++
	}
	// Never split a UTF-8 sequence: back up to the start of a rune, so the
	// range ends fall on characters LSP can count in UTF-16.
	for pre > 0 && pre < len(old) && old[pre]&0xC0 == 0x80 {
		pre--
	}
	suf := 0
	for suf < len(old)-pre && suf < len(new)-pre && old[len(old)-1-suf] == new[len(new)-1-suf] {
		suf++
	}
	for suf > 0 && len(old)-suf < len(old) && old[len(old)-suf]&0xC0 == 0x80 {
		suf--
	}
	start := codectx.PositionOf(old, pre)
	end := codectx.PositionOf(old, len(old)-suf)
	return &protocol.TextDocumentContentChangePartial{
		Range: protocol.Range{Start: toPos(start), End: toPos(end)},
		Text:  new[pre : len(new)-suf],
	}
}
