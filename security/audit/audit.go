// Package audit writes lsp-router's tamper-evident audit log: one JSON
// object per line, each line carrying the SHA-256 of the previous line (a
// hash chain), appended with O_APPEND and optionally fsync'ed per event,
// rotated by size with the chain continuing across files.
//
// Line layout (field order is fixed):
//
//	{"seq":7,"prev":"<hex of line 6's hash>","ts":...,"type":"query",...,"hash":"<hex>"}
//
// hash is SHA-256 over the line's bytes up to, but excluding, `,"hash":...`
// with a closing `}` appended, i.e. over the JSON object without its hash
// field, exactly as written. The first line of a chain has seq 1 and prev of
// 64 zeros. Because prev is inside the hashed bytes, changing, removing or
// moving any line breaks the link of the line after it; Verify says which.
//
// What the chain cannot show: an attacker who can rewrite the file can also
// recompute every hash after the edit, and removing lines from the very end
// leaves a valid shorter chain. Record the head hash Verify reports
// (`lsp-router audit verify`, doctor) somewhere else to detect those.
//
// Concurrency: one *Log is safe for concurrent use. Several processes (one
// lsp-router per editor window) may share a file: every write holds an
// exclusive flock on "<path>.lock" (a separate file, so rotation's rename does
// not move the lock), then re-reads the chain head if another process wrote
// since, and reopens the file if another process rotated it. On platforms
// without flock only in-process writers are serialised.
//
// Cost per event (BenchmarkWrite, 2-core VM, ext4 on virtio disk): about
// 12 µs without fsync and about 0.2 ms with fsync, which is what makes an
// event durable across a power cut. Against an LLM call of seconds both are
// negligible; fsync is on in DefaultOptions.
package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EventType classifies audit events.
type EventType string

const (
	// EventQuery is a prompt sent to a model (with its outcome).
	EventQuery EventType = "query"
	// EventResponse is a model's answer (tokens, latency; text only with LogResponses).
	EventResponse EventType = "response"
	// EventSecurity is a refused connection or another policy decision.
	EventSecurity EventType = "security"
	// EventModel is a model integrity decision (pin mismatch, unpinned model).
	EventModel EventType = "model"
	// EventLifecycle is a process start or stop, or a configuration change.
	EventLifecycle EventType = "lifecycle"
	// EventError is a failure worth keeping that fits no other type.
	EventError EventType = "error"
)

// Event is one audit record as the caller fills it. Zero-valued fields are
// omitted from the line (an absent fallback_level means 0, the first choice).
// Query and Response are inputs: Write always stores their SHA-256 and keeps
// the text only when Options.Plaintext / Options.LogResponses say so.
type Event struct {
	// Time defaults to the time of Write (UTC).
	Time time.Time `json:"ts"`
	Type EventType `json:"type"`
	// Session, Agent and OS default to the Log's values.
	Session string `json:"session,omitempty"`
	Agent   string `json:"agent,omitempty"`
	OS      string `json:"os,omitempty"`
	// Command is the user's action ("explain", "refactor", "ask", ...).
	Command       string `json:"command,omitempty"`
	Service       string `json:"service,omitempty"`
	Model         string `json:"model,omitempty"`
	Category      string `json:"category,omitempty"`
	FallbackLevel int    `json:"fallback_level,omitempty"`
	TokensIn      int    `json:"tokens_in,omitempty"`
	TokensOut     int    `json:"tokens_out,omitempty"`
	LatencyMS     int64  `json:"latency_ms,omitempty"`
	Success       bool   `json:"success"`
	Error         string `json:"error,omitempty"`
	// Target is the host, endpoint or file a security or model event is about.
	Target string `json:"target,omitempty"`
	// Rule is the policy rule that decided a security or model event.
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Redactions counts the secrets replaced in what was sent, never the secrets.
	Redactions int `json:"redactions,omitempty"`

	QuerySHA256    string `json:"query_sha256,omitempty"`
	Query          string `json:"query,omitempty"`
	ResponseSHA256 string `json:"response_sha256,omitempty"`
	Response       string `json:"response,omitempty"`
}

// Record is one line as read back: the event plus its chain fields.
type Record struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	Event
	Hash string `json:"hash"`
}

// lineBody is what is marshalled and hashed; hash is appended after.
type lineBody struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	Event
}

// Options configures a Log. The zero value never rotates and never fsyncs:
// start from DefaultOptions.
type Options struct {
	// MaxBytes rotates the file before a write would make it larger; 0 never
	// rotates. Rotated files are never deleted by lsp-router.
	MaxBytes int64
	// Plaintext keeps the query text (config log_queries_plaintext).
	Plaintext bool
	// LogResponses keeps the response text (config log_responses).
	LogResponses bool
	// Fsync flushes every event to stable storage before Write returns.
	Fsync bool
	// Session is stamped on events without one; default a random id.
	Session string
	// Agent is stamped on events without one; default DetectAgent().Name.
	Agent string
}

// DefaultOptions returns the production defaults: 10 MiB files, fsync per
// event, hashes only.
func DefaultOptions() Options {
	return Options{MaxBytes: 10 << 20, Fsync: true}
}

