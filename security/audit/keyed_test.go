package audit

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func testKey(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func keyedOptions(key []byte) Options {
	o := testOptions()
	o.Key = key
	return o
}

func verifyKey(t *testing.T, path string, key []byte, anchor string) (VerifyResult, *TamperError) {
	t.Helper()
	res, err := VerifyWith(path, VerifyOptions{Key: key, Anchor: anchor})
	var te *TamperError
	if err != nil && !errors.As(err, &te) {
		t.Fatalf("VerifyWith: %v", err)
	}
	return res, te
}

// rehash rewrites lines[from:] as an attacker without the key would after
// editing one of them: decode each record and encode it again, linking each
// to the previous line's new value, with enc.
func rehash(t *testing.T, lines []string, from int, edit func(*Record), enc func(seq uint64, prev string, ev Event) ([]byte, string, error)) []string {
	t.Helper()
	out := append([]string(nil), lines...)
	var prev Record
	if err := json.Unmarshal([]byte(lines[from-1]), &prev); err != nil {
		t.Fatal(err)
	}
	link := prev.Link()
	for i := from; i < len(lines); i++ {
		var r Record
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		if i == from {
			edit(&r)
		}
		line, l, err := enc(r.Seq, link, r.Event)
		if err != nil {
			t.Fatal(err)
		}
		out[i], link = string(line), l
	}
	return out
}

func TestRehashedForgeryDetectedOnlyWithKey(t *testing.T) {
	forge := func(r *Record) { r.Model = "forged"; r.TokensOut = 1 }

	// Without a key (legacy lines) an edit with recomputed SHA-256 hashes
	// verifies: that is the weakness the key closes.
	legacy := filepath.Join(t.TempDir(), "audit.log")
	writeN(t, openLog(t, legacy, testOptions()), 0, 6)
	writeLines(t, legacy, rehash(t, readLines(t, legacy), 2, forge, encodeLine))
	if res, te := verifyKey(t, legacy, nil, ""); te != nil || res.Lines != 6 || res.KeyID != "" || res.LegacyLines != 6 {
		t.Fatalf("legacy forgery should verify (unkeyed): %+v %v", res, te)
	}

	key := testKey(1)
	mk := func(t *testing.T) (string, []string) {
		path := filepath.Join(t.TempDir(), "audit.log")
		l := openLog(t, path, keyedOptions(key))
		writeN(t, l, 0, 6)
		l.Close()
		return path, readLines(t, path)
	}
	t.Run("re-hashed with SHA-256", func(t *testing.T) {
		path, lines := mk(t)
		writeLines(t, path, rehash(t, lines, 2, forge, encodeLine))
		_, te := verifyKey(t, path, key, "")
		if te == nil || te.Line != 3 || te.Kind != KindDowngrade {
			t.Fatalf("got %+v", te)
		}
	})
	t.Run("re-MACed under another key with the real key id", func(t *testing.T) {
		path, lines := mk(t)
		other := testKey(9)
		writeLines(t, path, rehash(t, lines, 2, forge, func(seq uint64, prev string, ev Event) ([]byte, string, error) {
			return encodeKeyed(seq, prev, other, KeyID(key), ev)
		}))
		_, te := verifyKey(t, path, key, "")
		if te == nil || te.Line != 3 || te.Kind != KindEdited || !strings.Contains(te.Detail, "MAC") {
			t.Fatalf("got %+v", te)
		}
	})
	t.Run("edited without re-MAC", func(t *testing.T) {
		path, lines := mk(t)
		lines[4] = strings.Replace(lines[4], `"tokens_in":104`, `"tokens_in":5`, 1)
		writeLines(t, path, lines)
		_, te := verifyKey(t, path, key, "")
		if te == nil || te.Line != 5 || te.Kind != KindEdited {
			t.Fatalf("got %+v", te)
		}
	})
	t.Run("deleted in the middle", func(t *testing.T) {
		path, lines := mk(t)
		writeLines(t, path, append(lines[:3:3], lines[4:]...))
		_, te := verifyKey(t, path, key, "")
		if te == nil || te.Kind != KindDeleted {
			t.Fatalf("got %+v", te)
		}
	})
	t.Run("whole log forged under a new key", func(t *testing.T) {
		path, lines := mk(t)
		other := testKey(9)
		var first Record
		_ = json.Unmarshal([]byte(lines[0]), &first)
		l0, link, _ := encodeKeyed(1, genesis, other, KeyID(other), first.Event)
		out := append([]string{string(l0)}, lines[1:]...)
		_ = link
		writeLines(t, path, out)
		_, te := verifyKey(t, path, key, "")
		if te == nil || te.Line != 1 || te.Kind != KindWrongKey {
			t.Fatalf("got %+v", te)
		}
	})
}

func TestAnchorDetectsCutTail(t *testing.T) {
	key := testKey(2)
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, keyedOptions(key))
	writeN(t, l, 0, 10)
	res, te := verifyKey(t, path, key, "")
	if te != nil || res.LastSeq != 10 {
		t.Fatalf("%+v %v", res, te)
	}
	anchor := res.Anchor()
	// More records after the anchor: the anchor still matches.
	writeN(t, l, 10, 2)
	if res, te := verifyKey(t, path, key, anchor); te != nil || !res.AnchorChecked {
		t.Fatalf("anchor after growth: %+v %v", res, te)
	}
	l.Close()
	// Cutting the tail leaves a valid shorter chain that only the anchor
	// exposes.
	lines := readLines(t, path)
	writeLines(t, path, lines[:7])
	if res, te := verifyKey(t, path, key, ""); te != nil || res.LastSeq != 7 {
		t.Fatalf("cut chain without anchor: %+v %v", res, te)
	}
	_, te = verifyKey(t, path, key, anchor)
	if te == nil || te.Kind != KindTruncated || !strings.Contains(te.Detail, "records 8-10 were cut") {
		t.Fatalf("cut chain with anchor: %+v", te)
	}
	if _, err := VerifyWith(path, VerifyOptions{Key: key, Anchor: "12:nothex"}); err == nil || !strings.Contains(err.Error(), "SEQ:HEX") {
		t.Fatalf("bad anchor: %v", err)
	}
}

