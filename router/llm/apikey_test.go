package llm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadAPIKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	os.WriteFile(good, []byte("sk-local-123\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	t.Setenv("LSPR_TEST_KEY", "from-env")
	t.Setenv("LSPR_EMPTY_KEY", "")

	for _, c := range []struct {
		env, file, want, errPart string
	}{
		{"", "", "", ""},
		{"LSPR_TEST_KEY", good, "from-env", ""},
		{"LSPR_EMPTY_KEY", good, "sk-local-123", ""},
		{"", good, "sk-local-123", ""},
		{"LSPR_EMPTY_KEY", "", "", "LSPR_EMPTY_KEY is unset"},
		{"", empty, "", "is empty"},
		{"", filepath.Join(dir, "missing"), "", "read key file"},
	} {
		got, err := LoadAPIKey(c.env, c.file)
		if got != c.want || (c.errPart == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.errPart)) {
			t.Errorf("LoadAPIKey(%q,%q) = %q, %v", c.env, c.file, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "sk-local") {
			t.Error("key leaked into error")
		}
	}
}
