// Pure logic of the extension, free of the `vscode` module so that it runs
// under node's test runner: settings -> initializationOptions, command
// arguments, the status bar text, the server path, answer formatting.
// The shapes follow docs/protocol.md.

import * as fs from "node:fs";
import * as path from "node:path";

/** The actions the server offers, in menu order. */
export const ACTIONS = ["explain", "refactor", "document", "fix", "tests", "ask", "models", "cancel"] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that need an instruction typed by the user. */
export const NEEDS_INSTRUCTION: ReadonlySet<Action> = new Set<Action>(["refactor", "ask"]);
/** Actions whose outcome is an answer to read (the others edit the document). */
export const ANSWER_ACTIONS: ReadonlySet<Action> = new Set<Action>(["explain", "ask", "tests"]);
/** Actions that need a document and a position. */
export const DOCUMENT_ACTIONS: ReadonlySet<Action> = new Set<Action>(["explain", "refactor", "document", "fix", "tests"]);

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}
/** An LSP Diagnostic, as the language client converts it. */
export interface Diagnostic {
  range: Range;
  message: string;
  severity?: number;
  code?: number | string;
  source?: string;
  [key: string]: unknown;
}

/** The single argument object of an lsp-router.* command. */
export interface CommandArguments {
  uri?: string;
  range?: Range;
  version?: number;
  instruction?: string;
  diagnostics?: Diagnostic[];
}

/** What the editor knows when a command runs; undefined fields are left out. */
export interface CommandContext {
  uri?: string;
  /** The selection, or an empty range at the cursor (0-based, UTF-16). */
  range?: Range;
  version?: number;
  instruction?: string;
  /** All diagnostics of the document; those on the lines of `range` are sent. */
  diagnostics?: Diagnostic[];
}

/**
 * The client's experimental capabilities: lspRouterAnswers tells the server
 * that this editor renders lsp-router/answer notifications itself;
 * lspRouterExecuteCommandWaits keeps the command's result (applied, answer)
 * in the workspace/executeCommand response, which handleResult reads.
 */
export function experimentalCapabilities(): Record<string, unknown> {
  return { lspRouterAnswers: true, lspRouterExecuteCommandWaits: true };
}

/** An error whose message is meant for the user as is. */
export class UserError extends Error {}

/** The workspace/executeCommand name of an action. */
export function commandName(action: Action): string {
  return `lsp-router.${action}`;
}

/** The action of a workspace/executeCommand name ("lsp-router.explain" -> "explain"), or undefined. */
export function actionOfCommand(command: string): Action | undefined {
  const name = command.startsWith("lsp-router.") ? command.slice("lsp-router.".length) : "";
  return (ACTIONS as readonly string[]).includes(name) ? (name as Action) : undefined;
}

function overlapsLines(d: Diagnostic, r: Range): boolean {
  return d.range.start.line <= r.end.line && d.range.end.line >= r.start.line;
}

/**
 * The `arguments` array of workspace/executeCommand for `action`. Throws a
 * UserError saying what to do when something the action needs is missing.
 */
export function commandArguments(action: Action, ctx: CommandContext): unknown[] {
  if (action === "models" || action === "cancel") {
    return [];
  }
  const instruction = ctx.instruction?.trim();
  if (NEEDS_INSTRUCTION.has(action) && !instruction) {
    throw new UserError(
      action === "refactor"
        ? "lsp-router: refactor needs an instruction, e.g. \"use a strings.Builder\"."
        : "lsp-router: ask needs a question, e.g. \"what does this function return?\".",
    );
  }
  if (DOCUMENT_ACTIONS.has(action) && (!ctx.uri || !ctx.range)) {
    throw new UserError(`lsp-router: ${action} works on a file: open one and put the cursor on a symbol.`);
  }
  const args: CommandArguments = {};
  if (ctx.uri && ctx.range) {
    args.uri = ctx.uri;
    args.range = ctx.range;
    if (ctx.version !== undefined) {
      args.version = ctx.version;
    }
  }
  if (instruction) {
    args.instruction = instruction;
  }
  if (ctx.range && ctx.diagnostics) {
    const near = ctx.diagnostics.filter((d) => overlapsLines(d, ctx.range as Range));
    if (near.length > 0) {
      args.diagnostics = near;
    }
  }
  return [args];
}

