package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
	"github.com/lsp-router/lsp-router/security/audit"
)

// auditConfig writes onlyService's configuration with the audit log at
// logPath and extra lines in [security].
func auditConfig(t *testing.T, dir, url, logPath string, extra ...string) string {
	t.Helper()
	cfg := onlyService(t, dir, llm.KindOllama, url)
	b, _ := os.ReadFile(cfg)
	s := strings.Replace(string(b), filepath.Join(dir, "audit.jsonl"), logPath, 1)
	s += strings.Join(extra, "\n") + "\n"
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func askExplain(t *testing.T, dir, cfg string) (string, string, int) {
	t.Helper()
	file := filepath.Join(dir, "main.go")
	if _, err := os.Stat(file); err != nil {
		os.WriteFile(file, []byte(helloGo), 0o644)
	}
	return runCLI(t, dir, "--config", cfg, "ask", "--action", "explain", "--file", file, "--line", "10", "--col", "2")
}

// assertRefused checks the refusal a user sees: exit 1, one line naming the
// log and the fix, and not one request at the model server (not even a
// probe).
func assertRefused(t *testing.T, srv *llmtest.Server, logPath, out, errOut string, code int) {
	t.Helper()
	msg := strings.TrimSpace(errOut)
	if code != exitFailure || strings.Contains(msg, "\n") || !strings.Contains(msg, "query refused, nothing was sent") ||
		!strings.Contains(msg, logPath) || !strings.Contains(msg, "security.audit_log_path") || out != "" {
		t.Fatalf("refusal: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if n := srv.Requests(); n != 0 {
		t.Fatalf("the model server got %d request(s) although the query was refused: %v", n, srv.Paths())
	}
}

func verifyClean(t *testing.T, dir, logPath string, wantLines int) {
	t.Helper()
	out, errOut, code := runCLI(t, dir, "audit", "verify", "--key", filepath.Join(dir, "audit.key"), logPath)
	if code != 0 || !strings.Contains(out, "intact") || strings.Contains(out, "torn") {
		t.Fatalf("audit verify: %d\n%s%s", code, out, errOut)
	}
	res, err := audit.VerifyWith(logPath, audit.VerifyOptions{KeyFile: filepath.Join(dir, "audit.key")})
	if err != nil || res.Lines != wantLines || (wantLines > 0 && res.KeyID == "") {
		t.Fatalf("verify: %+v %v, want %d keyed lines", res, err, wantLines)
	}
}

// fullDisk mounts a 64 KiB tmpfs in dir and fills it: it returns the
// filler file (remove it to free space) and a log path on the full disk.
// It skips the test where no tmpfs can be mounted (not root);
// TestCLIAskRefusedWhenAuditLogCannotBeOpened covers the refusal there.
func fullDisk(t *testing.T, dir string) (filler, logPath string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test needs root to mount a tmpfs")
	}
	mnt := filepath.Join(dir, "full")
	os.Mkdir(mnt, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	filler = filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 128<<10), 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v", err)
	}
	return filler, filepath.Join(mnt, "audit.jsonl")
}

// TestCLIAskRefusedOnFullDisk puts the audit log on a real, full 64 KiB
// tmpfs: the query is refused before anything reaches the model, the log
// stays clean, and freeing space is all it takes to go on.
func TestCLIAskRefusedOnFullDisk(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv.Close()
	dir := t.TempDir()
	filler, logPath := fullDisk(t, dir)
	cfg := auditConfig(t, dir, srv.URL, logPath)

	out, errOut, code := askExplain(t, dir, cfg)
	assertRefused(t, srv, logPath, out, errOut, code)
	if !strings.Contains(errOut, "no space left on device") || !strings.Contains(errOut, "free space") {
		t.Errorf("the error does not say the disk is full: %s", errOut)
	}
	verifyClean(t, dir, logPath, 0)

	os.Remove(filler)
	out, errOut, code = askExplain(t, dir, cfg)
	if code != 0 || !strings.Contains(out, "It reverses the words.") {
		t.Fatalf("after freeing space: %d\n%s\n%s", code, out, errOut)
	}
	verifyClean(t, dir, logPath, 2)
}

