package audit

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Agent is the coding tool lsp-router runs under, and how it was recognised.
type Agent struct {
	// Name is a short stable id: neovim, vim, vscode, cursor, windsurf, zed,
	// helix, emacs, jetbrains, kakoune, sublime, claude-code, gemini-cli, or
	// "unknown".
	Name string `json:"name"`
	// Via says what identified it: "parent:nvim", "env:INSIDE_EMACS", ...
	Via string `json:"via,omitempty"`
}

// DetectAgent identifies the coding agent: first from the ancestor processes
// (the editor usually starts lsp-router itself, /proc/<pid>/stat), then from
// environment markers the editors and agents set in their terminals. The LSP
// initialize request's clientInfo.name, when present, is a better source: use
// NormalizeAgent on it and pass it as Options.Agent or Event.Agent.
func DetectAgent() Agent {
	return detectAgent(os.Getenv, os.Getppid(), os.DirFS("/proc"))
}

// parentNames maps a process name (/proc/<pid>/comm, at most 15 bytes) to an agent.
var parentNames = map[string]string{
	"nvim": "neovim", "vim": "vim", "gvim": "vim", "hx": "helix", "helix": "helix",
	"emacs": "emacs", "code": "vscode", "code-oss": "vscode", "codium": "vscode",
	"vscodium": "vscode", "code-insiders": "vscode", "cursor": "cursor", "windsurf": "windsurf",
	"zed": "zed", "zed-editor": "zed", "zeditor": "zed", "kak": "kakoune",
	"sublime_text": "sublime", "idea": "jetbrains", "goland": "jetbrains",
	"pycharm": "jetbrains", "webstorm": "jetbrains", "clion": "jetbrains",
	"rustrover": "jetbrains", "phpstorm": "jetbrains", "rider": "jetbrains",
	"claude": "claude-code", "gemini": "gemini-cli",
}

// envMarkers are checked in order: specific agents before the editors whose
// terminals they may run in (Cursor also sets TERM_PROGRAM=vscode).
var envMarkers = []struct {
	key, value, agent string // value "" means any non-empty value
}{
	{"CLAUDECODE", "", "claude-code"},
	{"GEMINI_CLI", "", "gemini-cli"},
	{"CURSOR_TRACE_ID", "", "cursor"},
	{"NVIM", "", "neovim"},
	{"NVIM_LISTEN_ADDRESS", "", "neovim"},
	{"INSIDE_EMACS", "", "emacs"},
	{"ZED_TERM", "", "zed"},
	{"TERMINAL_EMULATOR", "JetBrains-JediTerm", "jetbrains"},
	{"IDEA_INITIAL_DIRECTORY", "", "jetbrains"},
	{"TERM_PROGRAM", "vscode", "vscode"},
	{"VSCODE_PID", "", "vscode"},
	{"VSCODE_IPC_HOOK_CLI", "", "vscode"},
	{"VIMRUNTIME", "", "vim"},
	{"KAKOUNE_SESSION", "", "kakoune"},
}

// maxAncestors bounds the walk up the process tree (editor -> shell -> wrapper).
const maxAncestors = 6

func detectAgent(getenv func(string) string, ppid int, proc fs.FS) Agent {
	pid := ppid
	for i := 0; i < maxAncestors && pid > 1; i++ {
		comm, parent, ok := readStat(proc, pid)
		if !ok {
			break
		}
		name := strings.ToLower(comm)
		if a, ok := parentNames[name]; ok {
			return Agent{Name: a, Via: "parent:" + comm}
		}
		if strings.HasPrefix(name, "emacs-") {
			return Agent{Name: "emacs", Via: "parent:" + comm}
		}
		pid = parent
	}
	for _, m := range envMarkers {
		v := getenv(m.key)
		if v != "" && (m.value == "" || v == m.value) {
			return Agent{Name: m.agent, Via: "env:" + m.key}
		}
	}
	return Agent{Name: "unknown"}
}

// readStat parses /proc/<pid>/stat: "pid (comm) state ppid ...". comm may
// contain spaces and parentheses, so it ends at the last ')'.
func readStat(proc fs.FS, pid int) (comm string, ppid int, ok bool) {
	b, err := fs.ReadFile(proc, strconv.Itoa(pid)+"/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	open, closeIdx := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closeIdx < open {
		return "", 0, false
	}
	fields := strings.Fields(s[closeIdx+1:])
	if len(fields) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return "", 0, false
	}
	return s[open+1 : closeIdx], ppid, true
}

// NormalizeAgent maps an LSP clientInfo.name ("Neovim", "Visual Studio
// Code", "helix", "Zed", "GNU Emacs", ...) to the ids DetectAgent uses, and
// returns other names lower-cased.
func NormalizeAgent(clientName string) string {
	n := strings.ToLower(strings.TrimSpace(clientName))
	switch {
	case n == "":
		return "unknown"
	case strings.Contains(n, "neovim") || n == "nvim":
		return "neovim"
	case strings.Contains(n, "cursor"):
		return "cursor"
	case strings.Contains(n, "windsurf"):
		return "windsurf"
	case strings.Contains(n, "visual studio code") || strings.Contains(n, "vscode") || strings.Contains(n, "vscodium"):
		return "vscode"
	case strings.Contains(n, "emacs") || strings.Contains(n, "eglot") || strings.Contains(n, "lsp-mode"):
		return "emacs"
	case strings.Contains(n, "helix"):
		return "helix"
	case strings.Contains(n, "zed"):
		return "zed"
	case strings.Contains(n, "jetbrains") || strings.Contains(n, "intellij"):
		return "jetbrains"
	case strings.Contains(n, "vim"):
		return "vim"
	case strings.Contains(n, "kakoune") || strings.Contains(n, "kak-lsp"):
		return "kakoune"
	case strings.Contains(n, "sublime"):
		return "sublime"
	}
	return n
}
