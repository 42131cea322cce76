package security

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
)

// HostEnv describes where lsp-router runs, for reaching LLM servers that run
// on the host machine.
type HostEnv struct {
	// InContainer is true inside Docker, Podman or another OCI container.
	InContainer bool `json:"in_container"`
	// WSL is true inside Windows Subsystem for Linux.
	WSL bool `json:"wsl"`
	// Gateway is the default route's gateway (the Windows host in WSL 2 NAT
	// mode); invalid when unknown.
	Gateway netip.Addr `json:"gateway,omitzero"`
}

// DockerHostName is the name Docker Desktop (and `--add-host
// host.docker.internal:host-gateway`) gives the host machine.
const DockerHostName = "host.docker.internal"

// DetectHostEnv inspects the running system: /.dockerenv,
// /run/.containerenv, /proc/1/cgroup and $container for containers;
// /proc/sys/kernel/osrelease and $WSL_DISTRO_NAME for WSL; /proc/net/route
// for the gateway. It reads files only.
func DetectHostEnv() HostEnv {
	return detectHostEnv(os.DirFS("/"), os.Getenv)
}

func detectHostEnv(root fs.FS, getenv func(string) string) HostEnv {
	var e HostEnv
	for _, marker := range []string{".dockerenv", "run/.containerenv"} {
		if _, err := fs.Stat(root, marker); err == nil {
			e.InContainer = true
		}
	}
	if getenv("container") != "" {
		e.InContainer = true
	}
	if b, err := fs.ReadFile(root, "proc/1/cgroup"); err == nil {
		s := string(b)
		for _, m := range []string{"docker", "kubepods", "containerd", "libpod", "lxc"} {
			if strings.Contains(s, m) {
				e.InContainer = true
			}
		}
	}
	if getenv("WSL_DISTRO_NAME") != "" {
		e.WSL = true
	} else if b, err := fs.ReadFile(root, "proc/sys/kernel/osrelease"); err == nil {
		s := strings.ToLower(string(b))
		e.WSL = strings.Contains(s, "microsoft") || strings.Contains(s, "wsl")
	}
	if f, err := root.Open("proc/net/route"); err == nil {
		e.Gateway, _ = parseDefaultGateway(f)
		_ = f.Close()
	}
	return e
}

// parseDefaultGateway reads /proc/net/route, whose addresses are 32-bit
// hex in host (little-endian on every platform WSL and Docker Desktop run on)
// byte order.
func parseDefaultGateway(r io.Reader) (netip.Addr, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 4 {
			continue
		}
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b))
		ip := netip.AddrFrom4(a)
		if ip.IsUnspecified() {
			continue
		}
		return ip, true
	}
	return netip.Addr{}, false
}

// ContainerHostRewrite returns the URL under which a server that listens on
// the host machine's loopback is reached from inside a container
// (host.docker.internal) or from WSL 2 in NAT mode (the default gateway). It
// returns rewritten == false and the URL unchanged when the URL's host is not
// loopback or the process runs directly on the host.
//
// The rewritten host is no longer loopback, so it is checked against the
// same policy: when it is refused the *DeniedError says what to add to
// allowed_hosts or allowed_cidrs, and the URL must not be used. Because a
// server may also listen inside the container itself, use the rewritten URL
// as a second candidate after the original, not instead of it.
func (d *Dialer) ContainerHostRewrite(ctx context.Context, rawURL string, env HostEnv) (newURL string, rewritten bool, err error) {
	u, err := parseEndpoint(rawURL)
	if err != nil {
		return rawURL, false, err
	}
	host := u.Hostname()
	loop := isLocalhostName(host)
	if ip, perr := netip.ParseAddr(host); perr == nil && ip.Unmap().IsLoopback() {
		loop = true
	}
	if !loop {
		return rawURL, false, nil
	}
	var target string
	switch {
	case env.InContainer:
		target = DockerHostName
	case env.WSL && env.Gateway.IsValid():
		target = env.Gateway.String()
	default:
		return rawURL, false, nil
	}
	if p := u.Port(); p != "" {
		u.Host = net.JoinHostPort(target, p)
	} else {
		u.Host = target
	}
	v := d.Check(ctx, u.String())
	if !v.Allowed {
		return rawURL, false, fmt.Errorf("rewrite %s to %s for the host machine: %w", rawURL, u.Redacted(), v.Err)
	}
	return u.String(), true, nil
}
