-- :checkhealth lsp_router — the binary, its version, the LLM services it
-- discovers, Serena's state (from `lsp-router doctor`), and the running client.
local compat = require('lsp_router.compat')
local config = require('lsp_router.config')
local status = require('lsp_router.status')

local M = {}

-- CLI commands not yet available in a build exit with this code.
local EXIT_NOT_AVAILABLE = 2

--- Runs `cmd` and returns (exit code, stdout, stderr), or nil and a reason
--- when it cannot start or takes longer than `timeout_ms`.
function M.run(cmd, timeout_ms)
  local out, err = {}, {}
  local ok, job = pcall(vim.fn.jobstart, cmd, {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      out = data
    end,
    on_stderr = function(_, data)
      err = data
    end,
  })
  if not ok or job <= 0 then
    return nil, 'cannot run ' .. table.concat(cmd, ' ')
  end
  -- Close stdin: `lsp-router` serves LSP on stdin when it is not a terminal.
  pcall(vim.fn.chanclose, job, 'stdin')
  local code = vim.fn.jobwait({ job }, timeout_ms or 10000)[1]
  if code == -1 then
    vim.fn.jobstop(job)
    return nil, string.format('%s did not finish within %d s', table.concat(cmd, ' '), (timeout_ms or 10000) / 1000)
  end
  -- jobwait returns before the buffered callbacks ran; let them run.
  vim.wait(1000, function()
    return #out > 0 or #err > 0
  end, 10)
  return code, table.concat(out, '\n'), table.concat(err, '\n')
end

local function first_line(s)
  return (s or ''):match('^%s*([^\n]*)') or ''
end

local function base_cmd(cfg)
  local cmd = config.command(cfg)
  table.remove(cmd) -- drop the trailing "serve"
  return cmd
end

local function with(cmd, ...)
  local c = vim.deepcopy(cmd)
  vim.list_extend(c, { ... })
  return c
end

local function decode(s)
  local ok, v = pcall(vim.json.decode, s)
  if ok then
    return v
  end
  return nil
end

local function check_services(h, cmd)
  local code, out, err = M.run(with(cmd, 'discover', '--json'), 20000)
  if code == nil then
    h.warn('service discovery: ' .. out)
    return
  end
  if code == EXIT_NOT_AVAILABLE then
    h.info('service discovery is not available in this build: ' .. first_line(err ~= '' and err or out))
    return
  end
  if code ~= 0 then
    h.warn('`lsp-router discover` failed (exit ' .. code .. '): ' .. first_line(err ~= '' and err or out))
    return
  end
  local v = decode(out)
  local services = type(v) == 'table' and v.services or nil
  if type(services) ~= 'table' then
    h.warn('`lsp-router discover --json` printed something else than {"services": [...]}: ' .. first_line(out))
    return
  end
  local online = 0
  for _, s in ipairs(services) do
    local models = type(s.models) == 'table' and #s.models or 0
    local line = string.format('%s at %s: %s, %d model(s)', tostring(s.name or s.kind), tostring(s.endpoint),
      tostring(s.status), models)
    if s.status == 'online' then
      online = online + 1
      h.ok(line)
    else
      h.info(line)
    end
  end
  if online == 0 then
    h.warn('no local LLM service is online', {
      'Start one, e.g. `ollama serve` and `ollama pull qwen2.5-coder:7b`',
      'or set its endpoint in setup({ settings = { services = { ollama = { endpoint = "http://host:11434" } } } })',
    })
  end
end

-- Filetypes of the loaded buffers: a missing language server matters for
-- the files you have open, not for every filetype the plugin may serve.
local function open_filetypes()
  local fts = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].filetype ~= '' then
      fts[vim.bo[b].filetype] = true
    end
  end
  return fts
end

