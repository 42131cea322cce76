// Command bench measures lsp-router's performance budgets end to end and
// writes a table to stdout and the figures to a JSON file. Every figure is
// the median and p99 of repeated runs on this machine. Run it with
// `make bench`.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Figure is one measured quantity.
type Figure struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Runs   int     `json:"runs"`
	Target string  `json:"target,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Report is the JSON file's content.
type Report struct {
	Machine Machine  `json:"machine"`
	When    string   `json:"when"`
	Figures []Figure `json:"figures"`
}

// Machine says where the figures were taken.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	OS     string `json:"os"`
	Go     string `json:"go"`
	Kernel string `json:"kernel,omitempty"`
}

type suite struct {
	binary  string
	quick   bool
	figures []Figure
}

func main() {
	out := flag.String("out", "bench/results.json", "write the JSON report to `file`")
	only := flag.String("only", "", "run only the sections whose name contains this")
	quick := flag.Bool("quick", false, "fewer repetitions (for a smoke run)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "lsp-router-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "lsp-router")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/lsp-router").CombinedOutput(); err != nil {
		fail(fmt.Errorf("build: %v\n%s", err, out))
	}
	s := &suite{binary: bin, quick: *quick}
	for _, sec := range sections {
		if *only != "" && !strings.Contains(sec.name, *only) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s...\n", sec.name)
		if err := sec.run(s); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", sec.name, err)
			s.figures = append(s.figures, Figure{Name: sec.name, Note: "failed: " + err.Error()})
		}
	}
	rep := Report{Machine: machine(), When: time.Now().UTC().Format(time.RFC3339), Figures: s.figures}
	printTable(rep)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fail(err)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fail(err)
	}
	fmt.Printf("\nwrote %s\n", *out)
}

type section struct {
	name string
	run  func(*suite) error
}

// sections are registered by the files of this command, in table order.
var sections []section

func (s *suite) reps(n int) int {
	if s.quick {
		return max(3, n/10)
	}
	return n
}

func (s *suite) add(name, unit string, samples []float64, target, note string) {
	s.figures = append(s.figures, Figure{Name: name, Unit: unit, Median: quantile(samples, 0.5), P99: quantile(samples, 0.99), Runs: len(samples), Target: target, Note: note})
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i]
}

func printTable(r Report) {
	fmt.Printf("lsp-router benchmarks on %s (%d cores, %s)\n\n", r.Machine.CPU, r.Machine.Cores, r.Machine.Go)
	fmt.Printf("| %-58s | %12s | %12s | %5s | %-14s |\n", "figure", "median", "p99", "runs", "target")
	fmt.Printf("|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 60), strings.Repeat("-", 14), strings.Repeat("-", 14), strings.Repeat("-", 7), strings.Repeat("-", 16))
	for _, f := range r.Figures {
		if f.Unit == "" {
			fmt.Printf("| %-58s | %12s | %12s | %5s | %-14s |\n", f.Name, "-", "-", "-", f.Note)
			continue
		}
		fmt.Printf("| %-58s | %12s | %12s | %5d | %-14s |\n", f.Name, format(f.Median, f.Unit), format(f.P99, f.Unit), f.Runs, f.Target)
	}
	for _, f := range r.Figures {
		if f.Note != "" && f.Unit != "" {
			fmt.Printf("\n- %s: %s", f.Name, f.Note)
		}
	}
	fmt.Println()
}

func format(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.3f ms", v)
	case "us":
		return fmt.Sprintf("%.1f µs", v)
	case "MB":
		return fmt.Sprintf("%.1f MB", v)
	case "x":
		return fmt.Sprintf("%.2fx", v)
	case "%":
		return fmt.Sprintf("%.2f%%", v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				m.CPU = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}
