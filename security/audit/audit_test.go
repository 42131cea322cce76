package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func testOptions() Options {
	return Options{Session: "sess1", Agent: "neovim"}
}

func openLog(t testing.TB, path string, o Options) *Log {
	t.Helper()
	l, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func queryEvent(i int) Event {
	return Event{
		Type: EventQuery, Command: "explain", Service: "ollama", Model: "qwen2.5-coder:7b",
		Category: "coding", FallbackLevel: i % 3, TokensIn: 100 + i, TokensOut: 20 + i,
		LatencyMS: int64(1000 + i), Success: true,
		Query: fmt.Sprintf("explain symbol number %d", i), Response: "secret answer",
	}
}

func writeN(t testing.TB, l *Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := l.Write(queryEvent(i)); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	return lines[:len(lines)-1] // every line keeps its "\n"; drop the empty tail
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	s := strings.Join(lines, "")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultsHashQueryAndDropResponse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "audit.log")
	l := openLog(t, path, testOptions())
	ev := queryEvent(1)
	if err := l.Write(ev); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("explain symbol")) || bytes.Contains(raw, []byte("secret answer")) {
		t.Fatalf("plaintext leaked into the log by default: %s", raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("line is not one JSON object: %v", err)
	}
	sum := sha256.Sum256([]byte(ev.Query))
	want := map[string]any{
		"seq": 1.0, "prev": genesis, "type": "query", "session": "sess1", "agent": "neovim",
		"command": "explain", "service": "ollama", "model": "qwen2.5-coder:7b", "category": "coding",
		"fallback_level": 1.0, "tokens_in": 101.0, "tokens_out": 21.0, "latency_ms": 1001.0,
		"success": true, "query_sha256": hex.EncodeToString(sum[:]),
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	for _, k := range []string{"ts", "os", "hash", "response_sha256"} {
		if m[k] == nil || m[k] == "" {
			t.Errorf("field %s missing", k)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, m["ts"].(string)); err != nil {
		t.Errorf("ts: %v", err)
	}
	if !strings.HasSuffix(string(raw), "\n") || strings.Count(string(raw), "\n") != 1 {
		t.Errorf("want exactly one line: %q", raw)
	}
}

func TestPlaintextAndResponsesWhenEnabled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	o := testOptions()
	o.Plaintext, o.LogResponses = true, true
	l := openLog(t, path, o)
	if err := l.Write(queryEvent(2)); err != nil {
		t.Fatal(err)
	}
	recs, err := Tail(path, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Tail: %v %v", recs, err)
	}
	if recs[0].Query != "explain symbol number 2" || recs[0].Response != "secret answer" || recs[0].QuerySHA256 == "" {
		t.Fatalf("record %+v", recs[0])
	}
}

func TestOpenTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	openLog(t, path, testOptions())
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestVerifyIntactAndReopenContinuesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, testOptions())
	writeN(t, l, 0, 5)
	l.Close()
	l2 := openLog(t, path, testOptions())
	writeN(t, l2, 5, 5)
	res, err := Verify(path)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Lines != 10 || res.FirstSeq != 1 || res.LastSeq != 10 || len(res.Head) != 64 {
		t.Fatalf("result %+v", res)
	}
}

func tamperErr(t *testing.T, path string) *TamperError {
	t.Helper()
	_, err := Verify(path)
	var te *TamperError
	if !errors.As(err, &te) {
		t.Fatalf("Verify err = %v, want *TamperError", err)
	}
	return te
}

// sixLineLog writes a log of six records for a tampering test to alter.
func sixLineLog(t *testing.T) (string, []string) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, testOptions())
	writeN(t, l, 0, 6)
	l.Close()
	return path, readLines(t, path)
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Run("edited", tamperEdited)
	t.Run("edited with recomputed hash", tamperEditedWithRecomputedHash)
	t.Run("deleted", tamperDeleted)
	t.Run("first deleted", tamperFirstDeleted)
	t.Run("swapped", tamperSwapped)
	t.Run("first two swapped", tamperFirstTwoSwapped)
	t.Run("last two swapped", tamperLastTwoSwapped)
	t.Run("torn tail", tamperTornTail)
	t.Run("cut mid-line is not a torn write", tamperCutMidLineIsNotATornWrite)
	t.Run("garbage", tamperGarbage)
}

func tamperEdited(t *testing.T) {
	path, lines := sixLineLog(t)
	lines[2] = strings.Replace(lines[2], `"tokens_in":102`, `"tokens_in":9`, 1)
	writeLines(t, path, lines)
	te := tamperErr(t, path)
	if te.Line != 3 || te.Kind != KindEdited || te.Seq != 3 || te.File != path {
		t.Fatalf("got %+v", te)
	}
}

