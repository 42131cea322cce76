package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/lsp/fakeeditor"
)

func init() {
	sections = append(sections,
		section{"start-up: process start to initialize response", benchStartup},
		section{"memory: RSS", benchMemory},
	)
}

type proc struct {
	cmd *exec.Cmd
	ed  *fakeeditor.Editor
	dir string
}

type stream struct {
	io.Reader
	io.WriteCloser
}

func (s *suite) start(ctx context.Context, initOptions any) (*proc, time.Duration, error) {
	return s.startWith(ctx, initOptions, "")
}

func (s *suite) startWithEnv(ctx context.Context, configPath string) (*proc, time.Duration, error) {
	return s.startWith(ctx, nil, configPath)
}

func (s *suite) startWith(ctx context.Context, initOptions any, configPath string) (*proc, time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-ws")
	if err != nil {
		return nil, 0, err
	}
	args := []string{"--log-level", "error"}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	cmd := exec.Command(s.binary, append(args, "serve")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_STATE_HOME="+dir, "LSP_ROUTER_CONFIG=")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	ed := fakeeditor.Connect(ctx, stream{stdout, stdin}, fakeeditor.FullCaps)
	if _, err := ed.Initialize(ctx, dir, initOptions); err != nil {
		cmd.Process.Kill()
		return nil, 0, fmt.Errorf("initialize: %w", err)
	}
	return &proc{cmd: cmd, ed: ed, dir: dir}, time.Since(t0), nil
}

func (p *proc) stop() {
	p.ed.Close()
	p.cmd.Process.Kill()
	p.cmd.Wait()
	os.RemoveAll(p.dir)
}

// rssMB reads the resident set size of a process from /proc.
func rssMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, err := strconv.Atoi(f[1])
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

func benchStartup(s *suite) error {
	var samples []float64
	for range s.reps(30) {
		p, d, err := s.start(context.Background(), nil)
		if err != nil {
			return err
		}
		samples = append(samples, float64(d.Microseconds())/1000)
		p.stop()
	}
	s.add("start-up: process start to initialize response", "ms", samples, "< 20 ms", "")
	return nil
}

func smallGoFile() string {
	return "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n"
}

// bigDocument is about 100 KB of Go source.
func bigDocument(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package p%d\n\n", i)
	for n := 0; b.Len() < 100*1024; n++ {
		fmt.Fprintf(&b, "// F%d returns its argument doubled.\nfunc F%d(x int) int {\n\treturn x * 2\n}\n\n", n, n)
	}
	return b.String()
}

func benchMemory(s *suite) error {
	ctx := context.Background()
	var idle, fifty []float64
	for range s.reps(10) {
		p, _, err := s.start(ctx, nil)
		if err != nil {
			return err
		}
		if err := p.ed.Open(ctx, filepath.Join(p.dir, "main.go"), "go", smallGoFile()); err != nil {
			return err
		}
		// A code action round trip makes sure didOpen was processed.
		p.ed.Execute(ctx, "lsp-router.cancel")
		time.Sleep(200 * time.Millisecond)
		r, err := rssMB(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		idle = append(idle, r)
		for i := range 50 {
			if err := p.ed.Open(ctx, filepath.Join(p.dir, fmt.Sprintf("f%d.go", i)), "go", bigDocument(i)); err != nil {
				return err
			}
		}
		p.ed.Execute(ctx, "lsp-router.cancel")
		time.Sleep(200 * time.Millisecond)
		r, err = rssMB(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		fifty = append(fifty, r)
		p.stop()
	}
	s.add("memory: RSS idle after initialize + didOpen", "MB", idle, "< 20 MB", "")
	s.add("memory: RSS with 50 open 100 KB documents", "MB", fifty, "< 60 MB", "")
	return nil
}
