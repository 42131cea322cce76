-- Inline completions as ghost text: lsp-router answers
-- textDocument/inlineCompletion with a local model's fill-in-the-middle
-- suggestion, shown here with extmarks (virt_text for the cursor's line,
-- virt_lines for the rest) on Neovim 0.7-0.11. On a Neovim with its own
-- inline completion (vim.lsp.inline_completion, 0.12+) that is used instead.
--
-- Keys (insert mode, each falls back to the key's usual meaning when no
-- suggestion is shown): accept, accept_word, dismiss, trigger. Commands:
-- :LspRouterCompletionToggle, :LspRouterComplete.
local compat = require('lsp_router.compat')

local M = {}

M.ns = vim.api.nvim_create_namespace('lsp_router_completion')

M.defaults = {
  enabled = true,
  -- Ask as you type (after debounce_ms without typing); false: only on the
  -- trigger key or :LspRouterComplete.
  auto = true,
  debounce_ms = 50,
  hl_group = 'Comment',
  -- Use vim.lsp.inline_completion where Neovim has it (0.12+).
  native = true,
  keys = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    dismiss = '<C-]>',
    trigger = '<M-\\>',
  },
}

M.opts = nil
-- The toggle: when false nothing is requested or shown.
M.active = true

-- The suggestion shown: buffer, 0-based row and byte col of the cursor it
-- was made for, its text, the changedtick it belongs to.
local shown = nil
-- The request in flight.
local pending = { client = nil, id = nil, seq = 0 }
local timer = nil
-- The changedtick our own insertion (accept_word) produced: its
-- TextChangedI is not typing.
local own_tick = nil

local function fail(msg)
  error('lsp_router.setup: completion.' .. msg, 0)
end

--- Validates the completion options over the defaults.
function M.resolve(user)
  if user == nil then
    user = {}
  elseif user == false then
    user = { enabled = false }
  end
  if type(user) ~= 'table' then
    fail('must be a table, e.g. { auto = true, keys = { accept = "<Tab>" } }')
  end
  for k in pairs(user) do
    if M.defaults[k] == nil then
      fail(string.format('%s is not an option; valid: enabled, auto, debounce_ms, hl_group, native, keys', tostring(k)))
    end
  end
  local o = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), user)
  for _, k in ipairs({ 'enabled', 'auto', 'native' }) do
    if type(o[k]) ~= 'boolean' then
      fail(k .. ' must be true or false')
    end
  end
  if type(o.debounce_ms) ~= 'number' or o.debounce_ms < 0 or o.debounce_ms > 2000 then
    fail('debounce_ms must be a number of milliseconds between 0 and 2000')
  end
  if type(o.hl_group) ~= 'string' then
    fail('hl_group must be a highlight group name, e.g. "Comment"')
  end
  for name, lhs in pairs(o.keys) do
    if M.defaults.keys[name] == nil then
      fail('keys.' .. tostring(name) .. ' is not a key; valid: accept, accept_word, dismiss, trigger')
    end
    if lhs ~= false and type(lhs) ~= 'string' then
      fail('keys.' .. name .. ' must be a key sequence string or false')
    end
  end
  return o
end

local function client_for(buf)
  for _, c in ipairs(compat.get_clients('lsp_router', buf)) do
    local caps = c.server_capabilities
    if caps and caps.inlineCompletionProvider then
      return c
    end
  end
  return nil
end

local function cancel_pending()
  if pending.client and pending.id then
    pcall(compat.cancel_request, pending.client, pending.id)
  end
  pending.client, pending.id = nil, nil
end

--- Hides the suggestion.
function M.clear()
  if shown and vim.api.nvim_buf_is_valid(shown.buf) then
    vim.api.nvim_buf_clear_namespace(shown.buf, M.ns, 0, -1)
  end
  shown = nil
end

--- True when a suggestion is shown.
function M.visible()
  return shown ~= nil
end

--- The suggestion's text, or nil.
function M.text()
  return shown and shown.text or nil
end

local function expand_tabs(s, buf)
  local ts = vim.bo[buf].tabstop
  return (s:gsub('\t', string.rep(' ', ts > 0 and ts or 8)))
end

