// Unit tests of the extension's pure logic, run with node's test runner
// (`npm test`). The real VS Code runs in e2e/ (code-server + Chromium).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  actionOfCommand,
  answerDocument,
  commandArguments,
  commandName,
  didChangeConfigurationParams,
  Diagnostic,
  mergeStatus,
  modelsMarkdown,
  needsRestart,
  parseAnswer,
  resolveServerPath,
  installDirs,
  confirmEdits,
  resultMessage,
  serverArgs,
  settingsToOptions,
  statusBar,
  UserError,
  SETTINGS,
  ACTIONS,
} from "../src/logic";

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

const cursor = { start: { line: 3, character: 5 }, end: { line: 3, character: 5 } };
const diag = (line: number, message: string): Diagnostic => ({
  range: { start: { line, character: 1 }, end: { line, character: 4 } },
  message,
  severity: 1,
  source: "compiler",
});

test("refactor arguments: uri, range, version, instruction, diagnostics on the range's lines", () => {
  const args = commandArguments("refactor", {
    uri: "file:///w/greet.go",
    range: cursor,
    version: 7,
    instruction: "  use a strings.Builder ",
    diagnostics: [diag(3, "declared and not used: x"), diag(9, "elsewhere")],
  });
  assert.deepEqual(args, [
    {
      uri: "file:///w/greet.go",
      range: cursor,
      version: 7,
      instruction: "use a strings.Builder",
      diagnostics: [diag(3, "declared and not used: x")],
    },
  ]);
  assert.equal(commandName("refactor"), "lsp-router.refactor");
  assert.equal(actionOfCommand("lsp-router.refactor"), "refactor");
  assert.equal(actionOfCommand("lsp-router.nope"), undefined);
  assert.equal(actionOfCommand("gopls.tidy"), undefined);
});

test("explain without diagnostics nearby sends no diagnostics key", () => {
  const [args] = commandArguments("explain", { uri: "file:///a.go", range: cursor, version: 1, diagnostics: [diag(0, "x")] });
  assert.deepEqual(args, { uri: "file:///a.go", range: cursor, version: 1 });
});

test("refactor and ask refuse an empty instruction with an example", () => {
  assert.throws(() => commandArguments("refactor", { uri: "file:///a.go", range: cursor, instruction: "  " }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /refactor needs an instruction, e\.g\. "use a strings\.Builder"/);
    return true;
  });
  assert.throws(() => commandArguments("ask", {}), /ask needs a question/);
});

test("ask works without a document; document actions need one", () => {
  assert.deepEqual(commandArguments("ask", { instruction: "what is a goroutine?" }), [{ instruction: "what is a goroutine?" }]);
  assert.throws(() => commandArguments("explain", {}), /explain works on a file/);
});

test("models and cancel take no arguments", () => {
  assert.deepEqual(commandArguments("models", { uri: "file:///a.go", range: cursor }), []);
  assert.deepEqual(commandArguments("cancel", {}), []);
});

