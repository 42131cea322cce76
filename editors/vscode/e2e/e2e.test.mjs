// The user's view of the lsp-router extension in VS Code (code-server) driven
// through Chromium by puppeteer-core, as run.sh sets it up: open greet.go,
// read the lightbulb menu, run Explain, Document (+ undo) and Refactor, and
// check what the editor shows and what lands on disk. A screenshot per step
// goes to $RESULTS.
import fs from "node:fs";
import path from "node:path";
import puppeteer from "puppeteer-core";

const { CODE_URL, BROKEN_LLM_URL, WORKSPACE, RESULTS, CHROMIUM, LSP_ROUTER_LOG } = process.env;
for (const [k, v] of Object.entries({ CODE_URL, BROKEN_LLM_URL, WORKSPACE, RESULTS, CHROMIUM })) {
  if (!v) {
    console.error(`e2e.test.mjs: ${k} is not set; run editors/vscode/e2e/run.sh`);
    process.exit(2);
  }
}
const FILE = path.join(WORKSPACE, "greet.go");
const ORIGINAL = fs.readFileSync(FILE, "utf8");
const MODEL = "qwen2.5-coder:7b"; // the Ollama double's default model
const WAIT = Number(process.env.E2E_WAIT ?? 90_000);

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  userDataDir: fs.mkdtempSync(path.join(WORKSPACE, "..", "chromium-")),
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,900",
  ],
  defaultViewport: { width: 1400, height: 900 },
});
const page = await browser.newPage();
let shot = 0;
async function screenshot(name) {
  shot++;
  await page.screenshot({ path: path.join(RESULTS, `${String(shot).padStart(2, "0")}-${name}.png`) });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Polls fn until it returns a truthy value; fails with what() after ms. */
async function until(what, fn, ms = WAIT) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) {
      return v;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${typeof what === "function" ? await what() : what}`);
    }
    await sleep(150);
  }
}

/** The text of the editor showing greet.go, line by line, as on screen. */
function editorText() {
  return page.evaluate(() => {
    const editors = [...document.querySelectorAll(".editor-instance .monaco-editor")].filter((e) => e.offsetParent !== null);
    const ed = editors.find((e) => e.getAttribute("data-uri")?.endsWith("greet.go")) ?? editors[0];
    if (!ed) {
      return "";
    }
    const lines = [...ed.querySelectorAll(".view-lines .view-line")]
      .map((l) => [parseFloat(l.style.top), l.textContent.replace(/\u00a0/g, " ")])
      .sort((a, b) => a[0] - b[0]);
    return lines.map((l) => l[1]).join("\n");
  });
}
/** Leading tabs as spaces, as the editor renders them (tab size 4). */
const shown = (s) => s.replace(/\t/g, "    ");

/** Every status bar entry, joined; the observer in watchStatus keeps their history. */
async function watchStatus() {
  await page.evaluate(() => {
    window.__statusSeen = [];
    const take = () => {
      const t = [...document.querySelectorAll(".statusbar-item")].map((e) => e.textContent.trim()).filter(Boolean).join(" | ");
      if (window.__statusSeen[window.__statusSeen.length - 1] !== t) {
        window.__statusSeen.push(t);
      }
    };
    new MutationObserver(take).observe(document.querySelector(".part.statusbar"), { subtree: true, childList: true, characterData: true, attributes: true });
    take();
  });
}
const statusSeen = () => page.evaluate(() => window.__statusSeen.slice());
const statusNow = () => page.evaluate(() => [...document.querySelectorAll(".statusbar-item")].map((e) => e.textContent.trim()).join(" | "));
/** The notification toasts on screen. */
const toasts = () => page.evaluate(() => [...document.querySelectorAll(".notification-toast")].map((e) => e.textContent.trim()).join("\n"));

/** Whether some frame (the Markdown preview is a webview in nested iframes) shows text. */
async function framesShow(text) {
  for (const f of page.frames()) {
    try {
      const body = await f.evaluate(() => document.body?.innerText ?? "");
      if (body.includes(text)) {
        return true;
      }
    } catch {
      // A frame that navigated away meanwhile.
    }
  }
  return false;
}

/** Whether VS Code's Refactor Preview panel is open. */
function refactorPreviewShown() {
  return page.evaluate(() => {
    const panel = document.querySelector(".part.panel");
    return !!panel && panel.offsetParent !== null && /refactor preview/i.test(panel.textContent ?? "");
  });
}

async function focusEditor() {
  await page.click(".editor-instance .monaco-editor .view-lines");
}

/** Puts the cursor at line:col (1-based) with Go to Line. */
async function goTo(line, col) {
  await focusEditor();
  await page.keyboard.down("Control");
  await page.keyboard.press("g");
  await page.keyboard.up("Control");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(`${line}:${col}`);
  await sleep(200);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { hidden: true });
}

/** Runs a command by its palette title (F1). */
async function palette(title) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(title);
  await until(`"${title}" in the command palette`, () =>
    page.evaluate((t) => [...document.querySelectorAll(".quick-input-list .monaco-list-row")].some((r) => r.textContent.includes(t)), title),
  );
  await page.keyboard.press("Enter");
}

/** Opens the lightbulb menu (Ctrl+.) at the cursor and clicks the action titled `title`. */
async function lightbulb(title) {
  await page.keyboard.down("Control");
  await page.keyboard.press(".");
  await page.keyboard.up("Control");
  await page.waitForSelector(".action-widget", { visible: true });
  const row = await until(`"${title}" in the Ctrl+. menu`, () =>
    page.evaluateHandle((t) => [...document.querySelectorAll(".action-widget .monaco-list-row")].find((r) => r.textContent.includes(t)), title).then((h) => h.asElement()),
  );
  await row.click();
}

/** Saves with Ctrl+S and returns the file as on disk once the editor is clean. */
async function save() {
  await focusEditor();
  await page.keyboard.down("Control");
  await page.keyboard.press("s");
  await page.keyboard.up("Control");
  await until("the editor to be saved", () => page.evaluate(() => !document.querySelector(".tab.active.dirty")));
  return fs.readFileSync(FILE, "utf8");
}

/** Changes the workspace settings and waits until lsp-router hears of the change. */
async function changeSettings(change) {
  const file = path.join(WORKSPACE, ".vscode", "settings.json");
  const settings = JSON.parse(fs.readFileSync(file, "utf8"));
  change(settings);
  const count = () => (fs.existsSync(LSP_ROUTER_LOG) ? fs.readFileSync(LSP_ROUTER_LOG, "utf8").split("workspace/didChangeConfiguration").length : 0);
  const before = count();
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
  await until("VS Code to pass the settings change on to lsp-router", () => count() > before);
}

const setPreview = (on) => changeSettings((s) => (s["lspRouter.previewEdits"] = on));

function logTail() {
  try {
    return fs.readFileSync(LSP_ROUTER_LOG, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no lsp-router log)";
  }
}

const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok - ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    await screenshot(name.replace(/[^a-z0-9]+/gi, "-").toLowerCase());
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL - ${name}: ${e.message}\n  status bar: ${await statusNow().catch(() => "?")}\n  notifications: ${await toasts().catch(() => "?")}\n  lsp-router log:\n${logTail()}`);
    await screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`).catch(() => {});
    throw e;
  }
}

let failed = false;
try {
  await step("VS Code opens greet.go and starts lsp-router", async () => {
    await page.goto(CODE_URL, { waitUntil: "domcontentloaded" });
    await page.waitForSelector(".monaco-workbench .part.statusbar", { timeout: WAIT });
    await watchStatus();
    // Quick Open (Ctrl+P) the file.
    await until("the workbench to take keys", async () => {
      await page.keyboard.down("Control");
      await page.keyboard.press("p");
      await page.keyboard.up("Control");
      return page.$(".quick-input-widget input:not([disabled])").then((h) => h && h.isVisible());
    });
    await page.keyboard.type("greet.go");
    await until("greet.go in Quick Open", () =>
      page.evaluate(() => [...document.querySelectorAll(".quick-input-list .monaco-list-row")].some((r) => r.textContent.includes("greet.go"))),
    );
    await page.keyboard.press("Enter");
    await until("greet.go in the editor", async () => (await editorText()).includes("func Greet(name string) string {"));
    // The extension found lsp-router in ~/.local/bin (not on PATH) and the
    // server answered initialize: its status bar entry shows.
    await until(async () => `the lsp-router status bar entry (status bar: ${await statusNow()}; notifications: ${await toasts()})`, async () =>
      (await statusNow()).includes("lsp-router"),
    );
  });

  await step("the lightbulb menu (Ctrl+.) offers every lsp-router action", async () => {
    await goTo(4, 7);
    // The server must have the document before it offers actions.
    await until(async () => `lsp-router actions in the Ctrl+. menu (menu: ${await page.evaluate(() => document.querySelector(".action-widget")?.textContent ?? "none")})`, async () => {
      await page.keyboard.press("Escape");
      await page.keyboard.down("Control");
      await page.keyboard.press(".");
      await page.keyboard.up("Control");
      await sleep(700);
      return page.evaluate(() => (document.querySelector(".action-widget")?.textContent ?? "").includes("lsp-router"));
    });
    const menu = await page.evaluate(() => [...document.querySelectorAll(".action-widget .monaco-list-row")].map((r) => r.textContent.trim()));
    for (const want of ["lsp-router: Explain", "lsp-router: Refactor…", "lsp-router: Document", "lsp-router: Write tests", "lsp-router: Ask…"]) {
      if (!menu.some((m) => m.includes(want))) {
        throw new Error(`"${want}" missing from the Ctrl+. menu: ${JSON.stringify(menu)}`);
      }
    }
    await screenshot("lightbulb-menu");
    await page.keyboard.press("Escape");
  });

  await step("Explain shows the answer beside the code; the status bar says what it waits for", async () => {
    await goTo(4, 7);
    await page.evaluate(() => (window.__statusSeen = []));
    await palette("lsp-router: Explain Symbol or Selection");
    let waitingShot = false;
    await until(async () => `the answer in the Markdown preview (status seen: ${JSON.stringify(await statusSeen())})`, async () => {
      if (!waitingShot && (await statusNow()).includes("waiting for")) {
        waitingShot = true;
        await screenshot("status-bar-waiting-for-the-model");
      }
      return framesShow('joins "Hello, " and the name');
    });
    const seen = (await statusSeen()).join("\n");
    const want = `lsp-router: waiting for ${MODEL} (first token)`;
    if (!seen.includes(want)) {
      throw new Error(`the status bar never said "${want}"; it showed:\n${seen}`);
    }
    await until(async () => `the status bar back to idle (now: ${await statusNow()})`, async () => {
      const now = await statusNow();
      return now.includes(`${MODEL} (Ollama)`) && !now.includes("lsp-router:");
    });
    if (fs.readFileSync(FILE, "utf8") !== ORIGINAL) {
      throw new Error("Explain changed the file");
    }
  });

  await step("Document from the lightbulb replaces the doc comment at once", async () => {
    await goTo(4, 7);
    await lightbulb("lsp-router: Document");
    const comment = '// Greet returns the greeting "Hello, " followed by name and "!".';
    await until(async () => `the doc comment in the editor (editor:\n${await editorText()})`, async () => (await editorText()).includes(comment));
    // Applied directly: no Refactor Preview to confirm in.
    if (await refactorPreviewShown()) {
      throw new Error("Refactor Preview opened for Document");
    }
    const disk = await save();
    if (!disk.includes(comment + "\nfunc Greet(name string) string {\n\treturn \"Hello, \" + name\n}")) {
      throw new Error(`file after Document:\n${disk}`);
    }
    if (disk.includes("Ünïcødé")) {
      throw new Error(`old doc comment still there:\n${disk}`);
    }
    await until(async () => `"document applied" (notifications: ${await toasts()})`, async () => (await toasts()).includes("document applied"));
  });

  await step("Undo restores the code in one step", async () => {
    await focusEditor();
    await page.keyboard.down("Control");
    await page.keyboard.press("z");
    await page.keyboard.up("Control");
    await until(async () => `the old comment back (editor:\n${await editorText()})`, async () => (await editorText()).includes("Ünïcødé"));
    if ((await editorText()).trimEnd() !== shown(ORIGINAL).trimEnd()) {
      throw new Error(`editor after undo:\n${await editorText()}`);
    }
    const disk = await save();
    if (disk !== ORIGINAL) {
      throw new Error(`file after undo and save:\n${disk}\nwant:\n${ORIGINAL}`);
    }
  });

  await step("with lspRouter.previewEdits the edit waits in Refactor Preview until applied", async () => {
    await setPreview(true);
    await palette("Notifications: Clear All Notifications");
    await until("the notifications to be cleared", async () => !(await toasts()).includes("document applied"));
    await goTo(4, 7);
    await palette("lsp-router: Document Symbol");
    await until(async () => `Refactor Preview (status: ${await statusNow()})`, refactorPreviewShown);
    await until(async () => `the status bar to say it waits for the review (now: ${await statusNow()})`, async () =>
      (await statusNow()).includes("lsp-router: waiting for you to review the edit (Refactor Preview)"),
    );
    const hint = "tick the change in Refactor Preview, then press Apply";
    await until(async () => `the hint to tick the change (notifications: ${await toasts()})`, async () => (await toasts()).includes(hint));
    await screenshot("refactor-preview-waits-for-review");
    if (!(await editorText()).includes("Ünïcødé")) {
      throw new Error(`the edit was applied before the review:\n${await editorText()}`);
    }
    // Tick the change (VS Code lists it unticked) and press Apply, with the mouse.
    const box = await page.$('.part.panel .monaco-list-row input[type="checkbox"], .part.panel .monaco-list-row [role="checkbox"]');
    if (!box) {
      throw new Error("no checkbox in Refactor Preview");
    }
    await box.click();
    await sleep(300);
    await screenshot("refactor-preview-ticked");
    const apply = await page.evaluateHandle(() =>
      [...document.querySelectorAll(".part.panel .monaco-button")].find((e) => e.textContent.trim() === "Apply"),
    );
    if (!apply.asElement()) {
      throw new Error("no Apply button in Refactor Preview");
    }
    await apply.asElement().click();
    await until(async () => `the doc comment after Apply (editor:\n${await editorText()})`, async () => (await editorText()).includes("// Greet returns the greeting"));
    await until(async () => `"document applied" after the review, the hint gone (notifications: ${await toasts()})`, async () => {
      const t = await toasts();
      return t.includes("document applied") && !t.includes(hint);
    });
    await focusEditor();
    await page.keyboard.down("Control");
    await page.keyboard.press("z");
    await page.keyboard.up("Control");
    await until("undo after the previewed edit", async () => (await editorText()).includes("Ünïcødé"));
    if ((await save()) !== ORIGINAL) {
      throw new Error("undo did not restore the file after the previewed edit");
    }
    await setPreview(false);
  });

  await step("Ask… from the lightbulb takes a question and shows the answer", async () => {
    await goTo(4, 7);
    await lightbulb("lsp-router: Ask…");
    await until("the question prompt", () =>
      page.evaluate(() => (document.querySelector(".quick-input-widget")?.textContent ?? "").includes("Ask lsp-router")),
    );
    await page.keyboard.type("what does Greet return?");
    await page.keyboard.press("Enter");
    await until("the answer titled ask in the preview", () => framesShow("lsp-router ask"));
    if (fs.readFileSync(FILE, "utf8") !== ORIGINAL) {
      throw new Error("Ask changed the file");
    }
  });

  await step("Refactor… from the lightbulb asks how, then rewrites the function at once", async () => {
    await goTo(4, 7);
    await lightbulb("lsp-router: Refactor…");
    await until("the instruction prompt", () =>
      page.evaluate(() => (document.querySelector(".quick-input-widget")?.textContent ?? "").includes("How should the symbol be rewritten?")),
    );
    await page.keyboard.type("build the greeting in a variable first");
    await page.keyboard.press("Enter");
    await until(async () => `the new body in the editor (editor:\n${await editorText()}\nstatus: ${JSON.stringify(await statusSeen())})`, async () =>
      (await editorText()).includes('greeting := "Hello, " + name + "!"'),
    );
    await until(async () => `"refactor applied" (notifications: ${await toasts()})`, async () => (await toasts()).includes("refactor applied"));
    const disk = await save();
    if (!disk.includes('\tgreeting := "Hello, " + name + "!"\n\treturn greeting\n}') || !disk.startsWith("package greet\n")) {
      throw new Error(`file after Refactor:\n${disk}`);
    }
    const now = await statusNow();
    if (now.includes("checking the edit") || now.includes("waiting for")) {
      throw new Error(`status bar still busy after the refactor: ${now}`);
    }
  });

  await step("an edit that still adds compiler errors waits in Refactor Preview, even with previewEdits off", async () => {
    const before = fs.readFileSync(FILE, "utf8");
    let good;
    await changeSettings((s) => {
      good = s["lspRouter.services"].ollama.endpoint;
      s["lspRouter.services"].ollama.endpoint = BROKEN_LLM_URL;
    });
    await palette("Notifications: Clear All Notifications");
    await goTo(4, 7);
    await lightbulb("lsp-router: Refactor…");
    await until("the instruction prompt", () =>
      page.evaluate(() => (document.querySelector(".quick-input-widget")?.textContent ?? "").includes("How should the symbol be rewritten?")),
    );
    await page.keyboard.type("move the greeting into a helper");
    await page.keyboard.press("Enter");
    await until(async () => `Refactor Preview for the broken edit (status: ${await statusNow()}; notifications: ${await toasts()})`, refactorPreviewShown);
    await until(async () => `the warning about compiler errors (notifications: ${await toasts()})`, async () =>
      (await toasts()).includes("this edit still adds compiler errors"),
    );
    // The warning comes from the annotation the server labelled with the
    // errors ("still adds 1 compiler error(s): ..."), recognised by the extension.
    await screenshot("broken-edit-waits-in-refactor-preview");
    if ((await editorText()).includes("greeting(name)")) {
      throw new Error("the broken edit was applied without confirmation");
    }
    const discard = await page.evaluateHandle(() =>
      [...document.querySelectorAll(".part.panel .monaco-button")].find((e) => e.textContent.trim() === "Discard"),
    );
    await discard.asElement().click();
    await until(async () => `"refactor not applied" (notifications: ${await toasts()})`, async () => (await toasts()).includes("refactor not applied"));
    if ((await editorText()).includes("greeting(name)") || fs.readFileSync(FILE, "utf8") !== before) {
      throw new Error("Discard changed the file");
    }
    await changeSettings((s) => (s["lspRouter.services"].ollama.endpoint = good));
  });
} catch {
  failed = true;
} finally {
  await browser.close().catch(() => {});
}
const passed = results.filter((r) => r[1]).length;
console.log(`vscode e2e: ${passed} passed, ${results.length - passed} failed`);
process.exit(failed ? 1 : 0);