// TestCLIAskRefusedOnFullDiskBackgroundFsync: with audit_fsync =
// "background" a full disk still refuses before anything is sent, and the
// records of an answered query are in the log.
func TestCLIAskRefusedOnFullDiskBackgroundFsync(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv.Close()
	dir := t.TempDir()
	filler, logPath := fullDisk(t, dir)
	cfg := auditConfig(t, dir, srv.URL, logPath, `audit_fsync = "background"`)
	out, errOut, code := askExplain(t, dir, cfg)
	assertRefused(t, srv, logPath, out, errOut, code)
	os.Remove(filler)
	out, errOut, code = askExplain(t, dir, cfg)
	if code != 0 || !strings.Contains(out, "It reverses the words.") {
		t.Fatalf("after freeing space: %d\n%s\n%s", code, out, errOut)
	}
	verifyClean(t, dir, logPath, 2)
}

// TestCLIAskRefusedWhenAuditLogCannotBeOpened is the same refusal where no
// tmpfs can be mounted: a log whose lock cannot be opened (as root) or a
// read-only log file (as a user).
func TestCLIAskRefusedWhenAuditLogCannotBeOpened(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "log", "audit.jsonl")
	cfg := auditConfig(t, dir, srv.URL, logPath)
	if _, errOut, code := askExplain(t, dir, cfg); code != 0 {
		t.Fatalf("first query: %d %s", code, errOut)
	}
	before := srv.Requests()
	if os.Geteuid() == 0 {
		os.Remove(logPath + ".lock")
		os.Mkdir(logPath+".lock", 0o700) // cannot be opened for writing, even by root
	} else {
		os.Chmod(logPath, 0o400)
		os.Chmod(filepath.Dir(logPath), 0o500)
		t.Cleanup(func() { os.Chmod(filepath.Dir(logPath), 0o700) })
	}
	srv2 := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv2.Close()
	cfg2 := auditConfig(t, dir, srv2.URL, logPath)
	out, errOut, code := askExplain(t, dir, cfg2)
	assertRefused(t, srv2, logPath, out, errOut, code)
	if srv.Requests() != before {
		t.Fatal("the first server was asked again")
	}
	// The records written before the failure still verify.
	verifyClean(t, dir, logPath, 2)

	// With audit_on_failure = "warn" the query goes on, and says so.
	cfg3 := auditConfig(t, dir, srv2.URL, logPath, `audit_on_failure = "warn"`)
	out, errOut, code = askExplain(t, dir, cfg3)
	if code != 0 || !strings.Contains(out, "It reverses the words.") || !strings.Contains(errOut, "note: warning: audit log "+logPath) || !strings.Contains(errOut, "not recorded") {
		t.Fatalf("warn: %d\n%s\n%s", code, out, errOut)
	}
}

// TestCLIAskLogQueriesFalseWritesNoHash: log_queries = false keeps the
// query out of the log entirely, hash included.
func TestCLIAskLogQueriesFalseWritesNoHash(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.jsonl")
	cfg := auditConfig(t, dir, srv.URL, logPath, "log_queries = false", "log_queries_plaintext = true")
	if _, errOut, code := askExplain(t, dir, cfg); code != 0 {
		t.Fatalf("ask: %d %s", code, errOut)
	}
	b, _ := os.ReadFile(logPath)
	if strings.Contains(string(b), "query_sha256") || strings.Contains(string(b), `"query":`) || strings.Contains(string(b), "reverseWords") {
		t.Fatalf("log_queries = false wrote the query:\n%s", b)
	}
	if !strings.Contains(string(b), `"response_sha256"`) || !strings.Contains(string(b), `"type":"query"`) {
		t.Fatalf("the query record is missing:\n%s", b)
	}
	verifyClean(t, dir, logPath, 2)
}

