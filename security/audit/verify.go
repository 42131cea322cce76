package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Kind classifies a break in the chain.
type Kind string

const (
	// KindEdited: a line's content no longer matches its hash, or a line no
	// longer links to the one before it although the sequence numbers follow.
	KindEdited Kind = "edited"
	// KindDeleted: sequence numbers are missing and do not appear later.
	KindDeleted Kind = "deleted"
	// KindReordered: a line is out of sequence (swapped, moved or duplicated).
	KindReordered Kind = "reordered"
	// KindMalformed: a line is not a chained audit record.
	KindMalformed Kind = "malformed"
	// KindTorn: the file ends in the middle of a line.
	KindTorn Kind = "torn"
)

// TamperError locates the first line at which the chain breaks.
type TamperError struct {
	File string `json:"file"`
	// Line is 1-based within File.
	Line int `json:"line"`
	// Seq is the sequence number found on that line (0 if unreadable).
	Seq    uint64 `json:"seq,omitempty"`
	Kind   Kind   `json:"kind"`
	Detail string `json:"detail"`
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit: %s:%d: %s: %s", e.File, e.Line, e.Kind, e.Detail)
}

// VerifyResult summarises the verified part of the chain.
type VerifyResult struct {
	// Files are the files read, oldest first.
	Files []string `json:"files"`
	// Lines is the number of lines that verified before any problem.
	Lines    int    `json:"lines"`
	FirstSeq uint64 `json:"first_seq,omitempty"`
	LastSeq  uint64 `json:"last_seq,omitempty"`
	// Head is the hash of the last verified line: record it elsewhere to
	// detect later truncation or a rewrite of the whole file.
	Head string `json:"head,omitempty"`
	// EarlierFilesRemoved is set when the oldest remaining rotated file does
	// not start the chain (older rotated files were deleted or archived).
	EarlierFilesRemoved bool `json:"earlier_files_removed,omitempty"`
}

// position is one line's place in the chain files.
type position struct {
	file string
	line int
}

// Verify checks the whole chain (rotated files oldest first, then path) and
// returns a *TamperError for the first line at which it breaks. Other errors
// are I/O errors. An empty or missing log verifies with Lines == 0 unless no
// file exists at all.
func Verify(path string) (VerifyResult, error) {
	var res VerifyResult
	files, err := chainFiles(path)
	if err != nil {
		return res, err
	}
	rotated := len(files) - 1
	oldestIsFirst := rotated == 0 || strings.HasSuffix(files[0], ".000001")
	if rotated == 0 {
		if _, err := os.Stat(path); err != nil {
			return res, fmt.Errorf("audit: %s: %w", path, err)
		}
	}
	var (
		prevSeq  uint64
		prevHash string
		prevPos  position
		first    = true
	)
	for _, file := range files {
		f, err := os.Open(file)
		if errors.Is(err, os.ErrNotExist) && file == path {
			continue
		}
		if err != nil {
			return res, fmt.Errorf("audit: open %s: %w", file, err)
		}
		res.Files = append(res.Files, file)
		tamper, err := func() (*TamperError, error) {
			defer f.Close()
			r := bufio.NewReaderSize(f, 64<<10)
			for n := 1; ; n++ {
				line, err := r.ReadBytes('\n')
				if len(line) == 0 && err == io.EOF {
					return nil, nil
				}
				pos := position{file, n}
				if err == io.EOF {
					return &TamperError{File: file, Line: n, Kind: KindTorn, Detail: "the last line has no newline: a torn write or a truncated file"}, nil
				}
				if err != nil {
					return nil, fmt.Errorf("audit: read %s: %w", file, err)
				}
				rec, perr := parseLine(line[:len(line)-1])
				switch {
				case errors.Is(perr, errContentHash):
					return &TamperError{File: file, Line: n, Seq: rec.Seq, Kind: KindEdited, Detail: "the line's content does not match its hash: the line was edited"}, nil
				case perr != nil:
					return &TamperError{File: file, Line: n, Kind: KindMalformed, Detail: perr.Error()}, nil
				}
				if first {
					first = false
					res.FirstSeq = rec.Seq
					switch {
					case rec.Seq == 1 && rec.Prev != genesis:
						return &TamperError{File: file, Line: n, Seq: 1, Kind: KindEdited, Detail: "the first line does not start a chain (prev is not zero)"}, nil
					case rec.Seq != 1 && oldestIsFirst:
						if later, ok := findSeq(files, 1, pos); ok {
							return &TamperError{File: file, Line: n, Seq: rec.Seq, Kind: KindReordered, Detail: fmt.Sprintf("the chain starts at seq %d, and seq 1 comes later at %s:%d: lines were reordered (swapped or moved)", rec.Seq, later.file, later.line)}, nil
						}
						return &TamperError{File: file, Line: n, Seq: rec.Seq, Kind: KindDeleted, Detail: fmt.Sprintf("the chain starts at seq %d: lines with seq 1-%d were deleted", rec.Seq, rec.Seq-1)}, nil
					case rec.Seq != 1:
						res.EarlierFilesRemoved = true
					}
				} else if rec.Prev != prevHash || rec.Seq != prevSeq+1 {
					return classify(files, pos, prevPos, rec, prevSeq), nil
				}
				prevSeq, prevHash, prevPos = rec.Seq, rec.Hash, pos
				res.Lines++
				res.LastSeq, res.Head = rec.Seq, rec.Hash
			}
		}()
		if err != nil {
			return res, err
		}
		if tamper != nil {
			return res, tamper
		}
	}
	return res, nil
}

