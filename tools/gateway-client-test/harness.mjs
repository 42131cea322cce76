// Starts the LLM double (tools/fakellm) and `lsp-router gateway` in front of
// it, each on a free loopback port, with a keys file and an audit log in a
// temporary directory. Used by gateway.test.mjs.
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repo = resolve(import.meta.dirname, "..", "..");

// firstLine resolves with the first line of stream matching re.
function firstLine(proc, stream, re, what) {
  return new Promise((ok, fail) => {
    const rl = createInterface({ input: stream });
    let log = "";
    rl.on("line", (l) => {
      log += l + "\n";
      const m = l.match(re);
      if (m) ok(m);
    });
    proc.on("exit", (code) => fail(new Error(`${what} exited (${code}) before it served:\n${log}`)));
  });
}

const services = ["ollama", "lmstudio", "jan", "openwebui", "localai", "vllm", "llamacpp", "koboldcpp", "gpt4all", "textgenwebui", "tgi", "sglang"];

export async function start({ fakellmArgs = ["--kind", "ollama", "--echo", "--model", "qwen2.5-coder:7b"] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "lsp-router-gw-"));
  const bin = join(dir, "lsp-router");
  execFileSync("go", ["build", "-o", bin, "./cmd/lsp-router"], { cwd: repo, stdio: "inherit" });
  const fakeBin = join(dir, "fakellm");
  execFileSync("go", ["build", "-o", fakeBin, "./tools/fakellm"], { cwd: repo, stdio: "inherit" });

  const fake = spawn(fakeBin, ["--addr", "127.0.0.1:0", ...fakellmArgs], { stdio: ["ignore", "pipe", "inherit"] });
  const [llmURL] = await firstLine(fake, fake.stdout, /^http:\/\/\S+$/, "fakellm");

  let cfg = "";
  for (const s of services) {
    cfg += s === "ollama" ? `[services.${s}]\nendpoint = "${llmURL}"\n\n` : `[services.${s}]\nenabled = false\n\n`;
  }
  cfg += `[security]\naudit_log_path = "${join(dir, "audit.jsonl")}"\naudit_key_file = "${join(dir, "audit.key")}"\n\n`;
  cfg += `[gateway]\nkeys_file = "${join(dir, "keys")}"\n`;
  writeFileSync(join(dir, "config.toml"), cfg);
  const token = "client-test-token-" + process.pid + "-0123456789";
  const line = execFileSync(bin, ["gateway", "hash-key", "ci-bot"], { input: token + "\n" }).toString();
  writeFileSync(join(dir, "keys"), line);

  const env = { ...process.env, XDG_CONFIG_HOME: join(dir, "xdg"), XDG_STATE_HOME: join(dir, "state"), LSP_ROUTER_CONFIG: "" };
  const gw = spawn(bin, ["--config", join(dir, "config.toml"), "gateway", "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  const [, gwURL] = await firstLine(gw, gw.stderr, /on (http:\/\/\S+\/v1)/, "lsp-router gateway");
  return {
    dir, token, baseURL: gwURL, llmURL,
    audit: () => readFileSync(join(dir, "audit.jsonl"), "utf8"),
    stop: () => {
      gw.kill("SIGTERM");
      fake.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
