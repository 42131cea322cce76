package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a break in the chain.
type Kind string

const (
	// KindEdited: a line's content no longer matches its hash or MAC, or a
	// line no longer links to the one before it although the sequence
	// numbers follow.
	KindEdited Kind = "edited"
	// KindDeleted: sequence numbers are missing and do not appear later.
	KindDeleted Kind = "deleted"
	// KindReordered: a line is out of sequence (swapped, moved or duplicated).
	KindReordered Kind = "reordered"
	// KindMalformed: a line is not a chained audit record.
	KindMalformed Kind = "malformed"
	// KindTorn: the file ends with bytes that are not the start of the next
	// record, so no crash can have left them: cut or altered.
	KindTorn Kind = "torn"
	// KindTruncated: the anchor names a record past the end of the chain:
	// records were cut from the end.
	KindTruncated Kind = "truncated"
	// KindDowngrade: an unkeyed line follows keyed ones: written without
	// the key.
	KindDowngrade Kind = "downgrade"
	// KindWrongKey: a keyed line was made with another key than the one
	// given (the wrong key file, or a log forged under a new key).
	KindWrongKey Kind = "wrong_key"
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
	// Head is the link (MAC, or hash of a legacy line) of the last verified
	// line: keep Anchor() elsewhere to detect a cut tail later.
	Head string `json:"head,omitempty"`
	// EarlierFilesRemoved is set when the oldest remaining rotated file does
	// not start the chain (older rotated files were deleted or archived).
	EarlierFilesRemoved bool `json:"earlier_files_removed,omitempty"`
	// KeyID is the key the keyed lines verified under ("" if there were none).
	KeyID string `json:"key_id,omitempty"`
	// LegacyLines counts unkeyed lines; they all come before the keyed ones.
	// A chain with only legacy lines shows accidents, not edits whose author
	// recomputed the hashes.
	LegacyLines int `json:"legacy_lines,omitempty"`
	// Recoveries are torn tails a writer repaired (recovered events).
	Recoveries []Recovery `json:"recoveries,omitempty"`
	// TornTail is a torn tail not repaired yet: the next write repairs it.
	TornTail *TornTail `json:"torn_tail,omitempty"`
	// AnchorChecked is set when an anchor was given and matched.
	AnchorChecked bool `json:"anchor_checked,omitempty"`
}

// Anchor is the chain's head as `lsp-router audit verify --anchor` takes it.
func (r VerifyResult) Anchor() string {
	if r.Lines == 0 {
		return ""
	}
	return FormatAnchor(r.LastSeq, r.Head)
}

// Recovery is a torn tail that a writer cut off.
type Recovery struct {
	Seq           uint64    `json:"seq"`
	Time          time.Time `json:"ts"`
	DroppedBytes  int64     `json:"dropped_bytes"`
	DroppedSHA256 string    `json:"dropped_sha256"`
}

// TornTail is an unfinished last record left by a crash.
type TornTail struct {
	File  string `json:"file"`
	Bytes int    `json:"bytes"`
}

// FormatAnchor writes a chain head as "<seq>:<link>".
func FormatAnchor(seq uint64, link string) string { return fmt.Sprintf("%d:%s", seq, link) }

// ParseAnchor reads "<seq>:<link>" (the output of `lsp-router audit anchor`).
func ParseAnchor(s string) (uint64, string, error) {
	seqText, link, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if !ok || err != nil || seq == 0 || len(link) != 64 || strings.Trim(strings.ToLower(link), "0123456789abcdef") != "" {
		return 0, "", fmt.Errorf("audit: anchor %q is not SEQ:HEX (64 hex digits), as `lsp-router audit anchor` prints it", s)
	}
	return seq, strings.ToLower(link), nil
}

// VerifyOptions say how to check keyed lines and the end of the chain.
type VerifyOptions struct {
	// Key checks keyed lines; without it KeyFile is read when the first
	// keyed line is met (never created).
	Key     []byte
	KeyFile string
	// Anchor, from an earlier `lsp-router audit anchor`, detects records
	// cut from the end and a chain rewritten from scratch.
	Anchor string
}

// position is one line's place in the chain files.
type position struct {
	file string
	line int
}

// Verify checks the chain with the key from ResolveKeyFile("") (the
// environment or the default state directory). See VerifyWith.
func Verify(path string) (VerifyResult, error) {
	return VerifyWith(path, VerifyOptions{KeyFile: ResolveKeyFile("")})
}

