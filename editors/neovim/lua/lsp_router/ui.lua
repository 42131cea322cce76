-- Shows answers (Markdown) in one reusable floating window or split.
local M = {}

-- The window and buffer of the last answer, and the answer itself, so a new
-- answer replaces the old one instead of stacking floats, and the last answer
-- can be reopened in a split (:LspRouterAnswer split).
M.last = { bufnr = nil, winid = nil, answer = nil, view = nil }

local function split_lines(text)
  text = (text or ''):gsub('\r\n', '\n')
  return vim.split(text, '\n', { plain = true })
end

--- The lines shown for an answer {title, markdown, model, service}.
function M.lines(answer)
  local lines = {}
  if answer.title and answer.title ~= '' then
    table.insert(lines, '# ' .. answer.title)
  end
  local by = {}
  if answer.model and answer.model ~= '' then
    table.insert(by, answer.model)
  end
  if answer.service and answer.service ~= '' then
    table.insert(by, answer.service)
  end
  if #by > 0 then
    table.insert(lines, '_' .. table.concat(by, ' · ') .. '_')
  end
  if #lines > 0 then
    table.insert(lines, '')
  end
  vim.list_extend(lines, split_lines(answer.markdown))
  while #lines > 1 and lines[#lines] == '' do
    table.remove(lines)
  end
  return lines
end

local function scratch(lines)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  M.fill(buf, lines)
  return buf
end

--- Replaces the contents of an answer buffer.
function M.fill(buf, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = 'markdown'
  local close = '<cmd>lua require("lsp_router.ui").close()<CR>'
  vim.api.nvim_buf_set_keymap(buf, 'n', 'q', close, { noremap = true, silent = true, nowait = true })
  vim.api.nvim_buf_set_keymap(buf, 'n', '<Esc>', close, { noremap = true, silent = true, nowait = true })
end

local function float_size(lines, opts)
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l))
  end
  width = math.min(width, opts.max_width or 100, math.max(20, vim.o.columns - 4))
  -- Wrapped lines take more rows than there are lines.
  local height = 0
  for _, l in ipairs(lines) do
    height = height + math.max(1, math.ceil(vim.fn.strdisplaywidth(l) / width))
  end
  height = math.min(height, opts.max_height or 30, math.max(3, vim.o.lines - 4))
  return width, height
end

-- The float never takes the focus (an answer can arrive while you type), so
-- while it is open `q` in the code buffer closes it: without this, `q` there
-- would start recording a macro. The buffer's own `q` mapping, if any, comes
-- back when the float closes.
M.code_q = nil -- { bufnr, saved maparg or nil, winid of the float }

local function release_code_q()
  local cq = M.code_q
  M.code_q = nil
  if not cq or not vim.api.nvim_buf_is_valid(cq.bufnr) then
    return
  end
  pcall(vim.api.nvim_buf_del_keymap, cq.bufnr, 'n', 'q')
  local m = cq.saved
  if m then
    local rhs = m.rhs or ''
    local opts = { noremap = m.noremap == 1, silent = m.silent == 1, nowait = m.nowait == 1, expr = m.expr == 1 }
    if m.callback then
      opts.callback = m.callback
      rhs = ''
    end
    pcall(vim.api.nvim_buf_set_keymap, cq.bufnr, 'n', 'q', rhs, opts)
  end
end

local function claim_code_q(bufnr, winid)
  release_code_q()
  local saved = vim.api.nvim_buf_call(bufnr, function()
    return vim.fn.maparg('q', 'n', false, true)
  end)
  if type(saved) ~= 'table' or saved.buffer ~= 1 then
    saved = nil
  end
  M.code_q = { bufnr = bufnr, saved = saved, winid = winid }
  vim.api.nvim_buf_set_keymap(bufnr, 'n', 'q', '<cmd>lua require("lsp_router.ui").close()<CR>',
    { noremap = true, silent = true, nowait = true, desc = 'lsp-router: close the answer' })
end

