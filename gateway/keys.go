package gateway

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
)

// Keys maps the SHA-256 digest of each bearer token to its owner. The file
// never holds a token: a leaked keys file lets nobody in.
type Keys struct {
	owners map[[32]byte]string
}

// maxKeysFileBytes bounds the keys file (about 10,000 entries).
const maxKeysFileBytes = 1 << 20

var ownerRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// LoadKeys reads a keys file: one "sha256:HEX OWNER" per line, "#"
// comments and blank lines ignored. `lsp-router gateway hash-key` prints a
// line for a token.
func LoadKeys(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gateway.keys_file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o002 != 0 {
		// Whoever can write the file can let anyone in.
		return nil, fmt.Errorf("gateway.keys_file %s is writable by everyone (%v): fix it with chmod o-w %s", path, st.Mode().Perm(), path)
	}
	k, err := ParseKeys(io.LimitReader(f, maxKeysFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gateway.keys_file %s: %w", path, err)
	}
	return k, nil
}

// ParseKeys parses the keys file format (see LoadKeys).
func ParseKeys(r io.Reader) (*Keys, error) {
	k := &Keys{owners: map[[32]byte]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	n := 0
	for line := 1; sc.Scan(); line++ {
		n += len(sc.Bytes()) + 1
		if n > maxKeysFileBytes {
			return nil, fmt.Errorf("larger than %d bytes", maxKeysFileBytes)
		}
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 2 || !strings.HasPrefix(f[0], "sha256:") {
			return nil, fmt.Errorf("line %d: want \"sha256:<64 hex digits> <owner>\" (make one with `lsp-router gateway hash-key`)", line)
		}
		b, err := hex.DecodeString(strings.TrimPrefix(f[0], "sha256:"))
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("line %d: the digest is not 64 hex digits (make one with `lsp-router gateway hash-key`)", line)
		}
		if !ownerRe.MatchString(f[1]) {
			return nil, fmt.Errorf("line %d: owner %q must be 1-64 letters, digits or ._@+-", line, f[1])
		}
		var d [32]byte
		copy(d[:], b)
		if prev, dup := k.owners[d]; dup {
			return nil, fmt.Errorf("line %d: the same key is listed for %s already", line, prev)
		}
		k.owners[d] = f[1]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w (lines are at most 4096 bytes)", err)
	}
	if len(k.owners) == 0 {
		return nil, fmt.Errorf("no keys: add a line \"sha256:<digest> <owner>\" (make one with `lsp-router gateway hash-key`)")
	}
	return k, nil
}

// Owner returns the owner of token, or false.
func (k *Keys) Owner(token string) (string, bool) {
	if k == nil || token == "" {
		return "", false
	}
	o, ok := k.owners[sha256.Sum256([]byte(token))]
	return o, ok
}

// Len is the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.owners)
}

// HashLine is the keys file line for token and owner.
func HashLine(token, owner string) (string, error) {
	token = strings.TrimSpace(token)
	if len(token) < 16 {
		return "", fmt.Errorf("the token is %d characters: use at least 16 random ones (e.g. `openssl rand -hex 24`)", len(token))
	}
	if !ownerRe.MatchString(owner) {
		return "", fmt.Errorf("owner %q must be 1-64 letters, digits or ._@+-", owner)
	}
	d := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(d[:]) + " " + owner, nil
}
