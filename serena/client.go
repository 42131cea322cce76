// Package serena is an MCP client for Serena (github.com/oraios/serena), a
// coding agent toolkit that drives real language servers. It starts Serena
// in the background (stdio subprocess) or connects to a running one
// (streamable HTTP), adapts to the tools it offers, parses every answer
// shape Serena produces, and implements codectx.Source.
//
// Serena is slow to start and runs one tool at a time. Tool calls never
// wait: made before it is ready they fail at once with ErrNotReady, every
// call has its own timeout, and a Serena that dies is restarted with
// exponential backoff. Requests wait for a starting Serena with
// WaitStarted, bounded by the start budget (serena.start_timeout).
package serena

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lsp-router/lsp-router/internal/logline"
)

// DefaultArgs are the arguments of Serena's MCP server for workspace, as
// the reference sheet gives them: ide context, stdio, no dashboard.
func DefaultArgs(workspace string) []string {
	return []string{"start-mcp-server", "--project", workspace, "--context", "ide",
		"--transport", "stdio", "--enable-web-dashboard", "false", "--open-web-dashboard", "false"}
}

// DefaultCommand is the default command line that starts Serena for
// workspace.
func DefaultCommand(workspace string) []string {
	return append([]string{"serena"}, DefaultArgs(workspace)...)
}

// protocolVersion is the MCP version we ask for: the newest one Serena's
// Python SDK accepts (it echoes it). Newer SDK versions would first try a
// server/discover call that Serena does not know.
const protocolVersion = "2025-11-25"

// Config configures a Client.
type Config struct {
	// Workspace is the absolute project root Serena works on; relative
	// paths in tool calls are relative to it.
	Workspace string
	// Command is the program and arguments that start Serena over stdio;
	// "{workspace}" in an argument is replaced by Workspace. Empty means
	// DefaultCommand(Workspace).
	Command []string
	// Env is added to the environment of the Serena process, after
	// SERENA_USAGE_REPORTING=false (so it can be overridden deliberately).
	Env []string
	// URL, when set, connects to a running Serena over streamable HTTP
	// (e.g. http://127.0.0.1:8000/mcp) instead of starting one.
	URL string
	// HTTPClient is used for URL (default http.DefaultClient). Pass the
	// allowlisting client here.
	HTTPClient *http.Client
	// NewTransport, when set, replaces Command and URL; tests use it for
	// in-process servers. It is called for every (re)start.
	NewTransport func() (mcp.Transport, error)

	// CallTimeout bounds each tool call, including the time spent queued
	// behind other calls inside Serena (default 30s).
	CallTimeout time.Duration
	// StartTimeout bounds the MCP handshake of one start (default 2m).
	StartTimeout time.Duration
	// StartBudget bounds how long WaitStarted lets requests wait for a
	// starting (or restarting) Serena, counted from the start or from the
	// loss of the last session, so a Serena that never comes up delays
	// requests only during its first StartBudget (default 60s).
	StartBudget time.Duration
	// MinBackoff and MaxBackoff bound the delay between restarts
	// (defaults 1s and 1m); the delay doubles after each failure and
	// resets after a session that lived longer than MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the client's events and Serena's stderr (default
	// slog.Default()).
	Logger *slog.Logger
}

// State is the lifecycle state of the Serena connection.
type State int

// States of a Client.
const (
	StateIdle       State = iota // Start not called
	StateStarting                // process started or connecting, handshake pending
	StateReady                   // tools can be called
	StateRestarting              // it died or failed to start; waiting to retry
	StateClosed                  // Close called
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateStarting:
		return "starting"
	case StateReady:
		return "ready"
	case StateRestarting:
		return "restarting"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a snapshot of the client for logs, status lines and doctor.
type Status struct {
	State State
	// LastError is why the last start failed or the last session ended.
	LastError error
	// ServerName and ServerVersion come from Serena's initialize result.
	// ServerVersion is the version of the Python MCP SDK Serena runs on
	// (its FastMCP server reports the "mcp" package's version), not
	// Serena's own.
	ServerName, ServerVersion string
	// SerenaVersion is Serena's own version, from its start-up log line
	// "Starting Serena server (version=...)" (stdio only; empty until
	// seen, and for a Serena reached by URL).
	SerenaVersion string
	Tools         []string
	// StartDuration is how long the last successful start took.
	StartDuration time.Duration
	ReadySince    time.Time
	Restarts      int
}

// ErrNotReady is returned by calls made while Serena is not connected.
var ErrNotReady = errors.New("serena is not ready")

// ErrToolUnavailable is returned for a tool Serena does not offer in its
// current context and modes.
var ErrToolUnavailable = errors.New("tool not offered by this Serena")

// Client is a connection to one Serena instance. It is safe for concurrent
// use.
type Client struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	status Status
	// startingSince is when Serena was started or its session lost: the
	// start budget counts from here.
	startingSince time.Time
	session       *mcp.ClientSession
	tools         map[string]*mcp.Tool
	ready         chan struct{} // closed while StateReady; replaced on each loss
	started       bool
	cancel        context.CancelFunc
	done          chan struct{}

	cache symbolCache
}

