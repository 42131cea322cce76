// Package audit writes lsp-router's tamper-evident audit log: one JSON
// object per line, each line chained to the one before it, appended with
// O_APPEND and optionally fsync'ed per event, rotated by size with the chain
// continuing across files.
//
// Keyed lines (every line lsp-router writes since the key was introduced):
//
//	{"seq":7,"prev":"<line 6's link>","key":"<key id>","ts":...,"type":"query",...,"mac":"<hex>"}
//
// mac is HMAC-SHA256, under a key kept outside the log (see ResolveKeyFile),
// over the line's bytes up to, but excluding, `,"mac":...` with a closing `}`
// appended. A line's link is its mac. Because prev is inside the MAC'ed bytes,
// changing, removing or moving any line breaks the link of the line after it,
// and without the key nobody can recompute the MACs after an edit.
//
// Legacy lines (logs written before the key) end in `,"hash":"<hex>"}`
// instead: a plain SHA-256 over the same bytes, whose link is the hash. Such
// a chain shows accidents but not an edit whose author recomputed the hashes.
// A legacy log continues with keyed lines: the first keyed line links to the
// last legacy hash, which fixes the whole legacy prefix. An unkeyed line after
// a keyed one is reported as tampering (a downgrade).
//
// What the chain cannot show: removing lines from the very end leaves a valid
// shorter chain, and whoever holds the key can rewrite everything. Keep the
// head (`lsp-router audit anchor`) elsewhere to detect a cut tail.
//
// A crash in the middle of a write leaves a last line without its newline.
// The next writer recognises that torn tail (the fragment must be the start
// of the next record), cuts it off and writes a "recovered" event with the
// dropped bytes' count and SHA-256; Verify reports such repairs apart from
// tampering.
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
// event durable across a power cut. fsync is on in DefaultOptions, for every
// record but query_start (see needsSync: write(2) accepting it proves the
// log takes records; the query record's fsync makes both durable), and
// concurrent writers share fsyncs (group commit): a writer whose line an
// fsync already covered does not start another.
package audit

import (
	"bytes"
	"crypto/hmac"
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
	"sync/atomic"
	"time"
)

// EventType classifies audit events.
type EventType string

const (
	// EventQuery is a prompt sent to a model (with its outcome).
	EventQuery EventType = "query"
	// EventQueryStart is written before anything of a query is sent to a
	// model: it proves the log is writable, so a query is never sent
	// without a record (security.audit_on_failure).
	EventQueryStart EventType = "query_start"
	// EventResponse is a model's answer (tokens, latency; text only with LogResponses).
	EventResponse EventType = "response"
	// EventSecurity is a refused connection or another policy decision.
	EventSecurity EventType = "security"
	// EventModel is a model integrity decision (pin mismatch, unpinned model).
	EventModel EventType = "model"
	// EventLifecycle is a process start or stop.
	EventLifecycle EventType = "lifecycle"
	// EventConfigChange is a configuration reload that changed security or
	// audit keys; Keys lists them, never their values.
	EventConfigChange EventType = "config_change"
	// EventTrust is a workspace trust decision (lsp-router trust, --revoke):
	// build it with TrustEvent.
	EventTrust EventType = "trust"
	// EventRecovered is written after a torn tail (a crash in the middle of
	// a write) was cut off; DroppedBytes and DroppedSHA256 describe it.
	EventRecovered EventType = "recovered"
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
	// Target is the host, endpoint, file or directory an event is about.
	Target string `json:"target,omitempty"`
	// Rule is the policy rule that decided a security or model event.
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Keys are the configuration keys a config_change event is about.
	Keys []string `json:"keys,omitempty"`
	// DroppedBytes and DroppedSHA256 describe the torn tail a recovered
	// event cut off.
	DroppedBytes  int64  `json:"dropped_bytes,omitempty"`
	DroppedSHA256 string `json:"dropped_sha256,omitempty"`
	// Redactions counts the secrets replaced in what was sent, never the secrets.
	Redactions int `json:"redactions,omitempty"`

	QuerySHA256    string `json:"query_sha256,omitempty"`
	Query          string `json:"query,omitempty"`
	ResponseSHA256 string `json:"response_sha256,omitempty"`
	Response       string `json:"response,omitempty"`

	// ErrorSummary, when set, replaces Error in records that must not hold
	// model output (responses not logged): errors can quote the answer.
	// Without it Error is scrubbed by ScrubError.
	ErrorSummary string `json:"-"`
}

