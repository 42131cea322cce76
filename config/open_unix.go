//go:build unix

package config

import (
	"os"
	"syscall"
)

// openNoBlock opens path for reading without blocking on a FIFO that was
// swapped in after the check: the caller then sees it is not regular.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
