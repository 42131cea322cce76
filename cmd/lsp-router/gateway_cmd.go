package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/gateway"
)

func init() {
	var listen, keysFile string
	register(&command{
		name:    "gateway",
		summary: "serve the OpenAI API (model \"auto\") for coding agents and teams",
		usage:   "[--listen ADDR] [--keys-file FILE]   |   gateway hash-key OWNER  (token on stdin)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&listen, "listen", "", "`address` to serve on (default gateway.listen, else "+config.DefaultGatewayListen+"); beyond loopback it needs a keys file")
			fs.StringVar(&keysFile, "keys-file", "", "bearer tokens' digests and owners (default gateway.keys_file)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) int {
			if len(args) > 0 && args[0] == "hash-key" {
				return runHashKey(e, args[1:])
			}
			if len(args) > 0 {
				fmt.Fprintf(e.stderr, "lsp-router gateway: unexpected argument %q: the gateway takes only flags (or `gateway hash-key OWNER`)\n", args[0])
				return exitUsage
			}
			return runGateway(e, listen, keysFile)
		},
	})
}

// runHashKey prints the keys file line for the token read from stdin.
func runHashKey(e *env, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.stderr, "lsp-router gateway hash-key: give the key's owner: `openssl rand -hex 24 | tee token | lsp-router gateway hash-key alice >> keys`")
		return exitUsage
	}
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 4096), 4096)
	if !sc.Scan() {
		fmt.Fprintln(e.stderr, "lsp-router gateway hash-key: no token on stdin: pipe one in, e.g. `openssl rand -hex 24`")
		return exitUsage
	}
	line, err := gateway.HashLine(sc.Text(), args[0])
	if err != nil {
		fmt.Fprintln(e.stderr, "lsp-router gateway hash-key:", err)
		return exitUsage
	}
	fmt.Fprintln(e.stdout, line)
	return exitOK
}

func runGateway(e *env, listen, keysFile string) int {
	// The gateway serves a team, not a checkout: no workspace file applies.
	cfg, ok := e.loadConfig("")
	if !ok {
		return exitUsage
	}
	if listen == "" {
		listen = cfg.Gateway.ListenAddr()
	}
	if keysFile == "" {
		keysFile = cfg.Gateway.KeysFile
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		fmt.Fprintf(e.stderr, "lsp-router gateway: --listen %q is not host:port: write it like 127.0.0.1:4000\n", listen)
		return exitUsage
	}
	var keys *gateway.Keys
	if keysFile != "" {
		k, err := gateway.LoadKeys(keysFile)
		if err != nil {
			fmt.Fprintf(e.stderr, "lsp-router gateway: %v\n", err)
			return exitUsage
		}
		keys = k
	} else if !config.IsLoopbackAddr(listen) {
		fmt.Fprintf(e.stderr, "lsp-router gateway: refusing to listen on %s without a keys file: set gateway.keys_file (or --keys-file), or listen on 127.0.0.1\n", listen)
		return exitUsage
	}
	w, err := wire(cfg, "", e.log, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router gateway: %v\n", err)
		return exitFailure
	}
	defer w.close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "lsp-router gateway: %v (is another gateway running? pick another --listen port)\n", err)
		return exitFailure
	}
	h := gateway.New(w.engine, gateway.Options{Keys: keys, MaxRequestBytes: cfg.Gateway.RequestLimit(),
		MaxConcurrentPerKey: cfg.Gateway.PerKeyLimit(), Logger: e.log})
	// No read or write timeout on the server: a read deadline that expires
	// while an answer streams cancels the request. The handler bounds the
	// body's read itself (gateway.BodyReadTimeout).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	fmt.Fprintf(e.stderr, "lsp-router gateway: serving the OpenAI API on http://%s/v1 (%d keys)\n", ln.Addr(), keys.Len())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(e.stderr, "lsp-router gateway: %v\n", err)
		return exitFailure
	case <-sigs:
	}
	// Stop accepting, let open streams finish; a second signal cuts them.
	fmt.Fprintln(e.stderr, "lsp-router gateway: shutting down, finishing open requests (signal again to stop now)")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-sigs
		cancel()
	}()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(e.stderr, "lsp-router gateway: %v\n", err)
	}
	srv.Close()
	return exitOK
}
