package redact

import (
	"fmt"
	"strings"
	"testing"
)

// codeMB is about 1 MB of ordinary Go with a secret every ~64 KB: the
// shape of a large prompt (file, references, hover text).
func codeMB() string {
	const chunk = `// Package store keeps sessions keyed by their token hash.
package store

import (
	"context"
	"crypto/sha256"
	"fmt"
)

type Config struct {
	Password string ` + "`toml:\"password\"`" + `
	APIKey   string ` + "`toml:\"api_key\"`" + `
	MaxTokens int
}

func (s *Store) Get(ctx context.Context, token string) (*Session, error) {
	sum := sha256.Sum256([]byte(token))
	key := fmt.Sprintf("%x", sum[:])
	id := "123e4567-e89b-12d3-a456-426614174000" // commit 3f786850e387550fdab836ed7e6dc881de23001b
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.byKey[key]; ok && sess.ID != id {
		return sess, nil
	}
	return nil, fmt.Errorf("session %q: %w", key, ErrNotFound)
}
`
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString(chunk)
		if i%80 == 0 {
			b.WriteString(`const deployToken = "` + ghp + `"` + "\n")
			b.WriteString(`dsn := "postgres://app:S3cr3t-pa55@db.lab.internal:5432/app"` + "\n")
		}
	}
	return b.String()
}

func BenchmarkRedact1MB(b *testing.B) {
	in := codeMB()
	r := Default()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, fs := r.Redact(in)
		if len(fs) == 0 || strings.Contains(out, ghp) {
			b.Fatal("secrets left")
		}
	}
}

func BenchmarkRedact1MBNoSecrets(b *testing.B) {
	in := strings.ReplaceAll(strings.ReplaceAll(codeMB(), ghp, "x"), "S3cr3t-pa55@", "")
	r := Default()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, fs := r.Redact(in); len(fs) != 0 {
			b.Fatal(fs)
		}
	}
}

// BenchmarkRedactPlainGo400KB is the prompt of a refactor in a 100k-token
// file without secrets or keywords (tools/bench's lean figure): every rule's
// keyword search reads the whole text.
func BenchmarkRedactPlainGo400KB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 400_000; i++ {
		fmt.Fprintf(&sb, "// f%d doubles.\nfunc f%d(x int) int {\n\treturn x * %d\n}\n\n", i, i, i%9+2)
	}
	in := sb.String()
	r := Default()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, fs := r.Redact(in); len(fs) != 0 {
			b.Fatal(fs)
		}
	}
}
