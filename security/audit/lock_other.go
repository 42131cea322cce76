//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package audit

import "os"

// lockFile is a no-op where flock is unavailable: the Log's mutex still
// serialises writers inside one process, but two processes writing the same
// file can fork the chain (Verify then reports it).
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
