package serenatest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// inProcess tracks the live in-process connection so a crash can cut it,
// as a dying process closes its pipes.
type inProcess struct {
	mu   sync.Mutex
	conn mcp.Connection
}

// recordingTransport remembers the connection it made.
type recordingTransport struct {
	mcp.Transport
	ip *inProcess
}

func (t recordingTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err == nil {
		t.ip.mu.Lock()
		t.ip.conn = c
		t.ip.mu.Unlock()
	}
	return c, err
}

// NewTransportFunc returns a function for serena.Config.NewTransport: each
// call (a start or a restart) connects a fresh in-memory session of the
// double. Unless Options.Crash is set, a crash closes the live session, as
// a dying process closes its pipes.
func (s *Server) NewTransportFunc() func() (mcp.Transport, error) {
	ip := &inProcess{}
	if s.opts.Crash == nil {
		s.opts.Crash = func() {
			ip.mu.Lock()
			conn := ip.conn
			ip.mu.Unlock()
			if conn != nil {
				_ = conn.Close()
			}
		}
	}
	srv := s.MCPServer()
	return func() (mcp.Transport, error) {
		ct, st := mcp.NewInMemoryTransports()
		if _, err := srv.Connect(context.Background(), recordingTransport{st, ip}, nil); err != nil {
			return nil, fmt.Errorf("fake serena: %w", err)
		}
		return ct, nil
	}
}

// Environment variables read by Main, to script the subprocess.
const (
	// EnvTools restricts the tools, comma-separated.
	EnvTools = "FAKESERENA_TOOLS"
	// EnvSlow is "tool=duration,...".
	EnvSlow = "FAKESERENA_SLOW"
	// EnvCrash names a tool during which the process exits with status 3.
	EnvCrash = "FAKESERENA_CRASH"
	// EnvCrashMarker, with EnvCrash, crashes only when this file does not
	// exist yet (and creates it), so the restarted process works.
	EnvCrashMarker = "FAKESERENA_CRASH_MARKER"
	// EnvFixture chooses the fake project: "python" (DefaultProject, the
	// default) or "go" (GoProject).
	EnvFixture = "FAKESERENA_FIXTURE"
	// EnvVersion is the Serena version emulated (Options.Version).
	EnvVersion = "FAKESERENA_VERSION"
	// EnvTimeout names tools, comma-separated, that fail with Serena's
	// tool timeout (Options.TimeOut).
	EnvTimeout = "FAKESERENA_TIMEOUT"
	// EnvStartDelay delays the MCP server's start by a duration, as
	// Serena's start (language servers, indexing) takes time.
	EnvStartDelay = "FAKESERENA_START_DELAY"
)

// Main runs the double like `serena start-mcp-server ...` over stdio (or
// streamable HTTP with --transport streamable-http) and returns the exit
// status. It accepts Serena's flags, logs to stderr only (stdout carries
// MCP), and answers from DefaultProject.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "start-mcp-server" {
		fmt.Fprintln(stderr, "usage: fakeserena start-mcp-server --project <path> [serena flags]")
		return 2
	}
	fl, ok := parseFlags(args[1:], stderr)
	if !ok {
		return 2
	}
	opts := Options{Crash: func() { os.Exit(3) }, Version: os.Getenv(EnvVersion)}
	logStart(stderr, opts.Version, fl)
	if d := os.Getenv(EnvStartDelay); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil {
			fmt.Fprintf(stderr, "bad %s: %v\n", EnvStartDelay, err)
			return 2
		}
		time.Sleep(delay)
	}
	project, err := envOptions(&opts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// Serena without a project fails every tool this way.
	opts.NoProject = fl.project == ""
	return serve(NewServer(project, opts).MCPServer(), fl, stdin, stdout, stderr)
}

// mainFlags are the start-mcp-server flags the double uses; the others
// are accepted and ignored.
type mainFlags struct {
	project, context, transport, host string
	port                              int
}