test("settings map to the TOML structure; unset settings are left to the TOML file", () => {
  const { options, problems } = settingsToOptions(
    reader({
      services: { ollama: { endpoint: "http://127.0.0.1:11434", priority: 1, timeout: "45s" }, vllm: { enabled: false } },
      customEndpoints: [{ name: "gpu-box", endpoint: "http://10.0.0.5:8000", api_style: "openai" }],
      taskRouting: { coding: { primary_models: ["qwen2.5-coder:7b"], min_context: 8192 } },
      generation: { first_token_timeout: "5m", max_answer_tokens: 1024 },
      serena: { enabled: true, command: ["serena", "start-mcp-server"], url: "" },
      languageServers: { go: { command: ["gopls"] } },
      context: { compaction_threshold: 0.8 },
      security: { allow_external: false, allowed_cidrs: ["10.0.0.0/8"], model_pins: { "qwen2.5-coder:7b": "sha256:ab" } },
      routing: {},
      prompts: null,
    }),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(options, {
    services: { ollama: { endpoint: "http://127.0.0.1:11434", priority: 1, timeout: "45s" }, vllm: { enabled: false } },
    custom_endpoints: [{ name: "gpu-box", endpoint: "http://10.0.0.5:8000", api_style: "openai" }],
    task_routing: { coding: { primary_models: ["qwen2.5-coder:7b"], min_context: 8192 } },
    generation: { first_token_timeout: "5m", max_answer_tokens: 1024 },
    serena: { enabled: true, command: ["serena", "start-mcp-server"] },
    language_servers: { go: { command: ["gopls"] } },
    context: { compaction_threshold: 0.8 },
    security: { allow_external: false, allowed_cidrs: ["10.0.0.0/8"], model_pins: { "qwen2.5-coder:7b": "sha256:ab" } },
  });
  assert.deepEqual(settingsToOptions(reader({})), { options: {}, problems: [] });
});

test("bad settings are dropped and reported with the setting's name and what is valid", () => {
  const { options, problems } = settingsToOptions(
    reader({
      services: { ollama: { endpiont: "http://x", priority: "high", timeout: "30 seconds" }, lm_studio: {}, jan: "on" },
      customEndpoints: [{ name: "n" }],
      taskRouting: { coding: { primary_models: "qwen" }, poetry: {} },
      security: { allow_external: "no" },
      context: { preserve_recent_messages: 2.5 },
      serena: { command: "serena start-mcp-server" },
    }),
  );
  assert.deepEqual(options, {});
  const all = problems.join("\n");
  assert.match(all, /lspRouter\.services\.ollama\.endpiont is not a known key; valid keys: enabled, endpoint/);
  assert.match(all, /lspRouter\.services\.ollama\.priority must be a whole number, got "high"/);
  assert.match(all, /lspRouter\.services\.ollama\.timeout must be a duration such as "30s" or "2m", got "30 seconds"/);
  assert.match(all, /lspRouter\.services\.lm_studio is not a known name; valid: ollama, lmstudio/);
  assert.match(all, /lspRouter\.services\.jan must be an object/);
  assert.match(all, /lspRouter\.customEndpoints\[0\] needs "endpoint"/);
  assert.match(all, /lspRouter\.taskRouting\.coding\.primary_models must be a list of strings/);
  assert.match(all, /lspRouter\.taskRouting\.poetry is not a known name; valid: coding, reasoning, analysis, documentation/);
  assert.match(all, /lspRouter\.security\.allow_external must be true or false, got "no"/);
  assert.match(all, /lspRouter\.context\.preserve_recent_messages must be a whole number/);
  assert.match(all, /lspRouter\.serena\.command must be a list of strings/);
});

test("every setting in package.json is read by settingsToOptions and vice versa", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));
  const declared = Object.keys(pkg.contributes.configuration.properties).map((k: string) => k.replace(/^lspRouter\./, ""));
  const editorOnly = ["path", "args", "languages", "answerView", "previewEdits", "trace.server"];
  const mirrored = SETTINGS.map(([k]) => k);
  assert.deepEqual(declared.filter((k: string) => !editorOnly.includes(k)).sort(), [...mirrored].sort());
  // Commands declared in package.json are exactly the actions plus restart/showOutput.
  const cmds = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(cmds, [...ACTIONS.map((a) => `lspRouter.${a}`), "lspRouter.restart", "lspRouter.showOutput"].sort());
});

test("didChangeConfiguration carries the options under lsp-router; path/args changes need a restart", () => {
  assert.deepEqual(didChangeConfigurationParams({ security: { allow_external: false } }), {
    settings: { "lsp-router": { security: { allow_external: false } } },
  });
  assert.equal(needsRestart(["args"]), true);
  assert.equal(needsRestart(["services"]), false);
});

