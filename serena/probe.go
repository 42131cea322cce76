package serena

import (
	"context"
	"os/exec"
	"regexp"
	"time"
)

// ProbeResult is what `lsp-router doctor` reports about Serena.
type ProbeResult struct {
	// Found is true when the command is on PATH (or URL answered).
	Found bool
	// Path is the resolved program path.
	Path string
	// Version is Serena's own version ("1.7.1.dev0-7fcbca7e"), from its
	// start-up log line or its get_current_config tool; empty when Serena
	// does not tell (a Serena reached by URL in a single-project context).
	Version string
	// MCPVersion is the serverInfo version, which is the version of the
	// Python MCP SDK Serena runs on, not Serena's.
	MCPVersion string
	// Tools are the tools it offers, sorted.
	Tools []string
	// StartTime is how long the start and handshake took.
	StartTime time.Duration
	// Err says why Serena could not be used, with what to do.
	Err error
}

// versionLineWait bounds how long Probe waits, after the handshake, for
// the start-up line on stderr: Serena writes it before it answers
// initialize, but the pipe is read concurrently.
const versionLineWait = 2 * time.Second

// configVersionRe reads get_current_config's "Serena version: X" line
// (SerenaAgent.get_current_config_overview in src/serena/agent.py).
var configVersionRe = regexp.MustCompile(`(?m)^Serena version: (\S{1,64})`)

// Probe starts Serena with cfg (Command, or URL), waits for it until ctx
// is done, reports what it offers and stops it. A zero cfg.Workspace is
// allowed only with a Command or URL that does not need it.
func Probe(ctx context.Context, cfg Config) ProbeResult {
	var res ProbeResult
	if cfg.URL == "" && cfg.NewTransport == nil {
		cmd := cfg.Command
		if len(cmd) == 0 {
			cmd = DefaultCommand(cfg.Workspace)
		}
		p, err := exec.LookPath(cmd[0])
		if err != nil {
			res.Err = err
			return res
		}
		res.Path = p
	}
	cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour // one attempt: doctor reports, it does not retry
	c := New(cfg)
	start := time.Now()
	c.Start()
	defer c.Close()
	if err := c.WaitReady(ctx); err != nil {
		res.Found = cfg.URL == "" // the program exists but did not start
		res.Err = err
		return res
	}
	res.StartTime = time.Since(start)
	st := c.Status()
	if st.SerenaVersion == "" && cfg.URL == "" && cfg.NewTransport == nil {
		deadline := time.Now().Add(versionLineWait)
		for st.SerenaVersion == "" && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			st = c.Status()
		}
	}
	res.Found = true
	res.Version = st.SerenaVersion
	res.MCPVersion = st.ServerVersion
	res.Tools = st.Tools
	if res.Version == "" && c.HasTool("get_current_config") {
		// Not offered in single-project contexts such as ide; elsewhere
		// it names the version.
		if text, err := c.CallTool(ctx, "get_current_config", map[string]any{}); err == nil {
			if m := configVersionRe.FindStringSubmatch(text); m != nil {
				res.Version = m[1]
			}
		}
	}
	return res
}
