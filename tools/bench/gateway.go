package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func init() {
	sections = append(sections,
		section{"gateway overhead", benchGatewayOverhead},
		section{"gateway prefix affinity", benchGatewayAffinity},
	)
}

// gatewayProc is `lsp-router gateway` serving on a free loopback port.
type gatewayProc struct {
	cmd *exec.Cmd
	url string
	dir string
}

var gatewayAddrRe = regexp.MustCompile(`on (http://\S+)/v1`)

// startGateway runs the gateway with config text cfg (the audit log and
// its key go to a temporary directory, as a team's would go to disk).
func (s *suite) startGateway(cfg string, auditOn bool) (*gatewayProc, error) {
	return s.startGatewayAudit(cfg, auditOn, "")
}

// startGatewayAudit is startGateway with security.audit_fsync set to fsync
// ("" leaves the default).
func (s *suite) startGatewayAudit(cfg string, auditOn bool, fsync string) (*gatewayProc, error) {
	dir, err := os.MkdirTemp("", "bench-gw")
	if err != nil {
		return nil, err
	}
	cfg += fmt.Sprintf("[security]\naudit_enabled = %v\naudit_log_path = %q\naudit_key_file = %q\n", auditOn, filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "audit.key"))
	if fsync != "" {
		cfg += fmt.Sprintf("audit_fsync = %q\n", fsync)
	}
	cfg += "[gateway]\nmax_concurrent_per_key = 1000\n"
	path := filepath.Join(dir, "gw.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(s.binary, "--log-level", "error", "--config", path, "gateway", "--listen", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_STATE_HOME="+dir, "LSP_ROUTER_CONFIG=")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := gatewayAddrRe.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return &gatewayProc{cmd: cmd, url: m[1], dir: dir}, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, fmt.Errorf("the gateway exited before serving")
}

func (g *gatewayProc) stop() {
	g.cmd.Process.Kill()
	g.cmd.Wait()
	os.RemoveAll(g.dir)
}

func onlyServices(ollama string) string {
	var b strings.Builder
	for _, k := range []string{"ollama", "lmstudio", "jan", "openwebui", "localai", "vllm", "llamacpp", "koboldcpp", "gpt4all", "textgenwebui", "tgi", "sglang"} {
		if k == "ollama" && ollama != "" {
			fmt.Fprintf(&b, "[services.ollama]\nendpoint = %q\n", ollama)
		} else {
			fmt.Fprintf(&b, "[services.%s]\nenabled = false\n", k)
		}
	}
	return b.String()
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// post sends body and reads the whole answer, returning the time taken
// and the header.
func post(url string, body []byte) (time.Duration, http.Header, error) {
	t0 := time.Now()
	resp, err := benchClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return time.Since(t0), resp.Header, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchGatewayOverhead paces requests at 200 per second through the
// gateway (model auto, so classification, selection, balancing and the
// audit record are included) and, in the same run at the same pace, the
// request the gateway sends straight to the double; then 10,000 requests
// as fast as 8 clients go, reading the gateway's RSS every 1,000.
func benchGatewayOverhead(s *suite) error {
	d := llmtest.New(llm.KindOllama, llmtest.Options{Reply: "It reverses the words.",
		Models: []llmtest.Model{{ID: "qwen2.5-coder:7b", ContextLength: 32768, Loaded: true}}})
	defer d.Close()
	body := []byte(`{"model":"auto","messages":[{"role":"system","content":"You are a coding agent."},{"role":"user","content":"write a function that reverses the words of a string"}]}`)
	var g *gatewayProc
	// Audit off first (the gateway's own cost), then on with
	// audit_fsync = "background", then on with the default (query_start
	// written, the query record fsync'ed); the memory run uses the default.
	for _, mode := range []struct {
		on           bool
		fsync, label string
	}{
		{false, "", "audit off"},
		{true, "background", `audit on, audit_fsync = "background"`},
		{true, "", "audit on, query record fsync'ed (default)"},
	} {
		if g != nil {
			g.stop()
		}
		var err error
		if g, err = s.startGatewayAudit(onlyServices(d.URL), mode.on, mode.fsync); err != nil {
			return err
		}
		if err := pacedOverhead(s, g, d, body, mode.label); err != nil {
			g.stop()
			return err
		}
	}
	defer g.stop()
	var wg sync.WaitGroup
	// Memory over 10,000 requests.
	total := s.reps(10000)
	var rss []float64
	next := make(chan int)
	var fail error
	var fmu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if _, _, err := post(g.url+"/v1/chat/completions", body); err != nil {
					fmu.Lock()
					fail = err
					fmu.Unlock()
				}
			}
		}()
	}
	for i := range total {
		next <- i
		if (i+1)%1000 == 0 || i+1 == total {
			r, err := rssMB(g.cmd.Process.Pid)
			if err != nil {
				return err
			}
			rss = append(rss, r)
		}
	}
	close(next)
	wg.Wait()
	if fail != nil {
		return fail
	}
	s.add(fmt.Sprintf("gateway: RSS every 1,000 of %d requests", total), "MB", rss, "flat",
		fmt.Sprintf("first %.1f MB, last %.1f MB", rss[0], rss[len(rss)-1]))
	return nil
}