// TrustEvent builds the record of a workspace trust decision: action is
// "trust" or "revoke", dir the workspace, sha256 the trusted file's digest.
func TrustEvent(action, dir, sha256 string) Event {
	return Event{Type: EventTrust, Rule: action, Target: dir, Detail: "sha256:" + sha256, Success: true}
}

// Record is one line as read back: the event plus its chain fields.
type Record struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	// Key is the id of the key a keyed line's MAC was made with (KeyID).
	Key string `json:"key,omitempty"`
	Event
	// Hash is a legacy (unkeyed) line's SHA-256; MAC a keyed line's HMAC.
	Hash string `json:"hash,omitempty"`
	MAC  string `json:"mac,omitempty"`
}

// Link is the value the next line's prev must carry: the MAC of a keyed
// line, the hash of a legacy one.
func (r Record) Link() string {
	if r.MAC != "" {
		return r.MAC
	}
	return r.Hash
}

// lineBody is what is marshalled and hashed; hash or mac is appended after.
type lineBody struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	Key  string `json:"key,omitempty"`
	Event
}

// Options configures a Log. The zero value never rotates, never fsyncs and
// writes unkeyed (legacy) lines: start from DefaultOptions and set KeyFile.
type Options struct {
	// MaxBytes rotates the file before a write would make it larger; 0 never
	// rotates. Rotated files are never deleted by lsp-router.
	MaxBytes int64
	// Plaintext keeps the query text (config log_queries_plaintext) for
	// Write; a Recorder passes its own Content instead.
	Plaintext bool
	// LogResponses keeps the response text (config log_responses) for Write.
	LogResponses bool
	// Fsync flushes every event to stable storage before Write returns
	// (query_start excepted, see needsSync).
	Fsync bool
	// BackgroundSync, with Fsync, returns from Write once the line is
	// written and leaves the fsync to a flusher goroutine that starts at
	// once and covers every line written meanwhile (config
	// security.audit_fsync = "background"). A full disk still fails the
	// write itself, so the query is refused before anything is sent; what
	// changes is that a power cut can lose the records of the last
	// milliseconds, answered queries included. A failed background fsync
	// refuses the next Write until an fsync succeeds again.
	BackgroundSync bool
	// Session is stamped on events without one; default a random id.
	Session string
	// Agent is stamped on events without one; default DetectAgent().Name.
	Agent string
	// Key MACs every line (tests); KeyFile reads it from a file instead,
	// creating the file on first use (see ResolveKeyFile).
	Key     []byte
	KeyFile string
}

// Content says which parts of a query a record keeps. The flags are read per
// write, so a settings change applies to the next query.
type Content struct {
	// Queries keeps the query's SHA-256 (config log_queries); false writes
	// neither hash nor text.
	Queries bool
	// QueryText keeps the query text too (log_queries_plaintext).
	QueryText bool
	// Responses keeps the answer text (log_responses); false also keeps
	// model output out of the error field.
	Responses bool
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
	key    []byte // nil: legacy lines
	keyID  string
	size   int64 // end of f as of our last write; -1 forces a re-read
	seq    uint64
	head   string
	closed bool
	// appended counts the lines this Log wrote (under mu); synced is the
	// count known to be on stable storage. syncMu lets one fsync run at a
	// time: a writer that finds its line covered by a finished fsync
	// returns without one of its own (group commit).
	appended uint64
	synced   atomic.Uint64
	syncMu   sync.Mutex
	// The background flusher (Options.BackgroundSync): kick wakes it,
	// done stops it, bgErr is its last failure.
	flusher sync.Once
	kick    chan struct{}
	done    chan struct{}
	stopped sync.WaitGroup
	bgErr   atomic.Pointer[error]
}