// ---------------------------------------------------------------- settings

/** Reads one setting; undefined when the user left it unset. */
export type SettingsReader = (key: string) => unknown;

/** The result of reading the settings: the TOML-shaped object and problems. */
export interface Settings {
  options: Record<string, unknown>;
  problems: string[];
}

/**
 * The shape of a TOML value: a scalar kind, a table with known keys, a table
 * keyed by names (optionally only some names), or a list of tables.
 */
export type Spec =
  | "string"
  | "boolean"
  | "number"
  | "integer"
  | "duration"
  | "stringList"
  | { table: Record<string, Spec>; required?: string[] }
  | { map: Spec; names?: readonly string[] }
  | { list: Spec };

/** Service names accepted under [services.<name>] (config.ServiceKinds). */
export const SERVICE_KINDS = [
  "ollama", "lmstudio", "jan", "openwebui", "localai", "vllm", "llamacpp",
  "koboldcpp", "gpt4all", "textgenwebui", "tgi", "sglang",
] as const;
const CATEGORIES = ["coding", "reasoning", "analysis", "documentation"] as const;
const PROMPT_ACTIONS = ["explain", "refactor", "document", "fix", "tests", "ask"] as const;

const SERVICE: Spec = {
  table: {
    enabled: "boolean", endpoint: "string", priority: "integer", timeout: "duration",
    max_retries: "integer", api_key_env: "string", api_key_file: "string",
  },
};

/**
 * Each lspRouter.<setting> and the TOML table it mirrors (config/config.go).
 * The objects use the TOML key names, so a TOML table can be copied as is.
 */
export const SETTINGS: ReadonlyArray<[string, string, Spec]> = [
  ["services", "services", { map: SERVICE, names: SERVICE_KINDS }],
  ["customEndpoints", "custom_endpoints", {
    list: {
      table: {
        name: "string", endpoint: "string", priority: "integer", api_style: "string",
        api_key_env: "string", api_key_file: "string",
      },
      required: ["name", "endpoint"],
    },
  }],
  ["taskRouting", "task_routing", {
    map: { table: { primary_models: "stringList", fallback_models: "stringList", min_context: "integer", require_serena: "boolean" } },
    names: CATEGORIES,
  }],
  ["routing", "routing", {
    table: { vram_ceiling_gb: "number", llm_classifier: "boolean", discovery_ttl: "duration", probe_timeout: "duration" },
  }],
  ["generation", "generation", {
    table: {
      connect_timeout: "duration", first_token_timeout: "duration", idle_timeout: "duration",
      max_answer_tokens: "integer", keep_alive: "string",
    },
  }],
  ["serena", "serena", {
    table: { enabled: "boolean", command: "stringList", url: "string", workspace: "string", timeout: "duration" },
  }],
  ["languageServers", "language_servers", { map: { table: { command: "stringList", enabled: "boolean" } } }],
  ["context", "context", {
    table: {
      compaction_threshold: "number", compaction_target: "number", preserve_recent_messages: "integer",
      max_tool_output_tokens: "integer", max_references: "integer",
    },
  }],
  ["security", "security", {
    table: {
      allow_external: "boolean", allowed_hosts: "stringList", allowed_cidrs: "stringList", allow_proxy: "boolean",
      audit_enabled: "boolean", audit_log_path: "string", audit_max_bytes: "integer", log_queries: "boolean",
      log_queries_plaintext: "boolean", log_responses: "boolean", verify_checksums: "boolean",
      model_pins: { map: "string" },
    },
  }],
  ["prompts", "prompts", { map: "string", names: PROMPT_ACTIONS }],
];