local function check_doctor(h, cmd, filetypes)
  -- No --dns: :checkhealth must not make this machine look up an outside
  -- name. `lsp-router doctor --dns NAME` does that when the user asks.
  local configured = {}
  for _, ft in ipairs(filetypes or {}) do
    configured[ft] = true
  end
  local open = open_filetypes()
  local idle_missing = {}
  local code, out, err = M.run(with(cmd, 'doctor', '--json'), 20000)
  if code == nil then
    h.warn('doctor: ' .. out)
    return
  end
  if code == EXIT_NOT_AVAILABLE then
    h.info('`lsp-router doctor` is not available in this build: ' .. first_line(err ~= '' and err or out))
    return
  end
  local v = decode(out)
  if type(v) ~= 'table' then
    h.warn('`lsp-router doctor --json` failed (exit ' .. tostring(code) .. '): ' .. first_line(err ~= '' and err or out))
    return
  end
  -- Doctor prints checks as {"checks": [{"name", "status": ok|warn|fail, "message", "fix"}]}
  -- (or a bare list); Serena's state is one of them.
  local checks = v.checks or v
  if type(checks) ~= 'table' then
    return
  end
  local serena_seen = false
  for _, c in ipairs(checks) do
    if type(c) == 'table' then
      local name = tostring(c.name or c.check or '?')
      local msg = name .. ': ' .. tostring(c.message or c.detail or '')
      local fix = c.fix and { tostring(c.fix) } or nil
      if name:lower():find('serena') then
        serena_seen = true
      end
      -- Language servers (LSP language IDs are Neovim's filetype names):
      -- only the configured filetypes are reported, and a missing server
      -- warns only when a buffer of its filetype is open.
      local lang = name:match('^language server (%S+)$')
      local show = true
      if lang and not configured[lang] then
        show = false
      elseif lang and c.status == 'warn' and not open[lang] then
        table.insert(idle_missing, lang) -- one line for all of them, below
        show = false
      end
      if not show then
        -- nothing
      elseif c.status == 'ok' then
        h.ok(msg)
      elseif c.status == 'fail' or c.status == 'error' then
        h.error(msg, fix)
      elseif c.status == 'warn' then
        h.warn(msg, fix)
      else
        h.info(msg)
      end
    end
  end
  if #idle_missing > 0 then
    h.info('no language server found for ' .. table.concat(idle_missing, ', ')
      .. ' (no such buffer is open; their files would get code context from the buffer only)')
  end
  if not serena_seen and type(v.serena) == 'table' then
    h.info('Serena: ' .. vim.inspect(v.serena):gsub('\n%s*', ' '))
  end
end

--- The check run by :checkhealth lsp_router.
function M.check()
  local h = compat.health()
  h.start('lsp-router: setup')
  if vim.fn.has('nvim-0.7') == 1 then
    h.ok('Neovim ' .. tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) .. '.'
      .. tostring(vim.version().patch))
  else
    h.error('Neovim 0.7 or newer is required')
  end
  local cfg = require('lsp_router').options
  if not cfg then
    h.warn('setup() has not been called: the defaults are checked', {
      'add require("lsp_router").setup({}) to your init.lua (see :help lsp-router-setup)',
    })
    cfg = config.resolve({})
  else
    h.ok('setup() called; filetypes: ' .. table.concat(cfg.filetypes, ', '))
  end

  h.start('lsp-router: binary')
  local cmd = base_cmd(cfg)
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    h.error(string.format('%q not found or not executable', cmd[1]), {
      'build it: go build -o ~/.local/bin/lsp-router ./cmd/lsp-router (from the lsp-router checkout)',
      'or point setup({ binary = "/abs/path/lsp-router" }) at it',
    })
    return
  end
  h.ok('binary: ' .. exe)
  local code, out, err = M.run(with(cmd, 'version'), 10000)
  if code == 0 then
    h.ok('version: ' .. first_line(out))
  elseif code == nil then
    h.error(out)
  else
    h.warn('`lsp-router version` exited ' .. code .. ': ' .. first_line(err ~= '' and err or out))
  end

  h.start('lsp-router: LLM services (as the CLI sees them with its TOML config)')
  check_services(h, cmd)

  h.start('lsp-router: doctor (Serena, security)')
  check_doctor(h, cmd, cfg.filetypes)

  h.start('lsp-router: running server')
  local clients = compat.get_clients('lsp_router')
  if #clients == 0 then
    h.info('no lsp-router client is running (open a file of a configured filetype)')
  else
    for _, c in ipairs(clients) do
      local n = 0
      for _ in pairs(c.attached_buffers or {}) do
        n = n + 1
      end
      h.ok(string.format('client %d (root %s), %d buffer(s) attached', c.id, tostring(c.config.root_dir), n))
    end
    h.info('status: ' .. status.line())
  end
end

return M
