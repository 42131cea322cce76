-- The lsp-router.* commands: their arguments (docs/protocol.md), running
-- them through workspace/executeCommand, and what happens with the result.
local compat = require('lsp_router.compat')
local status = require('lsp_router.status')
local ui = require('lsp_router.ui')

local M = {}

M.client_name = 'lsp_router'

--- Every action, in the order of the user commands.
M.actions = { 'explain', 'refactor', 'document', 'fix', 'tests', 'ask', 'models', 'cancel' }

-- Actions whose outcome is an answer to read rather than an edit.
local answer_actions = { explain = true, ask = true, tests = true }
-- Actions that need an instruction from the user.
M.needs_instruction = { refactor = true, ask = true }

-- Requests still running: request id -> { client_id, action, bufnr }.
M.pending = {}
-- Requests cancelled by cancel_all: request id -> true.
M.cancelled = {}

-- Options from setup (answer view etc.); set by init.lua.
M.opts = { answer = { view = 'float' } }

-- Answers already shown, so the executeCommand result does not re-open the
-- same text the lsp-router/answer notification already showed.
local shown = {}

local function notify(msg, level)
  vim.notify('lsp-router: ' .. msg, level or vim.log.levels.INFO)
end

local function char_len(byte)
  if not byte or byte < 0x80 then
    return 1
  elseif byte < 0xE0 then
    return 2
  elseif byte < 0xF0 then
    return 3
  end
  return 4
end

