// The official OpenAI Node client drives lsp-router's gateway, which routes
// `model: "auto"` to the LLM double (tools/fakellm --echo: it answers with
// the last user message, so each answer shows what reached the model).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { start } from "./harness.mjs";

let gw, client;
before(async () => {
  gw = await start();
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.token, maxRetries: 0 });
});
after(() => gw?.stop());

test("models lists the virtual auto models and the double's model", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  for (const want of ["auto", "auto:coding", "auto:reasoning", "auto:analysis", "auto:documentation", "qwen2.5-coder:7b"]) {
    assert.ok(ids.includes(want), `${want} missing from ${ids}`);
  }
});

test("a non-streamed chat with model auto is answered by the double", async () => {
  const res = await client.chat.completions.create({
    model: "auto",
    messages: [
      { role: "system", content: "You are a coding agent." },
      { role: "user", content: "should I use channels or a mutex for the cache?" },
    ],
  });
  assert.equal(res.object, "chat.completion");
  assert.equal(res.model, "qwen2.5-coder:7b");
  assert.equal(res.choices[0].message.content, "should I use channels or a mutex for the cache?");
  assert.ok(res.usage.total_tokens > 0);
});

test("a streamed chat with model auto arrives in chunks", async () => {
  const stream = await client.chat.completions.create({
    model: "auto",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: "write a function that reverses a list in place" }],
  });
  let text = "", chunks = 0, usage = null;
  for await (const ch of stream) {
    if (ch.choices[0]?.delta?.content) { text += ch.choices[0].delta.content; chunks++; }
    if (ch.usage) usage = ch.usage;
  }
  assert.equal(text, "write a function that reverses a list in place");
  assert.ok(chunks > 1, `one chunk only: ${chunks}`);
  assert.ok(usage && usage.completion_tokens > 0);
});

test("a completion with suffix shows the model the prefix and the suffix", async () => {
  const res = await client.completions.create({
    model: "auto",
    prompt: "func add(a, b int) int {\n\treturn ",
    suffix: "\n}\n",
    max_tokens: 16,
  });
  assert.equal(res.object, "text_completion");
  assert.match(res.choices[0].text, /return <CURSOR>\n}/);
});

test("a wrong key is refused in OpenAI's error shape", async () => {
  const bad = new OpenAI({ baseURL: gw.baseURL, apiKey: "not-a-key-not-a-key", maxRetries: 0 });
  await assert.rejects(bad.models.list(), (err) => err.status === 401 && err.code === "invalid_api_key");
});

test("the audit log names the key's owner", () => {
  assert.match(gw.audit(), /"agent":"gateway:ci-bot"/);
});
