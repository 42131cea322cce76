package serena

import (
	"context"
	"os/exec"
	"time"
)

// ProbeResult is what `lsp-router doctor` reports about Serena.
type ProbeResult struct {
	// Found is true when the command is on PATH (or URL answered).
	Found bool
	// Path is the resolved program path.
	Path string
	// Version is the serverInfo version Serena reported.
	Version string
	// Tools are the tools it offers, sorted.
	Tools []string
	// StartTime is how long the start and handshake took.
	StartTime time.Duration
	// Err says why Serena could not be used, with what to do.
	Err error
}

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
	st := c.Status()
	res.Found = true
	res.Version = st.ServerVersion
	res.Tools = st.Tools
	res.StartTime = time.Since(start)
	return res
}