// VerifyWith checks the whole chain (rotated files oldest first, then path)
// and returns a *TamperError for the first line at which it breaks. Other
// errors are I/O errors, a missing key for a keyed log, or a bad anchor. An
// empty or missing log verifies with Lines == 0 unless no file exists at all.
// A torn tail that can only be a crash in the middle of a write is not an
// error: it is reported in TornTail.
func VerifyWith(path string, opts VerifyOptions) (VerifyResult, error) {
	v := &verifier{path: path, opts: opts, key: opts.Key, first: true}
	if opts.Anchor != "" {
		var err error
		if v.anchorSeq, v.anchorLink, err = ParseAnchor(opts.Anchor); err != nil {
			return v.res, err
		}
	}
	files, err := chainFiles(path)
	if err != nil {
		return v.res, err
	}
	v.files = files
	rotated := len(files) - 1
	v.oldestIsFirst = rotated == 0 || strings.HasSuffix(files[0], ".000001")
	if rotated == 0 {
		if _, err := os.Stat(path); err != nil {
			return v.res, fmt.Errorf("audit: %s: %w", path, err)
		}
	}
	for fi, file := range files {
		f, err := os.Open(file)
		if errors.Is(err, os.ErrNotExist) && file == path {
			continue
		}
		if err != nil {
			return v.res, fmt.Errorf("audit: open %s: %w", file, err)
		}
		v.res.Files = append(v.res.Files, file)
		tamper, err := v.verifyFile(f, file, fi == len(files)-1)
		if err != nil {
			return v.res, err
		}
		if tamper != nil {
			return v.res, tamper
		}
	}
	err = v.checkAnchor()
	return v.res, err
}

// verifier is one walk along the chain: the result so far and the last
// record seen, which the next must link to.
type verifier struct {
	path          string
	opts          VerifyOptions
	files         []string
	oldestIsFirst bool
	key           []byte
	res           VerifyResult

	prevSeq  uint64
	prevHash string
	prevPos  position
	first    bool
	keyed    bool

	anchorSeq              uint64
	anchorLink, anchorSeen string
}

// verifyFile checks each line of f (file); last tells whether it is the
// newest file, the only one where a crash may leave a torn tail.
func (v *verifier) verifyFile(f *os.File, file string, last bool) (*TamperError, error) {
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			return nil, nil
		}
		pos := position{file, n}
		if err == io.EOF {
			return v.tornTail(line, pos, last), nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", file, err)
		}
		rec, tamper, err := v.parse(line[:len(line)-1], pos)
		if tamper != nil || err != nil {
			return tamper, err
		}
		if tamper := v.link(rec, pos); tamper != nil {
			return tamper, nil
		}
		v.accept(rec, pos)
	}
}

// tornTail judges a last line without a newline: the start of the next
// record cut by a crash is reported in TornTail, anything else is tampering.
func (v *verifier) tornTail(line []byte, pos position, last bool) *TamperError {
	next, link := v.prevSeq+1, v.prevHash
	if v.first {
		next, link = 1, genesis
	}
	if last && (!v.first || v.oldestIsFirst) && tornWrite(line, next, link) {
		v.res.TornTail = &TornTail{File: pos.file, Bytes: len(line)}
		return nil
	}
	return &TamperError{File: pos.file, Line: pos.line, Kind: KindTorn, Detail: fmt.Sprintf("the file ends with %d bytes without a newline that are not the start of record %d: no crash leaves that, the file was cut or altered", len(line), next)}
}

// parse reads one line, loading the key file at the first keyed line.
func (v *verifier) parse(body []byte, pos position) (Record, *TamperError, error) {
	file, n := pos.file, pos.line
	if v.key == nil && v.opts.KeyFile != "" && isKeyedLine(body) {
		k, kerr := LoadKey(v.opts.KeyFile)
		if kerr != nil {
			return Record{}, nil, fmt.Errorf("audit: %s:%d is keyed and its key cannot be read (%s): pass --key FILE or set $%s", file, n, strings.TrimPrefix(kerr.Error(), "audit: "), KeyFileEnv)
		}
		v.key = k
	}
	rec, perr := parseLine(body, v.key)
	var wk *wrongKeyError
	switch {
	case errors.Is(perr, errContentHash):
		return rec, &TamperError{File: file, Line: n, Seq: rec.Seq, Kind: KindEdited, Detail: "the line's content does not match its hash: the line was edited"}, nil
	case errors.Is(perr, errContentMAC):
		return rec, &TamperError{File: file, Line: n, Seq: rec.Seq, Kind: KindEdited, Detail: "the line's content does not match its MAC: the line was edited"}, nil
	case errors.As(perr, &wk):
		return rec, &TamperError{File: file, Line: n, Seq: rec.Seq, Kind: KindWrongKey, Detail: wk.Error() + ": the wrong key file, or the log was rewritten under another key"}, nil
	case errors.Is(perr, errNoKey):
		return rec, nil, fmt.Errorf("audit: %s:%d is keyed and no key was given: pass --key FILE or set $%s", file, n, KeyFileEnv)
	case perr != nil:
		return rec, &TamperError{File: file, Line: n, Kind: KindMalformed, Detail: perr.Error()}, nil
	}
	return rec, nil, nil
}

