// The VS Code side of lsp-router: starts `lsp-router serve` through
// vscode-languageclient, contributes the lsp-router commands, shows the
// server's status in the status bar and its answers in a Markdown preview or a
// webview. Edits arrive as workspace/applyEdit and are applied at once (one
// undo step); only edits that still add compiler errors, or every edit with
// lspRouter.previewEdits, open VS Code's Refactor Preview. Everything that can
// be decided without VS Code lives in logic.ts.

import * as vscode from "vscode";
import {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditRequest,
  ApplyWorkspaceEditResult,
  CancellationTokenSource,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { CONTEXT_CAPABILITY, registerEditorContext, vscodeApi } from "./editorContext";
import {
  Action,
  actionOfCommand,
  ACTIONS,
  ANSWER_ACTIONS,
  Answer,
  answerDocument,
  CommandResult,
  commandArguments,
  commandName,
  confirmEdits,
  didChangeConfigurationParams,
  DOCUMENT_ACTIONS,
  escapeHtml,
  experimentalCapabilities,
  mergeStatus,
  modelsMarkdown,
  NEEDS_INSTRUCTION,
  needsRestart,
  parseAnswer,
  resolveServerPath,
  resultMessage,
  serverArgs,
  settingsToOptions,
  Status,
  statusBar,
  UserError,
} from "./logic";

const SECTION = "lspRouter";
const ANSWER_SCHEME = "lsp-router-answer";
// JSON-RPC RequestCancelled, LSP ServerCancelled.
const CANCELLED = new Set([-32800, -32802]);

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let status: Status = { state: "idle" };
const running = new Map<number, { action: Action; cts: CancellationTokenSource }>();
let nextRun = 1;
// Answers already on screen, so the executeCommand result does not show the
// same text the lsp-router/answer notification already showed.
const shownAnswers = new Set<string>();

/** Serves the answer Markdown as a read-only document for the Markdown preview. */
class AnswerDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  readonly uri = vscode.Uri.parse(`${ANSWER_SCHEME}:/lsp-router%20answer.md`);
  private text = "";

  provideTextDocumentContent(): string {
    return this.text;
  }

  set(text: string): void {
    this.text = text;
    this.changed.fire(this.uri);
  }
}

const answers = new AnswerDocuments();
let webview: vscode.WebviewPanel | undefined;

function readOptions(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const { options, problems } = settingsToOptions((key) => {
    const info = cfg.inspect(key);
    // Only what the user set: defaults stay unset so the TOML file decides.
    return info?.workspaceFolderValue ?? info?.workspaceValue ?? info?.globalValue;
  });
  if (problems.length > 0) {
    for (const p of problems) {
      output.appendLine(`settings: ${p}`);
    }
    void vscode.window
      .showWarningMessage(`lsp-router: ${problems.length} setting(s) ignored: ${problems[0]}`, "Open Settings")
      .then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand("workbench.action.openSettings", SECTION);
        }
      });
  }
  return options;
}

function showError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  void vscode.window.showErrorMessage(msg.startsWith("lsp-router") ? msg : `lsp-router: ${msg}`);
}

function updateStatusBar(): void {
  const s = statusBar(status);
  statusItem.text = s.text;
  statusItem.tooltip = s.tooltip;
  statusItem.command = s.busy ? "lspRouter.cancel" : "lspRouter.models";
  statusItem.show();
}