// New returns a client for cfg. It does nothing until Start.
func New(cfg Config) *Client {
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	if cfg.StartBudget <= 0 {
		cfg.StartBudget = DefaultStartBudget
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	if len(cfg.Command) == 0 {
		cfg.Command = DefaultCommand(cfg.Workspace)
	} else {
		// The configuration writes the project as "{workspace}".
		cmd := make([]string, len(cfg.Command))
		for i, a := range cfg.Command {
			cmd[i] = strings.ReplaceAll(a, "{workspace}", cfg.Workspace)
		}
		cfg.Command = cmd
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Client{cfg: cfg, log: cfg.Logger.With("component", "serena"), ready: make(chan struct{}), done: make(chan struct{})}
}

// Start launches Serena in the background and returns at once; State and
// WaitReady tell when it is usable. Later calls do nothing.
func (c *Client) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return
	}
	c.started = true
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.status.State = StateStarting
	c.startingSince = time.Now()
	go c.run(ctx)
}

// DefaultStartBudget is how long requests wait for a starting Serena when
// Config.StartBudget is not set.
const DefaultStartBudget = 60 * time.Second

// WaitStarted lets a request wait for a starting Serena: it returns nil at
// once when Serena is ready, waits while it starts or restarts, but no
// longer than the start budget allows (counted from the start or from the
// loss of the last session, not from this call), and then fails with
// ErrNotReady and what to do.
func (c *Client) WaitStarted(ctx context.Context) error {
	c.mu.Lock()
	st, since := c.status.State, c.startingSince
	c.mu.Unlock()
	switch st {
	case StateReady:
		return nil
	case StateIdle, StateClosed:
		return fmt.Errorf("serena: %w (%s)", ErrNotReady, st)
	}
	deadline := since.Add(c.cfg.StartBudget)
	if !time.Now().Before(deadline) {
		return c.notStarted()
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := c.WaitReady(wctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.notStarted()
	}
	return nil
}

// notStarted says that Serena did not come up within the start budget.
func (c *Client) notStarted() error {
	st := c.Status()
	why := ""
	if st.LastError != nil {
		why = " (" + st.LastError.Error() + ")"
	}
	return fmt.Errorf("serena: %w: not started within serena.start_timeout (%s)%s; check serena.command, or raise serena.start_timeout",
		ErrNotReady, c.cfg.StartBudget, why)
}

// Close stops Serena (or disconnects) and the restart loop.
func (c *Client) Close() error {
	c.mu.Lock()
	if !c.started {
		c.status.State = StateClosed
		c.mu.Unlock()
		return nil
	}
	cancel, sess := c.cancel, c.session
	c.mu.Unlock()
	cancel()
	if sess != nil {
		// Ends the run loop's wait on the session; for a subprocess this
		// closes its stdin and waits for it to exit (then signals it).
		_ = sess.Close()
	}
	<-c.done
	return nil
}

// Status returns a snapshot of the client's state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Tools = slices.Clone(s.Tools)
	return s
}

// WaitReady blocks until Serena is ready or ctx is done, however long that
// takes. Request paths use WaitStarted, which keeps to the start budget.
func (c *Client) WaitReady(ctx context.Context) error {
	for {
		c.mu.Lock()
		ch, st := c.ready, c.status.State
		c.mu.Unlock()
		if st == StateClosed {
			return fmt.Errorf("wait for serena: %w: client closed", ErrNotReady)
		}
		select {
		case <-ch:
			c.mu.Lock()
			ok := c.status.State == StateReady
			c.mu.Unlock()
			if ok {
				return nil
			}
		case <-ctx.Done():
			st := c.Status()
			if st.LastError != nil {
				return fmt.Errorf("wait for serena (%s): %w (last error: %v)", st.State, ctx.Err(), st.LastError)
			}
			return fmt.Errorf("wait for serena (%s): %w", st.State, ctx.Err())
		}
	}
}

