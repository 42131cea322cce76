//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openFlags: O_NONBLOCK so opening a FIFO cannot hang, O_NOFOLLOW so a
// symlink swapped in for a checked name is not followed.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOFOLLOW

// writable asks the kernel whether the user may write the file (group and
// other bits, ACLs): the rename would replace it even when not.
func writable(path string) error {
	if os.Geteuid() == 0 {
		return nil // root may; the mode check above covers read-only files
	}
	return syscall.Access(path, 2 /* W_OK */)
}

// keepOwner gives the temporary file the original's owner and group when
// they differ (root can always; a user can keep a group it belongs to).
func keepOwner(tmp *os.File, orig fs.FileInfo) error {
	want, ok := orig.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	st, err := tmp.Stat()
	if err != nil {
		return err
	}
	have, ok := st.Sys().(*syscall.Stat_t)
	if !ok || have.Uid == want.Uid && have.Gid == want.Gid {
		return nil
	}
	if err := tmp.Chown(int(want.Uid), int(want.Gid)); err != nil {
		return err
	}
	return nil
}

// syncDir makes the rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
