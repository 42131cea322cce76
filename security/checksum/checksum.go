// Package checksum pins models to digests and verifies them, so that with
// verify_checksums = true a model whose bytes changed (or that nobody pinned)
// is refused for routing.
//
// A digest is written "sha256:<64 lower-case hex>". Two sources exist:
//   - Ollama's manifest digest, the "digest" field of GET /api/tags (bare hex
//     there; "sha256:" is accepted too);
//   - the SHA-256 of the GGUF file for servers started from a file path
//     (llama.cpp's /props model_path, KoboldCpp, ...), computed here by
//     streaming the file.
//
// Proposed configuration shape (model ids as the service reports them; keys
// must be quoted because ids contain ':' and '/'):
//
//	[security]
//	verify_checksums = true
//
//	[security.model_pins]
//	"qwen2.5-coder:7b" = "sha256:2b0496514337..."
//	"/models/llama-3.1-8b-q4_k_m.gguf" = "sha256:9f1c..."
package checksum

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Prefix is the algorithm prefix of normalized digests.
const Prefix = "sha256:"

// NormalizeDigest accepts "sha256:<hex>" or bare hex (Ollama's /api/tags),
// in any case, and returns "sha256:<lower hex>".
func NormalizeDigest(s string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(s))
	if alg, rest, ok := strings.Cut(d, ":"); ok {
		if alg != "sha256" {
			return "", fmt.Errorf("digest %q: algorithm %q is not supported (use sha256)", s, alg)
		}
		d = rest
	}
	if len(d) != 64 {
		return "", fmt.Errorf("digest %q: want 64 hex digits after \"sha256:\", got %d characters", s, len(d))
	}
	if _, err := hex.DecodeString(d); err != nil {
		return "", fmt.Errorf("digest %q: not hexadecimal", s)
	}
	return Prefix + d, nil
}

// Pins maps a model id (or a GGUF file path) to its pinned digest.
type Pins map[string]string

// Validate checks every pinned digest and returns the normalized pins, or an
// error naming the first bad entry (sorted by model id).
func (p Pins) Validate() (Pins, error) {
	out := make(Pins, len(p))
	for _, id := range sortedKeys(p) {
		if strings.TrimSpace(id) == "" {
			return nil, errors.New("security.model_pins: empty model id")
		}
		d, err := NormalizeDigest(p[id])
		if err != nil {
			return nil, fmt.Errorf("security.model_pins[%q]: %w (run `lsp-router models --pin` to print correct pins)", id, err)
		}
		out[id] = d
	}
	return out, nil
}

func sortedKeys(p Pins) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Decision is the integrity verdict for one model.
type Decision string

const (
	// Pinned: the model's digest equals its pin. The only routable decision.
	Pinned Decision = "pinned"
	// Mismatched: the model's digest differs from its pin.
	Mismatched Decision = "mismatched"
	// Unpinned: no pin exists for the model.
	Unpinned Decision = "unpinned"
	// Unverifiable: the service reports no digest and no file to hash.
	Unverifiable Decision = "unverifiable"
)

// Result is a decision with its reason, for `route` and `doctor`.
type Result struct {
	Model    string   `json:"model"`
	Decision Decision `json:"decision"`
	Want     string   `json:"want,omitempty"`
	Got      string   `json:"got,omitempty"`
	// Reason is a full sentence including the fix.
	Reason string `json:"reason"`
}

// Allowed reports whether the model may be routed to.
func (r Result) Allowed() bool { return r.Decision == Pinned }

// Verify compares a model's reported digest with its pin. pins should come
// from Validate; digest may be bare hex or "sha256:..." and empty when the
// service does not report one.
func (p Pins) Verify(model, digest string) Result {
	r := Result{Model: model}
	want, pinned := p.lookup(model)
	if pinned {
		if w, err := NormalizeDigest(want); err == nil {
			want = w
		}
		r.Want = want
	}
	var got string
	if digest != "" {
		g, err := NormalizeDigest(digest)
		if err != nil {
			r.Decision = Unverifiable
			r.Reason = fmt.Sprintf("model %s: the service reported an unusable digest: %v", model, err)
			return r
		}
		got = g
		r.Got = got
	}
	switch {
	case got == "":
		r.Decision = Unverifiable
		r.Reason = fmt.Sprintf("model %s: the service reports no digest, so it cannot be verified; serve it from a GGUF file (pinned by file hash) or set security.verify_checksums = false", model)
	case !pinned:
		r.Decision = Unpinned
		r.Reason = fmt.Sprintf("model %s (%s) is not pinned; refused while security.verify_checksums = true: add \"%s\" = \"%s\" under [security.model_pins] after checking it is the model you expect", model, short(got), tomlEscape(model), got)
	case got != want:
		r.Decision = Mismatched
		r.Reason = fmt.Sprintf("model %s has digest %s but is pinned to %s: the model changed (re-pulled, replaced or tampered with); refused. If the change is intended, update its pin with `lsp-router models --pin`", model, short(got), short(want))
	default:
		r.Decision = Pinned
		r.Reason = fmt.Sprintf("model %s matches its pin %s", model, short(want))
	}
	return r
}

