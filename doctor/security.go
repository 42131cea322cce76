package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/security"
	"github.com/lsp-router/lsp-router/security/audit"
	"github.com/lsp-router/lsp-router/security/checksum"
)

// PolicyCheck reports whether the allowlist is in force.
func PolicyCheck(p security.Policy) []Check {
	name := "network: allowlist"
	if err := p.Validate(); err != nil {
		return []Check{{Name: name, Status: Fail, Detail: err.Error(), Fix: "correct the entry in the [security] section of the configuration"}}
	}
	var out []Check
	if p.AllowExternal {
		out = append(out, Check{Name: name, Status: Warn,
			Detail: "security.allow_external = true: connections to any address are allowed",
			Fix:    "set security.allow_external = false and list the LLM hosts in security.allowed_hosts or security.allowed_cidrs"})
	} else {
		out = append(out, Check{Name: name, Status: OK,
			Detail: fmt.Sprintf("enforced: loopback, %d allowed host(s), %d allowed CIDR(s)", len(p.AllowedHosts), len(p.AllowedCIDRs))})
	}
	if p.AllowProxy {
		out = append(out, Check{Name: "network: proxy", Status: Warn,
			Detail: "security.allow_proxy = true: HTTP_PROXY/HTTPS_PROXY are honoured (destinations are still checked)",
			Fix:    "set security.allow_proxy = false unless the LLM servers are only reachable through a proxy"})
	} else {
		out = append(out, Check{Name: "network: proxy", Status: OK, Detail: "proxy environment variables are ignored"})
	}
	return out
}

// Endpoint is one configured or discovered service address.
type Endpoint struct {
	Name string
	URL  string
}

// EndpointChecks gives the allowlist's verdict on each endpoint. It
// resolves only names the policy lets be looked up (security.allowed_hosts,
// or any with allow_external) and never connects, so a refused endpoint
// receives no traffic, not even a DNS query.
func EndpointChecks(ctx context.Context, d *security.Dialer, endpoints []Endpoint) []Check {
	out := make([]Check, 0, len(endpoints))
	for _, e := range endpoints {
		c := Check{Name: fmt.Sprintf("network: endpoint %s (%s)", e.Name, e.URL)}
		v := d.Check(ctx, e.URL)
		switch de, denied := security.IsDenied(v.Err); {
		case v.Allowed:
			c.Status, c.Detail = OK, v.Reason
		case denied:
			c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("refused by rule %s", de.Rule), de.Fix
			if de.IP.IsValid() {
				c.Detail += fmt.Sprintf(" (%s resolves to %s)", de.Host, de.IP)
			}
		default:
			c.Status, c.Detail = Warn, v.Reason
			c.Fix = "check the URL in the configuration; a name must resolve (internal DNS or /etc/hosts) to be checked"
		}
		out = append(out, c)
	}
	return out
}

// DNSCheck asks r to resolve name, an outside name the user chose with
// `lsp-router doctor --dns NAME`. Doctor never looks up an outside name
// unless asked: the query itself leaves the machine. The lookup is the only
// traffic: nothing connects to the answer. On an air-gapped machine the
// lookup should fail, which is ok; an answer with public addresses is a
// warning, since the network reaches outside DNS.
func DNSCheck(ctx context.Context, r security.Resolver, name string) Check {
	name = strings.TrimSpace(name)
	if name == "" {
		return DNSNotChecked()
	}
	c := Check{Name: "network: external DNS"}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", name)
	if err != nil || len(addrs) == 0 {
		c.Status = OK
		c.Detail = fmt.Sprintf("%s does not resolve, as expected on an air-gapped network", name)
		if err != nil {
			c.Detail += fmt.Sprintf(" (%v)", err)
		}
		return c
	}
	var public []string
	for _, a := range addrs {
		a = a.Unmap()
		if !(a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast()) {
			public = append(public, a.String())
		}
	}
	if len(public) == 0 {
		c.Status = OK
		c.Detail = fmt.Sprintf("%s resolves only to local or private addresses (%s): a sinkhole resolver", name, joinAddrs(addrs))
		return c
	}
	c.Status = Warn
	c.Detail = fmt.Sprintf("%s resolves to public address(es) %s: this machine's DNS reaches the outside (the allowlist still refuses connections)", name, strings.Join(public, ", "))
	c.Fix = "on an air-gapped network, point the resolver at an internal DNS server without forwarders"
	return c
}

