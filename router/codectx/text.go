package codectx

import (
	"fmt"
	"strings"
)

// Offset converts an LSP position (0-based line, UTF-16 column) into a
// byte offset of text. A column past the end of its line clamps to the line
// end, as the specification asks; a line past the end of the document is an
// error except for the position just after the last line.
func Offset(text string, p Position) (int, error) {
	if p.Line < 0 || p.Character < 0 {
		return 0, fmt.Errorf("negative position %d:%d", p.Line, p.Character)
	}
	off := 0
	for line := 0; line < p.Line; line++ {
		i := indexNewline(text[off:])
		if i < 0 {
			if line == p.Line-1 {
				// Position on the line after a final line without newline.
				return len(text), nil
			}
			return 0, fmt.Errorf("line %d is past the end of the document (%d lines)", p.Line+1, line+1)
		}
		off += i + 1
	}
	lineEnd := indexNewline(text[off:])
	if lineEnd < 0 {
		lineEnd = len(text) - off
	} else if lineEnd > 0 && text[off+lineEnd-1] == '\r' {
		lineEnd--
	}
	units := 0
	for i, r := range text[off : off+lineEnd] {
		if units >= p.Character {
			return off + i, nil
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	return off + lineEnd, nil
}

func indexNewline(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return i
		}
	}
	return -1
}

// PositionOf converts a byte offset of text into an LSP position.
func PositionOf(text string, offset int) Position {
	if offset > len(text) {
		offset = len(text)
	}
	line, lineStart := 0, 0
	for i := 0; i < offset; i++ {
		if text[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	col := 0
	for _, r := range text[lineStart:offset] {
		if r >= 0x10000 {
			col += 2
		} else {
			col++
		}
	}
	return Position{Line: line, Character: col}
}

// LanguageID guesses the LSP language id of a file from its extension, for
// files the editor did not open (the CLI, or a command on a closed file).
func LanguageID(path string) string {
	ext := path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		ext = strings.ToLower(path[i:])
	}
	switch ext {
	case ".go":
		return "go"
	case ".py", ".pyi":
		return "python"
	case ".ts", ".tsx", ".mts":
		return "typescript"
	case ".js", ".jsx", ".mjs", ".cjs":
		return "javascript"
	case ".rs":
		return "rust"
	case ".c", ".h":
		return "c"
	case ".cc", ".cpp", ".cxx", ".hpp":
		return "cpp"
	case ".java":
		return "java"
	case ".lua":
		return "lua"
	}
	return "plaintext"
}