test("server path: the setting wins, else PATH; missing says how to fix", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsp-router-test-"));
  try {
    const bin = path.join(dir, "lsp-router");
    fs.writeFileSync(bin, "#!/bin/sh\n", { mode: 0o755 });
    const notExec = path.join(dir, "plain");
    fs.writeFileSync(notExec, "", { mode: 0o644 });
    assert.equal(resolveServerPath(undefined, `/nonexistent:${dir}`, "linux"), bin);
    assert.equal(resolveServerPath(bin, "", "linux"), bin);
    assert.throws(() => resolveServerPath(notExec, dir, "linux"), /lspRouter\.path is ".*plain", which is not an executable file/);
    assert.throws(() => resolveServerPath("", "/nonexistent", "linux", () => false), /not found on PATH nor in .*\. Build it .* or set lspRouter\.path/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Windows looks for .exe with ; separated PATH.
  const seen: string[] = [];
  assert.equal(
    resolveServerPath(undefined, "C:\\a;C:\\b", "win32", (f) => {
      seen.push(f);
      return f.endsWith("lsp-router.exe") && f.includes("b");
    }),
    path.win32.join("C:\\b", "lsp-router.exe"),
  );
});

test("server path: found in the usual install places when PATH lacks it", () => {
  // A desktop-started VS Code: PATH without the user's bin directories.
  const env = { PATH: "/usr/bin:/bin", HOME: "/home/ada" };
  const only = (want: string) => (f: string) => f === want;
  for (const want of ["/home/ada/go/bin/lsp-router", "/home/ada/.local/bin/lsp-router", "/usr/local/bin/lsp-router", "/opt/homebrew/bin/lsp-router"]) {
    assert.equal(resolveServerPath(undefined, env, "linux", only(want)), want);
  }
  // GOBIN and GOPATH come first, as `go install` uses them.
  assert.equal(
    resolveServerPath(undefined, { ...env, GOBIN: "/opt/gobin", GOPATH: "/srv/go:/srv/go2" }, "linux", (f) => f.startsWith("/srv/go2/") || f.startsWith("/home/")),
    "/srv/go2/bin/lsp-router",
  );
  // PATH wins over the fallback places.
  assert.equal(resolveServerPath(undefined, { PATH: "/usr/bin", HOME: "/home/ada" }, "linux", () => true), "/usr/bin/lsp-router");
  assert.deepEqual(installDirs({ HOME: "/h" }, "linux"), ["/h/go/bin", "/h/.local/bin", "/usr/local/bin", "/opt/homebrew/bin"]);
  // Windows: %USERPROFILE%\go\bin, with Windows separators.
  assert.equal(
    resolveServerPath(undefined, { PATH: "C:\\Windows", USERPROFILE: "C:\\Users\\ada" }, "win32", only("C:\\Users\\ada\\go\\bin\\lsp-router.exe")),
    "C:\\Users\\ada\\go\\bin\\lsp-router.exe",
  );
  // Not found: the message names the places searched and the setting.
  assert.throws(
    () => resolveServerPath(undefined, env, "linux", () => false),
    (e: Error) =>
      e instanceof UserError &&
      e.message.includes("~/go/bin, ~/.local/bin, /usr/local/bin, /opt/homebrew/bin") &&
      e.message.includes("set lspRouter.path"),
  );
});

test("server args end with serve; bad args are refused", () => {
  assert.deepEqual(serverArgs(undefined), ["serve"]);
  assert.deepEqual(serverArgs(["--config", "/etc/lr.toml", "serve"]), ["--config", "/etc/lr.toml", "serve"]);
  assert.throws(() => serverArgs("--debug"), /lspRouter\.args must be a list of strings/);
});

test("status bar follows lsp-router/status: model, service, busy state", () => {
  let s = mergeStatus({ state: "idle" }, { model: "qwen2.5-coder:7b", service: "Ollama", state: "idle" });
  assert.deepEqual(statusBar(s), {
    text: "$(hubot) qwen2.5-coder:7b (Ollama)",
    tooltip: "lsp-router\nmodel: qwen2.5-coder:7b (Ollama)\nstate: idle",
    busy: false,
  });
  s = mergeStatus(s, { state: "generating", model: "" });
  assert.equal(s.model, "qwen2.5-coder:7b", "an empty field keeps the previous value");
  assert.equal(statusBar(s).text, "$(sync~spin) lsp-router: qwen2.5-coder:7b is writing");
  assert.equal(statusBar(s).busy, true);
  assert.match(statusBar(s).tooltip, /Click to cancel/);
  assert.deepEqual(mergeStatus(s, "junk"), s);
  assert.equal(statusBar({}).text, "$(hubot) lsp-router");
});

test("status bar names what lsp-router waits for at each stage", () => {
  const at = (state: string, model?: string) => statusBar({ state, model }).text;
  assert.equal(at("gathering"), "$(sync~spin) lsp-router: gathering context");
  assert.equal(at("selecting"), "$(sync~spin) lsp-router: choosing a model");
  assert.equal(at("waiting", "qwen2.5-coder:7b"), "$(sync~spin) lsp-router: waiting for qwen2.5-coder:7b (first token)");
  assert.equal(at("waiting"), "$(sync~spin) lsp-router: waiting for a model");
  assert.equal(at("verifying", "m"), "$(sync~spin) lsp-router: checking the edit with the language server");
  assert.equal(at("confirming", "m"), "$(sync~spin) lsp-router: waiting for you to review the edit (Refactor Preview)");
  // Idle never claims to be checking or waiting.
  assert.equal(at("idle", "m"), "$(hubot) m");
});

test("edits apply directly; broken edits and previewEdits go through Refactor Preview", () => {
  const textEdit = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: "// doc\n", annotationId: "lsp-router" };
  const fromServer = (label: string) => ({
    documentChanges: [{ textDocument: { uri: "file:///w/a.go", version: 3 }, edits: [textEdit] }],
    changeAnnotations: { "lsp-router": { label, needsConfirmation: true, description: "refactor by m on Ollama" } },
  });
  // The server's refactor annotation asks for confirmation: applied directly.
  const plain = fromServer("Refactor Greet");
  let got = confirmEdits(plain, false);
  assert.equal(got.preview, false);
  assert.equal(got.broken, false);
  assert.equal(got.edit.changeAnnotations!["lsp-router"].needsConfirmation, false);
  assert.equal(plain.changeAnnotations["lsp-router"].needsConfirmation, true, "the input is not changed");
  assert.deepEqual(got.edit.documentChanges, plain.documentChanges, "the edits themselves pass through");
  // An edit that still adds compiler errors keeps its confirmation.
  got = confirmEdits(fromServer("Refactor Greet: still adds 1 compiler error(s): line 11: undefined: slices"), false);
  assert.equal(got.preview, true);
  assert.equal(got.broken, true);
  assert.equal(got.edit.changeAnnotations!["lsp-router"].needsConfirmation, true);
  // previewEdits: every edit is previewed, also one the server left plain.
  got = confirmEdits(fromServer("Document Greet"), true);
  assert.equal(got.preview, true);
  assert.equal(got.edit.changeAnnotations!["lsp-router"].needsConfirmation, true);
  const bare = { documentChanges: [{ textDocument: { uri: "file:///w/a.go", version: 3 }, edits: [{ range: textEdit.range, newText: "x" }] }] };
  got = confirmEdits(bare, true);
  assert.equal(got.preview, true);
  assert.equal((got.edit.documentChanges![0] as { edits: { annotationId?: string }[] }).edits[0].annotationId, "lsp-router");
  assert.equal(got.edit.changeAnnotations!["lsp-router"].needsConfirmation, true);
  assert.equal(confirmEdits(bare, false).preview, false);
  assert.equal(confirmEdits(bare, false).edit.changeAnnotations, undefined);
});

