// Smoke test of extension.ts without VS Code (e2e/ runs the real one): the
// `vscode` module is replaced by a recording stand-in, then activate() must
// register every command package.json contributes and, with no lsp-router
// program to be found, tell the user how to fix that instead of throwing.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const Module = require("node:module") as {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
};

const registered: string[] = [];
const errors: string[] = [];
const statusTexts: string[] = [];

/** Anything not modelled below: callable, constructible, every property another stand-in. */
function stub(name: string): unknown {
  const target = function () {
    return undefined;
  };
  return new Proxy(target, {
    get(_t, prop) {
      if (prop === "then") {
        return undefined; // not a promise
      }
      if (prop === Symbol.toPrimitive) {
        return () => name;
      }
      return stub(`${name}.${String(prop)}`);
    },
    apply() {
      return stub(`${name}()`);
    },
    construct() {
      return stub(`new ${name}`) as object;
    },
  });
}

const disposable = { dispose() {} };

class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  event = (l: (e: T) => void) => {
    this.listeners.push(l);
    return disposable;
  };
  fire(e: T) {
    for (const l of this.listeners) {
      l(e);
    }
  }
  dispose() {}
}

const statusItem = {
  name: "",
  tooltip: "",
  command: "",
  set text(t: string) {
    statusTexts.push(t);
  },
  get text() {
    return statusTexts[statusTexts.length - 1] ?? "";
  },
  show() {},
  hide() {},
  dispose() {},
};

const fakeVscode = new Proxy(
  {
    EventEmitter,
    Uri: { parse: (s: string) => ({ toString: () => s, scheme: s.split(":")[0] }) },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ViewColumn: { Beside: -2 },
    commands: {
      registerCommand(id: string) {
        registered.push(id);
        return disposable;
      },
      executeCommand: async () => undefined,
    },
    window: {
      createOutputChannel: () => ({ appendLine() {}, append() {}, show() {}, dispose() {} }),
      createStatusBarItem: () => statusItem,
      showErrorMessage: async (msg: string) => {
        errors.push(msg);
        return undefined;
      },
      showWarningMessage: async () => undefined,
      showInformationMessage: async () => undefined,
    },
    workspace: {
      getConfiguration: () => ({ get: (_k: string, d?: unknown) => d, inspect: () => undefined }),
      onDidChangeConfiguration: () => disposable,
      registerTextDocumentContentProvider: () => disposable,
    },
  } as Record<string, unknown>,
  {
    get(t, prop: string) {
      return prop in t ? t[prop] : stub(`vscode.${prop}`);
    },
  },
);

const realLoad = Module._load;
Module._load = function (request: string, parent: unknown, isMain: boolean) {
  if (request === "vscode") {
    return fakeVscode;
  }
  return realLoad.call(this, request, parent, isMain);
};

test("activate registers every contributed command and explains a missing lsp-router", async () => {
  const saved = { PATH: process.env.PATH, HOME: process.env.HOME, GOBIN: process.env.GOBIN, GOPATH: process.env.GOPATH };
  const home = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "lsp-router-home-"));
  process.env.PATH = "/nonexistent-lsp-router-test";
  process.env.HOME = home;
  delete process.env.GOBIN;
  delete process.env.GOPATH;
  try {
    const ext = require("../src/extension") as { activate: (c: unknown) => Promise<void>; deactivate: () => unknown };
    const subscriptions: unknown[] = [];
    await ext.activate({ subscriptions });
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual([...registered].sort(), contributed);
    if (fs.existsSync("/usr/local/bin/lsp-router") || fs.existsSync("/opt/homebrew/bin/lsp-router")) {
      // An installed lsp-router is found (and started): nothing to explain.
      return;
    }
    assert.equal(errors.length, 1, `errors: ${errors.join(" | ")}`);
    assert.match(errors[0], /lsp-router program was not found on PATH nor in ~\/go\/bin, .* or set lspRouter\.path/);
    assert.equal(statusItem.text, "$(error) lsp-router");
    assert.ok(subscriptions.length >= registered.length, "commands are disposed with the extension");
    assert.equal(ext.deactivate(), undefined, "no client to stop");
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
});
