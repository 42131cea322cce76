// Unit tests of editorContext.ts with the VS Code API replaced by a
// stand-in that answers like VS Code does with gopls installed: the provider
// commands' results as VS Code types (0-based SymbolKind and severity,
// Hover with MarkdownString contents, references including the declaration).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  CONTEXT_METHODS,
  contextHandlers,
  EditorApi,
  registerEditorContext,
  VsDiagnostic,
} from "../src/editorContext";

const FILE = "file:///w/list/list.go";
const OTHER = "file:///w/list/other.go";
const uri = (s: string) => ({ toString: () => s });
const r = (l1: number, c1: number, l2: number, c2: number) => ({
  start: { line: l1, character: c1 },
  end: { line: l2, character: c2 },
});

interface Call {
  command: string;
  args: unknown[];
}

function fakeApi(answers: Record<string, unknown>, diags: VsDiagnostic[] = []): { api: EditorApi; calls: Call[] } {
  const calls: Call[] = [];
  const api: EditorApi = {
    executeCommand<T>(command: string, ...args: unknown[]): PromiseLike<T> {
      calls.push({ command, args });
      const a = answers[command];
      if (typeof a === "function") {
        return (a as () => Promise<T>)(); // a provider that hangs or fails
      }
      return Promise.resolve(a as T);
    },
    getDiagnostics(u) {
      calls.push({ command: "languages.getDiagnostics", args: [u.toString()] });
      return diags;
    },
    parseUri: (s) => uri(s),
    position: (line, character) => ({ line, character }),
  };
  return { api, calls };
}

const moveSymbol = {
  name: "move",
  detail: "func(e, at *Element)",
  kind: 5, // vscode.SymbolKind.Method
  range: r(117, 0, 129, 1),
  selectionRange: r(117, 15, 117, 19),
  children: [],
};
const listSymbol = {
  name: "List",
  detail: "struct{...}",
  kind: 22, // vscode.SymbolKind.Struct
  range: r(46, 0, 49, 1),
  selectionRange: r(46, 5, 46, 9),
  children: [{ name: "len", kind: 7, range: r(48, 1, 48, 10), selectionRange: r(48, 1, 48, 4) }],
};

test("documentSymbol: VS Code's DocumentSymbols become LSP ones with 1-based kinds", async () => {
  const { api, calls } = fakeApi({ "vscode.executeDocumentSymbolProvider": [listSymbol, moveSymbol] });
  const h = contextHandlers(api);
  const res = (await h[CONTEXT_METHODS.documentSymbol]({ textDocument: { uri: FILE } })) as Record<string, unknown>[];
  assert.equal(calls[0].command, "vscode.executeDocumentSymbolProvider");
  assert.equal(String(calls[0].args[0]), FILE);
  assert.equal(res.length, 2);
  assert.equal(res[1].name, "move");
  assert.equal(res[1].kind, 6, "LSP Method");
  assert.deepEqual(res[1].range, r(117, 0, 129, 1));
  assert.deepEqual(res[1].selectionRange, r(117, 15, 117, 19));
  assert.equal(res[0].kind, 23, "LSP Struct");
  assert.equal((res[0].children as Record<string, unknown>[])[0].kind, 8, "LSP Field");
});

test("documentSymbol: SymbolInformation answers keep their location", async () => {
  const { api } = fakeApi({
    "vscode.executeDocumentSymbolProvider": [{ name: "move", kind: 5, containerName: "List", location: { uri: uri(FILE), range: r(117, 0, 129, 1) } }],
  });
  const res = (await contextHandlers(api)[CONTEXT_METHODS.documentSymbol]({ textDocument: { uri: FILE } })) as Record<string, unknown>[];
  assert.deepEqual(res[0], { name: "move", kind: 6, containerName: "List", location: { uri: FILE, range: r(117, 0, 129, 1) } });
});

test("hover: MarkdownString and MarkedString contents become one Markdown hover", async () => {
  const { api, calls } = fakeApi({
    "vscode.executeHoverProvider": [
      { contents: [{ value: "```go\nfunc (l *List) move(e *Element, at *Element)\n```\n\nmove moves e to next to at." }] },
      { contents: [{ language: "go", value: "type Element struct" }, ""] },
    ],
  });
  const res = (await contextHandlers(api)[CONTEXT_METHODS.hover]({
    textDocument: { uri: FILE },
    position: { line: 117, character: 16 },
  })) as { contents: { kind: string; value: string } };
  assert.equal(calls[0].command, "vscode.executeHoverProvider");
  assert.deepEqual(calls[0].args[1], { line: 117, character: 16 });
  assert.equal(res.contents.kind, "markdown");
  assert.match(res.contents.value, /func \(l \*List\) move\(e \*Element, at \*Element\)/);
  assert.match(res.contents.value, /```go\ntype Element struct\n```/);
});