// classify explains a broken link between the line at prevPos (seq prevSeq)
// and the line at pos.
func classify(files []string, pos, prevPos position, rec Record, prevSeq uint64) *TamperError {
	want := prevSeq + 1
	switch {
	case rec.Seq == want:
		return &TamperError{File: prevPos.file, Line: prevPos.line, Seq: prevSeq, Kind: KindEdited,
			Detail: fmt.Sprintf("%s:%d (seq %d) does not link to this line: this line was rewritten with a recomputed hash, or replaced", pos.file, pos.line, rec.Seq)}
	case rec.Seq > want:
		if later, ok := findSeq(files, want, pos); ok {
			return &TamperError{File: pos.file, Line: pos.line, Seq: rec.Seq, Kind: KindReordered,
				Detail: fmt.Sprintf("seq %d follows seq %d, and seq %d comes later at %s:%d: lines were reordered (swapped or moved)", rec.Seq, prevSeq, want, later.file, later.line)}
		}
		missing := fmt.Sprintf("seq %d", want)
		if rec.Seq-1 > want {
			missing = fmt.Sprintf("seq %d-%d", want, rec.Seq-1)
		}
		return &TamperError{File: pos.file, Line: pos.line, Seq: rec.Seq, Kind: KindDeleted,
			Detail: fmt.Sprintf("%s missing between %s:%d and this line: %d line(s) deleted", missing, prevPos.file, prevPos.line, rec.Seq-want)}
	default:
		return &TamperError{File: pos.file, Line: pos.line, Seq: rec.Seq, Kind: KindReordered,
			Detail: fmt.Sprintf("seq %d appears after seq %d: lines were reordered or duplicated", rec.Seq, prevSeq)}
	}
}

// findSeq looks for a line with the given seq after pos.
func findSeq(files []string, seq uint64, after position) (position, bool) {
	seen := false
	for _, file := range files {
		if file == after.file {
			seen = true
		}
		if !seen {
			continue
		}
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		r := bufio.NewReaderSize(f, 64<<10)
		for n := 1; ; n++ {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 && (file != after.file || n > after.line) {
				var s struct {
					Seq uint64 `json:"seq"`
				}
				if json.Unmarshal(line, &s) == nil && s.Seq == seq {
					f.Close()
					return position{file, n}, true
				}
			}
			if err != nil {
				break
			}
		}
		f.Close()
	}
	return position{}, false
}

// Tail returns the last n records of the chain (across rotated files),
// oldest first. It reads without verifying: use Verify for that.
func Tail(path string, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	files, err := chainFiles(path)
	if err != nil {
		return nil, err
	}
	var out []Record
	for i := len(files) - 1; i >= 0 && len(out) < n; i-- {
		b, err := os.ReadFile(files[i])
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", files[i], err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		var recs []Record
		for j := len(lines) - 1; j >= 0 && len(recs)+len(out) < n; j-- {
			if lines[j] == "" {
				continue
			}
			var r Record
			if err := json.Unmarshal([]byte(lines[j]), &r); err != nil {
				return nil, fmt.Errorf("audit: %s:%d is not an audit record (run `lsp-router audit verify`): %w", files[i], j+1, err)
			}
			recs = append(recs, r)
		}
		out = append(out, recs...)
	}
	// out is newest first; reverse.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// WriteText prints records one per line for `lsp-router audit tail`.
func WriteText(w io.Writer, recs []Record) error {
	for _, r := range recs {
		var b strings.Builder
		fmt.Fprintf(&b, "%s #%d %-9s", r.Time.UTC().Format(time.RFC3339), r.Seq, r.Type)
		add := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&b, " %s=%s", k, v)
			}
		}
		add("agent", r.Agent)
		add("cmd", r.Command)
		add("service", r.Service)
		add("model", r.Model)
		add("category", r.Category)
		if r.FallbackLevel > 0 {
			add("fallback", fmt.Sprint(r.FallbackLevel))
		}
		if r.TokensIn > 0 || r.TokensOut > 0 {
			add("tokens", fmt.Sprintf("%d/%d", r.TokensIn, r.TokensOut))
		}
		if r.LatencyMS > 0 {
			add("latency", fmt.Sprintf("%dms", r.LatencyMS))
		}
		add("target", r.Target)
		add("rule", r.Rule)
		if r.Success {
			b.WriteString(" ok")
		} else if r.Error != "" {
			fmt.Fprintf(&b, " error=%q", r.Error)
		}
		add("detail", r.Detail)
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return fmt.Errorf("audit: write: %w", err)
		}
	}
	return nil
}