async function showAnswer(a: Answer): Promise<void> {
  shownAnswers.add(a.markdown);
  const doc = answerDocument(a);
  const view = vscode.workspace.getConfiguration(SECTION).get<string>("answerView", "preview");
  if (view === "webview") {
    if (!webview) {
      webview = vscode.window.createWebviewPanel("lspRouterAnswer", "lsp-router answer", {
        viewColumn: vscode.ViewColumn.Beside,
        preserveFocus: true,
      }, { enableScripts: false });
      webview.onDidDispose(() => (webview = undefined));
    }
    let body: string;
    try {
      // The built-in Markdown extension's renderer (sanitised HTML).
      body = await vscode.commands.executeCommand<string>("markdown.api.render", doc);
    } catch {
      body = `<pre>${escapeHtml(doc)}</pre>`;
    }
    webview.title = a.title ? `lsp-router: ${a.title}` : "lsp-router answer";
    webview.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
</head><body>${body}</body></html>`;
    webview.reveal(vscode.ViewColumn.Beside, true);
    return;
  }
  answers.set(doc);
  await vscode.commands.executeCommand("markdown.showPreviewToSide", answers.uri);
}

async function commandContext(action: Action, instruction?: string) {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    return commandArguments(action, { instruction });
  }
  const doc = editor.document;
  const c2p = client.code2ProtocolConverter;
  const sel = editor.selection;
  return commandArguments(action, {
    uri: c2p.asUri(doc.uri),
    range: c2p.asRange(new vscode.Range(sel.start, sel.end)),
    version: doc.version,
    instruction,
    diagnostics: c2p.asDiagnosticsSync(vscode.languages.getDiagnostics(doc.uri)),
  });
}

function askInstruction(action: Action): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    prompt: action === "ask" ? "Ask lsp-router" : "How should the symbol be rewritten?",
    placeHolder: action === "ask" ? "what does this function return?" : "use a strings.Builder",
  });
}

/** Runs lsp-router.<action> with the editor's document, selection and diagnostics. */
async function run(action: Action, instruction?: string): Promise<unknown> {
  if (!client || client.state !== State.Running) {
    throw new UserError("lsp-router: the server is not running. See the \"lsp-router\" output channel, or run \"lsp-router: Restart Server\".");
  }
  if (action === "cancel") {
    return cancelAll();
  }
  if (NEEDS_INSTRUCTION.has(action) && instruction === undefined) {
    instruction = await askInstruction(action);
    if (instruction === undefined) {
      return undefined; // dismissed
    }
  }
  const editor = vscode.window.activeTextEditor;
  if (DOCUMENT_ACTIONS.has(action) && editor && editor.document.uri.scheme !== "file") {
    throw new UserError(`lsp-router: ${action} works on files on disk: save this document first.`);
  }
  const args = await commandContext(action, instruction);
  const id = nextRun++;
  const cts = new CancellationTokenSource();
  running.set(id, { action, cts });
  try {
    const result = await client.sendRequest(
      ExecuteCommandRequest.type,
      { command: commandName(action), arguments: args },
      cts.token,
    );
    await handleResult(action, result);
    return result;
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code !== undefined && CANCELLED.has(code)) {
      void vscode.window.showInformationMessage(`lsp-router: ${action} cancelled.`);
      return undefined;
    }
    throw e;
  } finally {
    running.delete(id);
    cts.dispose();
  }
}

async function handleResult(action: Action, result: unknown): Promise<void> {
  if (action === "models") {
    await showAnswer({ title: "Available models", markdown: modelsMarkdown(result) });
    return;
  }
  if (typeof result !== "object" || result === null) {
    return;
  }
  const r = result as CommandResult;
  if (ANSWER_ACTIONS.has(action)) {
    if (typeof r.answer === "string" && r.answer !== "" && !shownAnswers.has(r.answer)) {
      await showAnswer({ title: action, markdown: r.answer, model: r.model, service: r.service });
    }
    if (action === "tests" && r.applied) {
      void vscode.window.showInformationMessage(resultMessage(action, r).text);
    }
    return;
  }
  const msg = resultMessage(action, r);
  if (msg.ok) {
    void vscode.window.showInformationMessage(msg.text);
  } else {
    void vscode.window.showWarningMessage(msg.text);
    if (typeof r.answer === "string" && r.answer !== "") {
      await showAnswer({ title: `${action} (not applied)`, markdown: r.answer, model: r.model, service: r.service });
    }
  }
}

/** Cancels our own requests ($/cancelRequest) and everything else the server runs for us. */
async function cancelAll(): Promise<unknown> {
  for (const r of running.values()) {
    r.cts.cancel();
  }
  if (!client || client.state !== State.Running) {
    return undefined;
  }
  const result = await client.sendRequest(ExecuteCommandRequest.type, { command: commandName("cancel"), arguments: [] });
  status = mergeStatus(status, { state: "idle" });
  updateStatusBar();
  return result;
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  let command: string;
  let args: string[];
  try {
    command = resolveServerPath(cfg.get<string>("path"), process.env);
    args = serverArgs(cfg.get("args"));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    output.appendLine(msg);
    const choice = await vscode.window.showErrorMessage(msg, "Open Settings");
    if (choice) {
      void vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.path`);
    }
    statusItem.text = "$(error) lsp-router";
    statusItem.tooltip = msg;
    statusItem.show();
    return;
  }
  const languages = cfg.get<string[]>("languages", []);
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: languages.map((language) => ({ scheme: "file", language })),
    initializationOptions: () => readOptions(),
    outputChannel: output,
    middleware: {
      // Code actions run the server's commands directly: ask for the
      // instruction of "Refactor…" and "Ask…", and report the outcome the
      // same way as the palette commands.
      executeCommand: async (command, args, next) => {
        const action = actionOfCommand(command);
        if (!action) {
          return next(command, args);
        }
        const first = (args[0] ?? {}) as Record<string, unknown>;
        let callArgs = args;
        if (NEEDS_INSTRUCTION.has(action) && !(typeof first.instruction === "string" && first.instruction.trim())) {
          const instruction = await askInstruction(action);
          if (instruction === undefined) {
            return undefined;
          }
          callArgs = [{ ...first, instruction }, ...args.slice(1)];
        }
        try {
          const result = await next(command, callArgs);
          await handleResult(action, result);
          return result;
        } catch (e) {
          showError(e);
          return undefined;
        }
      },
    },
  };
  client = new LanguageClient("lspRouter", "lsp-router", serverOptions, clientOptions);
  // Tell the server this client renders lsp-router/answer itself, so it does
  // not also open the answer as a document or a message.
  client.registerFeature({
    fillClientCapabilities(capabilities) {
      capabilities.experimental = {
        ...((capabilities.experimental as object | undefined) ?? {}),
        ...experimentalCapabilities(),
        [CONTEXT_CAPABILITY]: true, // editorContext.ts answers lsp-router/context/*
      };
    },
    initialize() {},
    getState() {
      return { kind: "static" };
    },
    clear() {},
  });
  // Inline completion (textDocument/inlineCompletion, LSP 3.18) is a
  // proposed feature in vscode-languageclient 9.0.1: ghost text needs it
  // registered (VS Code's editor.inlineSuggest.enabled shows it).
  client.registerProposedFeatures();
  // Registered before start, so it replaces the client's own handler.
  client.onRequest(ApplyWorkspaceEditRequest.type, (params) => applyWorkspaceEdit(params));
  registerEditorContext(client, vscodeApi(vscode));
  client.onNotification("lsp-router/status", (params: unknown) => {
    status = mergeStatus(status, params);
    updateStatusBar();
  });
  client.onNotification("lsp-router/answer", (params: unknown) => {
    const a = parseAnswer(params);
    if (a) {
      void showAnswer(a);
    }
  });
  client.onDidChangeState((e) => {
    if (e.newState === State.Stopped) {
      status = { state: "idle" };
      statusItem.text = "$(circle-slash) lsp-router";
      statusItem.tooltip = "lsp-router is not running";
    } else if (e.newState === State.Running) {
      updateStatusBar();
    }
  });
  context.subscriptions.push(client);
  try {
    await client.start();
    output.appendLine(`started ${command} ${args.join(" ")}`);
  } catch (e) {
    showError(e);
  }
}

