package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--kind", "chatgpt"},
		{"--echo", "--reply", "x"},
		{"--reply-file", "/nonexistent/answer.txt"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if err == nil {
			t.Errorf("%v: want an error", args)
			continue
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed a URL before failing", args)
		}
	}
}

func TestServesReplyFileUntilStopped(t *testing.T) {
	answer := filepath.Join(t.TempDir(), "answer.txt")
	os.WriteFile(answer, []byte("local answer"), 0o644)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--kind", "llamacpp", "--reply-file", answer}, pw, io.Discard)
		pw.Close()
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url = strings.TrimSpace(url)
	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","stream":false,"messages":[{"role":"user","content":"q"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"content":"local answer"`) {
		t.Fatalf("answer %s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
