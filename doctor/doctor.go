// Package doctor is the framework behind `lsp-router doctor`: each check
// yields ok, warn or fail with a detail and, when not ok, the fix. Checks
// never connect to an endpoint the allowlist refuses; the only DNS queries
// they cause are for names the allowlist admits, and for the outside name
// the user asked DNSCheck about (`doctor --dns NAME`).
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status is a check's outcome.
type Status string

const (
	// OK means nothing to do.
	OK Status = "ok"
	// Warn means lsp-router works but something is weaker than it should be.
	Warn Status = "warn"
	// Fail means a requirement of an air-gapped setup is not met.
	Fail Status = "fail"
)

func (s Status) rank() int {
	switch s {
	case OK:
		return 0
	case Warn:
		return 1
	default:
		return 2
	}
}

// Check is one line of the report.
type Check struct {
	// Name is "<area>: <subject>", e.g. "network: endpoint ollama".
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Fix says what to do; empty when Status is ok.
	Fix string `json:"fix,omitempty"`
}

// Report is the whole doctor run in the order the checks were added.
type Report struct {
	Checks []Check `json:"checks"`
}

// Add appends checks.
func (r *Report) Add(cs ...Check) { r.Checks = append(r.Checks, cs...) }

// Worst returns the most severe status (ok for an empty report).
func (r Report) Worst() Status {
	w := OK
	for _, c := range r.Checks {
		if c.Status.rank() > w.rank() {
			w = c.Status
		}
	}
	return w
}

// Counts returns how many checks have each status.
func (r Report) Counts() (ok, warn, fail int) {
	for _, c := range r.Checks {
		switch c.Status {
		case OK:
			ok++
		case Warn:
			warn++
		default:
			fail++
		}
	}
	return ok, warn, fail
}

// jsonReport is the --json document: overall status, counts, then checks.
type jsonReport struct {
	Status Status  `json:"status"`
	OK     int     `json:"ok"`
	Warn   int     `json:"warn"`
	Fail   int     `json:"fail"`
	Checks []Check `json:"checks"`
}

// WriteJSON writes `lsp-router doctor --json`:
//
//	{"status":"warn","ok":5,"warn":1,"fail":0,"checks":[{"name","status","detail","fix"}...]}
func WriteJSON(w io.Writer, r Report) error {
	ok, warn, fail := r.Counts()
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonReport{Status: r.Worst(), OK: ok, Warn: warn, Fail: fail, Checks: checks}); err != nil {
		return fmt.Errorf("doctor: write json: %w", err)
	}
	return nil
}

// WriteText writes the human report: one line per check, its fix indented
// below, and a summary line.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, c := range r.Checks {
		label := strings.ToUpper(string(c.Status))
		if c.Status == OK {
			label = "ok"
		}
		fmt.Fprintf(&b, "%-4s  %s", label, c.Name)
		if c.Detail != "" {
			fmt.Fprintf(&b, ": %s", oneLine(c.Detail))
		}
		b.WriteByte('\n')
		if c.Fix != "" && c.Status != OK {
			fmt.Fprintf(&b, "      fix: %s\n", oneLine(c.Fix))
		}
	}
	ok, warn, fail := r.Counts()
	fmt.Fprintf(&b, "%d ok, %d warn, %d fail\n", ok, warn, fail)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("doctor: write report: %w", err)
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
