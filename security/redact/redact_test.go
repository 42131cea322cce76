package redact

import (
	"strings"
	"testing"
)

// Fake secrets are assembled from parts so that secret scanners do not take
// this file for a leak; each has the real format of its kind.
var (
	ghp      = "gh" + "p_" + "R7mK2xQ9vL4nT8wZ1bC6dF3hJ5pS0aYeUiOq"                             // 36 after the prefix
	gho      = "gh" + "o_" + "16C7e42F292c6912E7710c838347Ae178B4a"                             //
	ghPAT    = "github" + "_pat_" + "11ABCDEFG0123456789abc_" + strings.Repeat("aZ3x9Qw2Lm", 6) //
	glpat    = "gl" + "pat-" + "x9Kd2mZq7Lw3Rt8Yv1Bn"                                           //
	slack    = "xo" + "xb-" + "2489301744-5836102947561-Zq8Lm3Rt9Yv2Bn7Kd1Xw4Ps6"               //
	slackApp = "xo" + "xp-" + "1234567890-0987654321-1122334455-a1b2c3d4e5f60718293a4b5c6d7e8f90"
	google   = "AI" + "za" + "SyD3x7Kq9Lm2Rt8Yv1Bn4Ps6Xw0Zc5Hj7Ue"                // 35 after AIza
	openai   = "s" + "k-proj-" + "Tq8Lm3Rt9Yv2Bn7Kd1Xw4Ps6Zc0Hj5Ue8Fg2Ai7Ob"      //
	anthro   = "s" + "k-ant-api03-" + "Zq8Lm3Rt9Yv2Bn7Kd1Xw4Ps6-Hj5Ue8Fg2Ai7ObQ3" //
	awsID    = "AK" + "IA" + "4QX7ZT2LMN8RB5KD"                                   //
	awsSec   = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY9q8Lm3Rt2Y"                    // 40
	jwt      = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0" + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	pemBody  = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
)