local function render(buf, row, col, text)
  M.clear()
  local lines = vim.split(text, '\n', { plain = true })
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  local hl = (M.opts or M.defaults).hl_group
  local opts = { virt_text = { { expand_tabs(lines[1], buf), hl } }, hl_mode = 'combine' }
  if compat.has('0.10') then
    opts.virt_text_pos = 'inline'
  elseif col >= #line then
    -- At the end of the line an overlay is placed right after the text.
    opts.virt_text_pos = 'overlay'
  else
    -- Before 0.10 text cannot be shown inside a line: at its end instead.
    opts.virt_text_pos = 'eol'
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      table.insert(opts.virt_lines, { { expand_tabs(lines[i], buf), hl } })
    end
  end
  vim.api.nvim_buf_set_extmark(buf, M.ns, row, math.min(col, #line), opts)
  shown = { buf = buf, row = row, col = col, text = text, tick = vim.api.nvim_buf_get_changedtick(buf) }
end

local function item_text(result)
  local items = result and (result.items or result) or {}
  for _, it in ipairs(items) do
    local t = it.insertText
    if type(t) == 'table' then
      t = t.value
    end
    if type(t) == 'string' and t:match('%S') then
      return t
    end
  end
  return nil
end

--- Asks for a suggestion at the cursor (or at opts.row/opts.col, 0-based,
--- col a byte index, in opts.bufnr). opts.automatic marks a request made by
--- typing. Returns false when no lsp-router client offers completion here.
function M.trigger(opts)
  opts = opts or {}
  if not M.active then
    return false
  end
  local buf = opts.bufnr or vim.api.nvim_get_current_buf()
  local row, col = opts.row, opts.col
  if row == nil then
    local cur = vim.api.nvim_win_get_cursor(0)
    row, col = cur[1] - 1, cur[2]
  end
  local client = client_for(buf)
  if not client then
    return false
  end
  cancel_pending()
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = row, character = compat.lsp_col(line, col, client.offset_encoding) },
    context = { triggerKind = opts.automatic and 2 or 1 },
  }
  pending.seq = pending.seq + 1
  local seq = pending.seq
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  local ok, id = compat.request(client, 'textDocument/inlineCompletion', params, function(err, result)
    if seq ~= pending.seq then
      return -- a newer request replaced this one
    end
    pending.client, pending.id = nil, nil
    if err then
      if not opts.automatic then
        vim.notify('lsp-router: ' .. (err.message or tostring(err)), vim.log.levels.WARN)
      end
      return
    end
    if not vim.api.nvim_buf_is_valid(buf) or vim.api.nvim_buf_get_changedtick(buf) ~= tick then
      return -- the buffer changed meanwhile: the suggestion is for old text
    end
    local text = item_text(result)
    if text then
      render(buf, row, col, text)
    else
      M.clear()
    end
  end, buf)
  if ok then
    pending.client, pending.id = client, id
  end
  return ok and true or false
end