/**
 * Applies a workspace/applyEdit from the server. Unlike the client's own
 * handler it decides about VS Code's Refactor Preview (confirmEdits): an edit
 * is applied directly, as one undo step, unless it still adds compiler errors
 * or lspRouter.previewEdits is on.
 */
async function applyWorkspaceEdit(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
  if (!client) {
    return { applied: false, failureReason: "lsp-router is restarting" };
  }
  const previewAll = vscode.workspace.getConfiguration(SECTION).get<boolean>("previewEdits", false);
  const decided = confirmEdits(params.edit as Parameters<typeof confirmEdits>[0], previewAll);
  const edit = decided.edit as typeof params.edit;
  // The same guard as the client's handler: an edit computed for another
  // version of an open document would land in the wrong place.
  const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
  for (const change of edit.documentChanges ?? []) {
    if ("textDocument" in change && typeof change.textDocument.version === "number" && change.textDocument.version >= 0) {
      const doc = open.get(client.protocol2CodeConverter.asUri(change.textDocument.uri).toString());
      if (doc && doc.version !== change.textDocument.version) {
        return { applied: false, failureReason: `${doc.uri.fsPath} changed while the model was answering` };
      }
    }
  }
  const converted = await client.protocol2CodeConverter.asWorkspaceEdit(edit);
  if (!decided.preview) {
    return { applied: await vscode.workspace.applyEdit(converted) };
  }
  const before = status;
  status = mergeStatus(status, { state: "confirming" });
  updateStatusBar();
  const applying = vscode.workspace.applyEdit(converted);
  // The hint stays on screen exactly as long as the preview waits (VS Code
  // lists the change unticked, so "Apply" alone would apply nothing).
  void vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: decided.broken
        ? "lsp-router: this edit still adds compiler errors. To keep it anyway, tick it in Refactor Preview and press Apply; otherwise Discard."
        : "lsp-router: tick the change in Refactor Preview, then press Apply (lspRouter.previewEdits is on).",
    },
    () => applying.then(undefined, () => undefined),
  );
  try {
    return { applied: await applying };
  } finally {
    if (status.state === "confirming") {
      status = mergeStatus(before, {});
      updateStatusBar();
    }
  }
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    const old = client;
    client = undefined;
    try {
      await old.stop();
    } catch (e) {
      output.appendLine(`stop: ${String(e)}`);
    }
  }
  await startClient(context);
}