// HasTool reports whether the connected Serena offers tool.
func (c *Client) HasTool(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.tools[name]
	return ok
}

// run is the start/restart loop.
func (c *Client) run(ctx context.Context) {
	defer close(c.done)
	backoff := c.cfg.MinBackoff
	for {
		c.setState(StateStarting, nil)
		start := time.Now()
		sess, tools, err := c.connect(ctx)
		if err == nil {
			c.mu.Lock()
			c.session, c.tools = sess, tools
			c.status.State, c.status.LastError = StateReady, nil
			c.status.StartDuration, c.status.ReadySince = time.Since(start), time.Now()
			c.status.Tools = sortedKeys(tools)
			if ir := sess.InitializeResult(); ir != nil && ir.ServerInfo != nil {
				c.status.ServerName, c.status.ServerVersion = ir.ServerInfo.Name, ir.ServerInfo.Version
			}
			close(c.ready)
			c.mu.Unlock()
			c.log.Info("serena ready", "start", time.Since(start).Round(time.Millisecond), "tools", len(tools))

			waitErr := sess.Wait()
			_ = sess.Close() // reaps the process
			c.mu.Lock()
			c.loseLocked(sess)
			c.mu.Unlock()
			if ctx.Err() != nil {
				break
			}
			err = fmt.Errorf("serena stopped: %v", orEOF(waitErr))
			if time.Since(start) > c.cfg.MaxBackoff {
				backoff = c.cfg.MinBackoff
			}
		}
		if ctx.Err() != nil {
			break
		}
		c.log.Warn("serena unavailable, restarting", "error", err, "in", backoff)
		c.mu.Lock()
		c.status.Restarts++
		c.mu.Unlock()
		c.setState(StateRestarting, err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		if ctx.Err() != nil {
			break
		}
		backoff = min(backoff*2, c.cfg.MaxBackoff)
	}
	c.mu.Lock()
	if c.session != nil {
		_ = c.session.Close()
		c.session = nil
	}
	c.status.State = StateClosed
	c.mu.Unlock()
}

// loseLocked forgets sess if it is still the current session, so that
// calls fail fast and WaitReady waits for the next start. c.mu is held.
func (c *Client) loseLocked(sess *mcp.ClientSession) {
	if c.session != sess {
		return
	}
	c.session, c.tools = nil, nil
	if c.status.State == StateReady {
		c.status.State = StateRestarting
		c.ready = make(chan struct{})
		c.startingSince = time.Now()
	}
}

func orEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

func (c *Client) setState(s State, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.State = s
	if err != nil {
		c.status.LastError = err
	}
}

// connect starts or dials Serena, performs the handshake and lists tools.
func (c *Client) connect(ctx context.Context) (*mcp.ClientSession, map[string]*mcp.Tool, error) {
	t, err := c.transport()
	if err != nil {
		return nil, nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "lsp-router", Version: "0"}, &mcp.ClientOptions{Logger: c.log})
	sess, err := client.Connect(hctx, t, &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion})
	if err != nil {
		return nil, nil, fmt.Errorf("connect to serena (%s): %w", c.describe(), err)
	}
	tools := map[string]*mcp.Tool{}
	for tool, err := range sess.Tools(hctx, nil) {
		if err != nil {
			_ = sess.Close()
			return nil, nil, fmt.Errorf("list serena tools: %w", err)
		}
		tools[tool.Name] = tool
	}
	return sess, tools, nil
}

func (c *Client) describe() string {
	switch {
	case c.cfg.NewTransport != nil:
		return "custom transport"
	case c.cfg.URL != "":
		return c.cfg.URL
	}
	return strings.Join(c.cfg.Command, " ")
}

