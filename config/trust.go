package config

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// TrustStore records the workspace configuration files the user trusts,
// each with the SHA-256 of the content the user reviewed: a file that
// changes is untrusted again (the direnv and Neovim vim.secure model). It
// is a JSON file only its owner may write, in the user's state directory.
type TrustStore struct {
	// Path is the trust.json file.
	Path string
}

// TrustEntry is one trusted workspace file.
type TrustEntry struct {
	File      string    `json:"file"`
	SHA256    string    `json:"sha256"`
	TrustedAt time.Time `json:"trusted_at"`
}

type trustFile struct {
	Version int          `json:"version"`
	Entries []TrustEntry `json:"entries"`
}

// maxTrustBytes bounds the trust store; each entry is ~200 bytes.
const maxTrustBytes = 4 << 20

// DefaultTrustStore is the user's store, StateDir()/trust.json.
func DefaultTrustStore() *TrustStore {
	dir := StateDir()
	if dir == "" {
		return &TrustStore{}
	}
	return &TrustStore{Path: filepath.Join(dir, "trust.json")}
}

// WorkspaceConfigPath is the trust store's key for dir's workspace file:
// dir resolved through symbolic links, joined with .lsp-router.toml.
func WorkspaceConfigPath(dir string) string { return workspaceCandidate(dir) }

func (t *TrustStore) read() (trustFile, error) {
	var tf trustFile
	if t.Path == "" {
		return tf, errors.New("no state directory for the trust store: set $XDG_STATE_HOME or $HOME")
	}
	st, err := os.Lstat(t.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return tf, nil
	}
	if err != nil {
		return tf, fmt.Errorf("trust store: %w", err)
	}
	if !st.Mode().IsRegular() {
		return tf, fmt.Errorf("trust store %s is not a regular file; remove it and trust again", t.Path)
	}
	if err := ownedPrivately(t.Path, st); err != nil {
		return tf, err
	}
	f, err := openNoBlock(t.Path)
	if err != nil {
		return tf, fmt.Errorf("trust store: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTrustBytes+1))
	if err != nil {
		return tf, fmt.Errorf("trust store: %w", err)
	}
	if len(data) > maxTrustBytes {
		return tf, fmt.Errorf("trust store %s is larger than %d bytes; remove it and trust again", t.Path, maxTrustBytes)
	}
	if err := json.Unmarshal(data, &tf); err != nil {
		return trustFile{}, fmt.Errorf("trust store %s is damaged (%v); remove it and trust again", t.Path, err)
	}
	return tf, nil
}

// write replaces the store atomically: a temporary file in the same
// directory (created 0600), synced, then renamed over the old one.
func (t *TrustStore) write(tf trustFile) error {
	dir := filepath.Dir(t.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("trust store: %w", err)
	} else if err := ownedPrivately(dir, st); err != nil {
		return err
	}
	tf.Version = 1
	data, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".trust-*.json")
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("trust store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("trust store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if err := os.Rename(tmp.Name(), t.Path); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

// Trusted reports whether file (a WorkspaceConfigPath) is trusted with
// exactly the content whose SHA-256 is sum. An unreadable store is an
// error and trusts nothing.
func (t *TrustStore) Trusted(file, sum string) (bool, error) {
	tf, err := t.read()
	if err != nil {
		return false, err
	}
	for _, e := range tf.Entries {
		if e.File == file && e.SHA256 == sum {
			return true, nil
		}
	}
	return false, nil
}

// Trust records dir's workspace file with the SHA-256 of its current
// content (through symbolic links; it must be a regular file that parses)
// and returns the entry.
func (t *TrustStore) Trust(dir string) (TrustEntry, error) {
	file := WorkspaceFile(dir)
	if file == "" {
		return TrustEntry{}, fmt.Errorf("%s has no %s to trust", dir, FileName)
	}
	data, err := readConfigFile(file)
	if err != nil {
		return TrustEntry{}, err
	}
	if _, ps := decodeTOML(file, data, OriginWorkspace); len(ps) > 0 {
		return TrustEntry{}, fmt.Errorf("not trusted, the file has problems; fix them first:\n%w", &Error{Problems: ps})
	}
	tf, err := t.read()
	if err != nil {
		return TrustEntry{}, err
	}
	sum := sha256.Sum256(data)
	e := TrustEntry{File: file, SHA256: sumHex(sum), TrustedAt: time.Now().UTC().Truncate(time.Second)}
	tf.Entries = slices.DeleteFunc(tf.Entries, func(x TrustEntry) bool { return x.File == file })
	tf.Entries = append(tf.Entries, e)
	return e, t.write(tf)
}

// Revoke forgets dir's workspace file; false when it was not trusted.
func (t *TrustStore) Revoke(dir string) (bool, error) {
	file := workspaceCandidate(dir)
	tf, err := t.read()
	if err != nil {
		return false, err
	}
	n := len(tf.Entries)
	tf.Entries = slices.DeleteFunc(tf.Entries, func(x TrustEntry) bool { return x.File == file })
	if len(tf.Entries) == n {
		return false, nil
	}
	return true, t.write(tf)
}

// List returns the trusted files, oldest first.
func (t *TrustStore) List() ([]TrustEntry, error) {
	tf, err := t.read()
	return tf.Entries, err
}