// genesis is the prev of the first line of a chain.
var genesis = strings.Repeat("0", 64)

// Log is an open audit log.
type Log struct {
	path string
	opts Options
	os   string

	mu     sync.Mutex
	lock   *os.File // "<path>.lock", flocked around each write
	f      *os.File
	size   int64 // end of f as of our last write; -1 forces a re-read
	seq    uint64
	head   string
	closed bool
}

// Open opens (creating with mode 0600, in a 0700 directory) the audit log at
// path and positions the chain after its last line, looking into the newest
// rotated file when the current one is empty. It fails when the last line is
// damaged, so a broken chain is never silently extended.
func Open(path string, opts Options) (*Log, error) {
	if path == "" {
		return nil, errors.New("audit: empty log path (set audit.path in the configuration)")
	}
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("audit: max size %d is negative", opts.MaxBytes)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: create directory for %s: %w", path, err)
	}
	if opts.Session == "" {
		opts.Session = NewSessionID()
	}
	if opts.Agent == "" {
		opts.Agent = DetectAgent().Name
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open lock file: %w", err)
	}
	l := &Log{path: path, opts: opts, os: runtime.GOOS + "/" + runtime.GOARCH, lock: lock, size: -1}
	if err := l.withLock(func() error {
		if err := l.reopen(); err != nil {
			return err
		}
		return l.syncHead()
	}); err != nil {
		_ = lock.Close()
		if l.f != nil {
			_ = l.f.Close()
		}
		return nil, err
	}
	return l, nil
}

// Path returns the current log file's path.
func (l *Log) Path() string { return l.path }

// Session returns the session id stamped on events.
func (l *Log) Session() string { return l.opts.Session }

// NewSessionID returns a random 16-hex-digit id.
func NewSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (l *Log) withLock(fn func() error) error {
	if err := lockFile(l.lock); err != nil {
		return fmt.Errorf("audit: lock %s.lock: %w", l.path, err)
	}
	defer func() { _ = unlockFile(l.lock) }()
	return fn()
}

// reopen (re)opens the current file for appending and tightens its mode.
func (l *Log) reopen() error {
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: open %s: %w", l.path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&^0o600 != 0 {
		if err := f.Chmod(0o600); err != nil {
			_ = f.Close()
			return fmt.Errorf("audit: %s has mode %v and cannot be restricted to 0600: %w", l.path, fi.Mode().Perm(), err)
		}
	}
	l.f = f
	l.size = -1
	return nil
}

// syncHead makes l.seq/l.head/l.size match the files on disk when another
// process may have written or rotated since our last write. Lock held.
func (l *Log) syncHead() error {
	pi, err := os.Stat(l.path)
	fi, ferr := l.f.Stat()
	if err != nil || ferr != nil || !os.SameFile(pi, fi) {
		if err := l.reopen(); err != nil {
			return err
		}
		if fi, ferr = l.f.Stat(); ferr != nil {
			return fmt.Errorf("audit: stat %s: %w", l.path, ferr)
		}
	}
	if fi.Size() == l.size {
		return nil
	}
	seq, head, err := lastLink(l.path)
	if err != nil {
		return err
	}
	l.seq, l.head, l.size = seq, head, fi.Size()
	return nil
}

// lastLink returns the seq and hash of the chain's last line, looking into
// rotated files when the current file is empty.
func lastLink(path string) (uint64, string, error) {
	files, err := chainFiles(path)
	if err != nil {
		return 0, "", err
	}
	for i := len(files) - 1; i >= 0; i-- {
		line, err := readLastLine(files[i])
		if err != nil {
			return 0, "", err
		}
		if line == nil {
			continue
		}
		r, perr := parseLine(line)
		if perr != nil {
			return 0, "", fmt.Errorf("audit: the last line of %s is damaged (%v): run `lsp-router audit verify`, then move the log aside to start a new chain", files[i], perr)
		}
		return r.Seq, r.Hash, nil
	}
	return 0, genesis, nil
}