func TestRules(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // the expected output; "" means unchanged
		rule string // the rule of the single finding; "" means none
	}{
		// private-key
		{"rsa key", "key := `-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END RSA PRIVATE KEY-----`\n",
			"key := `[REDACTED:private-key]`\n", "private-key"},
		{"openssh key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----",
			"[REDACTED:private-key]", "private-key"},
		{"pgp key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0z\n-----END PGP PRIVATE KEY BLOCK-----", "[REDACTED:private-key]", "private-key"},
		{"key cut off by the budget", "x\n-----BEGIN EC PRIVATE KEY-----\n" + pemBody + "...", "x\n[REDACTED:private-key]\n...", "private-key"},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1L\n-----END PUBLIC KEY-----", "", ""},
		{"certificate", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----", "", ""},
		// AWS
		{"aws key id", `aws_access_key_id = ` + awsID, `aws_access_key_id = [REDACTED:aws-access-key-id]`, "aws-access-key-id"},
		{"aws secret", `aws_secret_access_key = ` + awsSec + "\n", "aws_secret_access_key = [REDACTED:aws-secret-access-key]\n", "aws-secret-access-key"},
		{"aws secret in json", `"AWS_SECRET_ACCESS_KEY": "` + awsSec + `"`, `"AWS_SECRET_ACCESS_KEY": "[REDACTED:aws-secret-access-key]"`, "aws-secret-access-key"},
		{"aws-like constant", `const region = "AKIAINVALIDREGION"`, "", ""},
		// GitHub
		{"github pat", `token := "` + ghp + `"`, `token := "[REDACTED:github-token]"`, "github-token"},
		{"github oauth", "Authorization: token " + gho, "Authorization: token [REDACTED:github-token]", "github-token"},
		{"github fine-grained", "GH_TOKEN=" + ghPAT + "\n", "GH_TOKEN=[REDACTED:github-token]\n", "github-token"},
		{"github prefix in prose", "tokens start with ghp_ and are 40 characters long", "", ""},
		// GitLab, Slack, Google, OpenAI-style
		{"gitlab", "export GITLAB_TOKEN=" + glpat, "export GITLAB_TOKEN=[REDACTED:gitlab-token]", "gitlab-token"},
		{"slack bot", `slack.New("` + slack + `")`, `slack.New("[REDACTED:slack-token]")`, "slack-token"},
		{"slack app", "SLACK=" + slackApp, "SLACK=[REDACTED:slack-token]", "slack-token"},
		{"slack word", "the xoxb-style prefix marks bot tokens", "", ""},
		{"google", `const mapsKey = "` + google + `"`, `const mapsKey = "[REDACTED:google-api-key]"`, "google-api-key"},
		{"openai", `client = OpenAI(api_key="` + openai + `")`, `client = OpenAI(api_key="[REDACTED:openai-key]")`, "openai-key"},
		{"anthropic-style", "ANTHROPIC_API_KEY=" + anthro, "ANTHROPIC_API_KEY=[REDACTED:openai-key]", "openai-key"},
		{"sk- in an identifier", `task-runner-configuration-loader-module`, "", ""},
		{"sk- word", `flags: sk-learn-compat-mode-enabled-by-default`, "", ""},
		// JWT
		{"jwt", "Authorization: Bearer " + jwt, "Authorization: Bearer [REDACTED:jwt]", "jwt"},
		// Passwords in URLs
		{"postgres url", `db, _ := sql.Open("pgx", "postgres://app:S3cr3t-pa55@db.lab.internal:5432/app")`,
			`db, _ := sql.Open("pgx", "postgres://app:[REDACTED:url-password]@db.lab.internal:5432/app")`, "url-password"},
		{"https url", "git clone https://deploy:x7Kq9Lm2@git.lab.internal/repo.git", "git clone https://deploy:[REDACTED:url-password]@git.lab.internal/repo.git", "url-password"},
		{"url without password", "see https://git.lab.internal/user@example/repo and ssh://git@host/repo", "", ""},
		{"url with a variable", `dsn := "postgres://app:${DB_PASSWORD}@db:5432/app"`, "", ""},
		{"url with a mask", `postgres://app:****@db:5432/app`, "", ""},
		{"port is not a password", `http://127.0.0.1:11434/api/tags`, "", ""},
		// High-entropy assignments
		{"password in yaml", "password: Zx8#qL2mR9vT4wK7\n", "password: [REDACTED:secret-assignment]\n", "secret-assignment"},
		{"api_key in python", `API_KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"`, `API_KEY = "[REDACTED:secret-assignment]"`, "secret-assignment"},
		{"client secret in json", `{"client_secret": "q7Vz2Lm9Rt4Yx8Bn1Kd6"}`, `{"client_secret": "[REDACTED:secret-assignment]"}`, "secret-assignment"},
		{"go token", `authToken := "b64:Tk9UX0FfUkVBTF9LRVkxMjM0"`, `authToken := "[REDACTED:secret-assignment]"`, "secret-assignment"},
		{"env file", "DB_PASSWORD=hR5tY8uI2oP4aS6d\n", "DB_PASSWORD=[REDACTED:secret-assignment]\n", "secret-assignment"},
		{"short password", `password = "hunter2"`, "", ""},
		{"password from env", `password := os.Getenv("DB_PASSWORD")`, "", ""},
		{"password field", `cfg.Password = req.Form.Get("password")`, "", ""},
		{"placeholder", `api_key = "${OPENAI_API_KEY_FROM_ENVIRONMENT}"`, "", ""},
		{"template", `token: "{{ .Values.secrets.token123456 }}"`, "", ""},
		{"repeated test value", `token = "xxxxxxxxxxxxxxxxxxxxxxxx1"`, "", ""},
		{"words only", `secret = "correct-horse-battery-staple"`, "", ""},
		{"struct tag", "Token string `json:\"token\" toml:\"token\"`", "", ""},
		{"map key", `headers["X-Api-Key"] = key`, "", ""},
		{"longer name", `GITLAB_ACCESS_TOKEN_PROD: "Rt9Yv2Bn7Kd1Xw4Ps6Zc"`, `GITLAB_ACCESS_TOKEN_PROD: "[REDACTED:secret-assignment]"`, "secret-assignment"},
		{"url value", `password_reset_url = "https://id.lab.internal/reset?x=1a2b3c"`, "", ""},
	}
	r := Default()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, fs := r.Redact(c.in)
			want := c.want
			if want == "" {
				want = c.in
			}
			if got != want {
				t.Errorf("Redact:\n got %q\nwant %q", got, want)
			}
			if c.rule == "" {
				if len(fs) != 0 {
					t.Errorf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Rule != c.rule {
				t.Errorf("findings %+v, want one %s", fs, c.rule)
			}
		})
	}
}