// link checks that rec continues the chain: keyed after keyed, and the
// previous record's seq and hash, or a proper start for the first record.
func (v *verifier) link(rec Record, pos position) *TamperError {
	if rec.MAC != "" {
		v.keyed = true
		v.res.KeyID = rec.Key
	} else if v.keyed {
		return &TamperError{File: pos.file, Line: pos.line, Seq: rec.Seq, Kind: KindDowngrade, Detail: "an unkeyed line after keyed ones: written or rewritten without the key"}
	} else {
		v.res.LegacyLines++
	}
	if !v.first {
		if rec.Prev != v.prevHash || rec.Seq != v.prevSeq+1 {
			return classify(v.files, pos, v.prevPos, rec, v.prevSeq)
		}
		return nil
	}
	v.first = false
	v.res.FirstSeq = rec.Seq
	switch {
	case rec.Seq == 1 && rec.Prev != genesis:
		return &TamperError{File: pos.file, Line: pos.line, Seq: 1, Kind: KindEdited, Detail: "the first line does not start a chain (prev is not zero)"}
	case rec.Seq != 1 && v.oldestIsFirst:
		if later, ok := findSeq(v.files, 1, pos); ok {
			return &TamperError{File: pos.file, Line: pos.line, Seq: rec.Seq, Kind: KindReordered, Detail: fmt.Sprintf("the chain starts at seq %d, and seq 1 comes later at %s:%d: lines were reordered (swapped or moved)", rec.Seq, later.file, later.line)}
		}
		return &TamperError{File: pos.file, Line: pos.line, Seq: rec.Seq, Kind: KindDeleted, Detail: fmt.Sprintf("the chain starts at seq %d: lines with seq 1-%d were deleted", rec.Seq, rec.Seq-1)}
	case rec.Seq != 1:
		v.res.EarlierFilesRemoved = true
	}
	return nil
}

// accept makes rec the chain's head.
func (v *verifier) accept(rec Record, pos position) {
	if rec.Type == EventRecovered {
		v.res.Recoveries = append(v.res.Recoveries, Recovery{Seq: rec.Seq, Time: rec.Time, DroppedBytes: rec.DroppedBytes, DroppedSHA256: rec.DroppedSHA256})
	}
	if rec.Seq == v.anchorSeq {
		v.anchorSeen = rec.Link()
	}
	v.prevSeq, v.prevHash, v.prevPos = rec.Seq, rec.Link(), pos
	v.res.Lines++
	v.res.LastSeq, v.res.Head = rec.Seq, rec.Link()
}

// checkAnchor compares the chain's end with the anchor, if one was given.
func (v *verifier) checkAnchor() error {
	if v.anchorSeq == 0 {
		return nil
	}
	res := &v.res
	last := position{v.path, 0}
	if res.Lines > 0 {
		last = v.prevPos
	}
	switch {
	case v.anchorSeq > res.LastSeq:
		return &TamperError{File: last.file, Line: last.line, Seq: res.LastSeq, Kind: KindTruncated,
			Detail: fmt.Sprintf("the anchor names seq %d, but the chain ends at seq %d: records %d-%d were cut from the end", v.anchorSeq, res.LastSeq, res.LastSeq+1, v.anchorSeq)}
	case v.anchorSeq < res.FirstSeq:
		return fmt.Errorf("audit: the anchor names seq %d, which is in a rotated file no longer next to %s: verify with that file in place", v.anchorSeq, v.path)
	case v.anchorSeen != v.anchorLink:
		return &TamperError{File: last.file, Line: last.line, Seq: v.anchorSeq, Kind: KindEdited,
			Detail: fmt.Sprintf("record %d is not the one the anchor names: the log was rewritten from there on (by someone with the key) or replaced", v.anchorSeq)}
	}
	res.AnchorChecked = true
	return nil
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
		text := string(b)
		if i := strings.LastIndexByte(text, '\n'); i < len(text)-1 {
			text = text[:i+1] // a torn tail is no record
		}
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
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
		add("keys", strings.Join(r.Keys, ","))
		if r.DroppedBytes > 0 {
			add("dropped", fmt.Sprintf("%dB sha256:%s", r.DroppedBytes, r.DroppedSHA256))
		}
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
