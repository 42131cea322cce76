package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Gateway defaults.
const (
	DefaultGatewayListen       = "127.0.0.1:4000"
	DefaultGatewayMaxRequest   = 4 << 20
	DefaultGatewayMaxPerKey    = 8
	maxGatewayRequestBytes     = 256 << 20
	maxGatewayConcurrentPerKey = 10000
)

// ListenAddr is gateway.listen, or the loopback default.
func (g Gateway) ListenAddr() string {
	if g.Listen == "" {
		return DefaultGatewayListen
	}
	return g.Listen
}

// RequestLimit is gateway.max_request_bytes or its default.
func (g Gateway) RequestLimit() int64 {
	if g.MaxRequestBytes <= 0 {
		return DefaultGatewayMaxRequest
	}
	return g.MaxRequestBytes
}

// PerKeyLimit is gateway.max_concurrent_per_key or its default.
func (g Gateway) PerKeyLimit() int {
	if g.MaxConcurrentPerKey <= 0 {
		return DefaultGatewayMaxPerKey
	}
	return g.MaxConcurrentPerKey
}

// IsLoopbackAddr reports whether a listen address ("host:port") binds only
// the loopback interface. An empty host, a name other than localhost or an
// unspecified address (0.0.0.0, ::) listens beyond it.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (g Gateway) validate() []Problem {
	var ps []Problem
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: "gateway." + key, Message: fmt.Sprintf(format, args...)})
	}
	if g.Listen != "" {
		_, port, err := net.SplitHostPort(g.Listen)
		if err != nil {
			bad("listen", "%q is not host:port: write it like \"127.0.0.1:4000\"", g.Listen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("listen", "port %q is not a number from 0 to 65535", port)
		}
	}
	if g.MaxRequestBytes < 0 || g.MaxRequestBytes > maxGatewayRequestBytes {
		bad("max_request_bytes", "must be between 0 (the default, 4 MiB) and %d, got %d", maxGatewayRequestBytes, g.MaxRequestBytes)
	}
	if g.MaxConcurrentPerKey < 0 || g.MaxConcurrentPerKey > maxGatewayConcurrentPerKey {
		bad("max_concurrent_per_key", "must be between 0 (the default, %d) and %d, got %d", DefaultGatewayMaxPerKey, maxGatewayConcurrentPerKey, g.MaxConcurrentPerKey)
	}
	return ps
}
