-- Options of setup({...}): defaults, validation with messages that say what
-- to write instead, and the LSP client configuration built from them.
local M = {}

M.defaults = {
  -- Program to run. Either a command list ({ '/path/lsp-router', 'serve' })
  -- or nil to use `binary` + `args` + 'serve'.
  cmd = nil,
  binary = 'lsp-router',
  -- Extra arguments before `serve`, e.g. { '--config', '/etc/lsp-router.toml' }.
  args = {},
  filetypes = {
    'go', 'python', 'rust', 'c', 'cpp', 'java', 'lua',
    'typescript', 'javascript', 'typescriptreact', 'javascriptreact',
  },
  -- Files or folders that mark the workspace root; without one the file's
  -- own folder is used.
  root_markers = { '.lsp-router.toml', '.git', 'go.mod', 'package.json', 'Cargo.toml', 'pyproject.toml' },
  -- The TOML configuration's structure as a Lua table, sent as
  -- initializationOptions and workspace/didChangeConfiguration, e.g.
  -- { services = { ollama = { endpoint = 'http://127.0.0.1:11434' } } }.
  settings = {},
  answer = {
    view = 'float', -- 'float' | 'split' | 'vsplit'
    border = 'rounded',
    max_width = 100,
    max_height = 30,
  },
  -- false: no mappings; true: the defaults below; a table: { action = lhs }
  -- merged over the defaults (set an action to false to drop it).
  keymaps = false,
  -- Called as on_attach(client, bufnr) after the plugin's own attach work.
  on_attach = nil,
  capabilities = nil,
  -- Answer lsp-router's context requests (symbols, hover, references,
  -- diagnostics) from the buffer's other language servers, so lsp-router
  -- does not start a second gopls/pyright/... of its own.
  editor_context = true,
  -- Extra environment for the server process (e.g. { LSP_ROUTER_CONFIG = ... }).
  cmd_env = nil,
  -- Inline completions as ghost text; validated by lsp_router.completion
  -- (options in lua/lsp_router/completion.lua). false turns them off.
  completion = {},
}

M.default_keymaps = {
  explain = '<leader>ae',
  refactor = '<leader>ar',
  document = '<leader>ad',
  fix = '<leader>af',
  tests = '<leader>at',
  ask = '<leader>aa',
  models = '<leader>am',
  cancel = '<leader>ac',
}

local views = { float = true, split = true, vsplit = true }

local function fail(msg)
  error('lsp_router.setup: ' .. msg, 0)
end

local function check_type(name, value, want, hint)
  local ok = false
  for t in want:gmatch('[^|]+') do
    if type(value) == t then
      ok = true
    end
  end
  if not ok then
    fail(string.format('option %s must be a %s, got %s%s', name, want:gsub('|', ' or '), type(value),
      hint and (' (' .. hint .. ')') or ''))
  end
end

local function is_list_of_strings(t)
  if type(t) ~= 'table' then
    return false
  end
  for k, v in pairs(t) do
    if type(k) ~= 'number' or type(v) ~= 'string' then
      return false
    end
  end
  return true
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    table.insert(keys, k)
  end
  table.sort(keys)
  return keys
end

--- Merges `user` over the defaults and validates the result. Raises an error
--- naming the option and what is accepted when something is wrong.
function M.resolve(user)
  user = user or {}
  if type(user) ~= 'table' then
    fail('expected a table of options, got ' .. type(user))
  end
  for k in pairs(user) do
    if M.defaults[k] == nil and k ~= 'cmd' and k ~= 'on_attach' and k ~= 'capabilities' and k ~= 'cmd_env' then
      fail(string.format('unknown option %q; valid options: %s', tostring(k), table.concat(sorted_keys(M.defaults), ', ')
        .. ', cmd, on_attach, capabilities, cmd_env'))
    end
  end
  local cfg = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), user)
  -- Lists replace rather than merge: a user listing two filetypes means two.
  for _, k in ipairs({ 'filetypes', 'root_markers', 'args' }) do
    if user[k] ~= nil then
      cfg[k] = user[k]
    end
  end
  if user.settings ~= nil then
    cfg.settings = user.settings
  end

  if cfg.cmd ~= nil and not (is_list_of_strings(cfg.cmd) and #cfg.cmd > 0) then
    fail('option cmd must be a non-empty list of strings, e.g. { "/usr/local/bin/lsp-router", "serve" }')
  end
  check_type('binary', cfg.binary, 'string', 'a program name on $PATH or an absolute path')
  if not is_list_of_strings(cfg.args) then
    fail('option args must be a list of strings, e.g. { "--config", "/etc/lsp-router.toml" }')
  end
  if not is_list_of_strings(cfg.filetypes) or #cfg.filetypes == 0 then
    fail('option filetypes must be a non-empty list of filetype names, e.g. { "go", "python" }')
  end
  if not is_list_of_strings(cfg.root_markers) then
    fail('option root_markers must be a list of file names, e.g. { ".git", "go.mod" }')
  end
  check_type('settings', cfg.settings, 'table', 'the TOML configuration as a Lua table')
  check_type('answer', cfg.answer, 'table')
  if not views[cfg.answer.view] then
    fail(string.format('option answer.view must be "float", "split" or "vsplit", got %q', tostring(cfg.answer.view)))
  end
  check_type('editor_context', cfg.editor_context, 'boolean', 'true to answer context from the buffer\'s other language servers')
  check_type('keymaps', cfg.keymaps, 'boolean|table', 'true for the defaults, or { explain = "<leader>e", ... }')
  if type(cfg.keymaps) == 'table' then
    for action, lhs in pairs(cfg.keymaps) do
      if M.default_keymaps[action] == nil then
        fail(string.format('keymaps: unknown action %q; valid actions: %s', tostring(action),
          table.concat(sorted_keys(M.default_keymaps), ', ')))
      end
      if lhs ~= false and type(lhs) ~= 'string' then
        fail(string.format('keymaps.%s must be a key sequence string or false', action))
      end
    end
  end
  if cfg.on_attach ~= nil then
    check_type('on_attach', cfg.on_attach, 'function')
  end
  if cfg.cmd_env ~= nil then
    check_type('cmd_env', cfg.cmd_env, 'table')
  end
  return cfg
end

--- The command line that starts the server.
function M.command(cfg)
  if cfg.cmd then
    return vim.deepcopy(cfg.cmd)
  end
  local cmd = { cfg.binary }
  vim.list_extend(cmd, cfg.args)
  table.insert(cmd, 'serve')
  return cmd
end

--- The keymaps to install: action -> lhs (actions mapped to false removed).
function M.keymaps(cfg)
  if cfg.keymaps == false then
    return {}
  end
  local maps = vim.deepcopy(M.default_keymaps)
  if type(cfg.keymaps) == 'table' then
    for action, lhs in pairs(cfg.keymaps) do
      maps[action] = lhs or nil
    end
  end
  return maps
end

--- The settings as they go on the wire. An empty Lua table would encode as
--- a JSON array, which the server rightly refuses as configuration.
function M.wire_settings(settings)
  if settings == nil or next(settings) == nil then
    return vim.empty_dict()
  end
  return settings
end

return M
