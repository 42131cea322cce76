// A real coding agent, opencode (npm: opencode-ai), runs one
// non-interactive prompt with its OpenAI-compatible base URL pointed at the
// gateway and `model: auto`; the answer must be the LLM double's.
//
// Tried and left out: Codex CLI 0.171 speaks only the Responses API
// (`wire_api = "chat"` is refused), which the gateway does not serve; Qwen
// Code 0.24 needs Node 22 (this project's machines have Node 20).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { start } from "./harness.mjs";

const reply = "The answer comes from the LLM double behind lsp-router.";
let gw;
before(async () => {
  gw = await start({ fakellmArgs: ["--kind", "ollama", "--reply", reply, "--model", "qwen2.5-coder:7b"] });
});
after(() => gw?.stop());

test("opencode run answers from the double through the gateway", () => {
  const home = join(gw.dir, "home"), project = join(gw.dir, "project");
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "opencode.json"), JSON.stringify({
    $schema: "https://opencode.ai/config.json",
    provider: {
      lsprouter: {
        npm: "@ai-sdk/openai-compatible",
        name: "lsp-router",
        options: { baseURL: gw.baseURL, apiKey: gw.token },
        models: { auto: { name: "auto (lsp-router)" } },
      },
    },
    model: "lsprouter/auto",
  }, null, 2));
  const bin = resolve(import.meta.dirname, "node_modules", ".bin", "opencode");
  const r = spawnSync(bin, ["run", "--model", "lsprouter/auto", "Explain in one sentence what a mutex is for."], {
    cwd: project,
    timeout: 180_000,
    encoding: "utf8",
    env: { ...process.env, PWD: project, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"), XDG_STATE_HOME: join(home, ".local", "state"),
      OPENCODE_DISABLE_MODELS_FETCH: "1", OPENCODE_DISABLE_AUTOUPDATE: "1" },
  });
  assert.equal(r.status, 0, `opencode exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  assert.ok(r.stdout.includes(reply), `opencode printed:\n${r.stdout}\n${r.stderr}`);
  // The gateway routed it (audited under the key's owner).
  assert.match(gw.audit(), /"command":"chat"[^\n]*"agent":"gateway:ci-bot"|"agent":"gateway:ci-bot"[^\n]*"command":"chat"/);
});
