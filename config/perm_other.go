//go:build !unix

package config

import "io/fs"

// ownedPrivately has no portable owner check here; the user profile's ACLs
// protect the state directory.
func ownedPrivately(string, fs.FileInfo) error { return nil }
