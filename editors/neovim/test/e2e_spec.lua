-- The whole flow: Neovim -> plugin -> real `lsp-router serve` -> Ollama double
-- (tools/fakellm) -> edit applied by Neovim / answer shown in the float.
local T = require('helpers')
local H = require('lsp_helpers')
local status = require('lsp_router.status')
local ui = require('lsp_router.ui')

local MODEL = 'qwen2.5-coder:7b' -- the Ollama double's default model

T.after_each = function()
  ui.close()
  H.stop_all(false)
  H.stop_fakellms()
  status.reset()
  vim.cmd('silent! %bdelete!')
end

-- Counts progress notifications as seen by the default handler's autocommand
-- (LspProgressUpdate up to 0.9, LspProgress from 0.10), which is what
-- fidget.nvim and statuslines listen to: proof that the plugin does not
-- swallow $/progress.
local progress_events = 0
vim.api.nvim_create_autocmd('User', {
  pattern = 'LspProgressUpdate',
  callback = function()
    progress_events = progress_events + 1
  end,
})
if vim.fn.exists('##LspProgress') == 1 then
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function()
      progress_events = progress_events + 1
    end,
  })
end

-- A failure reported to the user ends a wait early: no point waiting two
-- minutes for an edit that will not come.
local function failed(seen)
  for _, n in ipairs(seen) do
    if n.level == vim.log.levels.ERROR or n.msg:find('not applied', 1, true) then
      return n.msg
    end
  end
  return nil
end

local function messages(seen)
  local out = {}
  for _, n in ipairs(seen) do
    table.insert(out, n.msg)
  end
  return table.concat(out, '\n')
end

T.test(':LspRouterRefactor rewrites the function in the buffer', function()
  local url = H.start_fakellm(table.concat({
    'Here is the function with the greeting built first:',
    '',
    '```go',
    'func Greet(name string) string {',
    '\tgreeting := "Hello, " + name + "!"',
    '\treturn greeting',
    '}',
    '```',
  }, '\n'))
  local seen = T.capture_notify()
  local buf = H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }))
  local before = H.text(buf)
  H.cursor_on(buf, 'Greet(')
  progress_events = 0
  vim.cmd('LspRouterRefactor build the greeting in a variable first')
  T.wait_for(120000, function()
    return H.text(buf) ~= before or failed(seen) ~= nil
  end, function()
    return 'the edit to reach the buffer (notifications: ' .. messages(seen) .. '; log: ' .. H.log_tail() .. ')'
  end)
  if failed(seen) then
    error('refactor failed: ' .. messages(seen) .. '\nlog: ' .. H.log_tail())
  end
  local text = H.text(buf)
  T.contains(text, '\tgreeting := "Hello, " + name + "!"\n\treturn greeting\n}', 'new body')
  T.contains(text, 'package greet\n', 'rest of the file kept')
  T.contains(text, '// Greet says hello to name. Ünïcødé', 'doc comment kept')
  assert(not text:find('return "Hello, " + name\n', 1, true), 'old body still there:\n' .. text)
  assert(not text:find('```', 1, true), 'fence leaked into the buffer:\n' .. text)
  T.wait_for(30000, function()
    return messages(seen):find('refactor applied', 1, true) ~= nil
  end, function()
    return 'the "refactor applied" notification (got: ' .. messages(seen) .. ')'
  end)
  assert(progress_events > 0, 'no $/progress reached the default handler')
  T.contains(require('lsp_router').statusline(), MODEL, 'statusline')
end)

T.test(':LspRouterExplain shows the answer in a floating Markdown window', function()
  local url = H.start_fakellm('`Greet` returns **"Hello, "** followed by the name.\n\nIt never fails.')
  local seen = T.capture_notify()
  local buf = H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }))
  local before = H.text(buf)
  H.cursor_on(buf, 'Greet(')
  vim.cmd('LspRouterExplain')
  T.wait_for(120000, function()
    local w = ui.last.winid
    return failed(seen) ~= nil or (w ~= nil and vim.api.nvim_win_is_valid(w)
      and H.text(vim.api.nvim_win_get_buf(w)):find('It never fails.', 1, true) ~= nil)
  end, function()
    return 'the answer float (notifications: ' .. messages(seen) .. '; log: ' .. H.log_tail() .. ')'
  end)
  if failed(seen) then
    error('explain failed: ' .. messages(seen) .. '\nlog: ' .. H.log_tail())
  end
  local w = ui.last.winid
  T.eq('editor', vim.api.nvim_win_get_config(w).relative, 'a floating window')
  local shown = H.text(vim.api.nvim_win_get_buf(w))
  T.contains(shown, '`Greet` returns **"Hello, "** followed by the name.')
  T.contains(shown, MODEL)
  T.eq('markdown', vim.bo[vim.api.nvim_win_get_buf(w)].filetype)
  T.eq(before, H.text(buf), 'explain leaves the file alone')
  -- The float does not steal focus from the code.
  T.eq(buf, vim.api.nvim_get_current_buf())
end)

