//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// workspace returns a workspace root and a directory outside it.
func workspace(t *testing.T) (string, string) {
	t.Helper()
	base := t.TempDir()
	ws, out := filepath.Join(base, "ws"), filepath.Join(base, "outside")
	for _, d := range []string{ws, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return ws, out
}

func writeTest(t *testing.T, path, text string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
}

func wantRefused(t *testing.T, err error, parts ...string) {
	t.Helper()
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("want a refusal, got %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

// leftovers lists the temporary files a write left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".lsp-router-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestReadRegularFileInside(t *testing.T) {
	ws, _ := workspace(t)
	p := filepath.Join(ws, "a.go")
	writeTest(t, p, "package a\n", 0o644)
	b, err := ReadFile(p, ws)
	if err != nil || string(b) != "package a\n" {
		t.Fatalf("%q %v", b, err)
	}
	// A symlink inside to a file inside reads the target.
	link := filepath.Join(ws, "link.go")
	os.Symlink("a.go", link)
	if b, err := ReadFile(link, ws); err != nil || string(b) != "package a\n" {
		t.Fatalf("link: %q %v", b, err)
	}
	// Missing files say so, not refused.
	if _, err := ReadFile(filepath.Join(ws, "none.go"), ws); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrRefused) {
		t.Errorf("missing: %v", err)
	}
}

func TestReadRefusesSymlinkOut(t *testing.T) {
	ws, out := workspace(t)
	secret := filepath.Join(out, "secret")
	writeTest(t, secret, "key", 0o600)
	link := filepath.Join(ws, "notes.txt")
	os.Symlink(secret, link)
	_, err := ReadFile(link, ws)
	wantRefused(t, err, link, "outside the workspace")
	// A symlinked directory leading out is refused the same way.
	os.Symlink(out, filepath.Join(ws, "vendor"))
	_, err = ReadFile(filepath.Join(ws, "vendor", "secret"), ws)
	wantRefused(t, err, "outside the workspace")
	// A plain path outside too; and no roots at all means nothing is inside.
	_, err = ReadFile(secret, ws)
	wantRefused(t, err, "outside the workspace")
	_, err = ReadFile(secret)
	wantRefused(t, err, "no workspace folder")
}

func TestReadRefusesFIFOWithoutHanging(t *testing.T) {
	ws, _ := workspace(t)
	fifo := filepath.Join(ws, "main.go")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, ws); done <- err }()
	select {
	case err := <-done:
		wantRefused(t, err, fifo+": not a regular file (named pipe); lsp-router reads only regular files in the workspace")
	case <-time.After(time.Minute):
		// No writer ever opens the FIFO: a blocking read would hang here.
		t.Fatal("reading a FIFO hung")
	}
}

func TestReadRefusesDevicesAndProc(t *testing.T) {
	for _, p := range []string{"/dev/zero", "/proc/self/fd/0", "/proc/self/environ", "/sys/kernel/notes"} {
		_, err := ReadFile(p, "/")
		wantRefused(t, err, p, "not a regular file")
	}
	// A symlink in the workspace to a device is refused after resolution.
	ws, _ := workspace(t)
	link := filepath.Join(ws, "zero.go")
	os.Symlink("/dev/zero", link)
	_, err := ReadFile(link, ws)
	wantRefused(t, err, "not a regular file")
}

func TestReadRefusesOversizeFile(t *testing.T) {
	ws, _ := workspace(t)
	defer SetMaxBytes(0)
	SetMaxBytes(1024)
	p := filepath.Join(ws, "big.txt")
	writeTest(t, p, strings.Repeat("x", 1025), 0o644)
	_, err := ReadFile(p, ws)
	wantRefused(t, err, p, "over the 1.0 KB limit", "context.max_file_bytes")
	writeTest(t, p, strings.Repeat("x", 1024), 0o644)
	if b, err := ReadFile(p, ws); err != nil || len(b) != 1024 {
		t.Fatalf("at the limit: %d %v", len(b), err)
	}
	SetMaxBytes(0)
	if MaxBytes() != DefaultMaxBytes || DefaultMaxBytes != 8<<20 {
		t.Errorf("default cap %d", MaxBytes())
	}
}