// Open opens (creating with mode 0600, in a 0700 directory) the audit log at
// path and positions the chain after its last line, looking into the newest
// rotated file when the current one is empty. A torn tail is repaired (see
// the package comment); any other damage to the last line makes Open fail,
// so a broken chain is never silently extended.
func Open(path string, opts Options) (*Log, error) {
	if path == "" {
		return nil, errors.New("audit: empty log path (set security.audit_log_path in the configuration)")
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
	l := &Log{path: path, opts: opts, os: runtime.GOOS + "/" + runtime.GOARCH, lock: lock, size: -1,
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	if err := l.withLock(func() error {
		if err := l.reopen(); err != nil {
			return err
		}
		if err := l.loadKey(); err != nil {
			return err
		}
		rec, err := l.syncHead()
		if err != nil || rec == nil {
			return err
		}
		if err := l.appendLocked(l.prepare(*rec, Content{})); err != nil {
			return err
		}
		return l.flushLocked()
	}); err != nil {
		_ = lock.Close()
		if l.f != nil {
			_ = l.f.Close()
		}
		return nil, err
	}
	return l, nil
}

// loadKey sets the key from the options. Lock held. A missing key file is
// created, unless the log already has keyed lines: a new key would not
// verify them, so the user must restore the old one.
func (l *Log) loadKey() error {
	key := l.opts.Key
	if key == nil && l.opts.KeyFile != "" {
		var err error
		key, err = LoadKey(l.opts.KeyFile)
		if errors.Is(err, os.ErrNotExist) {
			last, _, terr := tailOf(l.path)
			if terr != nil {
				return terr
			}
			if isKeyedLine(last) {
				return fmt.Errorf("audit: %s is keyed but its key file %s is missing: restore the key file (security.audit_key_file or $%s says where it is), or move the log and its rotated files aside to start a new chain", l.path, l.opts.KeyFile, KeyFileEnv)
			}
			key, err = createKey(l.opts.KeyFile)
		}
		if err != nil {
			return err
		}
	}
	if key != nil {
		l.key, l.keyID = key, KeyID(key)
	}
	return nil
}

// Path returns the current log file's path.
func (l *Log) Path() string { return l.path }

// Session returns the session id stamped on events.
func (l *Log) Session() string { return l.opts.Session }

// KeyID returns the id of the key lines are MAC'ed with, "" for legacy lines.
func (l *Log) KeyID() string { return l.keyID }

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
		if err := l.flushLocked(); err != nil {
			return err
		}
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
// process may have written or rotated since our last write. Lock held. A
// torn tail is cut off; the returned event records that and must be
// written before anything else.
func (l *Log) syncHead() (*Event, error) {
	pi, err := os.Stat(l.path)
	fi, ferr := l.f.Stat()
	if err != nil || ferr != nil || !os.SameFile(pi, fi) {
		if err := l.reopen(); err != nil {
			return nil, err
		}
		if fi, ferr = l.f.Stat(); ferr != nil {
			return nil, fmt.Errorf("audit: stat %s: %w", l.path, ferr)
		}
	}
	if fi.Size() == l.size {
		return nil, nil
	}
	last, frag, err := tailOf(l.path)
	if err != nil {
		return nil, err
	}
	seq, head := uint64(0), genesis
	if last != nil {
		r, perr := parseLine(last, l.key)
		switch {
		case errors.Is(perr, errNoKey):
			return nil, fmt.Errorf("audit: %s is keyed and this writer has no key: it will not continue the chain unkeyed (set security.audit_key_file or $%s)", l.path, KeyFileEnv)
		case perr != nil:
			return nil, fmt.Errorf("audit: the last record of %s does not verify (%v): run `lsp-router audit verify`, keep the files as evidence, then move the log aside to start a new chain", l.path, perr)
		}
		seq, head = r.Seq, r.Link()
	}
	size := fi.Size()
	var rec *Event
	if len(frag) > 0 {
		if !tornWrite(frag, seq+1, head) {
			return nil, fmt.Errorf("audit: %s ends with %d bytes that are not the start of record %d (not a torn write): run `lsp-router audit verify`, keep the file as evidence, then move the log aside to start a new chain", l.path, len(frag), seq+1)
		}
		size -= int64(len(frag))
		if err := l.f.Truncate(size); err != nil {
			return nil, fmt.Errorf("audit: cut the torn tail of %s: %w", l.path, err)
		}
		if err := l.f.Sync(); err != nil {
			return nil, fmt.Errorf("audit: fsync %s: %w", l.path, err)
		}
		rec = &Event{Type: EventRecovered, Success: true, Target: l.path,
			DroppedBytes: int64(len(frag)), DroppedSHA256: sha256Hex(frag),
			Detail: fmt.Sprintf("torn tail from a crash: cut %d bytes of unfinished record %d", len(frag), seq+1)}
	}
	l.seq, l.head, l.size = seq, head, size
	return rec, nil
}

// tornWrite reports whether frag (the bytes after the last newline) can be
// what a crash leaves of the record that follows seq-1: a prefix of it,
// possibly followed by zero bytes (a file extended but not yet written).
func tornWrite(frag []byte, seq uint64, prev string) bool {
	if i := bytes.IndexByte(frag, 0); i >= 0 {
		if len(bytes.Trim(frag[i:], "\x00")) > 0 {
			return false
		}
		frag = frag[:i]
	}
	want := fmt.Appendf(nil, `{"seq":%d,"prev":"%s"`, seq, prev)
	return bytes.HasPrefix(frag, want) || bytes.HasPrefix(want, frag)
}

// tailOf returns the last complete line of the chain (without '\n'; from
// the newest rotated file when the current one has none) and the bytes
// after the current file's last newline (a torn write), each nil when absent.
func tailOf(path string) (last, frag []byte, err error) {
	files, err := chainFiles(path)
	if err != nil {
		return nil, nil, err
	}
	for i := len(files) - 1; i >= 0; i-- {
		line, fr, err := readTail(files[i])
		if err != nil {
			return nil, nil, err
		}
		if i == len(files)-1 {
			frag = fr
		} else if len(fr) > 0 {
			return nil, nil, fmt.Errorf("audit: rotated file %s does not end with a newline: run `lsp-router audit verify`", files[i])
		}
		if line != nil {
			return line, frag, nil
		}
	}
	return nil, frag, nil
}

// Write appends one event. It fills Time, Session, Agent and OS when empty,
// replaces Query/Response text by hashes unless the options keep them, and
// returns only after the line is written (and fsync'ed with Options.Fsync,
// except a query_start line: see needsSync).
func (l *Log) Write(ev Event) error {
	return l.write(ev, Content{Queries: true, QueryText: l.opts.Plaintext, Responses: l.opts.LogResponses})
}

// prepare fills the defaults and applies c to the query and response.
func (l *Log) prepare(ev Event, c Content) Event {
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
	if !c.Queries {
		ev.Query, ev.QuerySHA256 = "", ""
	}
	if ev.Query != "" {
		ev.QuerySHA256 = sha256Hex([]byte(ev.Query))
		if !c.QueryText {
			ev.Query = ""
		}
	}
	if !c.Responses && ev.Error != "" {
		if ev.ErrorSummary != "" {
			ev.Error = ev.ErrorSummary
		} else {
			ev.Error = ScrubError(ev.Error, ev.Response)
		}
	}
	if ev.Response != "" {
		ev.ResponseSHA256 = sha256Hex([]byte(ev.Response))
		if !c.Responses {
			ev.Response = ""
		}
	}
	return ev
}

func (l *Log) write(ev Event, c Content) error {
	if ev.Type == "" {
		return errors.New("audit: event without type")
	}
	ev = l.prepare(ev, c)
	background := l.opts.Fsync && l.opts.BackgroundSync
	if background {
		if err := l.retryFailedSync(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("audit: write to a closed log")
	}
	err := l.withLock(func() error {
		rec, err := l.syncHead()
		if err != nil {
			return err
		}
		if rec != nil {
			if err := l.appendLocked(l.prepare(*rec, Content{})); err != nil {
				return err
			}
		}
		return l.appendLocked(ev)
	})
	mine := l.appended
	l.mu.Unlock()
	switch {
	case err != nil || !l.opts.Fsync:
	case background:
		l.syncSoon()
	case needsSync(ev.Type):
		err = l.syncThrough(mine)
	}
	return err
}

// syncSoon wakes the background flusher (starting it on first use).
func (l *Log) syncSoon() {
	l.flusher.Do(func() {
		l.stopped.Add(1)
		go l.flush()
	})
	select {
	case l.kick <- struct{}{}:
	default: // a wake-up is pending; its fsync will cover this line
	}
}

// flush is the background flusher: each wake-up fsyncs every line written
// so far; wake-ups during an fsync coalesce into the next one.
func (l *Log) flush() {
	defer l.stopped.Done()
	for {
		select {
		case <-l.done:
			return
		case <-l.kick:
		}
		l.mu.Lock()
		n := l.appended
		l.mu.Unlock()
		if err := l.syncThrough(n); err != nil {
			l.bgErr.Store(&err)
		}
	}
}

// retryFailedSync, after a failed background fsync, fsyncs before anything
// more is written: a disk that lost records refuses queries until an fsync
// succeeds again.
func (l *Log) retryFailedSync() error {
	failed := l.bgErr.Load()
	if failed == nil {
		return nil
	}
	l.mu.Lock()
	n := l.appended
	l.mu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	f := l.f
	l.mu.Unlock()
	if f == nil {
		return *failed
	}
	if err := syncFile(f); err != nil {
		return fmt.Errorf("audit: fsync %s (a background fsync failed before: %v): %w", l.path, *failed, err)
	}
	l.markSynced(n)
	l.bgErr.CompareAndSwap(failed, nil)
	return nil
}

// needsSync says whether Write waits for fsync before returning. Every
// record does, except query_start: it is written before a query is sent to
// prove the log takes records, and write(2) accepting its bytes is that
// proof. A full disk or a failing device makes that write fail (tmpfs,
// ext4, XFS and Btrfs reserve the space at write time, so ENOSPC comes
// from write), and the query is refused before anything is sent. The line
// is then in the page cache: a crash of lsp-router keeps it, and the fsync
// of the query's own record, which follows it in the same file, makes both
// durable. A power cut between the two loses both records of a query that
// was sent. On file systems that report a full disk only at fsync (NFS),
// the query record's fsync fails and the answer is withheld instead.
func needsSync(t EventType) bool { return t != EventQueryStart }

// syncThrough returns once the first n lines this Log appended are on
// stable storage. Writers share fsyncs: one that arrives while an fsync
// runs waits for it and returns without its own when that fsync covered
// its line; otherwise the next fsync covers every line written before it
// started. mu is not held, so writes go on during an fsync.
func (l *Log) syncThrough(n uint64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced.Load() >= n {
		return nil
	}
	l.mu.Lock()
	f, upto := l.f, l.appended
	l.mu.Unlock()
	if f == nil {
		return fmt.Errorf("audit: fsync %s: the file is not open", l.path)
	}
	if err := syncFile(f); err != nil {
		if errors.Is(err, os.ErrClosed) && l.synced.Load() >= n {
			return nil // rotated or closed meanwhile; both fsync first
		}
		return fmt.Errorf("audit: fsync %s: %w", l.path, err)
	}
	l.markSynced(upto)
	return nil
}

// syncFile is (*os.File).Sync; tests count and fail fsyncs through it.
var syncFile = (*os.File).Sync

// markSynced records that the first n appended lines are durable.
func (l *Log) markSynced(n uint64) {
	for {
		cur := l.synced.Load()
		if cur >= n || l.synced.CompareAndSwap(cur, n) {
			return
		}
	}
}

// flushLocked fsyncs the current file before it is closed or renamed, so
// no line waiting for a shared fsync is left behind. Lock held.
func (l *Log) flushLocked() error {
	if l.f == nil || !l.opts.Fsync || l.synced.Load() >= l.appended {
		return nil
	}
	if err := syncFile(l.f); err != nil {
		return fmt.Errorf("audit: fsync %s: %w", l.path, err)
	}
	l.markSynced(l.appended)
	return nil
}

// appendLocked writes one line after the head, rotating first when the file
// would grow past MaxBytes. A failed write is cut off again, so a full disk
// leaves no torn line behind. Lock held, head in sync.
func (l *Log) appendLocked(ev Event) error {
	line, link, err := l.encode(l.seq+1, l.head, ev)
	if err != nil {
		return err
	}
	if l.opts.MaxBytes > 0 && l.size > 0 && l.size+int64(len(line)) > l.opts.MaxBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	before := l.size
	n, err := l.f.Write(line)
	if err != nil || n != len(line) {
		l.undo(before, n)
		return fmt.Errorf("audit: write %s: %w", l.path, errors.Join(err, errShort(n, len(line))))
	}
	l.appended++
	l.seq++
	l.head = link
	l.size += int64(n)
	return nil
}

// undo cuts a failed write's partial line off. Lock held. When that fails
// too, the next write re-reads the file and repairs the torn tail.
func (l *Log) undo(before int64, written int) {
	if written > 0 && before >= 0 && l.f.Truncate(before) == nil {
		_ = l.f.Sync()
		return
	}
	if written > 0 {
		l.size = -1
	}
}

func (l *Log) encode(seq uint64, prev string, ev Event) ([]byte, string, error) {
	if l.key == nil {
		return encodeLine(seq, prev, ev)
	}
	return encodeKeyed(seq, prev, l.key, l.keyID, ev)
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
	if err := l.flushLocked(); err != nil {
		return err
	}
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
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.done)
	l.stopped.Wait() // the flusher takes mu; it is done before the files close
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	if l.f != nil {
		errs = append(errs, l.flushLocked(), l.f.Close())
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

// Suffix lengths: `,"hash":"` or `,"mac":"`, 64 hex digits, `"}`.
const (
	hashSuffixLen = 9 + 64 + 2
	macSuffixLen  = 8 + 64 + 2
)

// encodeLine marshals the body, hashes it and appends the hash field (a
// legacy, unkeyed line).
func encodeLine(seq uint64, prev string, ev Event) (line []byte, hash string, err error) {
	body, err := json.Marshal(lineBody{Seq: seq, Prev: prev, Event: ev})
	if err != nil {
		return nil, "", fmt.Errorf("audit: encode event: %w", err)
	}
	hash = sha256Hex(body)
	return appendSuffix(body, `,"hash":"`, hash), hash, nil
}

// encodeKeyed marshals the body with the key id, MACs it and appends the
// mac field.
func encodeKeyed(seq uint64, prev string, key []byte, keyID string, ev Event) (line []byte, mac string, err error) {
	body, err := json.Marshal(lineBody{Seq: seq, Prev: prev, Key: keyID, Event: ev})
	if err != nil {
		return nil, "", fmt.Errorf("audit: encode event: %w", err)
	}
	mac = macHex(key, body)
	return appendSuffix(body, `,"mac":"`, mac), mac, nil
}

func appendSuffix(body []byte, field, value string) []byte {
	line := make([]byte, 0, len(body)+len(field)+len(value)+3)
	line = append(line, body[:len(body)-1]...)
	line = append(line, field...)
	line = append(line, value...)
	return append(line, "\"}\n"...)
}

var (
	errContentHash = errors.New("content does not match its hash")
	errContentMAC  = errors.New("content does not match its MAC")
	errNoKey       = errors.New("the line is keyed and no key was given")
)

// wrongKeyError: a keyed line made with another key than the one given.
type wrongKeyError struct{ line, have string }

func (e *wrongKeyError) Error() string {
	return fmt.Sprintf("the line was written under key id %s, the key given has id %s", e.line, e.have)
}

func isKeyedLine(line []byte) bool {
	return len(line) >= macSuffixLen+2 && bytes.Equal(line[len(line)-macSuffixLen:len(line)-macSuffixLen+8], []byte(`,"mac":"`))
}

// parseLine checks a line's own hash, or its MAC under key, and decodes it.
// line excludes '\n'.
func parseLine(line []byte, key []byte) (Record, error) {
	var r Record
	keyed := isKeyedLine(line)
	suffix := hashSuffixLen
	if keyed {
		suffix = macSuffixLen
	}
	if !bytes.HasSuffix(line, []byte(`"}`)) || len(line) < suffix+2 ||
		!keyed && !bytes.Equal(line[len(line)-hashSuffixLen:len(line)-hashSuffixLen+9], []byte(`,"hash":"`)) {
		return r, errors.New("no hash or mac field at the end of the line")
	}
	sum := string(line[len(line)-66 : len(line)-2]) // 64 hex digits, then `"}`
	body := make([]byte, 0, len(line)-suffix+1)
	body = append(body, line[:len(line)-suffix]...)
	body = append(body, '}')
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("not a JSON object: %w", err)
	}
	if !keyed {
		if sha256Hex(body) != sum {
			return r, errContentHash
		}
		return r, nil
	}
	if key == nil {
		return r, errNoKey
	}
	if id := KeyID(key); r.Key != id {
		return r, &wrongKeyError{line: r.Key, have: id}
	}
	if !hmac.Equal([]byte(macHex(key, body)), []byte(sum)) {
		return r, errContentMAC
	}
	return r, nil
}

// readTail returns the last complete line of the file (without '\n') and
// the bytes after its last newline; nil, nil for an empty or missing file.
func readTail(path string) (last, frag []byte, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("audit: stat %s: %w", path, err)
	}
	size := fi.Size()
	const chunk = 16 << 10
	var tail []byte
	nl := -1 // index in tail of the newline ending the last complete line
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return nil, nil, fmt.Errorf("audit: read %s: %w", path, err)
		}
		tail = append(buf, tail...)
		if nl >= 0 {
			nl += len(buf)
		} else if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
			nl = i
		}
		if nl >= 0 {
			if i := bytes.LastIndexByte(tail[:nl], '\n'); i >= 0 {
				return tail[i+1 : nl], tail[nl+1:], nil
			}
		}
		end = start
	}
	if nl < 0 {
		return nil, tail, nil
	}
	return tail[:nl], tail[nl+1:], nil
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
