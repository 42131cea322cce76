-- What the server is doing, for the statusline: the last lsp-router/status
-- notification (model, service, state) and the lsp-router progress reports.
-- The $/progress messages themselves still go to Neovim's default handler, so
-- fidget.nvim and the LspProgress autocommand see them as usual.
local M = {}

M.model = nil
M.service = nil
M.state = 'idle'
-- token -> { title, message, percentage } for reports still running.
M.progress = {}
-- Order the tokens began in, so the statusline shows the newest one.
M.order = {}

local function changed()
  -- A statusline only redraws on its own schedule; ask for one now, and let
  -- other plugins (lualine, heirline) react through a User autocommand.
  pcall(vim.cmd, 'redrawstatus')
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'LspRouterStatus', modeline = false })
end

--- Resets everything (tests, or when the last client stops).
function M.reset()
  M.model, M.service, M.state = nil, nil, 'idle'
  M.progress, M.order = {}, {}
end

--- Handles an lsp-router/status notification {model, service, state}.
function M.on_status(params)
  if type(params) ~= 'table' then
    return
  end
  if type(params.model) == 'string' and params.model ~= '' then
    M.model = params.model
  end
  if type(params.service) == 'string' and params.service ~= '' then
    M.service = params.service
  end
  if type(params.state) == 'string' and params.state ~= '' then
    M.state = params.state
  end
  changed()
end

--- Records a $/progress notification {token, value = {kind, title, message, percentage}}.
function M.on_progress(params)
  if type(params) ~= 'table' or type(params.value) ~= 'table' or params.token == nil then
    return
  end
  local token, v = params.token, params.value
  if v.kind == 'begin' then
    M.progress[token] = { title = v.title, message = v.message, percentage = v.percentage }
    table.insert(M.order, token)
  elseif v.kind == 'report' then
    local p = M.progress[token]
    if not p then
      p = {}
      M.progress[token] = p
      table.insert(M.order, token)
    end
    if v.message then
      p.message = v.message
    end
    if v.percentage then
      p.percentage = v.percentage
    end
  elseif v.kind == 'end' then
    M.progress[token] = nil
    for i, t in ipairs(M.order) do
      if t == token then
        table.remove(M.order, i)
        break
      end
    end
  end
  changed()
end

--- The newest running progress report, or nil.
function M.current_progress()
  for i = #M.order, 1, -1 do
    local p = M.progress[M.order[i]]
    if p then
      return p
    end
  end
  return nil
end

--- One short line for a statusline: "lsp-router: generating (42 tokens) · model (Service)".
function M.line()
  local parts = {}
  local p = M.current_progress()
  if p then
    local title = p.title and p.title:gsub('^lsp%-router:%s*', '') or nil
    local what = p.message or title or M.state
    if title and p.message then
      what = title .. ': ' .. p.message
    end
    if p.percentage then
      what = what .. string.format(' %d%%%%', p.percentage)
    end
    table.insert(parts, what)
  elseif M.state and M.state ~= 'idle' then
    table.insert(parts, M.state)
  end
  if M.model then
    table.insert(parts, M.service and (M.model .. ' (' .. M.service .. ')') or M.model)
  end
  if #parts == 0 then
    return 'lsp-router'
  end
  return 'lsp-router: ' .. table.concat(parts, ' · ')
end

return M
