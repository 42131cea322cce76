//go:build !unix

package safefile

import (
	"io/fs"
	"os"
)

const openFlags = 0

func writable(string) error                 { return nil }
func keepOwner(*os.File, fs.FileInfo) error { return nil }
func syncDir(string) error                  { return nil }
