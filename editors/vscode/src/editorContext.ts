// Editor-provided context: lsp-router asks the editor (server -> client
// requests lsp-router/context/*, see docs/protocol.md) for document symbols,
// hover, references, definition and diagnostics, and VS Code answers them
// from the language servers it already runs, through its provider commands
// (vscode.executeDocumentSymbolProvider, ...) and languages.getDiagnostics.
// lsp-router registers none of these providers itself, so it is never asked
// on its own behalf. The VS Code API is passed in (EditorApi), so this file
// runs under node's test runner with a stand-in.

/** The experimental client capability that announces these answers. */
export const CONTEXT_CAPABILITY = "lspRouterContext";

/** How long to wait for VS Code's providers: below the server's default
 * context.editor_timeout (2 s), so a late answer is still on time. */
export const DEFAULT_TIMEOUT_MS = 1800;

/** The most references or symbols converted from one answer. */
const MAX_ITEMS = 1000;

/** LSP request method -> the VS Code provider command that answers it. */
export const CONTEXT_METHODS = {
  documentSymbol: "lsp-router/context/documentSymbol",
  hover: "lsp-router/context/hover",
  references: "lsp-router/context/references",
  definition: "lsp-router/context/definition",
  diagnostics: "lsp-router/context/diagnostics",
} as const;

// ---- LSP shapes sent back to the server ----

export interface LspPosition {
  line: number;
  character: number;
}
export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}
export interface LspLocation {
  uri: string;
  range: LspRange;
}

// ---- The parts of the VS Code API used here (structural types) ----

export interface VsPosition {
  line: number;
  character: number;
}
export interface VsRange {
  start: VsPosition;
  end: VsPosition;
}
export interface VsUri {
  toString(): string;
}
export interface VsLocation {
  uri: VsUri;
  range: VsRange;
}
export interface VsLocationLink {
  targetUri: VsUri;
  targetRange: VsRange;
  targetSelectionRange?: VsRange;
  originSelectionRange?: VsRange;
}
export interface VsDocumentSymbol {
  name: string;
  detail?: string;
  kind: number; // vscode.SymbolKind: 0-based
  range: VsRange;
  selectionRange: VsRange;
  children?: VsDocumentSymbol[];
}
export interface VsSymbolInformation {
  name: string;
  kind: number;
  containerName?: string;
  location: VsLocation;
}
export interface VsMarkdownString {
  value: string;
}
export type VsMarkedString = string | VsMarkdownString | { language: string; value: string };
export interface VsHover {
  contents: VsMarkedString[];
}
export interface VsDiagnostic {
  range: VsRange;
  message: string;
  severity: number; // vscode.DiagnosticSeverity: Error = 0 ... Hint = 3
  source?: string;
  code?: string | number | { value: string | number };
}

/** What this file needs of the `vscode` module. */
export interface EditorApi {
  executeCommand<T>(command: string, ...args: unknown[]): PromiseLike<T>;
  getDiagnostics(uri: VsUri): VsDiagnostic[];
  parseUri(uri: string): VsUri;
  position(line: number, character: number): VsPosition;
}

/** The api of the real `vscode` module. */
export function vscodeApi(vscode: {
  commands: { executeCommand<T>(command: string, ...rest: unknown[]): PromiseLike<T> };
  languages: { getDiagnostics(uri: never): VsDiagnostic[] };
  Uri: { parse(value: string): VsUri };
  Position: new (line: number, character: number) => VsPosition;
}): EditorApi {
  return {
    executeCommand: (command, ...args) => vscode.commands.executeCommand(command, ...args),
    getDiagnostics: (uri) => vscode.languages.getDiagnostics(uri as never),
    parseUri: (uri) => vscode.Uri.parse(uri),
    position: (line, character) => new vscode.Position(line, character),
  };
}

// ---- Conversions ----

function pos(p: VsPosition): LspPosition {
  return { line: p.line, character: p.character };
}

function range(r: VsRange): LspRange {
  return { start: pos(r.start), end: pos(r.end) };
}

function contains(r: VsRange, p: LspPosition): boolean {
  const afterStart = r.start.line < p.line || (r.start.line === p.line && r.start.character <= p.character);
  const beforeEnd = p.line < r.end.line || (p.line === r.end.line && p.character <= r.end.character);
  return afterStart && beforeEnd;
}

function isDocumentSymbol(s: VsDocumentSymbol | VsSymbolInformation): s is VsDocumentSymbol {
  return (s as VsDocumentSymbol).selectionRange !== undefined && (s as VsDocumentSymbol).range !== undefined;
}

function documentSymbol(s: VsDocumentSymbol): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: s.name,
    kind: s.kind + 1, // LSP SymbolKind is 1-based
    range: range(s.range),
    selectionRange: range(s.selectionRange),
  };
  if (s.detail) {
    out.detail = s.detail;
  }
  if (s.children && s.children.length > 0) {
    out.children = s.children.slice(0, MAX_ITEMS).map(documentSymbol);
  }
  return out;
}

/** DocumentSymbol[] (or SymbolInformation[]) in LSP shape, or null. */
export function toLspSymbols(symbols: (VsDocumentSymbol | VsSymbolInformation)[] | undefined | null): unknown[] | null {
  if (!Array.isArray(symbols) || symbols.length === 0) {
    return null;
  }
  const list = symbols.slice(0, MAX_ITEMS);
  if (list.every(isDocumentSymbol)) {
    return (list as VsDocumentSymbol[]).map(documentSymbol);
  }
  return (list as VsSymbolInformation[])
    .filter((s) => s.location)
    .map((s) => ({
      name: s.name,
      kind: s.kind + 1,
      containerName: s.containerName || undefined,
      location: { uri: s.location.uri.toString(), range: range(s.location.range) },
    }));
}