func TestLegacyLogContinuesKeyed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, testOptions())
	writeN(t, l, 0, 4)
	l.Close()
	key := testKey(3)
	l = openLog(t, path, keyedOptions(key))
	writeN(t, l, 4, 3)
	l.Close()
	res, te := verifyKey(t, path, key, "")
	if te != nil || res.Lines != 7 || res.LegacyLines != 4 || res.KeyID != KeyID(key) {
		t.Fatalf("%+v %v", res, te)
	}
	// The first keyed record fixes the legacy prefix: re-hashing an edit
	// there breaks its link.
	lines := readLines(t, path)
	forged := rehash(t, lines[:4], 1, func(r *Record) { r.Model = "forged" }, encodeLine)
	writeLines(t, path, append(forged, lines[4:]...))
	if _, te := verifyKey(t, path, key, ""); te == nil || te.Kind != KindEdited || te.Seq != 4 {
		t.Fatalf("legacy edit before keyed records: %+v", te)
	}
	writeLines(t, path, lines)
	// A keyed log is never continued unkeyed, nor under another key.
	if _, err := Open(path, testOptions()); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("unkeyed writer on a keyed log: %v", err)
	}
	if _, err := Open(path, keyedOptions(testKey(7))); err == nil || !strings.Contains(err.Error(), "key id") {
		t.Fatalf("other key: %v", err)
	}
	// Without a key Verify cannot check keyed lines and says so.
	if _, err := VerifyWith(path, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "no key was given") {
		t.Fatalf("verify without key: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "state", "lsp-router", "audit.key")
	path := filepath.Join(dir, "audit.log")
	o := testOptions()
	o.KeyFile = keyFile
	l := openLog(t, path, o)
	writeN(t, l, 0, 2)
	l.Close()
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if di, _ := os.Stat(filepath.Dir(keyFile)); di.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %v", di.Mode().Perm())
	}
	if res, err := VerifyWith(path, VerifyOptions{KeyFile: keyFile}); err != nil || res.KeyID == "" {
		t.Fatalf("verify with key file: %+v %v", res, err)
	}
	// The log's bytes do not contain the key.
	key, _ := LoadKey(keyFile)
	if b, _ := os.ReadFile(path); strings.Contains(string(b), string(key)) || strings.Contains(string(b), strings.TrimSpace(string(must(os.ReadFile(keyFile))))) {
		t.Fatal("the key is in the log")
	}
	// A key others can read is refused, with the fix.
	os.Chmod(keyFile, 0o644)
	if _, err := Open(path, o); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable key: %v", err)
	}
	os.Chmod(keyFile, 0o600)
	// A lost key is not silently replaced while the log is keyed.
	os.Rename(keyFile, keyFile+".bak")
	if _, err := Open(path, o); err == nil || !strings.Contains(err.Error(), "restore the key file") {
		t.Fatalf("lost key: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a new key was created for a keyed log")
	}
	t.Setenv(KeyFileEnv, keyFile+".bak")
	if got := ResolveKeyFile(keyFile); got != keyFile+".bak" {
		t.Errorf("env does not win: %s", got)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestRotationKeyedChainContinues(t *testing.T) {
	key := testKey(4)
	path := filepath.Join(t.TempDir(), "audit.log")
	o := keyedOptions(key)
	o.MaxBytes = 1500
	l := openLog(t, path, o)
	writeN(t, l, 0, 12)
	l.Close()
	res, te := verifyKey(t, path, key, "")
	if te != nil || len(res.Files) < 3 || res.LastSeq != 12 || res.KeyID == "" {
		t.Fatalf("%+v %v", res, te)
	}
	// An edit in a rotated file is found there.
	lines := readLines(t, res.Files[0])
	lines[0] = strings.Replace(lines[0], `"tokens_in":100`, `"tokens_in":1`, 1)
	writeLines(t, res.Files[0], lines)
	if _, te := verifyKey(t, path, key, ""); te == nil || te.File != res.Files[0] || te.Kind != KindEdited {
		t.Fatalf("got %+v", te)
	}
}

func TestRecorderAppliesContentPerWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, keyedOptions(testKey(5)))
	open := func() (*Log, error) { return l, nil }
	ev := Event{Type: EventQuery, Query: "what does reverseWords do", Response: "It reverses.", Success: true}
	// log_queries = false: no hash, no text.
	if err := NewRecorder(path, open, Content{}, Refuse).Write(ev); err != nil {
		t.Fatal(err)
	}
	// log_queries_plaintext on, then off again on the same open log.
	NewRecorder(path, open, Content{Queries: true, QueryText: true}, Refuse).Write(ev)
	NewRecorder(path, open, Content{Queries: true}, Refuse).Write(ev)
	recs, err := Tail(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].QuerySHA256 != "" || recs[0].Query != "" {
		t.Errorf("log_queries=false wrote %+v", recs[0])
	}
	if recs[1].Query != ev.Query || recs[1].QuerySHA256 == "" {
		t.Errorf("plaintext on: %+v", recs[1])
	}
	if recs[2].Query != "" || recs[2].QuerySHA256 == "" {
		t.Errorf("plaintext off again: %+v", recs[2])
	}
	for _, r := range recs {
		if r.Response != "" || r.ResponseSHA256 == "" {
			t.Errorf("response kept: %+v", r)
		}
	}
}

func TestErrorFieldKeepsNoAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, keyedOptions(testKey(6)))
	rec := NewRecorder(path, func() (*Log, error) { return l, nil }, Content{Queries: true}, Refuse)
	answer := "Sure! Here is the code:\n    return strings.Join(PRIVATE_TOKEN_xyz, sep)\n"
	quoted := `the text that SEARCH/REPLACE block 1 replaces does not occur in the file (it starts with "return strings.Join(PRIVATE_TOKEN_xyz, sep)"); nothing was changed`
	rec.Write(Event{Type: EventQuery, Response: answer, Error: quoted})
	rec.Write(Event{Type: EventQuery, Response: answer, Error: "server said: return strings.Join(PRIVATE_TOKEN_xyz, sep) " + strings.Repeat("x", 1000)})
	rec.Write(Event{Type: EventQuery, Response: answer, Error: quoted, ErrorSummary: "the answer was not turned into an edit (search_not_found)"})
	// With log_responses the error stays whole.
	NewRecorder(path, func() (*Log, error) { return l, nil }, Content{Queries: true, Responses: true}, Refuse).Write(Event{Type: EventQuery, Response: answer, Error: quoted})
	recs, _ := Tail(path, 4)
	for i, r := range recs[:3] {
		if strings.Contains(r.Error, "PRIVATE_TOKEN") || len(r.Error) > 310 || r.Error == "" {
			t.Errorf("record %d error keeps the answer: %q", i, r.Error)
		}
	}
	if recs[2].Error != "the answer was not turned into an edit (search_not_found)" {
		t.Errorf("summary not used: %q", recs[2].Error)
	}
	if recs[3].Error != quoted {
		t.Errorf("log_responses = true: %q", recs[3].Error)
	}
}

