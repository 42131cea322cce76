# lsp-router build and test entry points. `make test` is what CI runs.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
BIN       := bin/lsp-router
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: all build run test test-go test-neovim test-emacs test-vscode test-vscode-e2e test-mcp test-gateway bench bench-lean fuzz lint setup vsix clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lsp-router

# The main job: ask the local LLM services to explain the bundled example.
# Exit code 3 means no service runs: the command has already said how to
# start one, which is the expected first experience, not a build failure.
run: build
	@./$(BIN) ask --action explain --file examples/hello/main.go --line 9 --col 6 "What does this function do, and is it correct?"; \
	rc=$$?; if [ $$rc -eq 3 ]; then exit 0; fi; exit $$rc

# Everything the tests need (idempotent): gopls for the built-in backend,
# Neovim and Emacs (with lsp-mode, go-mode, eglot) for the plugin tests, npm
# packages for the VS Code extension, and for its end-to-end test code-server
# (scripts off, prepared offline by prepare.sh), Chromium and ripgrep; the MCP
# conformance suite and opencode for the MCP tests.
setup:
	$(GO) mod download
	command -v gopls >/dev/null || $(GO) install golang.org/x/tools/gopls@v0.23.0
	command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	command -v nvim >/dev/null || (apt-get update -qq && apt-get install -y -qq neovim)
	(command -v emacs && ls -d /usr/share/emacs/site-lisp/elpa/lsp-mode-* /usr/share/emacs/site-lisp/elpa/go-mode-*) >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq emacs-nox elpa-eglot elpa-lsp-mode elpa-go-mode)
	cd editors/vscode && npm ci --no-audit --no-fund
	command -v chromium >/dev/null && command -v rg >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium ripgrep)
	cd editors/vscode/e2e && { cmp -s package-lock.json node_modules/.installed-lock || { npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock; }; } && bash prepare.sh
	# npm install, not ci: the lock pins every version, but registry mirrors
	# often carry only this platform's opencode binary package, and ci
	# refuses a lock without the other platforms' entries.
	cd tools/mcp-conformance && npm install --no-audit --no-fund
	# npm install, not ci: the lock pins every version, but ci also wants
	# opencode's binaries for other systems, which the registry here lacks.
	cd tools/gateway-client-test && npm install --no-audit --no-fund --no-save

test: setup lint test-go test-neovim test-emacs test-vscode test-vscode-e2e test-mcp test-gateway

test-go:
	$(GO) test -race -count=1 ./...

test-neovim:
	bash editors/neovim/test/run.sh

# Emacs 28 in batch: lsp-mode runs gopls and lsp-router side by side, and
# eglot runs lsp-router alone (editors/emacs/test/run.sh). About 15 s.
test-emacs:
	bash editors/emacs/test/run.sh

test-vscode:
	cd editors/vscode && npm run compile && npm test

# The packaged extension in a real VS Code (code-server) driven by headless
# Chromium against the LLM double; screenshots in editors/vscode/test-results/.
test-vscode-e2e:
	bash editors/vscode/e2e/run.sh

# `lsp-router mcp`: the official MCP conformance suite against --http (the
# scenarios that test a server in general; run.sh says which and why), then
# a real agent, opencode, lists the tools over stdio.
test-mcp: build
	bash tools/mcp-conformance/run.sh $(BIN)
	LSP_ROUTER_OPENCODE=$(CURDIR)/tools/mcp-conformance/node_modules/.bin/opencode $(GO) test -count=1 -run '^TestMCPOpencodeListsTheTools$$' ./cmd/lsp-router

# The official OpenAI Node client (and a coding agent) against the gateway
# in front of the LLM double.
test-gateway:
	cd tools/gateway-client-test && npm test

# Go micro-benchmarks (bench/go-bench.txt: relay cost, memory under endless
# streams, reasoning stripping of 1 MB, ...), then the end-to-end suite
# (table on stdout, bench/results.json). About three minutes on 2 cores.
bench:
	mkdir -p bench
	( $(GO) test -run '^$$' -bench . -benchtime 200x ./router/ ./router/llm/ ./security/audit/ ./router/selection/ ./router/edits/ ./router/prompt/ ./router/answertext/ ./security/redact/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 10x ./router/discovery/ ) 2>&1 | tee bench/go-bench.txt
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./gateway/ 2>&1 | tee -a bench/go-bench.txt
	$(GO) run ./tools/bench -out bench/results.json

# The lean request path only (issue 16): process-tree memory with the
# editor's context vs lsp-router's own gopls, refactor overhead at 1k/10k/100k
# tokens minus the LLM double's time, CPU per keystroke with 50 KB open.
bench-lean:
	mkdir -p bench
	$(GO) run ./tools/bench -only lean -out bench/lean.json

# Fuzz the LSP framing and every handler's params (the seed corpus in
# lsp/testdata/fuzz also runs in `go test`). FUZZTIME per target.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzFraming$$' -fuzztime=$(FUZZTIME) ./lsp/
	$(GO) test -run='^$$' -fuzz='^FuzzHandlers$$' -fuzztime=$(FUZZTIME) ./lsp/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: run gofmt -w on the files above"; exit 1)
	$(GO) vet ./...
	staticcheck ./...

vsix:
	cd editors/vscode && npm ci --no-audit --no-fund && npm run compile && npm run package

clean:
	rm -rf bin