function markedText(m: VsMarkedString): string {
  if (typeof m === "string") {
    return m;
  }
  if ("language" in m && m.language) {
    return "```" + m.language + "\n" + m.value + "\n```";
  }
  return m.value;
}

/** The hovers of every provider as one LSP Hover with Markdown, or null. */
export function toLspHover(hovers: VsHover[] | undefined | null): unknown {
  if (!Array.isArray(hovers)) {
    return null;
  }
  const parts: string[] = [];
  for (const h of hovers) {
    for (const c of h.contents ?? []) {
      const t = markedText(c).trim();
      if (t) {
        parts.push(t);
      }
    }
  }
  if (parts.length === 0) {
    return null;
  }
  return { contents: { kind: "markdown", value: parts.join("\n\n---\n\n") } };
}

/** References in LSP shape, without the declaration at `at` (VS Code's
 * command includes it; the server asks with includeDeclaration false). */
export function toLspReferences(locs: VsLocation[] | undefined | null, uri: string, at: LspPosition): LspLocation[] | null {
  if (!Array.isArray(locs)) {
    return null;
  }
  return locs
    .filter((l) => !(l.uri.toString() === uri && contains(l.range, at)))
    .slice(0, MAX_ITEMS)
    .map((l) => ({ uri: l.uri.toString(), range: range(l.range) }));
}

/** Definitions as Location[] (links become their target's name range). */
export function toLspDefinition(defs: (VsLocation | VsLocationLink)[] | undefined | null): LspLocation[] | null {
  if (!Array.isArray(defs) || defs.length === 0) {
    return null;
  }
  return defs.slice(0, MAX_ITEMS).map((d) => {
    if ("targetUri" in d) {
      return { uri: d.targetUri.toString(), range: range(d.targetSelectionRange ?? d.targetRange) };
    }
    return { uri: d.uri.toString(), range: range(d.range) };
  });
}

/** Diagnostics in LSP shape (LSP severities are 1-based). */
export function toLspDiagnostics(ds: VsDiagnostic[] | undefined | null): unknown[] {
  if (!Array.isArray(ds)) {
    return [];
  }
  return ds.slice(0, MAX_ITEMS).map((d) => {
    const out: Record<string, unknown> = { range: range(d.range), message: d.message, severity: d.severity + 1 };
    if (d.source) {
      out.source = d.source;
    }
    const code = typeof d.code === "object" && d.code !== null ? d.code.value : d.code;
    if (code !== undefined) {
      out.code = code;
    }
    return out;
  });
}

// ---- Handlers ----

interface DocParams {
  textDocument?: { uri?: unknown };
  position?: { line?: unknown; character?: unknown };
}

function docUri(p: unknown): string | undefined {
  const uri = (p as DocParams | undefined)?.textDocument?.uri;
  return typeof uri === "string" && uri.length > 0 ? uri : undefined;
}

function position(p: unknown): LspPosition | undefined {
  const q = (p as DocParams | undefined)?.position;
  if (typeof q?.line !== "number" || typeof q?.character !== "number" || q.line < 0 || q.character < 0) {
    return undefined;
  }
  return { line: q.line, character: q.character };
}

/** Resolves to the provider's answer, or undefined after timeoutMs. */
function within<T>(p: PromiseLike<T>, timeoutMs: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** The handlers of the five context requests, by method. Each answers with
 * the LSP result or null; none throws. */
export function contextHandlers(api: EditorApi, timeoutMs = DEFAULT_TIMEOUT_MS): Record<string, (params: unknown) => Promise<unknown>> {
  const at = (params: unknown) => {
    const uri = docUri(params);
    const p = position(params);
    return uri && p ? { uri, p, vsUri: api.parseUri(uri), vsPos: api.position(p.line, p.character) } : undefined;
  };
  return {
    [CONTEXT_METHODS.documentSymbol]: async (params) => {
      const uri = docUri(params);
      if (!uri) {
        return null;
      }
      const syms = await within(
        api.executeCommand<(VsDocumentSymbol | VsSymbolInformation)[]>("vscode.executeDocumentSymbolProvider", api.parseUri(uri)),
        timeoutMs,
      );
      return toLspSymbols(syms);
    },
    [CONTEXT_METHODS.hover]: async (params) => {
      const a = at(params);
      if (!a) {
        return null;
      }
      return toLspHover(await within(api.executeCommand<VsHover[]>("vscode.executeHoverProvider", a.vsUri, a.vsPos), timeoutMs));
    },
    [CONTEXT_METHODS.references]: async (params) => {
      const a = at(params);
      if (!a) {
        return null;
      }
      const locs = await within(api.executeCommand<VsLocation[]>("vscode.executeReferenceProvider", a.vsUri, a.vsPos), timeoutMs);
      return toLspReferences(locs, a.uri, a.p);
    },
    [CONTEXT_METHODS.definition]: async (params) => {
      const a = at(params);
      if (!a) {
        return null;
      }
      const defs = await within(
        api.executeCommand<(VsLocation | VsLocationLink)[]>("vscode.executeDefinitionProvider", a.vsUri, a.vsPos),
        timeoutMs,
      );
      return toLspDefinition(defs);
    },
    [CONTEXT_METHODS.diagnostics]: async (params) => {
      const uri = docUri(params);
      if (!uri) {
        return [];
      }
      return toLspDiagnostics(api.getDiagnostics(api.parseUri(uri)));
    },
  };
}

/** Registers the handlers on a language client (client.onRequest). */
export function registerEditorContext(
  client: { onRequest(method: string, handler: (params: unknown) => Promise<unknown>): unknown },
  api: EditorApi,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): void {
  for (const [method, handler] of Object.entries(contextHandlers(api, timeoutMs))) {
    client.onRequest(method, handler);
  }
}