// DNSNotChecked is the line doctor prints when no outside name was looked
// up, which is the default.
func DNSNotChecked() Check {
	return Check{Name: "network: external DNS", Status: OK,
		Detail: "not checked: no outside name is looked up unless asked; `lsp-router doctor --dns NAME` checks whether NAME resolves from this machine"}
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// AuditChecks reports whether the audit log can be written (without writing
// to it) and whether its keyed chain is intact under the key in keyFile
// (see audit.ResolveKeyFile; empty: the default place).
func AuditChecks(path, keyFile string) []Check {
	if path == "" {
		return []Check{{Name: "audit: log", Status: Fail, Detail: "no audit log path is configured",
			Fix: "set the audit log path in the configuration (audit records every query)"}}
	}
	return []Check{auditWritable(path), auditChain(path, keyFile)}
}

func auditWritable(path string) Check {
	c := Check{Name: "audit: log writable (" + path + ")"}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	switch {
	case err == nil:
		_ = f.Close()
		c.Status, c.Detail = OK, "the log can be appended to"
		return c
	case !errors.Is(err, fs.ErrNotExist):
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = fmt.Sprintf("make %s writable by the user running lsp-router (chown, then chmod 600)", path)
		return c
	}
	// Not created yet: the directory (or the first existing ancestor) must accept a new file.
	dir := filepath.Dir(path)
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	tmp, err := os.CreateTemp(dir, ".lsp-router-doctor-*")
	if err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("the log does not exist and %s does not accept new files: %v", dir, err)
		c.Fix = fmt.Sprintf("create %s writable by the user running lsp-router, or configure another audit path", filepath.Dir(path))
		return c
	}
	name := tmp.Name()
	_ = tmp.Close()
	_ = os.Remove(name)
	c.Status, c.Detail = OK, "the log does not exist yet; it will be created (mode 0600) on the first event"
	return c
}

func auditChain(path, keyFile string) Check {
	c := Check{Name: "audit: hash chain"}
	res, err := audit.VerifyWith(path, audit.VerifyOptions{KeyFile: audit.ResolveKeyFile(keyFile)})
	var te *audit.TamperError
	switch {
	case err == nil && res.Lines == 0:
		c.Status, c.Detail = OK, "no events yet"
	case err == nil:
		c.Status = OK
		c.Detail = fmt.Sprintf("%d events intact (seq %d-%d, %d file(s)), head %s", res.Lines, res.FirstSeq, res.LastSeq, len(res.Files), res.Head)
		if res.EarlierFilesRemoved {
			c.Detail += "; older rotated files were archived or removed"
		}
	case errors.As(err, &te):
		c.Status = Fail
		c.Detail = fmt.Sprintf("%s line %d: %s: %s (the %d events before it verify)", te.File, te.Line, te.Kind, te.Detail, res.Lines)
		c.Fix = fmt.Sprintf("keep the files as evidence and investigate; to start a new chain move %s and its rotated files aside", path)
	case errors.Is(err, fs.ErrNotExist):
		c.Status, c.Detail = OK, "no log yet"
	default:
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "make the audit log readable by the user running lsp-router"
	}
	return c
}

// ModelPinChecks reports model integrity decisions the caller computed with
// checksum.Pins.Verify / VerifyFile for the installed models.
func ModelPinChecks(verifyChecksums bool, results []checksum.Result) []Check {
	if !verifyChecksums {
		return []Check{{Name: "models: integrity", Status: Warn,
			Detail: "security.verify_checksums = false: model files are not checked against pins",
			Fix:    "run `lsp-router models --pin`, review and paste its output into the configuration (it sets verify_checksums = true)"}}
	}
	if len(results) == 0 {
		return []Check{{Name: "models: integrity", Status: Warn, Detail: "no models found to verify",
			Fix: "start the local LLM services, then run `lsp-router doctor` again"}}
	}
	out := make([]Check, 0, len(results))
	for _, r := range results {
		c := Check{Name: "models: " + r.Model, Detail: r.Reason}
		switch r.Decision {
		case checksum.Pinned:
			c.Status = OK
		case checksum.Mismatched:
			c.Status = Fail
			c.Fix = "find out why the model changed; if intended, update its pin with `lsp-router models --pin`"
		default:
			c.Status = Warn
			c.Fix = "the model is refused for routing: pin it with `lsp-router models --pin` after checking it"
		}
		out = append(out, c)
	}
	return out
}

// SerenaUsageReportingCheck checks that Serena is started with
// SERENA_USAGE_REPORTING=false. value is the value lsp-router puts in
// Serena's environment (set false when absent).
func SerenaUsageReportingCheck(serenaEnabled bool, value string, set bool) Check {
	c := Check{Name: "serena: usage reporting"}
	v := strings.ToLower(strings.TrimSpace(value))
	switch {
	case !serenaEnabled:
		c.Status, c.Detail = OK, "Serena is not used"
	case set && (v == "false" || v == "0"):
		c.Status, c.Detail = OK, "disabled (SERENA_USAGE_REPORTING="+value+")"
	default:
		c.Status = Fail
		c.Detail = "Serena would start with usage reporting enabled"
		if set {
			c.Detail = fmt.Sprintf("SERENA_USAGE_REPORTING=%q does not disable it", value)
		}
		c.Fix = "set SERENA_USAGE_REPORTING=false in the environment Serena is started with"
	}
	return c
}

// KeyRequirement names the environment variable holding a service's API key.
type KeyRequirement struct {
	Service  string
	EnvVar   string
	Required bool
}