func (c *Client) transport() (mcp.Transport, error) {
	if c.cfg.NewTransport != nil {
		return c.cfg.NewTransport()
	}
	if c.cfg.URL != "" {
		hc := c.cfg.HTTPClient
		if hc == nil {
			hc = http.DefaultClient
		}
		return &mcp.StreamableClientTransport{Endpoint: c.cfg.URL, HTTPClient: hc, DisableStandaloneSSE: true}, nil
	}
	path, err := exec.LookPath(c.cfg.Command[0])
	if err != nil {
		return nil, fmt.Errorf("start serena: %w: install it (uv tool install serena-agent) or set the serena command in the configuration", err)
	}
	cmd := exec.Command(path, c.cfg.Command[1:]...)
	cmd.Dir = c.cfg.Workspace
	cmd.Env = append(append(os.Environ(), "SERENA_USAGE_REPORTING=false"), c.cfg.Env...)
	cmd.Stderr = io.MultiWriter(&logline.Writer{Log: c.log, Level: slog.LevelInfo, Msg: "serena stderr"},
		&versionSniffer{found: c.setSerenaVersion})
	return &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil
}

// CallTool calls a Serena tool and returns its text answer. It fails at
// once when Serena is not ready or lacks the tool, times out after
// CallTimeout, and turns isError results and Serena's failure texts into
// typed errors (ToolError, AnswerTooLongError, TooManyMatchesError,
// ToolTimeoutError, ErrNoActiveProject). Other non-JSON answers ("OK",
// rename messages) are returned as they are.
func (c *Client) CallTool(ctx context.Context, name string, args map[string]any) (string, error) {
	c.mu.Lock()
	sess, st := c.session, c.status.State
	_, has := c.tools[name]
	c.mu.Unlock()
	if sess == nil || st != StateReady {
		return "", fmt.Errorf("serena %s: %w (%s)", name, ErrNotReady, st)
	}
	if !has {
		return "", fmt.Errorf("serena %s: %w", name, ErrToolUnavailable)
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	start := time.Now()
	res, err := sess.CallTool(cctx, &mcp.CallToolParams{Name: name, Arguments: args})
	c.log.Debug("serena call", "tool", name, "took", time.Since(start), "error", err)
	if err != nil {
		switch {
		case errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			c.mu.Lock()
			c.loseLocked(sess)
			c.mu.Unlock()
			return "", fmt.Errorf("serena %s: serena stopped during the call (it will be restarted): %w", name, err)
		case ctx.Err() == nil && cctx.Err() != nil:
			return "", fmt.Errorf("serena %s: no answer within %s (Serena runs one tool at a time; a slow call delays the next): %w", name, c.cfg.CallTimeout, context.DeadlineExceeded)
		}
		return "", fmt.Errorf("serena %s: %w", name, err)
	}
	text := resultText(res)
	if res.IsError {
		return text, parseToolError(name, text)
	}
	if err := classifyText(name, text); err != nil {
		return text, err
	}
	return text, nil
}

// resultText extracts Serena's answer: its one text item, or the
// structuredContent {"result": ...} when the text is missing.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "\n")
	}
	if m, ok := res.StructuredContent.(map[string]any); ok {
		if s, ok := m["result"].(string); ok {
			return s
		}
	}
	return ""
}

func (c *Client) setSerenaVersion(v string) {
	c.mu.Lock()
	c.status.SerenaVersion = v
	c.mu.Unlock()
}

// startLineRe finds Serena's version in the line its agent logs at start
// (SerenaAgent.__init__ in src/serena/agent.py, 1.0.0 to 1.7.x):
// "Starting Serena server (version=1.7.1.dev0-7fcbca7e, process id=...".
var startLineRe = regexp.MustCompile(`Starting Serena server \(version=([^,;\s)]{1,64})`)

// versionSniffer watches Serena's stderr for its start-up line. It looks
// at the first sniffLimit bytes only: the line comes before the MCP
// handshake, and stderr can be long.
type versionSniffer struct {
	found func(string)
	mu    sync.Mutex
	buf   []byte
	seen  int
	done  bool
}

const sniffLimit = 256 << 10

func (v *versionSniffer) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return len(p), nil
	}
	v.seen += len(p)
	v.buf = append(v.buf, p...)
	for {
		i := slices.Index(v.buf, '\n')
		if i < 0 {
			break
		}
		if m := startLineRe.FindSubmatch(v.buf[:i]); m != nil {
			v.found(string(m[1]))
			v.done, v.buf = true, nil
			return len(p), nil
		}
		v.buf = v.buf[i+1:]
	}
	if v.seen > sniffLimit || len(v.buf) > 64<<10 {
		v.done, v.buf = true, nil
	}
	return len(p), nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