// Write appends one event. It fills Time, Session, Agent and OS when empty,
// replaces Query/Response text by hashes unless the options keep them, and
// returns only after the line is written (and fsync'ed with Options.Fsync).
func (l *Log) Write(ev Event) error {
	if ev.Type == "" {
		return errors.New("audit: event without type")
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC()
	if ev.Session == "" {
		ev.Session = l.opts.Session
	}
	if ev.Agent == "" {
		ev.Agent = l.opts.Agent
	}
	if ev.OS == "" {
		ev.OS = l.os
	}
	if ev.Query != "" {
		ev.QuerySHA256 = sha256Hex([]byte(ev.Query))
		if !l.opts.Plaintext {
			ev.Query = ""
		}
	}
	if ev.Response != "" {
		ev.ResponseSHA256 = sha256Hex([]byte(ev.Response))
		if !l.opts.LogResponses {
			ev.Response = ""
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("audit: write to a closed log")
	}
	return l.withLock(func() error {
		if err := l.syncHead(); err != nil {
			return err
		}
		line, hash, err := encodeLine(l.seq+1, l.head, ev)
		if err != nil {
			return err
		}
		if l.opts.MaxBytes > 0 && l.size > 0 && l.size+int64(len(line)) > l.opts.MaxBytes {
			if err := l.rotate(); err != nil {
				return err
			}
		}
		n, err := l.f.Write(line)
		if err != nil || n != len(line) {
			l.size = -1 // re-read the head before the next write
			return fmt.Errorf("audit: write %s: %w", l.path, errors.Join(err, errShort(n, len(line))))
		}
		if l.opts.Fsync {
			if err := l.f.Sync(); err != nil {
				l.size = -1
				return fmt.Errorf("audit: fsync %s: %w", l.path, err)
			}
		}
		l.seq++
		l.head = hash
		l.size += int64(n)
		return nil
	})
}

func errShort(n, want int) error {
	if n == want {
		return nil
	}
	return fmt.Errorf("short write: %d of %d bytes", n, want)
}

// rotate renames the current file to the next "<path>.NNNNNN" and starts a
// new current file. The chain (seq, head) carries on. Lock held.
func (l *Log) rotate() error {
	rotated, err := rotatedFiles(l.path)
	if err != nil {
		return err
	}
	next := 1
	if len(rotated) > 0 {
		next = rotated[len(rotated)-1].n + 1
	}
	dst := fmt.Sprintf("%s.%06d", l.path, next)
	if err := os.Rename(l.path, dst); err != nil {
		return fmt.Errorf("audit: rotate %s to %s: %w", l.path, dst, err)
	}
	if l.opts.Fsync {
		syncDir(filepath.Dir(l.path))
	}
	if err := l.reopen(); err != nil {
		return err
	}
	l.size = 0
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Close releases the files. Writes after Close fail.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	if l.f != nil {
		errs = append(errs, l.f.Close())
	}
	errs = append(errs, l.lock.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("audit: close %s: %w", l.path, err)
	}
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// hashSuffixLen is len(`,"hash":"` + 64 hex + `"}`).
const hashSuffixLen = 9 + 64 + 2

// encodeLine marshals the body, hashes it and appends the hash field.
func encodeLine(seq uint64, prev string, ev Event) (line []byte, hash string, err error) {
	body, err := json.Marshal(lineBody{Seq: seq, Prev: prev, Event: ev})
	if err != nil {
		return nil, "", fmt.Errorf("audit: encode event: %w", err)
	}
	hash = sha256Hex(body)
	line = make([]byte, 0, len(body)+hashSuffixLen+1)
	line = append(line, body[:len(body)-1]...)
	line = append(line, `,"hash":"`...)
	line = append(line, hash...)
	line = append(line, "\"}\n"...)
	return line, hash, nil
}

// parseLine checks a line's own hash and decodes it. line excludes '\n'.
func parseLine(line []byte) (Record, error) {
	var r Record
	if len(line) < hashSuffixLen+2 || !bytes.HasSuffix(line, []byte(`"}`)) ||
		!bytes.Equal(line[len(line)-hashSuffixLen:len(line)-hashSuffixLen+9], []byte(`,"hash":"`)) {
		return r, errors.New("no hash field at the end of the line")
	}
	hash := string(line[len(line)-hashSuffixLen+9 : len(line)-2])
	body := make([]byte, 0, len(line)-hashSuffixLen+1)
	body = append(body, line[:len(line)-hashSuffixLen]...)
	body = append(body, '}')
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("not a JSON object: %w", err)
	}
	if got := sha256Hex(body); got != hash {
		return r, errContentHash
	}
	return r, nil
}

var errContentHash = errors.New("content does not match its hash")

// readLastLine returns the last complete line of the file (without '\n'),
// nil for an empty or missing file, and an error for a file that does not
// end with a newline (a torn write).
func readLastLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit: stat %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil
	}
	const chunk = 16 << 10
	var tail []byte
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", path, err)
		}
		tail = append(buf, tail...)
		if tail[len(tail)-1] != '\n' {
			return nil, fmt.Errorf("audit: %s does not end with a newline (a torn write): run `lsp-router audit verify`, then move the log aside to start a new chain", path)
		}
		if i := bytes.LastIndexByte(tail[:len(tail)-1], '\n'); i >= 0 {
			return tail[i+1 : len(tail)-1], nil
		}
		end = start
	}
	return tail[:len(tail)-1], nil
}

type rotatedFile struct {
	path string
	n    int
}

// rotatedFiles lists "<path>.NNNNNN" oldest first.
func rotatedFiles(path string) ([]rotatedFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: list rotated files of %s: %w", path, err)
	}
	var out []rotatedFile
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || len(suffix) < 6 || strings.Trim(suffix, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		n, err := strconv.Atoi(suffix)
		if err != nil {
			continue
		}
		out = append(out, rotatedFile{path: filepath.Join(dir, e.Name()), n: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out, nil
}

// chainFiles lists the rotated files oldest first, then the current file
// (included even when missing; readers treat missing as empty).
func chainFiles(path string) ([]string, error) {
	rotated, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	files := make([]string, 0, len(rotated)+1)
	for _, r := range rotated {
		files = append(files, r.path)
	}
	return append(files, path), nil
}
