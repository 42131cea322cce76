package prompt

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestEstimateCalibrated compares EstimateTokens with exact counts taken
// by the real tokenizers (testdata/calibration/counts.tsv). The estimate
// must rarely under-count (a prompt sized with it must fit) and must not
// waste much of the window.
func TestEstimateCalibrated(t *testing.T) {
	data, err := os.ReadFile("testdata/calibration/counts.tsv")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		exact, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("counts.tsv: %q: %v", line, err)
		}
		text, err := os.ReadFile("testdata/calibration/" + f[0])
		if err != nil {
			t.Fatal(err)
		}
		est := EstimateTokens(f[1], string(text))
		r := float64(est) / float64(exact)
		t.Logf("%-10s %-8s exact %5d estimate %5d (%.2f)", f[0], f[1], exact, est, r)
		if r < 1.0 || r > 1.45 {
			t.Errorf("%s/%s: estimate %d for %d exact tokens (ratio %.2f, want 1.00..1.45)", f[0], f[1], est, exact, r)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d calibration rows", checked)
	}
}

func TestEstimateBasics(t *testing.T) {
	if EstimateTokens("qwen", "") != 0 {
		t.Fatal("empty text must be 0 tokens")
	}
	short := EstimateTokens("qwen", "func f() {}\n")
	long := EstimateTokens("qwen", strings.Repeat("func f() {}\n", 10))
	if short <= 0 || long < 9*short {
		t.Fatalf("estimate must grow with text: %d, %d", short, long)
	}
	if EstimateTokens("unknown", "hello world") < EstimateTokens("llama3", "hello world") {
		t.Fatal("unknown families must be at least as conservative as llama3")
	}
	if got := EstimateTokens("llama3", "你好世界"); got < 4 {
		t.Fatalf("CJK characters count one token each, got %d", got)
	}
}

func TestFamilyOf(t *testing.T) {
	cases := map[string]string{
		"qwen2.5-coder:7b":                   "qwen",
		"hf.co/bartowski/Qwen2.5-Coder-GGUF": "qwen",
		"deepseek-coder-v2:16b":              "deepseek",
		"deepseek-r1:14b-qwen-distill":       "qwen",
		"deepseek-r1:8b-llama-distill":       "llama3",
		"llama3.1:8b":                        "llama3",
		"codellama:13b":                      "mistral",
		"mistral:7b-instruct":                "mistral",
		"gemma3:12b":                         "gemma",
		"starcoder2":                         "",
	}
	for model, want := range cases {
		if got := FamilyOf(model); got != want {
			t.Errorf("FamilyOf(%q) = %q, want %q", model, got, want)
		}
	}
}

// TestLineCountsMatchesRuneByRune checks the one-pass counter against the
// definition it replaces: a range over the runes and codeLike.
func TestLineCountsMatchesRuneByRune(t *testing.T) {
	lines := []string{
		"", "\n", "\tx := y\n", "  indented prose\n", "func f(a, b int) (int, error) {\n",
		"Plain prose, with commas: and periods.\n", "a_b\n", "héllo wörld = 1\n",
		"日本語のテキスト {x}\n", "emoji 😀😀 here\n", "bad \xff\xfe utf8 (x)\n", "\xe6\x97", "x" + strings.Repeat("_", 1) + strings.Repeat("a", 40),
		strings.Repeat("word ", 20) + "(x)\n", "#include <stdio.h>\n", `s := "a\"b" // c` + "\n",
		strings.Repeat("a", 15) + "(", strings.Repeat("a", 16) + "(", strings.Repeat("a", 31) + "()", strings.Repeat("a", 32) + "()",
		"abcdefg\xc3\xa9", "abcdefgh\xc3\xa9{", " \xe2\x82\xac", "\t" + strings.Repeat("x", 40),
	}
	for _, line := range lines {
		n, w := 0, 0
		for _, c := range line {
			switch {
			case c >= 0x1F000:
				w += 2
			case c >= 0x2E80:
				w++
			default:
				n++
			}
		}
		gn, gw, gc := lineCounts(line)
		if gn != n || gw != w || gc != codeLike(line) {
			t.Errorf("lineCounts(%q) = %d, %d, %v; want %d, %d, %v", line, gn, gw, gc, n, w, codeLike(line))
		}
	}
}

// BenchmarkEstimateTokens400KB counts a refactor prompt's whole file of
// 100k tokens (tools/bench's largest lean figure).
func BenchmarkEstimateTokens400KB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 400_000; i++ {
		sb.WriteString("// f" + strconv.Itoa(i) + " doubles.\nfunc f" + strconv.Itoa(i) + "(x int) int {\n\treturn x * " + strconv.Itoa(i%9+2) + "\n}\n\n")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		EstimateTokens("qwen", text)
	}
}