T.test(':LspRouterDocument replaces the doc comment; the change can be undone', function()
  local url = H.start_fakellm('```go\n// Greet returns the greeting "Hello, " followed by name.\nfunc Greet(name string) string\n```')
  local seen = T.capture_notify()
  local buf = H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }))
  local before = H.text(buf)
  H.cursor_on(buf, 'Greet(')
  vim.cmd('LspRouterDocument')
  T.wait_for(120000, function()
    return H.text(buf) ~= before or failed(seen) ~= nil
  end, function()
    return 'the doc comment edit (notifications: ' .. messages(seen) .. '; log: ' .. H.log_tail() .. ')'
  end)
  assert(not failed(seen), messages(seen) .. '\nlog: ' .. H.log_tail())
  local text = H.text(buf)
  T.contains(text, '// Greet returns the greeting "Hello, " followed by name.\nfunc Greet(name string) string {\n')
  assert(not text:find('Ünïcødé', 1, true), 'old doc comment still there:\n' .. text)
  vim.cmd('silent undo')
  T.eq(before, H.text(buf), 'undo restores the file')
end)

T.test(':LspRouterFix sends the diagnostic and applies the fix', function()
  local url = H.start_fakellm(table.concat({
    '```go',
    'func Greet(name string) string {',
    '\treturn "Hello, " + name + "."',
    '}',
    '```',
  }, '\n'))
  local seen = T.capture_notify()
  local buf = H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }))
  local before = H.text(buf)
  local ns = vim.api.nvim_create_namespace('e2e_fix')
  vim.diagnostic.set(ns, buf, { {
    lnum = 4, col = 8, end_lnum = 4, end_col = 17, severity = vim.diagnostic.severity.WARN,
    message = 'greeting should end with a full stop', source = 'style',
  } })
  H.cursor_on(buf, 'return')
  vim.cmd('LspRouterFix')
  T.wait_for(120000, function()
    return H.text(buf) ~= before or failed(seen) ~= nil
  end, function()
    return 'the fix edit (notifications: ' .. messages(seen) .. '; log: ' .. H.log_tail() .. ')'
  end)
  assert(not failed(seen), messages(seen) .. '\nlog: ' .. H.log_tail())
  T.contains(H.text(buf), '\treturn "Hello, " + name + "."\n}')
end)

T.test(':LspRouterAsk with a selection, answer in a split on request', function()
  local url = H.start_fakellm('It concatenates two strings.')
  local seen = T.capture_notify()
  local buf = H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }), { answer = { view = 'split' } })
  vim.cmd('4,6LspRouterAsk what does this do?')
  T.wait_for(120000, function()
    return failed(seen) ~= nil
      or (ui.last.bufnr ~= nil and H.text(ui.last.bufnr):find('It concatenates two strings.', 1, true) ~= nil)
  end, function()
    return 'the answer split (log: ' .. H.log_tail() .. ')'
  end)
  assert(not failed(seen), messages(seen))
  T.eq('', vim.api.nvim_win_get_config(ui.last.winid).relative, 'a normal split, not a float')
  T.eq(buf, vim.api.nvim_get_current_buf())
end)

T.test(':LspRouterModels lists the double\'s model', function()
  local url = H.start_fakellm('unused')
  local seen = T.capture_notify()
  H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }))
  vim.cmd('LspRouterModels')
  T.wait_for(60000, function()
    return failed(seen) ~= nil or (ui.last.bufnr ~= nil and H.text(ui.last.bufnr):find(MODEL, 1, true) ~= nil)
  end, function()
    return 'the models table (log: ' .. H.log_tail() .. ')'
  end)
  assert(not failed(seen), messages(seen))
  T.contains(H.text(ui.last.bufnr), '| ' .. MODEL .. ' |')
end)

T.test(':LspRouterCancel stops a command waiting for a slow model', function()
  if not H.fakellm then
    T.skip('tools/fakellm not built')
  end
  -- A model that takes 10 minutes to say its first token.
  local url = H.start_fakellm('too late', { '--first-token-delay', '10m' })
  local seen = T.capture_notify()
  local buf = H.open(H.workspace(), H.settings({ ollama = { endpoint = url } }))
  H.cursor_on(buf, 'Greet(')
  vim.cmd('LspRouterExplain')
  T.wait_for(60000, function()
    local p = status.current_progress()
    return failed(seen) ~= nil or (p ~= nil and p.message ~= nil and p.message:find('waiting', 1, true) ~= nil)
  end, function()
    return 'the "waiting for <model>" progress report (log: ' .. H.log_tail() .. ')'
  end)
  assert(not failed(seen), messages(seen))
  T.contains(require('lsp_router').statusline(), 'waiting')
  vim.cmd('LspRouterCancel')
  T.wait_for(30000, function()
    return messages(seen):find('explain cancelled', 1, true) ~= nil
  end, function()
    return 'the cancellation to be reported (got: ' .. messages(seen) .. ')'
  end)
  T.eq(nil, ui.last.winid, 'no answer shown')
end)

T.run('e2e')
