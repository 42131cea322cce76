//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownedPrivately refuses a trust store (or its directory) that another user
// owns or that others may write: whoever can write it decides what runs.
func ownedPrivately(path string, st fs.FileInfo) error {
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("trust store %s is writable by others (%v); fix it with: chmod go-w %s", path, st.Mode().Perm(), path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("trust store %s belongs to another user (uid %d); remove it and trust again", path, sys.Uid)
	}
	return nil
}
