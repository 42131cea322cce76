package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lsp-router/lsp-router/config"
	"github.com/lsp-router/lsp-router/doctor"
	"github.com/lsp-router/lsp-router/router/answertext"
	"github.com/lsp-router/lsp-router/router/discovery"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/security/checksum"
)

func init() {
	var dnsName string
	register(&command{
		name: "doctor", summary: "check the set-up: services, air-gap rules, audit log, pins, Serena, language servers",
		usage: "[--json] [--dns NAME]", printsData: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dnsName, "dns", "", "look up this outside `NAME` to check that it does not resolve (nothing is looked up otherwise)")
			// --no-dns skipped a lookup doctor made by default; none is made
			// now unless --dns asks, so the flag is accepted and does nothing.
			fs.Bool("no-dns", false, "no effect (kept for old scripts): doctor looks up no outside name unless --dns is given")
		},
		run: func(e *env, _ *flag.FlagSet, _ []string) int { return runDoctor(e, dnsName) },
	})
}

func runDoctor(e *env, dnsName string) int {
	if strings.ContainsAny(dnsName, "/:@ \t") || len(dnsName) > 253 {
		fmt.Fprintf(e.stderr, "lsp-router doctor: --dns %q: give a bare host name, e.g. --dns probe.invalid\n", dnsName)
		return exitUsage
	}
	wd, _ := os.Getwd()
	var rep doctor.Report
	cfg, err := config.Load(e.configPath, wd)
	if err != nil {
		rep.Add(doctor.Check{Name: "config", Status: doctor.Fail, Detail: err.Error(), Fix: "fix the file; 'lsp-router config validate' lists every problem"})
		cfg = config.Default()
	} else if cfg.Source == "" {
		rep.Add(doctor.Check{Name: "config", Status: doctor.OK, Detail: "no configuration file: built-in defaults", Fix: ""})
	} else {
		rep.Add(doctor.Check{Name: "config", Status: doctor.OK, Detail: "loaded " + cfg.Source})
	}
	if n := cfg.Provenance.IgnoredNotice(); n != "" {
		rep.Add(doctor.Check{Name: "workspace config", Status: doctor.Warn, Detail: n, Fix: "review " + cfg.Provenance.WorkspaceFile + ", then lsp-router trust"})
	}
	w, err := wire(cfg, wd, e.log, false)
	if err != nil {
		rep.Add(doctor.Check{Name: "engine", Status: doctor.Fail, Detail: err.Error()})
		return finishDoctor(e, rep)
	}
	defer w.close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Services: allow/deny verdicts first, so a denied endpoint is never contacted.
	all := discovery.Endpoints(w.discCfg)
	endpoints := endpointsByHost(all)
	services, err := discovery.Scan(ctx, w.discCfg)
	switch {
	case err != nil:
		rep.Add(doctor.Check{Name: "services", Status: doctor.Fail, Detail: err.Error()})
	case len(services) == 0:
		rep.Add(doctor.Check{Name: "services", Status: doctor.Warn, Detail: fmt.Sprintf("no local LLM service answered on %d endpoints", len(all)),
			Fix: "start one: ollama serve (then ollama pull qwen2.5-coder:7b), or llama-server -m model.gguf"})
	default:
		for _, s := range services {
			c := doctor.Check{Name: "service " + s.Name, Status: doctor.OK, Detail: fmt.Sprintf("%s at %s: %s, %d model(s)", s.Kind, s.Endpoint, s.Status, len(s.Models))}
			if s.Status != llm.StatusOnline {
				c.Status, c.Detail, c.Fix = doctor.Warn, c.Detail+": "+s.Error, "see 'lsp-router discover'"
			}
			rep.Add(c)
		}
	}
	for _, s := range services {
		for _, m := range s.Models {
			if !m.External {
				continue
			}
			c := doctor.Check{Name: fmt.Sprintf("models: %s on %s is external", m.ID, s.Name), Status: doctor.OK,
				Detail: m.ExternalReason + "; never used while security.allow_external = false"}
			if cfg.Security.AllowExternal {
				c.Status, c.Detail = doctor.Warn, m.ExternalReason+"; security.allow_external = true lets prompts go there"
				c.Fix = "set security.allow_external = false, or remove the model from the server (ollama rm " + m.ID + ")"
			}
			rep.Add(c)
		}
	}
	var results []checksum.Result
	pins := checksum.Pins(cfg.Security.ModelPins)
	for _, s := range services {
		for _, m := range s.Models {
			results = append(results, pins.Verify(m.ID, m.Digest))
		}
	}
	var keys []doctor.KeyRequirement
	for name, s := range cfg.Services {
		if s.APIKeyEnv != "" {
			keys = append(keys, doctor.KeyRequirement{Service: name, EnvVar: s.APIKeyEnv, Required: true})
		}
	}
	for _, c := range cfg.CustomEndpoints {
		if c.APIKeyEnv != "" {
			keys = append(keys, doctor.KeyRequirement{Service: c.Name, EnvVar: c.APIKeyEnv, Required: true})
		}
	}
	files := []doctor.FileSpec{{Label: "audit log", Path: cfg.AuditPath(), Max: doctor.SecretMode}}
	if cfg.Source != "" {
		files = append(files, doctor.FileSpec{Label: "config", Path: cfg.Source, Max: doctor.ConfigMode})
	}
	usage, usageSet := serenaUsageEnv()
	rep.Add(doctor.SecurityChecks(ctx, doctor.SecurityInput{
		Policy: policyOf(cfg), Dialer: w.dialer, Endpoints: endpoints, DNSName: dnsName,
		AuditPath: cfg.AuditPath(), AuditKeyFile: cfg.Security.AuditKeyFile, VerifyChecksums: cfg.Security.VerifyChecksums, ModelResults: results,
		SerenaEnabled: cfg.Serena.Enabled, SerenaUsageEnv: usage, SerenaUsageSet: usageSet,
		APIKeys: keys, Files: files,
	})...)
	rep.Add(codeContextChecks(ctx, cfg, wd)...)
	return finishDoctor(e, rep)
}

func finishDoctor(e *env, rep doctor.Report) int {
	var err error
	if e.json {
		err = doctor.WriteJSON(e.stdout, rep)
	} else {
		err = doctor.WriteText(answertext.NewTerminalWriter(e.stdout), rep) // server versions and messages
	}
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitFailure
	}
	if rep.Worst() == doctor.Fail {
		return exitFailure
	}
	return exitOK
}

// endpointsByHost gives one allowlist check per host: the verdict depends on
// the host alone, and a line per port would bury the one that matters.
func endpointsByHost(urls []string) []doctor.Endpoint {
	var out []doctor.Endpoint
	index := map[string]int{}
	count := map[string]int{}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		host := raw
		if err == nil {
			host = u.Hostname()
		}
		count[host]++
		if _, ok := index[host]; ok {
			continue
		}
		index[host] = len(out)
		out = append(out, doctor.Endpoint{URL: raw})
	}
	for host, i := range index {
		out[i].Name = fmt.Sprintf("%s, %d endpoint(s)", host, count[host])
	}
	return out
}
