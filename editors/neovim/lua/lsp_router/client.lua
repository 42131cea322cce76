-- Starting `lsp-router serve` and attaching it to buffers, with the API each
-- Neovim version has: vim.lsp.config + vim.lsp.enable (0.11+), vim.lsp.start
-- (0.8+), vim.lsp.start_client + vim.lsp.buf_attach_client (0.7).
local compat = require('lsp_router.compat')
local config = require('lsp_router.config')
local commands = require('lsp_router.commands')
local status = require('lsp_router.status')
local context = require('lsp_router.context')

local M = {}

M.name = commands.client_name

-- 0.7 only: root dir -> client id, so buffers of one workspace share a server.
local by_root = {}
local augroup = nil

--- The handlers this client adds. $/progress is wrapped, not replaced: it
--- records the report for the statusline and then calls whatever handler is
--- installed globally at that moment (Neovim's default, or fidget.nvim's).
function M.handlers()
  return vim.tbl_extend('error', context.handlers(), {
    ['$/progress'] = function(err, result, ctx, cfg)
      status.on_progress(result)
      local default = vim.lsp.handlers['$/progress']
      if default then
        return default(err, result, ctx, cfg)
      end
    end,
    ['lsp-router/status'] = function(_, result)
      status.on_status(result)
    end,
    ['lsp-router/answer'] = commands.on_answer,
  })
end

local function set_keymaps(cfg, bufnr)
  local maps = config.keymaps(cfg)
  for action, lhs in pairs(maps) do
    local rhs
    if commands.needs_instruction[action] then
      rhs = string.format('<cmd>lua require("lsp_router").prompt(%q)<CR>', action)
    else
      rhs = string.format('<cmd>lua require("lsp_router").run(%q)<CR>', action)
    end
    vim.api.nvim_buf_set_keymap(bufnr, 'n', lhs, rhs,
      { noremap = true, silent = true, desc = 'lsp-router: ' .. action })
    if action ~= 'models' and action ~= 'cancel' then
      -- In visual mode, the :'<,'> range carries the selection.
      local cmd = 'LspRouter' .. action:sub(1, 1):upper() .. action:sub(2)
      local vrhs = commands.needs_instruction[action] and (':' .. cmd .. ' ') or (':' .. cmd .. '<CR>')
      vim.api.nvim_buf_set_keymap(bufnr, 'x', lhs, vrhs, { noremap = true, desc = 'lsp-router: ' .. action })
    end
  end
end

--- The LSP client configuration for `cfg` (without root_dir).
function M.client_config(cfg)
  local settings = config.wire_settings(cfg.settings)
  return {
    name = M.name,
    cmd = config.command(cfg),
    cmd_env = cfg.cmd_env,
    init_options = settings,
    -- Neovim sends this with workspace/didChangeConfiguration after
    -- initialize; the server takes settings under the "lsp-router" key.
    settings = { ['lsp-router'] = settings },
    handlers = M.handlers(),
    -- experimental.lspRouterAnswers: this client renders lsp-router/answer
    -- itself, so the server does not also open the answer as a document.
    -- lspRouterExecuteCommandWaits: the plugin reads the command's result
    -- from the executeCommand response. lspRouterContext: the plugin
    -- answers lsp-router/context/* from the buffer's other language
    -- servers (context.lua), so lsp-router need not start its own.
    capabilities = vim.tbl_deep_extend('force', vim.lsp.protocol.make_client_capabilities(), cfg.capabilities or {},
      { experimental = { lspRouterAnswers = true, lspRouterExecuteCommandWaits = true,
        lspRouterContext = cfg.editor_context ~= false } }),
    on_attach = function(client, bufnr)
      set_keymaps(cfg, bufnr)
      if cfg.on_attach then
        cfg.on_attach(client, bufnr)
      end
    end,
    on_exit = function()
      vim.schedule(function()
        if #compat.get_clients(M.name) == 0 then
          status.reset()
        end
      end)
    end,
  }
end

local function root_for(cfg, bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == '' then
    return (vim.uv or vim.loop).cwd()
  end
  return compat.find_root(path, cfg.root_markers) or vim.fn.fnamemodify(path, ':p:h')
end

local function wanted(cfg, bufnr)
  if vim.bo[bufnr].buftype ~= '' then
    return false
  end
  return vim.tbl_contains(cfg.filetypes, vim.bo[bufnr].filetype)
end

--- Starts (or reuses) the server for `bufnr` and attaches it, on 0.7-0.10.
--- Returns the client id, or nil.
function M.attach(cfg, bufnr)
  if not wanted(cfg, bufnr) then
    return nil
  end
  local c = M.client_config(cfg)
  c.root_dir = root_for(cfg, bufnr)
  if vim.lsp.start then
    return vim.lsp.start(c, { bufnr = bufnr })
  end
  local id = by_root[c.root_dir]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or compat.is_stopped(client) then
    id = vim.lsp.start_client(c)
    if not id then
      vim.notify('lsp-router: could not start ' .. table.concat(c.cmd, ' '), vim.log.levels.ERROR)
      return nil
    end
    by_root[c.root_dir] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Arranges for the server to start for the configured filetypes, including
--- buffers already open.
function M.enable(cfg)
  local cmd = config.command(cfg)
  if vim.fn.executable(cmd[1]) ~= 1 then
    vim.notify(string.format('lsp-router: %q is not an executable program: install lsp-router (go install '
      .. './cmd/lsp-router) or set setup({ binary = "/path/to/lsp-router" })', cmd[1]), vim.log.levels.ERROR)
  end
  if compat.has('0.11') and vim.lsp.config and vim.lsp.enable then
    local c = M.client_config(cfg)
    c.filetypes = cfg.filetypes
    c.root_markers = cfg.root_markers
    vim.lsp.config(M.name, c)
    vim.lsp.enable(M.name)
    return
  end
  augroup = vim.api.nvim_create_augroup('lsp_router', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = augroup,
    pattern = cfg.filetypes,
    callback = function(ev)
      M.attach(cfg, ev.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      M.attach(cfg, buf)
    end
  end
end

--- Sends new settings to every running server (workspace/didChangeConfiguration).
function M.update_settings(settings)
  for _, c in ipairs(compat.get_clients(M.name)) do
    compat.notify(c, 'workspace/didChangeConfiguration', { settings = { ['lsp-router'] = settings } })
    c.config.settings = { ['lsp-router'] = settings }
  end
end

return M