/** Called by VS Code when the extension is activated. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("lsp-router");
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "lsp-router";
  context.subscriptions.push(
    output,
    statusItem,
    vscode.workspace.registerTextDocumentContentProvider(ANSWER_SCHEME, answers),
  );

  for (const action of ACTIONS) {
    context.subscriptions.push(
      vscode.commands.registerCommand(`lspRouter.${action}`, async (instruction?: unknown) => {
        try {
          return await run(action, typeof instruction === "string" ? instruction : undefined);
        } catch (e) {
          showError(e);
          return undefined;
        }
      }),
    );
  }
  context.subscriptions.push(
    vscode.commands.registerCommand("lspRouter.restart", () => restart(context)),
    vscode.commands.registerCommand("lspRouter.showOutput", () => output.show()),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(SECTION)) {
        return;
      }
      const changed = ["path", "args", "languages"].filter((k) => e.affectsConfiguration(`${SECTION}.${k}`));
      if (needsRestart(changed) || changed.includes("languages")) {
        const choice = await vscode.window.showInformationMessage(
          "lsp-router: the server command or languages changed; restart the server to use them.",
          "Restart",
        );
        if (choice) {
          await restart(context);
        }
        return;
      }
      if (client && client.state === State.Running) {
        await client.sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(readOptions()));
      }
    }),
  );
  await startClient(context);
}

/** Called by VS Code on shutdown; the client itself is disposed through the subscriptions. */
export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