func tamperEditedWithRecomputedHash(t *testing.T) {
	path, lines := sixLineLog(t)
	var r Record
	_ = json.Unmarshal([]byte(lines[3]), &r)
	r.Model = "forged"
	forged, _, err := encodeLine(r.Seq, r.Prev, r.Event)
	if err != nil {
		t.Fatal(err)
	}
	lines[3] = string(forged)
	writeLines(t, path, lines)
	te := tamperErr(t, path)
	if te.Line != 4 || te.Kind != KindEdited {
		t.Fatalf("got %+v", te)
	}
}

func tamperDeleted(t *testing.T) {
	path, lines := sixLineLog(t)
	writeLines(t, path, append(lines[:2:2], lines[3:]...))
	te := tamperErr(t, path)
	if te.Line != 3 || te.Kind != KindDeleted || te.Seq != 4 || !strings.Contains(te.Detail, "seq 3 missing") {
		t.Fatalf("got %+v", te)
	}
}

func tamperFirstDeleted(t *testing.T) {
	path, lines := sixLineLog(t)
	writeLines(t, path, lines[1:])
	te := tamperErr(t, path)
	if te.Line != 1 || te.Kind != KindDeleted {
		t.Fatalf("got %+v", te)
	}
}

func tamperSwapped(t *testing.T) {
	path, lines := sixLineLog(t)
	lines[1], lines[2] = lines[2], lines[1]
	writeLines(t, path, lines)
	te := tamperErr(t, path)
	if te.Line != 2 || te.Kind != KindReordered || te.Seq != 3 || !strings.Contains(te.Detail, fmt.Sprintf("%s:3", path)) {
		t.Fatalf("got %+v", te)
	}
}

func tamperFirstTwoSwapped(t *testing.T) {
	path, lines := sixLineLog(t)
	lines[0], lines[1] = lines[1], lines[0]
	writeLines(t, path, lines)
	te := tamperErr(t, path)
	if te.Line != 1 || te.Kind != KindReordered || !strings.Contains(te.Detail, "seq 1 comes later at "+path+":2") {
		t.Fatalf("got %+v", te)
	}
}

func tamperLastTwoSwapped(t *testing.T) {
	path, lines := sixLineLog(t)
	lines[4], lines[5] = lines[5], lines[4]
	writeLines(t, path, lines)
	te := tamperErr(t, path)
	if te.Line != 5 || te.Kind != KindReordered || te.Seq != 6 {
		t.Fatalf("got %+v", te)
	}
}

func tamperTornTail(t *testing.T) {
	path, lines := sixLineLog(t)
	last := lines[5]
	writeLines(t, path, lines[:5])
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(last[:40])
	f.Close()
	// A crash's leftover is not tampering: Verify says so and passes.
	res, err := Verify(path)
	if err != nil || res.TornTail == nil || res.TornTail.Bytes != 40 || res.Lines != 5 {
		t.Fatalf("Verify on a torn log: %+v %v", res, err)
	}
	// The next Open cuts it off and records what it cut.
	openLog(t, path, testOptions()).Close()
	res, err = Verify(path)
	if err != nil || res.TornTail != nil || len(res.Recoveries) != 1 || res.Lines != 6 {
		t.Fatalf("Verify after repair: %+v %v", res, err)
	}
	rc := res.Recoveries[0]
	if rc.Seq != 6 || rc.DroppedBytes != 40 || rc.DroppedSHA256 != sha256Hex([]byte(last[:40])) {
		t.Fatalf("recovery %+v", rc)
	}
}

func tamperCutMidLineIsNotATornWrite(t *testing.T) {
	path, lines := sixLineLog(t)
	// Lines 4-6 removed and half of line 3 left: the fragment is not the
	// start of record 3's successor, so no crash explains it.
	writeLines(t, path, lines[:2])
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(lines[3][:60])
	f.Close()
	te := tamperErr(t, path)
	if te.Line != 3 || te.Kind != KindTorn || !strings.Contains(te.Detail, "not the start of record 3") {
		t.Fatalf("got %+v", te)
	}
	if _, err := Open(path, testOptions()); err == nil || !strings.Contains(err.Error(), "not a torn write") {
		t.Fatalf("Open on a cut log: %v", err)
	}
}