test("answers: notification parsing and the Markdown document", () => {
  assert.equal(parseAnswer({ title: "x" }), undefined);
  assert.equal(parseAnswer(null), undefined);
  const a = parseAnswer({ title: "Explain Greet", markdown: "Says hello.\n", model: "m", service: "Ollama", uri: 5 });
  assert.deepEqual(a, { title: "Explain Greet", markdown: "Says hello.\n", model: "m", service: "Ollama", uri: undefined });
  assert.equal(answerDocument(a!), "# Explain Greet\n\n_m · Ollama_\n\nSays hello.\n");
});

test("result messages say whether the edit was applied and by which model", () => {
  assert.deepEqual(resultMessage("refactor", { applied: true, model: "m", service: "Ollama" }), {
    text: "lsp-router: refactor applied (m on Ollama).",
    ok: true,
  });
  assert.deepEqual(resultMessage("fix", { applied: false }), { text: "lsp-router: fix not applied.", ok: false });
});

test("models render as a Markdown table", () => {
  const md = modelsMarkdown({
    models: [{ id: "qwen2.5-coder:7b", service: "Ollama", family: "qwen2", params_b: 7.6, quantization: "Q4_K_M", context_length: 32768, loaded: false }],
  });
  assert.match(md, /\| qwen2\.5-coder:7b \| Ollama \| qwen2 \| 7\.6 \| Q4_K_M \| 32768 \| no \|/);
  assert.match(modelsMarkdown([]), /No models available/);
});