// Ordinary code keeps every byte: identifiers, hashes, UUIDs, base64 of
// words and test data are not secrets.
func TestNonSecretsAreKept(t *testing.T) {
	inputs := []string{
		`id := uuid.MustParse("123e4567-e89b-12d3-a456-426614174000")`,
		`requestID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"`,
		`// fixed in 3f786850e387550fdab836ed7e6dc881de23001b (revert of 89e6c98d92887913cadf06b2adb97f26cde4849b)`,
		`commit := "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"`,
		`digest = "sha256:dae161e27b0e90dd1856c8bb3209201fd6736d8eb66298e75ed87571486f4364"`,
		`greeting := base64.StdEncoding.DecodeString("aGVsbG8gd29ybGQsIHRoaXMgaXMgYSB0ZXN0")`,
		`want := "SGVsbG8sIFdvcmxkIQ=="`,
		`{"input": "the quick brown fox", "want": "THE QUICK BROWN FOX", "tokens": 4}`,
		`func TestParseToken(t *testing.T) { tok := lexer.Next(); if tok.Kind != TokenIdent { t.Fatal(tok) } }`,
		`maxTokens := 2048 // token budget`,
		`keyFunc: func(k string) string { return strings.ToLower(k) }`,
		`password := flag.String("password", "", "the database password")`,
		`if err := checkPassword(user, passwordHash); err != nil {`,
		`const privateKeyPath = "/etc/ssl/private/server.key"`,
		`tokenizer := "Qwen/Qwen2.5-Coder-7B-Instruct"`,
		`max_tokens: 4096`,
		`keyword = "k8s-deployment-2024-rollout"`,
		`matrix = [[0.123456789, 0.987654321], [0.55, 0.45]]`,
		`email: "alice@example.invalid"`,
		"# Keys are rotated every 90 days; see docs/security.md",
	}
	r := Default()
	for _, in := range inputs {
		if got, fs := r.Redact(in); got != in || len(fs) != 0 {
			t.Errorf("changed non-secret:\n in %q\nout %q (%+v)", in, got, fs)
		}
	}
}

func TestSeveralSecretsAndFindings(t *testing.T) {
	in := "a := \"" + ghp + "\"\nb := \"" + ghp + "\"\nc := \"" + glpat + "\"\n"
	out, fs := Default().Redact(in)
	if strings.Contains(out, ghp) || strings.Contains(out, glpat) || strings.Count(out, "[REDACTED:") != 3 {
		t.Fatalf("out %q", out)
	}
	if len(fs) != 3 || fs[0].Sum != fs[1].Sum || fs[0].Sum == fs[2].Sum {
		t.Errorf("findings %+v: the same token twice must hash alike, another differently", fs)
	}
	// An assignment whose value an earlier rule replaced is not counted twice.
	_, fs = Default().Redact(`GITHUB_TOKEN = "` + ghp + `"`)
	if len(fs) != 1 || fs[0].Rule != "github-token" {
		t.Errorf("double count: %+v", fs)
	}
}

func TestExtraPatterns(t *testing.T) {
	r, err := New([]string{`ACME-[0-9a-f]{16}`, `(?i)internal-ticket-\d+`})
	if err != nil {
		t.Fatal(err)
	}
	out, fs := r.Redact("key ACME-0123456789abcdef and INTERNAL-TICKET-42 and " + ghp)
	if out != "key [REDACTED:custom] and [REDACTED:custom] and [REDACTED:github-token]" || len(fs) != 3 {
		t.Errorf("%q %+v", out, fs)
	}
	bad := []struct {
		patterns []string
		want     string
	}{
		{[]string{`ACME-(`}, `pattern 1 "ACME-(" is not a valid regular expression (missing closing ): "ACME-("): use Go RE2 syntax`},
		{[]string{`ok`, `(?<=x)y`}, "pattern 2"},
		{[]string{`a*`}, "matches the empty string"},
		{[]string{` `}, "pattern 1 is empty"},
		{[]string{strings.Repeat("a", MaxPatternLength+1)}, "at most 512"},
		{make([]string, MaxExtraPatterns+1), "at most 32 are allowed"},
	}
	for _, b := range bad {
		if _, err := New(b.patterns); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("New(%.40q) = %v, want %q", b.patterns, err, b.want)
		}
	}
}