local function insert(buf, row, col, text)
  local lines = vim.split(text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(buf, row, col, row, col, lines)
  local end_row = row + #lines - 1
  local end_col = #lines == 1 and col + #lines[1] or #lines[#lines]
  if vim.api.nvim_get_current_buf() == buf then
    pcall(vim.api.nvim_win_set_cursor, 0, { end_row + 1, end_col })
  end
  return end_row, end_col
end

--- Inserts the whole suggestion. Returns false when none is shown.
function M.accept()
  if not shown then
    return false
  end
  local s = shown
  M.clear()
  cancel_pending()
  own_tick = nil
  insert(s.buf, s.row, s.col, s.text)
  return true
end

--- Inserts the suggestion up to the end of its next word and keeps the
--- rest shown. Returns false when none is shown.
function M.accept_word()
  if not shown then
    return false
  end
  local s = shown
  local word = s.text:match('^%s*[%w_]+') or s.text:match('^%s*[^%w_%s]+') or s.text:match('^%s+') or s.text
  local rest = s.text:sub(#word + 1)
  M.clear()
  cancel_pending()
  local row, col = insert(s.buf, s.row, s.col, word)
  own_tick = vim.api.nvim_buf_get_changedtick(s.buf)
  if rest:match('%S') then
    render(s.buf, row, col, rest)
  end
  return true
end

--- Hides the suggestion and stops the request in flight.
function M.dismiss()
  local had = shown ~= nil
  cancel_pending()
  M.clear()
  return had
end

--- Switches completion on or off; returns the new state.
function M.toggle()
  M.active = not M.active
  if not M.active then
    M.dismiss()
  end
  vim.notify('lsp-router: inline completion ' .. (M.active and 'on' or 'off'), vim.log.levels.INFO)
  return M.active
end

--- Keeps the suggestion while the user types it: when the text between
--- the suggestion's position and (row, col) is its beginning, the rest is
--- shown at (row, col) and true returned, without asking the server.
function M.typed(buf, row, col)
  if not shown or shown.buf ~= buf or row ~= shown.row or col <= shown.col then
    return false
  end
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  local typed = line:sub(shown.col + 1, col)
  if #typed == #shown.text or shown.text:sub(1, #typed) ~= typed then
    return false
  end
  render(buf, row, col, shown.text:sub(#typed + 1))
  return true
end

local function cursor()
  local cur = vim.api.nvim_win_get_cursor(0)
  return cur[1] - 1, cur[2]
end

local function on_change(ev)
  local buf = ev.buf
  if own_tick and vim.api.nvim_buf_get_changedtick(buf) == own_tick then
    return
  end
  own_tick = nil
  if vim.api.nvim_get_current_buf() == buf and M.typed(buf, cursor()) then
    return
  end
  M.clear()
  if not (M.active and M.opts.auto) or not client_for(buf) then
    return
  end
  local uv = vim.uv or vim.loop
  if timer then
    timer:stop()
  else
    timer = uv.new_timer()
  end
  timer:start(M.opts.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_get_current_buf() == buf and vim.fn.mode():sub(1, 1) == 'i' then
      M.trigger({ bufnr = buf, automatic = true })
    end
  end))
end

local function map(lhs, fn)
  if not lhs then
    return
  end
  local keys = vim.api.nvim_replace_termcodes(lhs, true, false, true)
  vim.keymap.set('i', lhs, function()
    if not fn() then
      vim.api.nvim_feedkeys(keys, 'n', false)
    end
  end, { silent = true, desc = 'lsp-router completion' })
end

local function setup_native(o)
  vim.lsp.inline_completion.enable(true)
  map(o.keys.accept, function()
    return vim.lsp.inline_completion.get()
  end)
  vim.api.nvim_create_user_command('LspRouterCompletionToggle', function()
    local on = not vim.lsp.inline_completion.is_enabled()
    vim.lsp.inline_completion.enable(on)
    vim.notify('lsp-router: inline completion ' .. (on and 'on' or 'off'), vim.log.levels.INFO)
  end, { desc = 'lsp-router: inline completion on/off' })
end

--- Sets completion up (called by require('lsp_router').setup with the
--- `completion` option).
function M.setup(user)
  local o = M.resolve(user)
  M.opts = o
  if not o.enabled then
    return
  end
  if o.native and vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    setup_native(o)
    return
  end
  local group = vim.api.nvim_create_augroup('lsp_router_completion', { clear = true })
  vim.api.nvim_create_autocmd('TextChangedI', { group = group, callback = on_change })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, { group = group, callback = function()
    M.dismiss()
  end })
  vim.api.nvim_create_autocmd('CursorMovedI', { group = group, callback = function()
    if shown then
      local row, col = cursor()
      if (row ~= shown.row or col ~= shown.col) and not M.typed(shown.buf, row, col) then
        M.clear()
      end
    end
  end })
  map(o.keys.accept, M.accept)
  map(o.keys.accept_word, M.accept_word)
  map(o.keys.dismiss, M.dismiss)
  map(o.keys.trigger, function()
    return M.trigger({ automatic = false })
  end)
  vim.api.nvim_create_user_command('LspRouterCompletionToggle', M.toggle, { desc = 'lsp-router: inline completion on/off' })
  vim.api.nvim_create_user_command('LspRouterComplete', function()
    M.trigger({ automatic = false })
  end, { desc = 'lsp-router: ask for an inline completion at the cursor' })
end

return M