func tamperGarbage(t *testing.T) {
	path, lines := sixLineLog(t)
	lines[4] = "hello\n"
	writeLines(t, path, lines)
	te := tamperErr(t, path)
	if te.Line != 5 || te.Kind != KindMalformed {
		t.Fatalf("got %+v", te)
	}
}

func TestRotationContinuesChain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	o := testOptions()
	o.MaxBytes = 2000 // a few lines per file
	l := openLog(t, path, o)
	writeN(t, l, 0, 30)
	rotated, err := rotatedFiles(path)
	if err != nil || len(rotated) < 3 {
		t.Fatalf("rotated %v %v", rotated, err)
	}
	for _, f := range append(rotated, rotatedFile{path: path}) {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > o.MaxBytes {
			t.Errorf("%s is %d bytes > %d", f.path, fi.Size(), o.MaxBytes)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f.path, fi.Mode().Perm())
		}
	}
	res, err := Verify(path)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Lines != 30 || res.LastSeq != 30 || len(res.Files) != len(rotated)+1 {
		t.Fatalf("result %+v", res)
	}
	// Tail crosses file boundaries.
	recs, err := Tail(path, 12)
	if err != nil || len(recs) != 12 || recs[0].Seq != 19 || recs[11].Seq != 30 {
		t.Fatalf("Tail: %d records, err %v", len(recs), err)
	}
	// A reopened log continues the chain in the rotated set.
	l.Close()
	l2 := openLog(t, path, o)
	writeN(t, l2, 30, 3)
	if res, err := Verify(path); err != nil || res.LastSeq != 33 {
		t.Fatalf("after reopen: %+v %v", res, err)
	}
	// Tampering inside a rotated file is located in that file.
	lines := readLines(t, rotated[1].path)
	lines[1] = strings.Replace(lines[1], `"coding"`, `"analysis"`, 1)
	writeLines(t, rotated[1].path, lines)
	if te := tamperErr(t, path); te.File != rotated[1].path || te.Line != 2 || te.Kind != KindEdited {
		t.Fatalf("got %+v", te)
	}
}

func TestRotationArchivedOldFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	o := testOptions()
	o.MaxBytes = 2000
	l := openLog(t, path, o)
	writeN(t, l, 0, 30)
	rotated, _ := rotatedFiles(path)
	// Archiving the oldest file is not tampering...
	if err := os.Remove(rotated[0].path); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(path)
	if err != nil || !res.EarlierFilesRemoved || res.FirstSeq == 1 {
		t.Fatalf("archived oldest: %+v %v", res, err)
	}
	// ...but removing a file in the middle is.
	if err := os.Remove(rotated[2].path); err != nil {
		t.Fatal(err)
	}
	if te := tamperErr(t, path); te.Kind != KindDeleted {
		t.Fatalf("got %+v", te)
	}
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	o := testOptions()
	o.MaxBytes = 8000
	// Two Logs on the same file stand in for two processes: each has its own
	// descriptors and flock, so they must coordinate through the lock file.
	a := openLog(t, path, o)
	b := openLog(t, path, o)
	var wg sync.WaitGroup
	const perWriter, writers = 40, 4
	for w := 0; w < writers; w++ {
		l := a
		if w%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if err := l.Write(queryEvent(w*1000 + i)); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	res, err := Verify(path)
	if err != nil {
		t.Fatalf("Verify after concurrent writes: %v", err)
	}
	if res.Lines != perWriter*writers || res.LastSeq != perWriter*writers {
		t.Fatalf("result %+v", res)
	}
}

func TestWriteRejectsBadInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, testOptions())
	if err := l.Write(Event{}); err == nil {
		t.Fatal("event without type accepted")
	}
	l.Close()
	if err := l.Write(queryEvent(1)); err == nil {
		t.Fatal("write after close accepted")
	}
	if _, err := Open("", Options{}); err == nil {
		t.Fatal("empty path accepted")
	}
	if _, err := Verify(filepath.Join(t.TempDir(), "none.log")); err == nil {
		t.Fatal("missing log verified")
	}
}