test("hover: nothing known is null, not an empty hover", async () => {
  const { api } = fakeApi({ "vscode.executeHoverProvider": [] });
  assert.equal(await contextHandlers(api)[CONTEXT_METHODS.hover]({ textDocument: { uri: FILE }, position: { line: 1, character: 1 } }), null);
});

test("references: the declaration VS Code includes is left out", async () => {
  const { api } = fakeApi({
    "vscode.executeReferenceProvider": [
      { uri: uri(FILE), range: r(117, 15, 117, 19) }, // the declaration, where the server asked
      { uri: uri(FILE), range: r(184, 3, 184, 7) },
      { uri: uri(OTHER), range: r(9, 2, 9, 6) },
    ],
  });
  const res = await contextHandlers(api)[CONTEXT_METHODS.references]({
    textDocument: { uri: FILE },
    position: { line: 117, character: 15 },
    context: { includeDeclaration: false },
  });
  assert.deepEqual(res, [
    { uri: FILE, range: r(184, 3, 184, 7) },
    { uri: OTHER, range: r(9, 2, 9, 6) },
  ]);
});

test("definition: Location and LocationLink answers become Locations", async () => {
  const { api } = fakeApi({
    "vscode.executeDefinitionProvider": [
      { targetUri: uri(OTHER), targetRange: r(1, 0, 5, 1), targetSelectionRange: r(1, 5, 1, 9) },
      { uri: uri(FILE), range: r(2, 0, 2, 4) },
    ],
  });
  const res = await contextHandlers(api)[CONTEXT_METHODS.definition]({ textDocument: { uri: FILE }, position: { line: 3, character: 3 } });
  assert.deepEqual(res, [
    { uri: OTHER, range: r(1, 5, 1, 9) },
    { uri: FILE, range: r(2, 0, 2, 4) },
  ]);
});

test("diagnostics: VS Code severities and codes in LSP shape", async () => {
  const { api, calls } = fakeApi({}, [
    { range: r(120, 1, 120, 7), message: "unused", severity: 1, source: "compiler", code: { value: "UnusedVar" } },
    { range: r(3, 0, 3, 1), message: "bad", severity: 0, code: 7 },
  ]);
  const res = await contextHandlers(api)[CONTEXT_METHODS.diagnostics]({ textDocument: { uri: FILE } });
  assert.deepEqual(calls, [{ command: "languages.getDiagnostics", args: [FILE] }]);
  assert.deepEqual(res, [
    { range: r(120, 1, 120, 7), message: "unused", severity: 2, source: "compiler", code: "UnusedVar" },
    { range: r(3, 0, 3, 1), message: "bad", severity: 1, code: 7 },
  ]);
});

test("a provider that does not answer in time yields null, and a failing one too", async () => {
  const { api } = fakeApi({
    "vscode.executeHoverProvider": () => new Promise(() => {}),
    "vscode.executeReferenceProvider": () => Promise.reject(new Error("boom")),
  });
  const h = contextHandlers(api, 30);
  const params = { textDocument: { uri: FILE }, position: { line: 1, character: 1 } };
  assert.equal(await h[CONTEXT_METHODS.hover](params), null);
  assert.equal(await h[CONTEXT_METHODS.references](params), null);
});

test("malformed params are answered with null without asking VS Code", async () => {
  const { api, calls } = fakeApi({});
  const h = contextHandlers(api);
  assert.equal(await h[CONTEXT_METHODS.hover]({ textDocument: { uri: FILE }, position: { line: -1, character: "x" } }), null);
  assert.equal(await h[CONTEXT_METHODS.documentSymbol]({}), null);
  assert.equal(await h[CONTEXT_METHODS.references](null), null);
  assert.deepEqual(calls, []);
});

test("registerEditorContext registers the five context requests", () => {
  const methods: string[] = [];
  registerEditorContext({ onRequest: (m: string) => methods.push(m) }, fakeApi({}).api);
  assert.deepEqual(methods.sort(), Object.values(CONTEXT_METHODS).sort());
});