// pacedOverhead sends n requests at 200 per second through the gateway and,
// at the same ticks, the request the gateway sent to the double straight to
// it.
func pacedOverhead(s *suite, g *gatewayProc, d *llmtest.Server, body []byte, audit string) error {
	for range 50 { // warm up: discovery, connections
		if _, _, err := post(g.url+"/v1/chat/completions", body); err != nil {
			return err
		}
	}
	chats := d.Chats()
	direct, _ := json.Marshal(chats[len(chats)-1].Raw)
	n := s.reps(2000)
	var mu sync.Mutex
	var viaGW, viaDirect []float64
	var firstErr error
	var wg sync.WaitGroup
	tick := time.NewTicker(5 * time.Millisecond) // 200 per second
	start := time.Now()
	for range n {
		<-tick.C
		wg.Add(2)
		go func() {
			defer wg.Done()
			t, _, err := post(g.url+"/v1/chat/completions", body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			viaGW = append(viaGW, ms(t))
		}()
		go func() {
			defer wg.Done()
			t, _, err := post(d.URL+"/api/chat", direct)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			viaDirect = append(viaDirect, ms(t))
		}()
	}
	tick.Stop()
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	rate := float64(n) / time.Since(start).Seconds()
	p50, p99 := quantile(viaGW, 0.5)-quantile(viaDirect, 0.5), quantile(viaGW, 0.99)-quantile(viaDirect, 0.99)
	s.add("gateway: request via the gateway (model auto), "+audit, "ms", viaGW, "", fmt.Sprintf("%d requests paced at %.0f/s", n, rate))
	s.add("gateway: same request straight to the double, "+audit+" run", "ms", viaDirect, "", "same run, same ticks")
	s.figures = append(s.figures, Figure{Name: "gateway: overhead (gateway - direct, per quantile), " + audit, Unit: "ms", Median: p50, P99: p99, Runs: n,
		Target: "p50 < 0.5 ms, p99 < 2 ms"})
	return nil
}

// benchGatewayAffinity sends conversations to three endpoints serving the
// same model (custom endpoints, as a team's GPU hosts are), then a
// follow-up of each: the share of follow-ups served by the conversation's
// first endpoint, with no endpoint overloaded and then with one slow
// endpoint (its requests pile up, and the bounded load sends the rest
// elsewhere).
func benchGatewayAffinity(s *suite) error {
	for _, slow := range []bool{false, true} {
		var doubles []*llmtest.Server
		var cfg strings.Builder
		cfg.WriteString(onlyServices(""))
		model := []llmtest.Model{{ID: "Qwen/Qwen2.5-Coder-32B-Instruct", ContextLength: 32768, Loaded: true}}
		for i := range 3 {
			o := llmtest.Options{Reply: "ok", Models: model}
			if slow && i == 0 {
				o.FirstTokenDelay = 100 * time.Millisecond
			}
			srv := llmtest.New(llm.KindVLLM, o)
			doubles = append(doubles, srv)
			fmt.Fprintf(&cfg, "[[custom_endpoints]]\nname = \"gpu%d\"\nendpoint = %q\napi_style = \"openai\"\n", i+1, srv.URL)
		}
		g, err := s.startGateway(cfg.String(), true)
		if err != nil {
			return err
		}
		conv := s.reps(300)
		served := make([]string, conv)
		same, total := 0, 0
		spread := map[string]int{}
		var mu sync.Mutex
		var firstErr error
		run := func(follow bool) {
			var wg sync.WaitGroup
			next := make(chan int)
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						msgs := []map[string]string{{"role": "system", "content": "You are a coding agent. " + strings.Repeat("Follow the rules. ", 40)},
							{"role": "user", "content": fmt.Sprintf("task %d: add a --verbose flag", i)}}
						if follow {
							msgs = append(msgs, map[string]string{"role": "assistant", "content": "done"}, map[string]string{"role": "user", "content": "now add tests"})
						}
						body, _ := json.Marshal(map[string]any{"model": "auto", "messages": msgs})
						_, h, err := post(g.url+"/v1/chat/completions", body)
						mu.Lock()
						if err != nil && firstErr == nil {
							firstErr = err
						}
						svc := ""
						if h != nil {
							svc = h.Get("X-LSP-Router-Service")
						}
						spread[svc]++
						if !follow {
							served[i] = svc
						} else {
							total++
							if svc == served[i] {
								same++
							}
						}
						mu.Unlock()
					}
				}()
			}
			for i := range conv {
				next <- i
			}
			close(next)
			wg.Wait()
		}
		run(false)
		run(true)
		g.stop()
		for _, d := range doubles {
			d.Close()
		}
		if firstErr != nil {
			return firstErr
		}
		var names []string
		for k := range spread {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(spread[k])/float64(2*conv)))
		}
		share := 100 * float64(same) / float64(total)
		name, target := "gateway: follow-ups on the conversation's endpoint, none overloaded", ">= 95%"
		if slow {
			name, target = "gateway: follow-ups on the conversation's endpoint, gpu1 slow (100 ms first token)", ""
		}
		s.figures = append(s.figures, Figure{Name: name, Unit: "%", Median: share, P99: share, Runs: total, Target: target,
			Note: "spread " + strings.Join(parts, ", ") + " (12 concurrent clients)"})
	}
	return nil
}