func TestWriteKeepsModeSetgidAndLink(t *testing.T) {
	ws, _ := workspace(t)
	p := filepath.Join(ws, "main.go")
	writeTest(t, p, "old\n", 0o640)
	if err := os.Chmod(p, 0o750|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new\n"), false, ws); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "new\n" {
		t.Errorf("content %q", b)
	}
	if st.Mode()&keptMode != 0o750|fs.ModeSetgid {
		t.Errorf("mode %v, want %v", st.Mode(), 0o750|fs.ModeSetgid)
	}
	// Through a symlink inside the workspace: the target changes, the link stays.
	link := filepath.Join(ws, "alias.go")
	os.Symlink("main.go", link)
	if err := WriteFile(link, []byte("via link\n"), false, ws); err != nil {
		t.Fatal(err)
	}
	if lst, _ := os.Lstat(link); lst.Mode()&fs.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if b, _ := os.ReadFile(p); string(b) != "via link\n" {
		t.Errorf("target %q", b)
	}
	if l := leftovers(t, ws); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestWriteKeepsOwnerAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the file another owner")
	}
	ws, _ := workspace(t)
	p := filepath.Join(ws, "main.go")
	writeTest(t, p, "old\n", 0o664)
	if err := os.Chown(p, 4242, 4343); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o664|fs.ModeSetgid)
	if err := WriteFile(p, []byte("new\n"), false, ws); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	sys := st.Sys().(*syscall.Stat_t)
	if sys.Uid != 4242 || sys.Gid != 4343 {
		t.Errorf("owner %d:%d, want 4242:4343", sys.Uid, sys.Gid)
	}
	if st.Mode()&keptMode != 0o664|fs.ModeSetgid {
		t.Errorf("mode %v", st.Mode())
	}
}

func TestWriteRefusesReadOnly(t *testing.T) {
	ws, _ := workspace(t)
	p := filepath.Join(ws, "main.go")
	writeTest(t, p, "old\n", 0o444)
	err := WriteFile(p, []byte("new\n"), false, ws)
	wantRefused(t, err, p, "read-only (mode 0444)", "nothing was written")
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Errorf("read-only file changed: %q", b)
	}
}

func TestWriteRefusesSymlinksOut(t *testing.T) {
	ws, out := workspace(t)
	// A dangling link to a file outside: refused, not followed.
	target := filepath.Join(out, "main_test.go")
	link := filepath.Join(ws, "main_test.go")
	os.Symlink(target, link)
	err := WriteFile(link, []byte("package main\n"), true, ws)
	wantRefused(t, err, link, "outside the workspace", "nothing was written")
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the outside target was created: %v", err)
	}
	// A link to an existing file outside: refused, and the file unchanged.
	writeTest(t, target, "outside\n", 0o644)
	err = WriteFile(link, []byte("x"), false, ws)
	wantRefused(t, err, "outside the workspace")
	if b, _ := os.ReadFile(target); string(b) != "outside\n" {
		t.Errorf("outside file changed: %q", b)
	}
	// A symlinked directory leading out.
	os.Symlink(out, filepath.Join(ws, "gen"))
	err = WriteFile(filepath.Join(ws, "gen", "new.go"), []byte("x"), true, ws)
	wantRefused(t, err, "outside the workspace")
	if _, err := os.Lstat(filepath.Join(out, "new.go")); err == nil {
		t.Error("file created outside through a symlinked directory")
	}
	// Devices.
	err = WriteFile("/dev/null", []byte("x"), false, "/")
	wantRefused(t, err, "not a regular file")
}

func TestWriteCreateIsExclusiveAndAtomic(t *testing.T) {
	ws, _ := workspace(t)
	p := filepath.Join(ws, "main_test.go")
	if err := WriteFile(p, []byte("package main\n"), true, ws); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm()&0o600 != 0o600 || st.Mode().Perm()&0o022 != 0 && st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v", st.Mode())
	}
	// Creating again finds it there.
	if err := WriteFile(p, []byte("other\n"), true, ws); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second create: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "package main\n" {
		t.Errorf("existing file replaced: %q", b)
	}
	if l := leftovers(t, ws); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestWriteErrorLeavesNoTempFile(t *testing.T) {
	ws, _ := workspace(t)
	p := filepath.Join(ws, "main.go")
	writeTest(t, p, "old\n", 0o644)
	// A file size limit makes the write itself fail after the temporary
	// file exists (Go ignores SIGXFSZ, so the write returns EFBIG).
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = 1 << 16
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	err := WriteFile(p, make([]byte, 1<<17), false, ws)
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("want a failed write, got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Errorf("file changed by a failed write: %q", b)
	}
	if l := leftovers(t, ws); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestCreatePrivate(t *testing.T) {
	ws, out := workspace(t)
	p := filepath.Join(ws, "answer.md")
	if err := CreatePrivate(p, []byte("# answer\n"), ws); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode())
	}
	// A name planted as a symlink to elsewhere is not followed.
	planted := filepath.Join(ws, "next.md")
	os.Symlink(filepath.Join(out, "victim"), planted)
	if err := CreatePrivate(planted, []byte("x"), ws); err == nil {
		t.Fatal("wrote through a planted symlink")
	}
	if _, err := os.Lstat(filepath.Join(out, "victim")); err == nil {
		t.Fatal("the symlink's target was created")
	}
}