local function line_text(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
end

--- The LSP range for a command. `sel` is nil (cursor: an empty range), or
--- { start = {row, col}, ['end'] = {row, col} } with 0-based rows and 0-based
--- byte columns, end exclusive.
function M.make_range(bufnr, sel, encoding, winid)
  local function pos(row, col)
    return { line = row, character = compat.lsp_col(line_text(bufnr, row), col, encoding) }
  end
  if not sel then
    local cur = vim.api.nvim_win_get_cursor(winid or 0)
    local p = pos(cur[1] - 1, cur[2])
    return { start = p, ['end'] = vim.deepcopy(p) }
  end
  return { start = pos(sel.start[1], sel.start[2]), ['end'] = pos(sel['end'][1], sel['end'][2]) }
end

--- The selection of a :'<,'>Command, from the command's line range and, when
--- it matches the last visual selection, the exact columns of that selection.
function M.selection_from_range(bufnr, line1, line2)
  local vs, ve = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  local mode = vim.fn.visualmode()
  if vs[2] == line1 and ve[2] == line2 and mode == 'v' then
    local last = line_text(bufnr, line2 - 1)
    local end_col = math.min(ve[3] - 1, #last)
    end_col = math.min(end_col + char_len(last:byte(end_col + 1)), #last)
    return { start = { line1 - 1, vs[3] - 1 }, ['end'] = { line2 - 1, end_col } }
  end
  -- Linewise (also blockwise, which LSP cannot express): whole lines.
  return { start = { line1 - 1, 0 }, ['end'] = { line2 - 1, #line_text(bufnr, line2 - 1) } }
end

--- The buffer's diagnostics on the rows of `range`, as LSP Diagnostic objects.
function M.diagnostics(bufnr, range, encoding)
  local out = {}
  local first, last = range.start.line, range['end'].line
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local d_end = d.end_lnum or d.lnum
    if d.lnum <= last and d_end >= first then
      local lsp = (d.user_data and d.user_data.lsp) or {}
      local item = {
        range = lsp.range or {
          start = { line = d.lnum, character = compat.lsp_col(line_text(bufnr, d.lnum), d.col or 0, encoding) },
          ['end'] = { line = d_end, character = compat.lsp_col(line_text(bufnr, d_end), d.end_col or d.col or 0, encoding) },
        },
        severity = d.severity,
        message = d.message,
        source = d.source or lsp.source,
        code = d.code or lsp.code,
        codeDescription = lsp.codeDescription,
        tags = lsp.tags,
        relatedInformation = lsp.relatedInformation,
        data = lsp.data,
      }
      table.insert(out, item)
    end
  end
  return out
end

--- The single argument object of an lsp-router.<action> command.
--- opts: { selection = (see make_range), instruction = string }.
function M.make_args(bufnr, action, opts, encoding)
  opts = opts or {}
  local args = {
    uri = vim.uri_from_bufnr(bufnr),
    range = M.make_range(bufnr, opts.selection, encoding),
    version = compat.buf_version(bufnr),
  }
  if opts.instruction and opts.instruction ~= '' then
    args.instruction = opts.instruction
  end
  local diags = M.diagnostics(bufnr, args.range, encoding)
  if #diags > 0 then
    args.diagnostics = diags
  end
  return args
end

--- Shows an answer {title, markdown, model, service} in the configured view.
function M.show_answer(answer, view)
  if type(answer) ~= 'table' or type(answer.markdown) ~= 'string' or answer.markdown == '' then
    return
  end
  shown[answer.markdown] = true
  local a = M.opts.answer or {}
  ui.show(answer, view or a.view, a)
end

--- Handler for the lsp-router/answer notification.
function M.on_answer(_, params)
  if type(params) ~= 'table' then
    return
  end
  -- Rendering must not run inside the RPC callback on 0.7 (textlock).
  vim.schedule(function()
    M.show_answer(params)
  end)
end

local function describe(result)
  local by = {}
  if type(result.model) == 'string' and result.model ~= '' then
    table.insert(by, result.model)
  end
  if type(result.service) == 'string' and result.service ~= '' then
    table.insert(by, result.service)
  end
  return #by > 0 and (' (' .. table.concat(by, ' on ') .. ')') or ''
end

-- JSON-RPC RequestCancelled and LSP's ServerCancelled / ContentModified.
local cancelled_codes = { [-32800] = true, [-32802] = true }

local function on_result(action, err, result)
  if err then
    if cancelled_codes[err.code] then
      notify(action .. ' cancelled')
    else
      notify(action .. ' failed: ' .. tostring(err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    return
  end
  if action == 'models' then
    M.show_answer({ title = 'Available models', markdown = ui.models_markdown(result) })
    return
  end
  if action == 'cancel' then
    local n = type(result) == 'table' and tonumber(result.cancelled) or nil
    if n then
      notify(string.format('cancelled %d running command%s', n, n == 1 and '' or 's'))
    else
      notify('cancel sent')
    end
    return
  end
  if type(result) ~= 'table' then
    notify(action .. ': done')
    return
  end
  local title = 'lsp-router: ' .. action
  if answer_actions[action] then
    if type(result.answer) == 'string' and result.answer ~= '' and not shown[result.answer] then
      M.show_answer({ title = action, markdown = result.answer, model = result.model, service = result.service })
    end
    if action == 'tests' and result.applied then
      notify('tests written' .. describe(result))
    end
    return
  end
  -- Edit actions: the edit itself came as workspace/applyEdit, which Neovim
  -- applied; tell the user what happened.
  if result.applied then
    notify(action .. ' applied' .. describe(result))
  else
    notify(action .. ' not applied' .. describe(result) ..
      (type(result.answer) == 'string' and result.answer ~= '' and ': see the answer window' or ''),
      vim.log.levels.WARN)
    if type(result.answer) == 'string' and result.answer ~= '' then
      M.show_answer({ title = title .. ' (not applied)', markdown = result.answer, model = result.model,
        service = result.service })
    end
  end
end

--- The lsp-router client attached to `bufnr`, or any running one when
--- `any` is set (for commands that need no document: models, ask, cancel).
function M.client_for(bufnr, any)
  local clients = compat.get_clients(M.client_name, bufnr)
  if #clients == 0 and any then
    clients = compat.get_clients(M.client_name)
  end
  return clients[1]
end

--- Sends workspace/executeCommand for lsp-router.<action>. Returns the
--- request id, or nil and an error message. `on_done(err, result)` is called
--- after the plugin's own handling (tests use it).
function M.execute(client, action, args, bufnr, on_done)
  local params = { command = 'lsp-router.' .. action, arguments = args and { args } or {} }
  local id
  local ok, req = compat.request(client, 'workspace/executeCommand', params, function(err, result)
    local was_cancelled = id and M.cancelled[id]
    if id then
      M.pending[id], M.cancelled[id] = nil, nil
    end
    if was_cancelled and err and cancelled_codes[err.code] then
      return -- already reported by cancel_all
    end
    on_result(action, err, result)
    if on_done then
      on_done(err, result)
    end
  end, bufnr)
  if not ok then
    return nil, 'the server is not running (see :checkhealth lsp_router and :LspInfo)'
  end
  id = req
  if action ~= 'cancel' then
    M.pending[id] = { client_id = client.id, action = action, bufnr = bufnr }
  end
  return id
end

--- Runs an action from the current buffer. opts: { selection, instruction,
--- on_done }. Returns the request id, or nil and an error (also notified).
function M.run(action, opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  if action == 'cancel' then
    return M.cancel_all()
  end
  if M.needs_instruction[action] and (not opts.instruction or opts.instruction == '') then
    local msg = string.format('%s needs an instruction, e.g. :LspRouter%s%s %s', action,
      action:sub(1, 1):upper(), action:sub(2), action == 'ask' and 'what does this function return?' or
      'use a strings.Builder')
    notify(msg, vim.log.levels.ERROR)
    return nil, msg
  end
  local document_free = action == 'models' or action == 'ask'
  local client = M.client_for(bufnr, document_free)
  if not client then
    local msg = string.format('not attached to this buffer (filetype %q): add it to setup({ filetypes = ... }) '
      .. 'or see :checkhealth lsp_router', vim.bo[bufnr].filetype)
    notify(msg, vim.log.levels.ERROR)
    return nil, msg
  end
  local args
  if action ~= 'models' then
    if vim.lsp.buf_is_attached(bufnr, client.id) then
      args = M.make_args(bufnr, action, opts, client.offset_encoding)
    else
      -- ask without a document: just the question.
      args = { instruction = opts.instruction }
    end
  end
  local id, err = M.execute(client, action, args, bufnr, opts.on_done)
  if not id then
    notify(action .. ': ' .. err, vim.log.levels.ERROR)
  end
  return id, err
end

--- Handles the lsp-router.* commands of code actions on the client side
--- (vim.lsp.commands), so that "Refactor…" and "Ask…" ask for the
--- instruction, and every action's outcome is reported like the user
--- commands' (answer window, "applied" message).
function M.register_lsp_commands()
  for _, action in ipairs(M.actions) do
    if action ~= 'models' and action ~= 'cancel' then
      vim.lsp.commands['lsp-router.' .. action] = function(command, ctx)
        local client = vim.lsp.get_client_by_id(ctx.client_id)
        if not client then
          return
        end
        local args = vim.deepcopy((command.arguments or {})[1] or {})
        local function go()
          M.execute(client, action, args, ctx.bufnr)
        end
        if M.needs_instruction[action] and (args.instruction == nil or args.instruction == '') then
          vim.ui.input({ prompt = action == 'ask' and 'Ask lsp-router: ' or 'Refactor how? ' }, function(text)
            if text and text ~= '' then
              args.instruction = text
              go()
            end
          end)
        else
          go()
        end
      end
    end
  end
end

--- Cancels every running command: $/cancelRequest for the requests this
--- plugin sent, and lsp-router.cancel for anything else the server runs for
--- this client (e.g. commands started from code actions).
function M.cancel_all()
  local clients = compat.get_clients(M.client_name)
  for id, p in pairs(M.pending) do
    local c = vim.lsp.get_client_by_id(p.client_id)
    if c then
      compat.cancel_request(c, id)
      -- Neovim drops the RequestCancelled reply without calling the
      -- handler, so the cancellation is reported here (and the reply
      -- silenced should a Neovim version deliver it).
      notify(p.action .. ' cancelled')
      M.cancelled[id] = true
    end
    M.pending[id] = nil
  end
  for _, c in ipairs(clients) do
    M.execute(c, 'cancel', nil, nil)
  end
  if #clients == 0 then
    notify('no lsp-router server is running', vim.log.levels.WARN)
  end
  status.state = 'idle'
  return true
end

return M