// TestCLIAuditTornTailAndAnchor: a crash's torn tail is reported as such,
// repaired by the next query with a recovered event, and a cut tail is
// caught by an anchor.
func TestCLIAuditTornTailAndAnchor(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.jsonl")
	cfg := auditConfig(t, dir, srv.URL, logPath)
	for range 2 {
		if _, errOut, code := askExplain(t, dir, cfg); code != 0 {
			t.Fatalf("ask: %d %s", code, errOut)
		}
	}
	anchor, errOut, code := runCLI(t, dir, "--config", cfg, "audit", "anchor")
	anchor = strings.TrimSpace(anchor)
	if code != 0 || !strings.HasPrefix(anchor, "4:") || len(anchor) != 2+64 {
		t.Fatalf("anchor: %d %q %s", code, anchor, errOut)
	}
	// A crash in the middle of record 5.
	recs, _ := audit.Tail(logPath, 1)
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(`{"seq":5,"prev":"` + recs[0].MAC[:20])
	f.Close()
	out, _, code := runCLI(t, dir, "--config", cfg, "audit", "verify")
	if code != 0 || !strings.Contains(out, "torn tail from a crash, not repaired yet") || strings.Contains(out, "TAMPERED") {
		t.Fatalf("verify torn: %d %s", code, out)
	}
	if _, errOut, code := askExplain(t, dir, cfg); code != 0 {
		t.Fatalf("ask after the crash: %d %s", code, errOut)
	}
	out, _, code = runCLI(t, dir, "--config", cfg, "audit", "verify", "--anchor", anchor)
	if code != 0 || !strings.Contains(out, "torn tail from a crash, repaired at ") || !strings.Contains(out, "anchor "+anchor+" matches") {
		t.Fatalf("verify repaired: %d %s", code, out)
	}
	// Cutting records off the end verifies without the anchor, not with it.
	b, _ := os.ReadFile(logPath)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(logPath, []byte(strings.Join(lines[:3], "")), 0o600)
	out, _, code = runCLI(t, dir, "--config", cfg, "audit", "verify", "--anchor", anchor)
	if code != 1 || !strings.Contains(out, "TAMPERED") || !strings.Contains(out, "truncated") {
		t.Fatalf("verify cut tail: %d %s", code, out)
	}
}