func TestWriteText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, testOptions())
	writeN(t, l, 1, 1)
	_ = l.Write(Event{Type: EventSecurity, Target: "api.example.com", Rule: "not_allowlisted", Error: "refused"})
	recs, _ := Tail(path, 10)
	var b bytes.Buffer
	if err := WriteText(&b, recs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"#1 query", "model=qwen2.5-coder:7b", "tokens=101/21", "latency=1001ms", " ok", "#2 security", "target=api.example.com", "rule=not_allowlisted", `error="refused"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestDetectAgent(t *testing.T) {
	proc := fstest.MapFS{
		"100/stat": {Data: []byte("100 (bash) S 50 100 100 0 -1 ...")},
		"50/stat":  {Data: []byte("50 (nvim) S 1 50 50 0 -1 ...")},
		"200/stat": {Data: []byte("200 (my (odd) sh) S 201 1 1")},
		"201/stat": {Data: []byte("201 (code) S 1 1 1")},
		"300/stat": {Data: []byte("300 (zsh) S 1 1 1")},
	}
	noEnv := func(string) string { return "" }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		ppid   int
		getenv func(string) string
		want   Agent
	}{
		{100, noEnv, Agent{"neovim", "parent:nvim"}},
		{200, noEnv, Agent{"vscode", "parent:code"}},
		{300, env(map[string]string{"TERM_PROGRAM": "vscode", "CURSOR_TRACE_ID": "x"}), Agent{"cursor", "env:CURSOR_TRACE_ID"}},
		{300, env(map[string]string{"TERM_PROGRAM": "vscode"}), Agent{"vscode", "env:TERM_PROGRAM"}},
		{300, env(map[string]string{"INSIDE_EMACS": "29.1,comint"}), Agent{"emacs", "env:INSIDE_EMACS"}},
		{300, env(map[string]string{"ZED_TERM": "true"}), Agent{"zed", "env:ZED_TERM"}},
		{300, env(map[string]string{"TERMINAL_EMULATOR": "JetBrains-JediTerm"}), Agent{"jetbrains", "env:TERMINAL_EMULATOR"}},
		{300, env(map[string]string{"CLAUDECODE": "1", "NVIM": "/tmp/nvim.sock"}), Agent{"claude-code", "env:CLAUDECODE"}},
		{300, noEnv, Agent{Name: "unknown"}},
		{999, noEnv, Agent{Name: "unknown"}},
	}
	for _, c := range cases {
		if got := detectAgent(c.getenv, c.ppid, proc); got != c.want {
			t.Errorf("ppid %d: got %+v, want %+v", c.ppid, got, c.want)
		}
	}
	for in, want := range map[string]string{"Neovim": "neovim", "Visual Studio Code": "vscode", "helix": "helix", "Zed": "zed", "GNU Emacs": "emacs", "": "unknown", "Kate": "kate"} {
		if got := NormalizeAgent(in); got != want {
			t.Errorf("NormalizeAgent(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkWrite measures the cost per event: JSON, SHA-256, flock, append,
// and optionally fsync, waited for or in the background.
func BenchmarkWrite(b *testing.B) {
	for _, c := range []struct{ fsync, keyed, background bool }{{false, false, false}, {false, true, false}, {true, true, false}, {true, true, true}} {
		b.Run(fmt.Sprintf("fsync=%v/keyed=%v/background=%v", c.fsync, c.keyed, c.background), func(b *testing.B) {
			o := testOptions()
			o.Fsync = c.fsync
			o.BackgroundSync = c.background
			if c.keyed {
				o.Key = bytes.Repeat([]byte{7}, 32)
			}
			o.MaxBytes = 0
			l := openLog(b, filepath.Join(b.TempDir(), "audit.log"), o)
			ev := queryEvent(1)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := l.Write(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCrossProcessWriters runs this test binary twice more as writer
// processes on the same log (with rotation) and verifies one unbroken chain.
func TestCrossProcessWriters(t *testing.T) {
	if os.Getenv("AUDIT_TEST_WRITER") != "" {
		return
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	const perProcess, procs = 40, 3
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "AUDIT_TEST_WRITER="+path, fmt.Sprintf("AUDIT_TEST_N=%d", perProcess))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("writer output: %s", out.String())
			}
		})
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer process: %v", err)
		}
	}
	res, err := Verify(path)
	if err != nil {
		t.Fatalf("Verify after cross-process writes: %v", err)
	}
	if res.Lines != perProcess*procs || len(res.Files) < 2 {
		t.Fatalf("result %+v", res)
	}
}

// TestHelperWriterProcess is the body of a writer process for
// TestCrossProcessWriters; it does nothing in a normal run.
func TestHelperWriterProcess(t *testing.T) {
	path := os.Getenv("AUDIT_TEST_WRITER")
	if path == "" {
		t.Skip("helper process only")
	}
	n, _ := strconv.Atoi(os.Getenv("AUDIT_TEST_N"))
	o := testOptions()
	o.MaxBytes = 6000
	l := openLog(t, path, o)
	writeN(t, l, 0, n)
}
