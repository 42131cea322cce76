package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const writeSuffix = "nothing was written"

// keptMode is what a rewrite keeps of the original file's mode.
const keptMode = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// WriteFile replaces path with data, or creates it when create is set (a
// file that exists by then is refused: something else created it). The
// file must be inside one of roots after its symlinks are resolved: a
// symlink inside the workspace to a file inside is written through (the
// link stays a link); a symlink leading out of the workspace, or to a
// missing file, is refused, as are read-only files and anything that is
// not a regular file. The original mode bits (setuid, setgid and sticky
// included) and owner are kept; the write is atomic: a temporary file in
// the same directory, fsync, rename, fsync of the directory. New files get
// mode 0644 minus the umask.
func WriteFile(path string, data []byte, create bool, roots ...string) error {
	return write(path, data, create, 0o644, roots)
}

// CreatePrivate creates path (which must not exist) with mode 0600, with
// the checks and atomicity of WriteFile: for files only the user should
// read, such as answers kept in the cache directory.
func CreatePrivate(path string, data []byte, roots ...string) error {
	return write(path, data, true, 0o600, roots)
}

func write(path string, data []byte, create bool, newPerm fs.FileMode, roots []string) error {
	target, st, err := check(path, roots)
	if err != nil {
		return err
	}
	switch {
	case create && st != nil:
		return fmt.Errorf("%s: already exists (it appeared while the model was answering); %s: %w", path, writeSuffix, fs.ErrExist)
	case !create && st == nil:
		return fmt.Errorf("%s: does not exist any more; %s: %w", path, writeSuffix, fs.ErrNotExist)
	}
	dir := filepath.Dir(target)
	perm := newPerm
	if st != nil {
		// The final mode is set explicitly below; the temporary file is
		// private until then.
		perm = 0o600
	}
	tmp, err := createTemp(dir, filepath.Base(target), perm)
	if err != nil {
		return fmt.Errorf("%s: create a temporary file beside it: %w; %s", path, err, writeSuffix)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("%s: %w; %s", path, err, writeSuffix)
	}
	if st != nil {
		// Owner first: chown clears setuid and setgid.
		if err := keepOwner(tmp, st); err != nil {
			return refuse("%s: cannot keep its owner (%v); %s", path, err, writeSuffix)
		}
		want := st.Mode() & keptMode
		if err := tmp.Chmod(want); err != nil {
			return fmt.Errorf("%s: keep mode %v: %w; %s", path, want, err, writeSuffix)
		}
		if got, err := tmp.Stat(); err != nil || got.Mode()&keptMode != want {
			// The kernel drops setgid for a group the user is not in.
			return refuse("%s: cannot keep its mode %v; %s", path, want, writeSuffix)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%s: fsync: %w; %s", path, err, writeSuffix)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w; %s", path, err, writeSuffix)
	}
	if create {
		err = linkNew(tmp.Name(), target)
		os.Remove(tmp.Name())
		done = true
		if err != nil {
			return fmt.Errorf("%s: %w; %s", path, err, writeSuffix)
		}
	} else {
		if err := os.Rename(tmp.Name(), target); err != nil {
			return fmt.Errorf("%s: %w; %s", path, err, writeSuffix)
		}
		done = true
	}
	return syncDir(dir)
}

// CheckWrite tells, before any work is done, whether WriteFile(path, ...,
// roots...) would be refused for where path leads or for its permissions
// (an edit for the editor to apply is checked the same way).
func CheckWrite(path string, roots ...string) error {
	_, _, err := check(path, roots)
	return err
}

func check(path string, roots []string) (string, fs.FileInfo, error) {
	target, st, err := resolveForWrite(path, roots)
	if err != nil || st == nil {
		return target, st, err
	}
	if st.Mode().Perm()&0o222 == 0 {
		return "", nil, refuse("%s: read-only (mode %04o); %s (make it writable with chmod u+w to let lsp-router change it)", path, st.Mode().Perm(), writeSuffix)
	}
	if err := writable(target); err != nil {
		return "", nil, refuse("%s: not writable by you (%v); %s", path, err, writeSuffix)
	}
	return target, st, nil
}

// linkNew puts the finished temporary file at target only if nothing is
// there: a hard link fails when the name exists, where a rename would
// replace it. File systems without hard links fall back to a checked
// rename.
func linkNew(tmp, target string) error {
	err := os.Link(tmp, target)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("already exists (it appeared while the model was answering): %w", fs.ErrExist)
	}
	if _, lerr := os.Lstat(target); lerr == nil {
		return fmt.Errorf("already exists (it appeared while the model was answering): %w", fs.ErrExist)
	}
	return os.Rename(tmp, target)
}

// createTemp creates a new file beside target. Unlike os.CreateTemp it
// takes the mode, so a new file's mode is subject to the umask as with
// any other editor.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	for range 10 {
		var b [6]byte
		rand.Read(b[:])
		name := filepath.Join(dir, "."+base+".lsp-router-"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|openFlags, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no free temporary name")
}

// resolveForWrite finds the file a write to path lands on, and its
// current state (nil when it does not exist).
func resolveForWrite(path string, roots []string) (string, fs.FileInfo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	if err := pseudoRefusal(path, abs, writeSuffix); err != nil {
		return "", nil, err
	}
	target := abs
	lst, err := os.Lstat(abs)
	switch {
	case err == nil && lst.Mode()&fs.ModeSymlink != 0:
		res, rerr := filepath.EvalSymlinks(abs)
		if rerr != nil {
			dest, _ := os.Readlink(abs)
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(abs), dest)
			}
			dest = filepath.Clean(dest)
			if parent, perr := filepath.EvalSymlinks(filepath.Dir(dest)); perr == nil {
				dest = filepath.Join(parent, filepath.Base(dest))
			}
			if root, ok := within(dest, roots); !ok {
				return "", nil, refuse("%s: a symlink to %s, outside the workspace %s; %s (remove the link to let lsp-router create the file)", path, dest, root, writeSuffix)
			}
			return "", nil, refuse("%s: a symlink to the missing file %s; %s (create the target or remove the link)", path, dest, writeSuffix)
		}
		target = res
	case err == nil, errors.Is(err, fs.ErrNotExist):
	default:
		return "", nil, err
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(target))
	if err != nil {
		return "", nil, fmt.Errorf("%s: its directory: %w; %s", path, err, writeSuffix)
	}
	target = filepath.Join(dir, filepath.Base(target))
	if r := pseudo(target); r != "" {
		return "", nil, refuse("%s: not a regular file (%s entry, via %s); %s", path, r, target, writeSuffix)
	}
	if root, ok := within(target, roots); !ok {
		return "", nil, outside(path, target, root, writeSuffix)
	}
	st, err := os.Lstat(target)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return "", nil, notRegular(path, st.Mode(), writeSuffix)
	case err == nil:
		return target, st, nil
	case errors.Is(err, fs.ErrNotExist):
		return target, nil, nil
	}
	return "", nil, err
}
