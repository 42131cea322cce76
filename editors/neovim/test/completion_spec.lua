-- Inline completion: Neovim -> plugin -> real `lsp-router serve` -> Ollama
-- double (tools/fakellm, answering /api/generate with the reply file) ->
-- ghost text in the buffer (extmarks), accepted, accepted word by word,
-- dismissed, toggled.
local T = require('helpers')
local H = require('lsp_helpers')
local comp = require('lsp_router.completion')

T.after_each = function()
  comp.dismiss()
  comp.active = true
  H.stop_all(false)
  H.stop_fakellms()
  vim.cmd('silent! %bdelete!')
end

local counter = 0

-- A workspace with go.mod and add.go whose function body is an empty line
-- holding one tab (row 3, 0-based; the cursor goes after the tab).
local function add_go()
  counter = counter + 1
  local dir = string.format('%s/cws%d', H.tmp, counter)
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile({ 'module example.com/add', '', 'go 1.22' }, dir .. '/go.mod')
  vim.fn.writefile({ 'package main', '', 'func add(a, b int) int {', '\t', '}' }, dir .. '/add.go')
  return dir .. '/add.go'
end

local function lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

local function marks(buf)
  return vim.api.nvim_buf_get_extmarks(buf, comp.ns, 0, -1, { details = true })
end

-- Opens add.go against a double answering `reply` and waits for a
-- suggestion at row 3, col 1.
local function suggest(reply)
  local url = H.start_fakellm(reply)
  local buf = H.open(add_go(), H.settings({ ollama = { endpoint = url } }))
  T.wait_for(20000, function()
    return comp.trigger({ bufnr = buf, row = 3, col = 1 })
  end, 'an lsp-router client offering inlineCompletionProvider')
  T.wait_for(60000, comp.visible, function()
    return 'ghost text to appear (log: ' .. H.log_tail() .. ')'
  end)
  return buf
end

T.test('ghost text shows the post-processed suggestion and Tab-accept inserts it', function()
  -- The model runs past the function's end: the server cuts at the block
  -- and drops the "}" the file already has.
  local buf = suggest('sum := a + b\n\treturn sum\n}\n\nfunc main() {}')
  T.eq('sum := a + b\n\treturn sum', comp.text(), 'suggestion')
  local m = marks(buf)
  T.eq(1, #m, 'one extmark')
  local d = m[1][4]
  T.eq(3, m[1][2], 'extmark row')
  T.eq('sum := a + b', d.virt_text[1][1], 'virt_text of the cursor line')
  T.contains(d.virt_lines[1][1][1], 'return sum', 'virt_lines of the next line')
  -- Ghost text only: the buffer is unchanged until accepted.
  T.eq({ 'package main', '', 'func add(a, b int) int {', '\t', '}' }, lines(buf), 'buffer before accept')
  assert(comp.accept(), 'accept found no suggestion')
  T.eq({ 'package main', '', 'func add(a, b int) int {', '\tsum := a + b', '\treturn sum', '}' }, lines(buf), 'buffer after accept')
  T.eq(false, comp.visible(), 'ghost text gone after accept')
  T.eq(0, #marks(buf), 'extmarks gone after accept')
end)

T.test('accept-word inserts one word and keeps the rest shown; dismiss hides it', function()
  local buf = suggest('return a + b')
  assert(comp.accept_word(), 'accept_word found no suggestion')
  T.eq('\treturn', lines(buf)[4], 'line after one word')
  T.eq(' a + b', comp.text(), 'the rest stays suggested')
  T.eq(' a + b', marks(buf)[1][4].virt_text[1][1], 'the rest is the ghost text')
  assert(comp.dismiss(), 'dismiss found nothing shown')
  T.eq(false, comp.visible(), 'dismissed')
  T.eq(0, #marks(buf), 'no extmark after dismiss')
  T.eq('\treturn', lines(buf)[4], 'dismiss leaves the buffer alone')
end)

T.test('typing the suggestion keeps the rest shown without a new request', function()
  local buf = suggest('return a + b')
  vim.api.nvim_buf_set_text(buf, 3, 1, 3, 1, { 'ret' })
  assert(comp.typed(buf, 3, 4), 'the typed text matches the suggestion')
  T.eq('urn a + b', comp.text(), 'the rest')
  T.eq('urn a + b', marks(buf)[1][4].virt_text[1][1], 'the rest is the ghost text')
  vim.api.nvim_buf_set_text(buf, 3, 4, 3, 4, { 'x' })
  T.eq(false, comp.typed(buf, 3, 5), 'a different character ends it')
end)

T.test('the toggle stops requests', function()
  local buf = suggest('return a + b')
  local seen = T.capture_notify()
  comp.toggle()
  T.eq(false, comp.visible(), 'toggling off hides the suggestion')
  T.eq(false, comp.trigger({ bufnr = buf, row = 3, col = 1 }), 'no request while off')
  comp.toggle()
  T.eq(true, comp.trigger({ bufnr = buf, row = 3, col = 1 }), 'requests again when on')
  T.contains(seen[1].msg, 'inline completion off', 'the toggle says what it did')
end)

T.test('completion options are validated', function()
  local ok, err = pcall(comp.resolve, { keys = { accept_all = '<Tab>' } })
  assert(not ok, 'an unknown key was accepted')
  T.contains(err, 'keys.accept_all', 'error names the key')
  T.eq(false, comp.resolve(false).enabled, 'completion = false turns it off')
end)

T.run('completion')
