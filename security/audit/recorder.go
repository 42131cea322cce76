package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// OnFailure says what happens to a query whose audit record cannot be
// written (config security.audit_on_failure).
type OnFailure string

const (
	// Refuse (the default) refuses the query before anything is sent.
	Refuse OnFailure = "refuse"
	// Warn lets the query through without a record and warns the user.
	Warn OnFailure = "warn"
)

// FailureError is a record that could not be written. Warn says the policy
// lets the action go on (with a visible warning); otherwise it must stop.
type FailureError struct {
	Path string
	Err  error
	Warn bool
}

// Error is one line that names the log, the cause and the fix.
func (e *FailureError) Error() string { return e.Problem() + ": " + e.Fix() }

// Problem names the log and the cause, without the fix.
func (e *FailureError) Problem() string {
	cause := e.Err
	var pe *fs.PathError
	if errors.As(cause, &pe) {
		cause = pe // "open <lock file>: ..."
		if pe.Path == e.Path {
			cause = pe.Err // the path is named already
		}
	}
	msg := strings.ReplaceAll(cause.Error(), "\n", "; ")
	if e.Warn {
		return fmt.Sprintf("audit log %s cannot be written (%s): this query is not recorded (security.audit_on_failure = \"warn\")", e.Path, msg)
	}
	return fmt.Sprintf("audit log %s cannot be written (%s)", e.Path, msg)
}

// Fix says what the user can do about it.
func (e *FailureError) Fix() string {
	if e.Warn {
		return "free space or fix the permissions there"
	}
	return "free space or fix the permissions there, or set security.audit_log_path to a writable file (security.audit_on_failure = \"warn\" sends queries unrecorded)"
}

// Unwrap returns the write or open error.
func (e *FailureError) Unwrap() error { return e.Err }

// Recorder is what the engine writes events to: one configuration's view of
// a shared Log. The log is opened on first use (and again after a failed
// open, so freeing the disk is enough to recover), Content is applied per
// write, and every failure comes back as a *FailureError carrying the
// OnFailure policy.
type Recorder struct {
	path      string
	open      func() (*Log, error)
	content   Content
	onFailure OnFailure

	mu  sync.Mutex
	log *Log
}

// NewRecorder returns a Recorder for the log at path; open opens it (and
// may return a shared, already open Log).
func NewRecorder(path string, open func() (*Log, error), c Content, onFailure OnFailure) *Recorder {
	if onFailure == "" {
		onFailure = Refuse
	}
	return &Recorder{path: path, open: open, content: c, onFailure: onFailure}
}

// Path is the log's path.
func (r *Recorder) Path() string { return r.path }

// Content returns what the records keep.
func (r *Recorder) Content() Content { return r.content }

// Write records ev, or returns a *FailureError.
func (r *Recorder) Write(ev Event) error {
	l, err := r.logOrOpen()
	if err == nil {
		err = l.write(ev, r.content)
	}
	if err != nil {
		return &FailureError{Path: r.path, Err: err, Warn: r.onFailure == Warn}
	}
	return nil
}

func (r *Recorder) logOrOpen() (*Log, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.log != nil {
		return r.log, nil
	}
	l, err := r.open()
	if err != nil {
		return nil, err
	}
	r.log = l
	return l, nil
}

// maxScrubbedError bounds an error kept in a record without responses.
const maxScrubbedError = 300

var quotedRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")

// ScrubError removes what an error message may quote from a model's answer:
// quoted strings (errors quote answers with %q), any line of answer that
// appears verbatim, and everything past 300 bytes.
func ScrubError(msg, answer string) string {
	msg = quotedRE.ReplaceAllString(msg, `"…"`)
	if answer != "" {
		for _, line := range strings.Split(answer, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 8 {
				msg = strings.ReplaceAll(msg, line, "…")
			}
		}
	}
	if len(msg) > maxScrubbedError {
		cut := maxScrubbedError
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