// Go's time.ParseDuration syntax: "30s", "1m30s", "500ms".
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Unset: undefined, null, or "" (VS Code's defaults for "let the TOML file decide"). */
function unset(v: unknown): boolean {
  return v === undefined || v === null || v === "";
}

function describe(spec: Spec): string {
  if (typeof spec === "string") {
    return {
      string: "a string",
      boolean: "true or false",
      number: "a number",
      integer: "a whole number",
      duration: "a duration such as \"30s\" or \"2m\"",
      stringList: "a list of strings",
    }[spec];
  }
  if ("list" in spec) {
    return "a list of objects";
  }
  return "an object";
}

/** Validates `v` against `spec`; returns the value to send, or undefined (with a problem recorded). */
function check(where: string, v: unknown, spec: Spec, problems: string[]): unknown {
  const bad = () => {
    problems.push(`${where} must be ${describe(spec)}, got ${JSON.stringify(v)}.`);
    return undefined;
  };
  if (typeof spec === "string") {
    switch (spec) {
      case "string":
        return typeof v === "string" ? v : bad();
      case "boolean":
        return typeof v === "boolean" ? v : bad();
      case "number":
        return typeof v === "number" && Number.isFinite(v) ? v : bad();
      case "integer":
        return typeof v === "number" && Number.isInteger(v) ? v : bad();
      case "duration":
        return typeof v === "string" && DURATION.test(v.trim()) ? v.trim() : bad();
      case "stringList":
        return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : bad();
    }
  }
  if ("list" in spec) {
    if (!Array.isArray(v)) {
      return bad();
    }
    const out: unknown[] = [];
    v.forEach((item, i) => {
      const got = check(`${where}[${i}]`, item, spec.list, problems);
      if (got !== undefined) {
        out.push(got);
      }
    });
    return out;
  }
  if (!isPlainObject(v)) {
    return bad();
  }
  const out: Record<string, unknown> = {};
  if ("table" in spec) {
    const keys = Object.keys(spec.table);
    for (const [k, item] of Object.entries(v)) {
      const sub = spec.table[k];
      if (!sub) {
        problems.push(`${where}.${k} is not a known key; valid keys: ${keys.join(", ")}.`);
        continue;
      }
      if (unset(item)) {
        continue;
      }
      const got = check(`${where}.${k}`, item, sub, problems);
      if (got !== undefined) {
        out[k] = got;
      }
    }
    const missing = (spec.required ?? []).filter((k) => out[k] === undefined);
    if (missing.length > 0) {
      problems.push(`${where} needs ${missing.map((k) => `"${k}"`).join(" and ")}.`);
      return undefined;
    }
    return out;
  }
  for (const [name, item] of Object.entries(v)) {
    if (spec.names && !spec.names.includes(name)) {
      problems.push(`${where}.${name} is not a known name; valid: ${spec.names.join(", ")}.`);
      continue;
    }
    const got = check(`${where}.${name}`, item, spec.map, problems);
    // An entry left empty (all its keys invalid) would replace the TOML
    // file's entry with nothing: leave the file's entry in charge instead.
    if (got !== undefined && !(isPlainObject(got) && Object.keys(got).length === 0)) {
      out[name] = got;
    }
  }
  return out;
}

/**
 * Builds the TOML-shaped configuration object (sent as initializationOptions
 * and in workspace/didChangeConfiguration) from the lspRouter.* settings.
 * Unset settings are left out so the server's TOML file decides; invalid
 * values are left out and reported in `problems` with the setting's name and
 * what is accepted.
 */
export function settingsToOptions(read: SettingsReader): Settings {
  const problems: string[] = [];
  const options: Record<string, unknown> = {};
  for (const [key, toml, spec] of SETTINGS) {
    const v = read(key);
    if (unset(v)) {
      continue;
    }
    const got = check(`lspRouter.${key}`, v, spec, problems);
    const empty = got === undefined || (Array.isArray(got) ? got.length === 0 : isPlainObject(got) && Object.keys(got).length === 0);
    if (!empty) {
      options[toml] = got;
    }
  }
  return { options, problems };
}

/** The didChangeConfiguration parameters for new options (under "lsp-router", as docs/protocol.md allows). */
export function didChangeConfigurationParams(options: Record<string, unknown>): { settings: Record<string, unknown> } {
  return { settings: { "lsp-router": options } };
}

/** True when the change needs a server restart (the command line changed) rather than a settings notification. */
export function needsRestart(changedKeys: readonly string[]): boolean {
  return changedKeys.some((k) => k === "path" || k === "args");
}

// ------------------------------------------------------------- server path

/** Checks whether `file` is an executable regular file. */
export function isExecutableFile(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The environment variables the server lookup reads. */
export interface PathEnv {
  PATH?: string;
  HOME?: string;
  USERPROFILE?: string;
  GOBIN?: string;
  GOPATH?: string;
}

/**
 * Where `lsp-router` is looked for after PATH, in order: the places `go
 * install`, `pip`-style user installs and package managers put programs.
 * VS Code inherits PATH from the login shell (or, started from a desktop
 * menu, from the session), which often lacks ~/go/bin and ~/.local/bin.
 */
export function installDirs(env: PathEnv, platform: string = process.platform): string[] {
  const p = platform === "win32" ? path.win32 : path.posix;
  const sep = platform === "win32" ? ";" : ":";
  const dirs: string[] = [];
  if (env.GOBIN) {
    dirs.push(env.GOBIN);
  }
  for (const gopath of (env.GOPATH ?? "").split(sep)) {
    if (gopath) {
      dirs.push(p.join(gopath, "bin"));
    }
  }
  if (platform === "win32") {
    if (env.USERPROFILE) {
      dirs.push(p.join(env.USERPROFILE, "go", "bin"));
    }
  } else {
    if (env.HOME) {
      dirs.push(p.join(env.HOME, "go", "bin"), p.join(env.HOME, ".local", "bin"));
    }
    dirs.push("/usr/local/bin", "/opt/homebrew/bin");
  }
  return [...new Set(dirs)];
}

/** A directory as the user would type it: the home directory as ~. */
function tildify(dir: string, env: PathEnv, platform: string): string {
  const home = platform === "win32" ? env.USERPROFILE : env.HOME;
  if (home && platform !== "win32" && (dir === home || dir.startsWith(home + "/"))) {
    return "~" + dir.slice(home.length);
  }
  return dir;
}

/**
 * The server program: the lspRouter.path setting when set (it must exist),
 * else `lsp-router` on PATH, else in the usual install places
 * (installDirs). Throws a UserError naming the places searched and the
 * setting to use.
 */
export function resolveServerPath(
  setting: string | undefined,
  env: PathEnv | string | undefined,
  platform: string = process.platform,
  isExecutable: (file: string) => boolean = isExecutableFile,
): string {
  const e: PathEnv = typeof env === "object" ? env : { PATH: env };
  const configured = setting?.trim();
  if (configured) {
    if (!isExecutable(configured)) {
      throw new UserError(
        `lsp-router: lspRouter.path is "${configured}", which is not an executable file. Fix the path, or clear it to look lsp-router up on PATH and in the usual install places.`,
      );
    }
    return configured;
  }
  const p = platform === "win32" ? path.win32 : path.posix;
  const names = platform === "win32" ? ["lsp-router.exe", "lsp-router.cmd", "lsp-router"] : ["lsp-router"];
  const sep = platform === "win32" ? ";" : ":";
  const fallback = installDirs(e, platform);
  for (const dir of [...(e.PATH ?? "").split(sep), ...fallback]) {
    if (!dir) {
      continue;
    }
    for (const n of names) {
      const candidate = p.join(dir, n);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  const places = fallback.map((d) => tildify(d, e, platform)).join(", ");
  throw new UserError(
    `lsp-router: the lsp-router program was not found on PATH nor in ${places}. Build it (go build -o ~/.local/bin/lsp-router ./cmd/lsp-router) or set lspRouter.path to its full path.`,
  );
}

/** The server command line: extra args from lspRouter.args, then `serve`. */
export function serverArgs(extra: unknown): string[] {
  if (unset(extra)) {
    return ["serve"];
  }
  if (!Array.isArray(extra) || !extra.every((a) => typeof a === "string")) {
    throw new UserError("lsp-router: lspRouter.args must be a list of strings, e.g. [\"--log-level\", \"debug\"].");
  }
  return [...extra.filter((a) => a !== "serve"), "serve"];
}

// ------------------------------------------------------------- status bar

/** The lsp-router/status notification. */
export interface Status {
  model?: string;
  service?: string;
  state?: string;
}

/** Merges a status notification into the previous one (empty fields keep the old value). */
export function mergeStatus(prev: Status, next: unknown): Status {
  if (!isPlainObject(next)) {
    return prev;
  }
  const out: Status = { ...prev };
  for (const k of ["model", "service", "state"] as const) {
    const v = next[k];
    if (typeof v === "string" && v !== "") {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The status bar text of a busy state: what lsp-router is waiting for, in
 * the words of docs/protocol.md's stages. "confirming" is the extension's
 * own state while VS Code's Refactor Preview waits for the user.
 */
function busyText(state: string, model: string | undefined): string {
  switch (state) {
    case "gathering":
      return "gathering context";
    case "selecting":
      return "choosing a model";
    case "waiting":
      return model ? `waiting for ${model} (first token)` : "waiting for a model";
    case "generating":
      return model ? `${model} is writing` : "the model is writing";
    case "verifying":
      return "checking the edit with the language server";
    case "applying":
      return "applying the edit";
    case "confirming":
      return "waiting for you to review the edit (Refactor Preview)";
    default:
      return state;
  }
}

/** The status bar item's text and tooltip for a status. */
export function statusBar(s: Status): { text: string; tooltip: string; busy: boolean } {
  const busy = !!s.state && s.state !== "idle";
  const who = s.model ? (s.service ? `${s.model} (${s.service})` : s.model) : "";
  const text = busy ? `$(sync~spin) lsp-router: ${busyText(s.state as string, s.model)}` : `$(hubot) ${who || "lsp-router"}`;
  const lines = ["lsp-router"];
  if (who) {
    lines.push(`model: ${who}`);
  }
  lines.push(`state: ${s.state ?? "idle"}`);
  if (busy) {
    lines.push("Click to cancel.");
  }
  return { text, tooltip: lines.join("\n"), busy };
}

// ------------------------------------------------------------- edits

/** An LSP ChangeAnnotation. */
export interface ChangeAnnotation {
  label: string;
  needsConfirmation?: boolean;
  description?: string;
}

/** The parts of an LSP WorkspaceEdit this extension looks at; the rest passes through. */
export interface WorkspaceEdit {
  changes?: Record<string, unknown[]>;
  documentChanges?: unknown[];
  changeAnnotations?: Record<string, ChangeAnnotation>;
}

/** What confirmEdits decided. */
export interface ConfirmedEdit {
  edit: WorkspaceEdit;
  /** VS Code will open its Refactor Preview for the user to review the edit. */
  preview: boolean;
  /** The server says the edit still adds compiler errors. */
  broken: boolean;
}

/**
 * True when an annotation marks an edit that still adds compiler errors:
 * docs/protocol.md's label naming the errors ("still adds N compiler
 * error(s): ..."). Such an edit keeps its confirmation.
 */
export function isBrokenAnnotation(a: ChangeAnnotation): boolean {
  return /compiler error/i.test(`${a.label ?? ""} ${a.description ?? ""}`);
}

const ANNOTATION = "lsp-router";

/**
 * Decides whether a workspace/applyEdit from the server goes through VS
 * Code's Refactor Preview. By default it does not: VS Code lists an edit
 * whose annotation says needsConfirmation unticked, so the obvious "Apply"
 * button applied nothing. An edit the server marks as still adding compiler
 * errors keeps its confirmation; with lspRouter.previewEdits every edit is
 * previewed (annotating edits the server left plain). Returns a copy; the
 * input is not changed.
 */
export function confirmEdits(edit: WorkspaceEdit, previewAll: boolean): ConfirmedEdit {
  const out: WorkspaceEdit = JSON.parse(JSON.stringify(edit ?? {}));
  let preview = false;
  let broken = false;
  const annotations = out.changeAnnotations ?? {};
  for (const a of Object.values(annotations)) {
    const b = isBrokenAnnotation(a);
    broken ||= b;
    a.needsConfirmation = b || previewAll;
    preview ||= a.needsConfirmation;
  }
  if (previewAll && Array.isArray(out.documentChanges)) {
    // Text edits without an annotation cannot be previewed: give them ours.
    for (const change of out.documentChanges) {
      const edits = isPlainObject(change) && Array.isArray(change.edits) ? (change.edits as unknown[]) : [];
      for (const e of edits) {
        if (isPlainObject(e) && e.annotationId === undefined) {
          e.annotationId = ANNOTATION;
          annotations[ANNOTATION] ??= { label: "lsp-router edit", needsConfirmation: true };
          preview = true;
        }
      }
    }
    if (Object.keys(annotations).length > 0) {
      out.changeAnnotations = annotations;
    }
  }
  return { edit: out, preview, broken };
}

// ------------------------------------------------------------- answers

/** The lsp-router/answer notification. */
export interface Answer {
  title?: string;
  markdown: string;
  model?: string;
  service?: string;
  uri?: string;
  range?: Range;
}

/** The executeCommand result. */
export interface CommandResult {
  model?: string;
  service?: string;
  category?: string;
  fallback_level?: string;
  answer?: string;
  applied?: boolean;
}

/** Reads an lsp-router/answer notification; undefined when it has no Markdown. */
export function parseAnswer(v: unknown): Answer | undefined {
  if (!isPlainObject(v) || typeof v.markdown !== "string" || v.markdown === "") {
    return undefined;
  }
  const str = (x: unknown) => (typeof x === "string" ? x : undefined);
  return { title: str(v.title), markdown: v.markdown, model: str(v.model), service: str(v.service), uri: str(v.uri) };
}

/** The Markdown document shown for an answer: title, who answered, the text. */
export function answerDocument(a: Answer): string {
  const parts: string[] = [];
  if (a.title) {
    parts.push(`# ${a.title}`);
  }
  const by = [a.model, a.service].filter((x): x is string => !!x);
  if (by.length > 0) {
    parts.push(`_${by.join(" · ")}_`);
  }
  parts.push(a.markdown.trimEnd());
  return parts.join("\n\n") + "\n";
}

/** The one-line message after an edit action finished. */
export function resultMessage(action: Action, r: CommandResult): { text: string; ok: boolean } {
  const by = [r.model, r.service].filter((x): x is string => !!x).join(" on ");
  const suffix = by ? ` (${by})` : "";
  if (r.applied) {
    return { text: `lsp-router: ${action} applied${suffix}.`, ok: true };
  }
  return { text: `lsp-router: ${action} not applied${suffix}.`, ok: false };
}

/** Formats the lsp-router.models result (a list, or {"models": [...]}) as Markdown. */
export function modelsMarkdown(result: unknown): string {
  const list = isPlainObject(result) && Array.isArray(result.models) ? result.models : result;
  if (!Array.isArray(list) || list.length === 0) {
    return "No models available. Start a local LLM service (e.g. `ollama serve`) and run `lsp-router discover`.";
  }
  const cell = (v: unknown) =>
    v === undefined || v === null ? "" : typeof v === "boolean" ? (v ? "yes" : "no") : String(v).replace(/\|/g, "\\|");
  const rows = [
    "| model | service | family | params (B) | quant | context | loaded |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const m of list) {
    if (isPlainObject(m)) {
      rows.push(
        `| ${cell(m.id ?? m.name ?? m.model)} | ${cell(m.service)} | ${cell(m.family)} | ${cell(m.params_b)} | ${cell(m.quantization)} | ${cell(m.context_length)} | ${cell(m.loaded)} |`,
      );
    } else {
      rows.push(`| ${cell(m)} | | | | | | |`);
    }
  }
  return rows.join("\n");
}

/** Escapes text for HTML (the webview shows the Markdown source when no renderer is available). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