// lookup finds the pin for model, treating Ollama's implicit tag as equal:
// a pin for "llama3" matches "llama3:latest" and the other way round.
func (p Pins) lookup(model string) (string, bool) {
	if d, ok := p[model]; ok {
		return d, true
	}
	if base, ok := strings.CutSuffix(model, ":latest"); ok {
		d, ok := p[base]
		return d, ok
	}
	if !strings.Contains(model, ":") && !strings.ContainsAny(model, `/\`) {
		d, ok := p[model+":latest"]
		return d, ok
	}
	return "", false
}

// VerifyFile hashes a GGUF file (through h's cache) and verifies it against
// the pin for model.
func (p Pins) VerifyFile(ctx context.Context, h *FileHasher, model, path string) (Result, error) {
	got, err := h.Sum(ctx, path)
	if err != nil {
		return Result{Model: model, Decision: Unverifiable, Reason: err.Error()}, err
	}
	return p.Verify(model, got), nil
}

func short(d string) string {
	if len(d) > len(Prefix)+12 {
		return d[:len(Prefix)+12] + "…"
	}
	return d
}

// FileHasher computes SHA-256 of (large) files, streaming, and remembers
// results by path, size and modification time so a 40 GB model is hashed
// once per change, not per request. Safe for concurrent use.
type FileHasher struct {
	mu    sync.Mutex
	cache map[fileKey]string
}

type fileKey struct {
	path  string
	size  int64
	mtime time.Time
}

// NewFileHasher returns an empty hasher.
func NewFileHasher() *FileHasher { return &FileHasher{cache: map[fileKey]string{}} }

// Sum returns "sha256:<hex>" of the file. It checks ctx between 1 MiB reads,
// so a cancelled request stops hashing promptly.
func (h *FileHasher) Sum(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash model file %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("hash model file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("hash model file %s: not a regular file", path)
	}
	key := fileKey{path, fi.Size(), fi.ModTime()}
	h.mu.Lock()
	d, ok := h.cache[key]
	h.mu.Unlock()
	if ok {
		return d, nil
	}
	sum := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("hash model file %s: %w", path, err)
		}
		n, rerr := f.Read(buf)
		sum.Write(buf[:n])
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("hash model file %s: %w", path, rerr)
		}
	}
	d = Prefix + hex.EncodeToString(sum.Sum(nil))
	h.mu.Lock()
	h.cache[key] = d
	h.mu.Unlock()
	return d, nil
}

// Model is one installed model for FormatPins.
type Model struct {
	// ID is the pin key: the model id the service reports, or the GGUF path.
	ID string
	// Digest is bare hex or "sha256:..."; empty when unknown.
	Digest string
	// Source says where it was found ("ollama http://127.0.0.1:11434"), as a comment.
	Source string
}

// FormatPins renders the [security.model_pins] TOML table for the given
// models (sorted by id), as `lsp-router models --pin` prints it. Models
// without a usable digest are listed as comments with the reason.
func FormatPins(models []Model) string {
	sorted := append([]Model(nil), models...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	var b strings.Builder
	b.WriteString("# Generated by `lsp-router models --pin`. Check each model before trusting it,\n")
	b.WriteString("# and set verify_checksums = true in the [security] table to enforce the pins.\n")
	b.WriteString("[security.model_pins]\n")
	seen := map[string]bool{}
	for _, m := range sorted {
		if seen[m.ID] {
			fmt.Fprintf(&b, "# %q listed twice (%s): keep one pin per model id\n", m.ID, oneLine(m.Source))
			continue
		}
		d, err := NormalizeDigest(m.Digest)
		if err != nil || m.Digest == "" {
			why := "no digest reported"
			if m.Digest != "" {
				why = err.Error()
			}
			fmt.Fprintf(&b, "# %s: not pinned: %s\n", tomlEscape(m.ID), oneLine(why))
			continue
		}
		seen[m.ID] = true
		if m.Source != "" {
			fmt.Fprintf(&b, "# %s\n", oneLine(m.Source))
		}
		fmt.Fprintf(&b, "\"%s\" = \"%s\"\n", tomlEscape(m.ID), d)
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// tomlEscape escapes s for a TOML basic string ("...").
func tomlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