func parseFlags(args []string, stderr io.Writer) (mainFlags, bool) {
	fs := flag.NewFlagSet("start-mcp-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	projectDir := fs.String("project", "", "project path")
	ctxName := fs.String("context", "desktop-app", "context")
	transport := fs.String("transport", "stdio", "stdio|sse|streamable-http")
	host := fs.String("host", "127.0.0.1", "host")
	port := fs.Int("port", 8000, "port")
	fs.String("enable-web-dashboard", "true", "")
	fs.String("open-web-dashboard", "true", "")
	fs.String("log-level", "INFO", "")
	fs.String("mode", "", "")
	fs.Float64("tool-timeout", 240, "")
	if err := fs.Parse(args); err != nil {
		return mainFlags{}, false
	}
	return mainFlags{project: *projectDir, context: *ctxName, transport: *transport, host: *host, port: *port}, true
}

// logStart writes Serena's log format (SERENA_LOG_FORMAT in
// src/serena/constants.py) and the line SerenaAgent.__init__
// (src/serena/agent.py at 7fcbca7e) logs before the MCP server starts;
// clients read Serena's version from it.
func logStart(stderr io.Writer, version string, fl mainFlags) {
	if version == "" {
		version = DefaultVersion
	}
	now := time.Now().Format("2006-01-02 15:04:05,000")
	fmt.Fprintf(stderr, "INFO  %s [MainThread] serena.agent:__init__:636 - Starting Serena server (version=%s, process id=%d, parent process id=%d; language backend=LSP); Python version=3.11.9, platform=%s\n",
		now, version, os.Getpid(), os.Getppid(), "Linux")
	fmt.Fprintf(stderr, "INFO  %s [MainThread] serena.cli:start_mcp_server:400 - project=%s context=%s transport=%s usage_reporting=%s\n",
		now, fl.project, fl.context, fl.transport, os.Getenv("SERENA_USAGE_REPORTING"))
}

// envOptions reads the FAKESERENA_* variables into opts and returns the
// project to answer from.
func envOptions(opts *Options, stderr io.Writer) (*Project, error) {
	if t := os.Getenv(EnvTimeout); t != "" {
		opts.TimeOut = strings.Split(t, ",")
	}
	project := DefaultProject()
	switch f := os.Getenv(EnvFixture); f {
	case "", "python":
	case "go":
		project = GoProject()
	default:
		return nil, fmt.Errorf("bad %s %q: use python or go", EnvFixture, f)
	}
	if t := os.Getenv(EnvTools); t != "" {
		opts.Tools = strings.Split(t, ",")
	}
	if s := os.Getenv(EnvSlow); s != "" {
		opts.Slow = map[string]time.Duration{}
		for _, kv := range strings.Split(s, ",") {
			k, v, _ := strings.Cut(kv, "=")
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("bad %s: %v", EnvSlow, err)
			}
			opts.Slow[k] = d
		}
	}
	if c := os.Getenv(EnvCrash); c != "" {
		marker := os.Getenv(EnvCrashMarker)
		if marker == "" {
			opts.CrashTool = c
		} else if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			opts.CrashTool = c
			opts.Crash = func() {
				_ = os.WriteFile(marker, []byte("crashed\n"), 0o644)
				fmt.Fprintln(stderr, "ERROR serena: simulated crash")
				os.Exit(3)
			}
		}
	}
	return project, nil
}

// serve runs srv on the transport the flags name and returns the exit
// status.
func serve(srv *mcp.Server, fl mainFlags, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx := context.Background()
	switch fl.transport {
	case "stdio":
		t := &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}}
		if err := srv.Run(ctx, t); err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "ERROR serena: %v\n", err)
			return 1
		}
		return 0
	case "streamable-http":
		h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
		mux := http.NewServeMux()
		mux.Handle("/mcp", h)
		addr := net.JoinHostPort(fl.host, fmt.Sprint(fl.port))
		fmt.Fprintf(stderr, "INFO  serena: serving on http://%s/mcp\n", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			fmt.Fprintf(stderr, "ERROR serena: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "unsupported transport %q\n", fl.transport)
	return 2
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