// APIKeyChecks reports whether each service's key variable is set, without
// revealing anything about the value.
func APIKeyChecks(reqs []KeyRequirement, getenv func(string) string) []Check {
	out := make([]Check, 0, len(reqs))
	for _, r := range reqs {
		c := Check{Name: fmt.Sprintf("auth: %s API key (%s)", r.Service, r.EnvVar)}
		switch {
		case strings.TrimSpace(getenv(r.EnvVar)) != "":
			c.Status, c.Detail = OK, "set"
		case r.Required:
			c.Status, c.Detail = Fail, fmt.Sprintf("%s requires a bearer token and %s is empty", r.Service, r.EnvVar)
			c.Fix = fmt.Sprintf("export %s=<token> in the environment that starts lsp-router (the editor's)", r.EnvVar)
		default:
			c.Status, c.Detail = OK, "not set (optional for "+r.Service+")"
		}
		out = append(out, c)
	}
	return out
}

// File modes to expect.
const (
	// ConfigMode is the most a configuration file may allow.
	ConfigMode fs.FileMode = 0o644
	// SecretMode is the most the audit log (and configs holding keys) may allow.
	SecretMode fs.FileMode = 0o600
)

// FileSpec is one file whose permissions matter.
type FileSpec struct {
	Label string
	Path  string
	// Max is the widest acceptable permission, e.g. ConfigMode.
	Max fs.FileMode
}

// FileModeChecks fails a world-writable file or a file in a world-writable
// directory without the sticky bit (anyone could replace it), and warns when
// the mode is wider than Max. Missing files are ok.
func FileModeChecks(files []FileSpec) []Check {
	out := make([]Check, 0, len(files))
	for _, f := range files {
		c := Check{Name: fmt.Sprintf("files: %s mode (%s)", f.Label, f.Path)}
		fi, err := os.Stat(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.Status, c.Detail = OK, "not present"
			out = append(out, c)
			continue
		case err != nil:
			c.Status, c.Detail, c.Fix = Warn, err.Error(), "make the file readable by the user running lsp-router"
			out = append(out, c)
			continue
		}
		if runtime.GOOS == "windows" {
			c.Status, c.Detail = OK, "permissions are not checked on Windows"
			out = append(out, c)
			continue
		}
		perm := fi.Mode().Perm()
		dir := filepath.Dir(f.Path)
		di, derr := os.Stat(dir)
		switch {
		case perm&0o002 != 0:
			c.Status, c.Detail = Fail, fmt.Sprintf("mode %04o: anyone can write it", perm)
			c.Fix = fmt.Sprintf("chmod %o %s", f.Max, f.Path)
		case derr == nil && di.Mode().Perm()&0o002 != 0 && di.Mode()&fs.ModeSticky == 0:
			c.Status, c.Detail = Fail, fmt.Sprintf("directory %s (mode %04o) is world-writable: anyone can replace the file", dir, di.Mode().Perm())
			c.Fix = fmt.Sprintf("chmod o-w %s, or move the file to a private directory", dir)
		case perm&^f.Max != 0:
			c.Status, c.Detail = Warn, fmt.Sprintf("mode %04o is wider than %04o", perm, f.Max)
			c.Fix = fmt.Sprintf("chmod %o %s", f.Max, f.Path)
		default:
			c.Status, c.Detail = OK, fmt.Sprintf("mode %04o", perm)
		}
		out = append(out, c)
	}
	return out
}

// SecurityInput gathers what SecurityChecks needs; the caller fills it from
// the configuration and discovery.
type SecurityInput struct {
	Policy    security.Policy
	Dialer    *security.Dialer
	Endpoints []Endpoint
	// DNSName is the outside name to look up (`doctor --dns NAME`); empty
	// looks nothing up.
	DNSName         string
	AuditPath       string
	AuditKeyFile    string // security.audit_key_file
	VerifyChecksums bool
	ModelResults    []checksum.Result
	SerenaEnabled   bool
	SerenaUsageEnv  string // value passed to Serena as SERENA_USAGE_REPORTING
	SerenaUsageSet  bool
	APIKeys         []KeyRequirement
	Getenv          func(string) string // nil: os.Getenv
	Files           []FileSpec
}

// SecurityChecks runs every security check in a fixed order: allowlist,
// endpoints, DNS, audit, models, Serena, API keys, file modes.
func SecurityChecks(ctx context.Context, in SecurityInput) []Check {
	var out []Check
	out = append(out, PolicyCheck(in.Policy)...)
	if in.Dialer != nil {
		out = append(out, EndpointChecks(ctx, in.Dialer, in.Endpoints)...)
		out = append(out, DNSCheck(ctx, in.Dialer.Resolver(), in.DNSName))
	}
	out = append(out, AuditChecks(in.AuditPath, in.AuditKeyFile)...)
	out = append(out, ModelPinChecks(in.VerifyChecksums, in.ModelResults)...)
	out = append(out, SerenaUsageReportingCheck(in.SerenaEnabled, in.SerenaUsageEnv, in.SerenaUsageSet))
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	out = append(out, APIKeyChecks(in.APIKeys, getenv)...)
	out = append(out, FileModeChecks(in.Files)...)
	return out
}