// TestEditorSettingsChangesAreAudited drives the server as an editor does:
// a settings change of security keys is recorded (turning auditing off
// before it stops), and log_queries_plaintext turned off applies to the
// next query on the already open log.
func TestEditorSettingsChangesAreAudited(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words."})
	defer srv.Close()
	dir := t.TempDir()
	cfg := onlyService(t, dir, llm.KindOllama, srv.URL)
	logPath := filepath.Join(dir, "audit.jsonl")
	p := startServerWith(t, fakeeditor.FullCaps, "--config", cfg, "serve")
	ctx := context.Background()
	if _, err := p.ed.Initialize(ctx, dir, map[string]any{"security": map[string]any{"log_queries_plaintext": true}}); err != nil {
		t.Fatalf("initialize: %v\n%s", err, p.stderr)
	}
	path := filepath.Join(dir, "main.go")
	os.WriteFile(path, []byte(helloGo), 0o644)
	p.ed.Open(ctx, path, "go", helloGo)
	// tryExplain runs one explain; false when the server was between two
	// engines (the swap after a settings change is not atomic in lsp/).
	tryExplain := func() (audit.Record, bool) {
		t.Helper()
		if _, err := p.ed.Execute(ctx, "lsp-router.explain", p.ed.Args(path, codectx.Range{Start: codectx.Position{Line: 8, Character: 5}, End: codectx.Position{Line: 8, Character: 5}}, "")); err != nil {
			if strings.Contains(err.Error(), "could not start its engine") {
				return audit.Record{}, false
			}
			t.Fatalf("explain: %v\n%s", err, p.stderr)
		}
		recs, err := audit.Tail(logPath, 1)
		if err != nil || len(recs) != 1 || recs[0].Type != audit.EventQuery {
			t.Fatalf("last record: %+v %v", recs, err)
		}
		return recs[0], true
	}
	if r, ok := tryExplain(); !ok || !strings.Contains(r.Query, "reverseWords") {
		t.Fatalf("plaintext on: %+v", r)
	}
	change := func(settings map[string]any) {
		t.Helper()
		if err := p.ed.Conn().Notify(ctx, "workspace/didChangeConfiguration", map[string]any{"settings": settings}); err != nil {
			t.Fatal(err)
		}
	}
	// waitChange waits for the config_change record naming key.
	waitChange := func(key string) audit.Record {
		t.Helper()
		var found audit.Record
		ok := p.ed.WaitFor(20*time.Second, func() bool {
			recs, _ := audit.Tail(logPath, 5)
			for _, r := range recs {
				for _, k := range r.Keys {
					if r.Type == audit.EventConfigChange && k == key {
						found = r
						return true
					}
				}
			}
			return false
		})
		if !ok {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("no config_change for %s:\n%s\n%s", key, b, p.stderr)
		}
		return found
	}
	change(map[string]any{"security": map[string]any{"log_queries_plaintext": false, "allow_external": true}})
	rec := waitChange("security.log_queries_plaintext")
	if !strings.Contains(rec.Detail, "allow_external: false -> true") || !strings.Contains(rec.Detail, "log_queries_plaintext: true -> false") {
		t.Errorf("config_change detail: %+v", rec)
	}
	// The security event follows the config_change record: wait for it.
	var recs []audit.Record
	externalOn := p.ed.WaitFor(20*time.Second, func() bool {
		recs, _ = audit.Tail(logPath, 5)
		for _, r := range recs {
			if r.Type == audit.EventSecurity && r.Rule == "allow_external" {
				return true
			}
		}
		return false
	})
	if !externalOn {
		t.Errorf("external access turned on is not recorded: %+v", recs)
	}
	// The engine is swapped right after the change is recorded; the first
	// query the new engine answers must keep no text.
	var r audit.Record
	p.ed.WaitFor(20*time.Second, func() bool {
		got, ok := tryExplain()
		if ok {
			r = got
		}
		return ok && r.Query == ""
	})
	if r.Query != "" || r.QuerySHA256 == "" {
		t.Fatalf("plaintext turned off at run time still writes the query: %+v", r)
	}
	// Turning auditing off is recorded before it stops.
	change(map[string]any{"security": map[string]any{"audit_enabled": false}})
	rec = waitChange("security.audit_enabled")
	if !strings.Contains(rec.Detail, "audit_enabled: true -> false") {
		t.Errorf("audit off: %+v", rec)
	}
	res, err := audit.VerifyWith(logPath, audit.VerifyOptions{KeyFile: filepath.Join(dir, "audit.key")})
	if err != nil || res.KeyID == "" {
		t.Fatalf("verify: %+v %v", res, err)
	}
}

// TestRecordAuditEventTrust: the helper `lsp-router trust` records its
// decisions with writes a keyed record, and refuses when the log cannot be
// written.
func TestRecordAuditEventTrust(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Security.AuditLogPath = filepath.Join(dir, "audit.jsonl")
	cfg.Security.AuditKeyFile = filepath.Join(dir, "audit.key")
	sum := strings.Repeat("ab", 32)
	if err := recordAuditEvent(cfg, audit.TrustEvent("trust", "/src/repo", sum)); err != nil {
		t.Fatal(err)
	}
	recs, err := audit.Tail(cfg.Security.AuditLogPath, 1)
	if err != nil || len(recs) != 1 || recs[0].Type != audit.EventTrust || recs[0].Target != "/src/repo" || !strings.Contains(recs[0].Detail, sum) || recs[0].MAC == "" {
		t.Fatalf("trust record: %+v %v", recs, err)
	}
	bad := cfg.Clone()
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	bad.Security.AuditLogPath = filepath.Join(dir, "file", "audit.jsonl")
	var fe *audit.FailureError
	if err := recordAuditEvent(bad, audit.TrustEvent("revoke", "/src/repo", sum)); !errors.As(err, &fe) || fe.Warn {
		t.Fatalf("unwritable log: %v", err)
	}
	bad.Security.AuditEnabled = false
	if err := recordAuditEvent(bad, audit.TrustEvent("revoke", "/src/repo", sum)); err != nil {
		t.Fatalf("auditing off: %v", err)
	}
}
