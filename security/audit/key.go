package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileEnv names the environment variable that points at the audit key
// file; it overrides security.audit_key_file.
const KeyFileEnv = "LSP_ROUTER_AUDIT_KEY_FILE"

// keyBytes is the size of a generated key; a key file may hold a longer one.
const keyBytes = 32

// maxKeyFile bounds what is read from a key file.
const maxKeyFile = 1 << 10

// ResolveKeyFile returns the audit key file to use: $LSP_ROUTER_AUDIT_KEY_FILE,
// else configured (security.audit_key_file), else
// $XDG_STATE_HOME/lsp-router/audit.key (~/.local/state when unset). The
// environment wins so an administrator can point every process at a key
// kept where the user's configuration cannot move it.
func ResolveKeyFile(configured string) string {
	if env := os.Getenv(KeyFileEnv); env != "" {
		return env
	}
	if configured != "" {
		return configured
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "lsp-router", "audit.key")
}

// LoadKey reads a key file: hex digits (at least 64, i.e. 32 bytes), owned
// by the user and readable by nobody else. A key others can read is refused:
// whoever reads it can forge the log.
func LoadKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("audit: key file %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit: key file %s has mode %v, so others can read it and forge the log: run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("audit: read key file %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("audit: key file %s is larger than %d bytes: it is not an audit key", path, maxKeyFile)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < keyBytes {
		return nil, fmt.Errorf("audit: key file %s does not hold at least %d hex digits: move it aside and a new key is created on the next start (only for a new log)", path, 2*keyBytes)
	}
	return key, nil
}

// createKey writes a new random key to path (0600, in a 0700 directory).
// When another process created it first, that key is returned.
func createKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: create directory for key file %s: %w", path, err)
	}
	key := make([]byte, keyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("audit: generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: create key file: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("audit: write key file %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return key, nil
}

// KeyID names a key without revealing it: the first 16 hex digits of a
// domain-separated SHA-256. Records carry it so that a log checked with the
// wrong key says so instead of "edited".
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("lsp-router audit key id v1\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func macHex(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
