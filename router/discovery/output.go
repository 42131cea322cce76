package discovery

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lsp-router/lsp-router/router/llm"
)

// Report is the JSON document of `lsp-router discover --json`.
type Report struct {
	Services []llm.Service `json:"services"`
}

// WriteJSON writes {"services":[...]}. API keys are never included.
func WriteJSON(w io.Writer, services []llm.Service) error {
	if services == nil {
		services = []llm.Service{}
	}
	for i := range services {
		if services[i].Models == nil {
			services[i].Models = []llm.Model{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Report{Services: services}); err != nil {
		return fmt.Errorf("write discovery report: %w", err)
	}
	return nil
}

// WriteText writes a human summary of each service and its models. When
// nothing was found it names the endpoints tried (tried may be nil: the
// default ports are listed) and how to start a server.
func WriteText(w io.Writer, services []llm.Service, tried []string) error {
	var b strings.Builder
	if len(services) == 0 {
		writeHint(&b, tried)
		_, err := io.WriteString(w, b.String())
		return err
	}
	for i, s := range services {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s  [%s]  %s  %s  api=%s", s.Name, s.Kind, s.Endpoint, s.Status, s.APIStyle)
		if s.Version != "" {
			fmt.Fprintf(&b, "  v%s", strings.TrimPrefix(s.Version, "v"))
		}
		b.WriteString("\n")
		if s.Error != "" {
			fmt.Fprintf(&b, "  ! %s\n", s.Error)
		}
		if len(s.Models) == 0 && s.Status == llm.StatusOnline {
			b.WriteString("  (no models: load or pull one)\n")
		}
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		for _, m := range s.Models {
			ctx := "ctx ?"
			if m.ContextLength > 0 {
				ctx = fmt.Sprintf("ctx %d", m.ContextLength)
			}
			state := "not loaded"
			if m.Loaded {
				state = "loaded"
			}
			var extra []string
			for _, v := range []string{m.ParameterSize, m.Quantization} {
				if v != "" {
					extra = append(extra, v)
				}
			}
			if !m.Chat {
				extra = append(extra, "embedding only")
			}
			if m.External {
				extra = append(extra, "EXTERNAL: "+m.ExternalReason+" (not used unless security.allow_external = true)")
			}
			fmt.Fprintf(tw, "  - %s\t%s\t%s\t%s\n", m.ID, ctx, state, strings.Join(extra, " "))
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeHint(b *strings.Builder, tried []string) {
	b.WriteString("No local LLM service found.\n")
	if tried == nil {
		for _, d := range DefaultEndpoints() {
			tried = append(tried, d.Endpoint)
		}
	}
	ports := map[string][]string{}
	var hosts []string
	for _, t := range tried {
		u, err := url.Parse(t)
		if err != nil {
			continue
		}
		h := u.Hostname()
		if _, ok := ports[h]; !ok {
			hosts = append(hosts, h)
		}
		if !contains(ports[h], u.Port()) {
			ports[h] = append(ports[h], u.Port())
		}
	}
	for _, h := range hosts {
		p := ports[h]
		sort.Slice(p, func(i, j int) bool {
			a, _ := strconv.Atoi(p[i])
			b, _ := strconv.Atoi(p[j])
			return a < b
		})
		fmt.Fprintf(b, "Tried %s on ports %s.\n", h, strings.Join(p, ", "))
	}
	b.WriteString("To start one:\n")
	b.WriteString("  Ollama:     ollama serve   (then: ollama pull qwen2.5-coder:7b)\n")
	b.WriteString("  llama.cpp:  llama-server -m model.gguf --port 8080\n")
	b.WriteString("Or add a custom endpoint (e.g. a vLLM server) to the config.\n")
}
