//go:build !unix

package config

import "os"

// openNoBlock opens path for reading; FIFOs do not exist here.
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }
