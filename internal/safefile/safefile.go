// Package safefile reads and writes workspace files the way a user can
// trust: reads take only regular files inside the workspace roots (after
// resolving symlinks) up to a size cap, and never block on a FIFO or a
// device; writes refuse symlinks that lead out of the workspace and
// read-only files, keep the file's mode bits and owner, and replace the
// file atomically (temporary file in the same directory, fsync, rename,
// fsync of the directory).
//
// Every error is one line that names the path and what to do.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// DefaultMaxBytes is the read cap when the configuration sets none
// (context.max_file_bytes).
const DefaultMaxBytes int64 = 8 << 20

var maxBytes atomic.Int64

func init() { maxBytes.Store(DefaultMaxBytes) }

// SetMaxBytes sets the process-wide read cap (context.max_file_bytes);
// n <= 0 restores the default. The wiring calls it on every configuration
// load, so a reload applies to the next read.
func SetMaxBytes(n int64) {
	if n <= 0 {
		n = DefaultMaxBytes
	}
	maxBytes.Store(n)
}

// MaxBytes returns the current read cap.
func MaxBytes() int64 { return maxBytes.Load() }

const readSuffix = "lsp-router reads only regular files in the workspace"

// ErrRefused is wrapped by every refusal of this package (as opposed to
// plain I/O errors such as a missing file).
var ErrRefused = errors.New("refused")

type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// pseudoRoots hold kernel interfaces, not files: reading them can block
// forever or never end.
var pseudoRoots = []string{"/proc", "/dev", "/sys"}

// pseudoRefusal refuses paths under /proc, /dev and /sys before anything
// opens them, naming the file type where a stat (which never blocks)
// tells it.
func pseudoRefusal(path, abs, suffix string) error {
	r := pseudo(abs)
	if r == "" {
		return nil
	}
	if r == "/dev" {
		if st, err := os.Stat(abs); err == nil && !st.Mode().IsRegular() {
			return notRegular(path, st.Mode(), suffix)
		}
	}
	return refuse("%s: not a regular file (%s entry); %s", path, r, suffix)
}

func pseudo(path string) string {
	for _, r := range pseudoRoots {
		if path == r || strings.HasPrefix(path, r+"/") {
			return r
		}
	}
	return ""
}

// kind names a non-regular file type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "not regular"
}

func notRegular(path string, m fs.FileMode, suffix string) error {
	return refuse("%s: not a regular file (%s); %s", path, kind(m), suffix)
}

// within reports whether path (cleaned, absolute, symlinks resolved) is
// inside one of roots (each resolved here) and returns the root that
// holds it, or the first root for messages.
func within(path string, roots []string) (string, bool) {
	first := ""
	for _, r := range roots {
		if r == "" {
			continue
		}
		abs, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		if res, err := filepath.EvalSymlinks(abs); err == nil {
			abs = res
		}
		if first == "" {
			first = abs
		}
		rel, err := filepath.Rel(abs, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return abs, true
		}
	}
	return first, false
}

// Within reports whether path, with its symlinks resolved as far as they
// exist, is inside one of roots. A path under no root is refused by
// ReadFile and WriteFile; callers that list files (references in other
// files) use it to skip them quietly.
func Within(path string, roots ...string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	if res, err := filepath.EvalSymlinks(abs); err == nil {
		abs = res
	}
	_, ok := within(abs, roots)
	return ok
}

// ReadFile reads path, which must resolve to a regular file inside one of
// roots and be at most MaxBytes long. A missing file gives an error that
// wraps fs.ErrNotExist; everything refused wraps ErrRefused. With no
// roots, every file is outside the workspace.
func ReadFile(path string, roots ...string) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := pseudoRefusal(path, abs, readSuffix); err != nil {
		return nil, err
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if st, lerr := os.Lstat(abs); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			// A dangling link reads as missing; writing it is refused.
			return nil, fmt.Errorf("%s: a symlink to a missing file: %w", path, fs.ErrNotExist)
		}
		// Whether a file outside the workspace exists is not ours to tell.
		if dir, derr := filepath.EvalSymlinks(filepath.Dir(abs)); derr == nil {
			if root, ok := within(filepath.Join(dir, filepath.Base(abs)), roots); !ok {
				return nil, outside(path, "", root, readSuffix)
			}
		}
		return nil, err
	}
	if r := pseudo(resolved); r != "" {
		return nil, refuse("%s: not a regular file (%s entry, via %s); %s", path, r, resolved, readSuffix)
	}
	st, err := os.Stat(resolved)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode(), readSuffix)
	}
	if root, ok := within(resolved, roots); !ok {
		return nil, outside(path, resolved, root, readSuffix)
	}
	limit := MaxBytes()
	if st.Size() > limit {
		return nil, tooLarge(path, st.Size(), limit)
	}
	// O_NONBLOCK: a FIFO swapped in after the Stat cannot hang the open;
	// O_NOFOLLOW: nor can a symlink swapped in for the resolved name.
	f, err := os.OpenFile(resolved, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fst, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fst.Mode().IsRegular() {
		return nil, notRegular(path, fst.Mode(), readSuffix)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, int64(len(data)), limit)
	}
	return data, nil
}

func outside(path, resolved, root, suffix string) error {
	if root == "" {
		return refuse("%s: no workspace folder is known, so it is outside the workspace; %s", path, suffix)
	}
	if resolved != "" && resolved != path {
		return refuse("%s: leads to %s, outside the workspace %s; %s", path, resolved, root, suffix)
	}
	return refuse("%s: outside the workspace %s; %s", path, root, suffix)
}

func tooLarge(path string, size, limit int64) error {
	return refuse("%s: %s is over the %s limit; raise context.max_file_bytes to read it", path, human(size), human(limit))
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