func TestEntropy(t *testing.T) {
	if e := Entropy("aaaaaaaaaaaaaaaa"); e != 0 {
		t.Errorf("constant: %v", e)
	}
	if e := Entropy("0123456789abcdef"); e != 4 {
		t.Errorf("16 distinct: %v", e)
	}
	if Entropy("") != 0 {
		t.Error("empty")
	}
}

func TestNilRedactorAndEmptyInput(t *testing.T) {
	var r *Redactor
	if out, fs := r.Redact(ghp); out != ghp || fs != nil {
		t.Error("nil redactor changed text")
	}
	if out, fs := Default().Redact(""); out != "" || fs != nil {
		t.Error("empty input")
	}
}

// A hostile prompt (one long line full of keywords, or of near-misses) is
// still processed in linear time: doubling it about doubles the work.
func TestLongLinesStayLinear(t *testing.T) {
	r := Default()
	for _, unit := range []string{"token=token=", "password: ", "x://a:b", "eyJ", "-----BEGIN RSA PRIVATE KEY-----", "ghp_", "AKIA", "sk-", "glpat-", "-----END PRIVATE KEY-----"} {
		small := strings.Repeat(unit, 2000)
		big := strings.Repeat(unit, 16000)
		ts, tb := timeRedact(r, small), timeRedact(r, big)
		// 8x the input: quadratic work would take 64x the time; allow 24x,
		// which also absorbs a loaded machine.
		if tb > 24*ts+20_000_000 {
			t.Errorf("%q: %d ns for %d bytes, %d ns for %d bytes: not linear", unit, ts, len(small), tb, len(big))
		}
	}
}

func timeRedact(r *Redactor, s string) int64 {
	best := int64(1 << 62)
	for i := 0; i < 3; i++ {
		start := nowNanos()
		r.Redact(s)
		if d := nowNanos() - start; d < best {
			best = d
		}
	}
	return best
}

func TestRestorePutsSecretsBackIntoAnEdit(t *testing.T) {
	r := Default()
	original := "func client() *Client {\n\treturn New(\"" + ghp + "\", \"" + glpat + "\")\n}\n"
	redacted, _ := r.Redact(original)
	// The model documents the function and keeps the placeholders.
	edited := "// client returns the API client.\n" + redacted
	got, ok := r.Restore(original, edited)
	if !ok || got != "// client returns the API client.\n"+original {
		t.Fatalf("Restore = %q, %v", got, ok)
	}
	// Nothing to restore.
	if got, ok := r.Restore(original, "plain"); !ok || got != "plain" {
		t.Errorf("plain: %q %v", got, ok)
	}
	// The same token twice in the original, once in the edit: unambiguous.
	twice := "a := \"" + ghp + "\"\nb := \"" + ghp + "\"\n"
	if got, ok := r.Restore(twice, "a := \"[REDACTED:github-token]\"\n"); !ok || !strings.Contains(got, ghp) {
		t.Errorf("repeated secret: %q %v", got, ok)
	}
	// Two different tokens, one placeholder left: which one is unknown.
	two := "a := \"" + ghp + "\"\nb := \"" + gho + "\"\n"
	if _, ok := r.Restore(two, "a := \"[REDACTED:github-token]\"\n"); ok {
		t.Error("ambiguous placeholder restored")
	}
	// A placeholder copied from elsewhere in the prompt: refused.
	if _, ok := r.Restore("func f() {}", "func f() { _ = \"[REDACTED:jwt]\" }"); ok {
		t.Error("foreign placeholder restored")
	}
}

func TestLongAssignedValueIsRedactedWhole(t *testing.T) {
	long := strings.Repeat("q7Vz2Lm9Rt4Yx8Bn1Kd6", 30) // 600 bytes
	out, fs := Default().Redact(`api_key = "` + long + `"`)
	if out != `api_key = "[REDACTED:secret-assignment]"` || len(fs) != 1 {
		t.Errorf("%q", out)
	}
}

func TestASCIILowerKeepsOffsets(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "abc": "abc", "ABC": "abc", "aPi_KEY=Ünï": "api_key=Ünï", "X": "x", "tail Z": "tail z", "\xffQ\xfe": "\xffq\xfe",
	} {
		got := asciiLower(in)
		if got != want || len(got) != len(in) {
			t.Errorf("asciiLower(%q) = %q, want %q", in, got, want)
		}
	}
}