--- Closes the answer window, if open.
function M.close()
  local w = M.last.winid
  M.last.winid, M.last.bufnr = nil, nil
  release_code_q()
  if w and vim.api.nvim_win_is_valid(w) then
    pcall(vim.api.nvim_win_close, w, true)
  end
end

--- Shows `answer` ({title, markdown, model, service}) in `view` ('float',
--- 'split' or 'vsplit'); returns the buffer and window.
function M.show(answer, view, opts)
  opts = opts or {}
  view = view or 'float'
  local lines = M.lines(answer)
  M.last.answer = answer
  -- Reuse the open window when it has the same kind of view.
  local w = M.last.winid
  if w and vim.api.nvim_win_is_valid(w) and M.last.view == view then
    local buf = vim.api.nvim_win_get_buf(w)
    M.fill(buf, lines)
    if view == 'float' then
      local width, height = float_size(lines, opts)
      vim.api.nvim_win_set_config(w, { width = width, height = height })
    end
    vim.api.nvim_win_set_cursor(w, { 1, 0 })
    M.last.bufnr = buf
    local cur = vim.api.nvim_get_current_buf()
    if view == 'float' and cur ~= buf and vim.bo[cur].buftype == '' and (not M.code_q or M.code_q.bufnr ~= cur) then
      claim_code_q(cur, w)
    end
    return buf, w
  end
  M.close()
  local code_buf = vim.api.nvim_get_current_buf()
  local buf = scratch(lines)
  if view == 'float' then
    local width, height = float_size(lines, opts)
    w = vim.api.nvim_open_win(buf, false, {
      relative = 'editor',
      row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
      col = math.max(0, math.floor((vim.o.columns - width) / 2)),
      width = width,
      height = height,
      style = 'minimal',
      border = opts.border or 'rounded',
    })
  else
    local cur = vim.api.nvim_get_current_win()
    vim.cmd(view == 'vsplit' and 'botright vsplit' or 'botright split')
    w = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(w, buf)
    vim.api.nvim_set_current_win(cur)
  end
  vim.wo[w].wrap = true
  vim.wo[w].linebreak = true
  vim.wo[w].conceallevel = 2
  M.last.bufnr, M.last.winid, M.last.view = buf, w, view
  if view == 'float' and code_buf ~= buf and vim.bo[code_buf].buftype == '' then
    claim_code_q(code_buf, w)
    -- Closed another way (:close, :only, <C-w>o): give `q` back too.
    local win = w
    vim.api.nvim_create_autocmd('WinClosed', {
      pattern = tostring(win),
      once = true,
      callback = function()
        if M.code_q and M.code_q.winid == win then
          release_code_q()
        end
      end,
    })
  end
  return buf, w
end

--- Formats the lsp-router.models result (the `models --json` shape: a list,
--- or {"models": [...]}) as a Markdown table.
function M.models_markdown(result)
  local list = result
  if type(result) == 'table' and type(result.models) == 'table' then
    list = result.models
  end
  if type(list) ~= 'table' or #list == 0 then
    return 'No models available. Start a local LLM service (e.g. `ollama serve`) or check `:checkhealth lsp_router`.'
  end
  local function cell(v)
    if v == nil or v == vim.NIL then
      return ''
    end
    if type(v) == 'boolean' then
      return v and 'yes' or 'no'
    end
    return (tostring(v):gsub('|', '\\|'))
  end
  local out = {
    '| model | service | family | params (B) | quant | context | loaded |',
    '|---|---|---|---|---|---|---|',
  }
  for _, m in ipairs(list) do
    if type(m) == 'table' then
      table.insert(out, string.format('| %s | %s | %s | %s | %s | %s | %s |', cell(m.id or m.name or m.model),
        cell(m.service), cell(m.family), cell(m.params_b), cell(m.quantization), cell(m.context_length),
        cell(m.loaded)))
    else
      table.insert(out, '| ' .. cell(m) .. ' | | | | | | |')
    end
  end
  return table.concat(out, '\n')
end

return M