func TestRecorderFailsClosedWithOneLine(t *testing.T) {
	// A path under a regular file cannot be opened, even by root.
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	os.WriteFile(blocker, nil, 0o600)
	path := filepath.Join(blocker, "audit.log")
	opens := 0
	open := func() (*Log, error) { opens++; return Open(path, testOptions()) }
	err := NewRecorder(path, open, Content{Queries: true}, "").Write(Event{Type: EventQueryStart})
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Warn || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "security.audit_log_path") {
		t.Fatalf("refuse: %v", err)
	}
	err = NewRecorder(path, open, Content{}, Warn).Write(Event{Type: EventQueryStart})
	if !errors.As(err, &fe) || !fe.Warn || !strings.Contains(err.Error(), "not recorded") {
		t.Fatalf("warn: %v", err)
	}
	// A failed open is retried on the next write.
	r := NewRecorder(path, open, Content{}, Refuse)
	r.Write(Event{Type: EventQueryStart})
	r.Write(Event{Type: EventQueryStart})
	if opens != 4 {
		t.Errorf("opens = %d, want 4", opens)
	}
}

// TestFullDiskLeavesNoTornLine fills a real 64 KiB tmpfs: the write that
// runs out of space fails, the partial line is cut off again, the chain
// verifies, and after space is freed writing goes on.
func TestFullDiskLeavesNoTornLine(t *testing.T) {
	dir := mountTmpfs(t, "64k")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 16<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	key := testKey(8)
	l := openLog(t, path, keyedOptions(key))
	big := strings.Repeat("d", 3000) // crosses page boundaries: partial writes
	var werr error
	n := 0
	for ; n < 100; n++ {
		if werr = l.Write(Event{Type: EventSecurity, Detail: big}); werr != nil {
			break
		}
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("after %d writes: %v, want ENOSPC", n, werr)
	}
	b, _ := os.ReadFile(path)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("the failed write left a torn line (%d bytes)", len(b))
	}
	res, te := verifyKey(t, path, key, "")
	if te != nil || res.Lines != n || res.TornTail != nil {
		t.Fatalf("after a full disk: %+v %v", res, te)
	}
	// Space freed: writing resumes on the same chain.
	os.Remove(filler)
	if err := l.Write(Event{Type: EventSecurity, Detail: big}); err != nil {
		t.Fatalf("after freeing space: %v", err)
	}
	if res, te := verifyKey(t, path, key, ""); te != nil || res.LastSeq != uint64(n+1) {
		t.Fatalf("after resuming: %+v %v", res, te)
	}
}

// mountTmpfs mounts a tmpfs of the given size for the test, or skips when
// it cannot (not root, no mount permission).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test needs root to mount a tmpfs; the read-only fallback tests still run")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); the read-only fallback tests still run", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}
