# lsp-router build and test entry points. `make test` is what CI runs.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
BIN       := bin/lsp-router
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: all build run test test-go test-neovim test-vscode bench bench-lean fuzz lint setup vsix clean

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
# Neovim for the plugin tests, npm packages for the VS Code extension.
setup:
	$(GO) mod download
	command -v gopls >/dev/null || $(GO) install golang.org/x/tools/gopls@v0.23.0
	command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	command -v nvim >/dev/null || (apt-get update -qq && apt-get install -y -qq neovim)
	cd editors/vscode && npm ci --no-audit --no-fund

test: setup lint test-go test-neovim test-vscode

test-go:
	$(GO) test -race -count=1 ./...

test-neovim:
	bash editors/neovim/test/run.sh

test-vscode:
	cd editors/vscode && npm run compile && npm test

# Go micro-benchmarks (bench/go-bench.txt: relay cost, memory under endless
# streams, reasoning stripping of 1 MB, ...), then the end-to-end suite
# (table on stdout, bench/results.json). About three minutes on 2 cores.
bench:
	mkdir -p bench
	( $(GO) test -run '^$$' -bench . -benchtime 200x ./router/ ./router/llm/ ./security/audit/ ./router/selection/ ./router/edits/ ./router/prompt/ ./router/answertext/ ./security/redact/ && \
	  $(GO) test -run '^$$' -bench . -benchtime 10x ./router/discovery/ ) 2>&1 | tee bench/go-bench.txt
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
