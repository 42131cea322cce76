-- Small shims over the Neovim APIs that changed between 0.7 and 0.11, so the
-- rest of the plugin is written once. Every function here picks the newest
-- API the running Neovim has and falls back to the older one.
local M = {}

--- True when the running Neovim is at least version `v` ("0.8", "0.11").
function M.has(v)
  return vim.fn.has('nvim-' .. v) == 1
end

-- Client methods became colon-methods in 0.11 (client:request); the dot form
-- still works there but warns, and the colon form fails on 0.7-0.10.
local colon = M.has('0.11')

function M.request(client, method, params, handler, bufnr)
  if colon then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if colon then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel_request(client, id)
  if colon then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.is_stopped(client)
  if colon then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- All running clients named `name`, optionally only those attached to `bufnr`.
function M.get_clients(name, bufnr)
  local all
  if vim.lsp.get_clients then
    all = vim.lsp.get_clients({ name = name })
  else
    all = vim.lsp.get_active_clients()
  end
  local out = {}
  for _, c in ipairs(all) do
    if c.name == name and (bufnr == nil or vim.lsp.buf_is_attached(bufnr, c.id)) then
      table.insert(out, c)
    end
  end
  return out
end

--- Converts a 0-based byte column of `line` to the client's position
--- encoding (LSP positions default to UTF-16 code units).
function M.lsp_col(line, byte_col, encoding)
  if byte_col > #line then
    byte_col = #line
  end
  if byte_col < 0 then
    byte_col = 0
  end
  encoding = encoding or 'utf-16'
  if encoding == 'utf-8' then
    return byte_col
  end
  if M.has('0.11') then
    return vim.str_utfindex(line, encoding, byte_col, false)
  end
  local u32, u16 = vim.str_utfindex(line, byte_col)
  if encoding == 'utf-32' then
    return u32
  end
  return u16
end

--- The document version Neovim last sent for `bufnr` (what the server saw).
function M.buf_version(bufnr)
  local versions = vim.lsp.util.buf_versions
  local v = versions and versions[bufnr]
  if type(v) == 'number' then
    return v
  end
  return vim.api.nvim_buf_get_changedtick(bufnr)
end

--- Walks up from `path` and returns the first directory holding one of the
--- markers, or nil. (vim.fs.find is 0.8+ only.)
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local uv = vim.uv or vim.loop
  while dir and dir ~= '' do
    for _, m in ipairs(markers) do
      if uv.fs_stat(dir .. '/' .. m) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return nil
end

--- The health reporting functions: vim.health.start/ok/... on 0.10+,
--- vim.health.report_* on 0.8-0.9, require('health').report_* on 0.7.
function M.health()
  local h = vim.health
  if h and h.start then
    return { start = h.start, ok = h.ok, warn = h.warn, error = h.error, info = h.info }
  end
  if not (h and h.report_start) then
    h = require('health')
  end
  return {
    start = h.report_start,
    ok = h.report_ok,
    warn = h.report_warn,
    error = h.report_error,
    info = h.report_info,
  }
end

return M
