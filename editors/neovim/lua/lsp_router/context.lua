-- Editor-provided context: lsp-router asks the editor (server -> client
-- requests lsp-router/context/*, see docs/protocol.md) for document
-- symbols, hover, references, definition and diagnostics, and the plugin
-- answers them from the OTHER language servers attached to the buffer
-- (gopls, pyright, ...), so lsp-router need not start its own. Works on
-- Neovim 0.7-0.11.
local compat = require('lsp_router.compat')
local commands = require('lsp_router.commands')

local M = {}

-- How long to wait for the editor's servers; below the server's default
-- context.editor_timeout (2 s) so the answer still arrives in time.
M.timeout_ms = 1800

-- lsp-router/context/<name> -> the standard method asked of the servers.
M.methods = {
  documentSymbol = 'textDocument/documentSymbol',
  hover = 'textDocument/hover',
  references = 'textDocument/references',
  definition = 'textDocument/definition',
}

local function empty(result)
  return result == nil or result == vim.NIL or (type(result) == 'table' and vim.tbl_isempty(result))
end

--- The loaded buffer of `uri`, or nil (context is only asked for open files).
function M.buffer(uri)
  if type(uri) ~= 'string' then
    return nil
  end
  local ok, path = pcall(vim.uri_to_fname, uri)
  if not ok then
    return nil
  end
  local buf = vim.fn.bufnr(path)
  if buf == -1 or not vim.api.nvim_buf_is_loaded(buf) then
    return nil
  end
  return buf
end

local function supports(client, method, bufnr)
  if compat.has('0.11') then
    return client:supports_method(method, bufnr)
  end
  if client.supports_method then
    return client.supports_method(method)
  end
  return true
end

--- The clients attached to `bufnr` that are not lsp-router and serve `method`.
function M.others(bufnr, method)
  local all = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr })
    or vim.lsp.buf_get_clients(bufnr)
  local out = {}
  for _, c in pairs(all) do
    if c.name ~= commands.client_name and not compat.is_stopped(c) and supports(c, method, bufnr) then
      table.insert(out, c)
    end
  end
  table.sort(out, function(a, b)
    return a.id < b.id
  end)
  return out
end

--- Asks every other client for `method` at once and waits up to
--- M.timeout_ms; returns the first non-empty answer in client order, or nil.
function M.ask(bufnr, method, params)
  local clients = M.others(bufnr, method)
  if #clients == 0 then
    return nil
  end
  local results, pending = {}, #clients
  for i, c in ipairs(clients) do
    local ok = pcall(compat.request, c, method, params, function(err, result)
      if not err then
        results[i] = result
      end
      pending = pending - 1
    end, bufnr)
    if not ok then
      pending = pending - 1
    end
  end
  vim.wait(M.timeout_ms, function()
    return pending <= 0
  end, 5)
  for i = 1, #clients do
    if not empty(results[i]) then
      return results[i]
    end
  end
  return nil
end

--- LSP diagnostics of `bufnr` as the editor shows them (lsp-router's own
--- excluded), in LSP shape with UTF-16 columns.
function M.diagnostics(bufnr)
  local out = {}
  if not vim.diagnostic then
    return out
  end
  local own = {}
  for _, c in ipairs(compat.get_clients(commands.client_name)) do
    own[c.id] = true
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local function col(lnum, c)
    return compat.lsp_col(lines[lnum + 1] or '', c or 0, 'utf-16')
  end
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp_d = d.user_data and d.user_data.lsp
    local ns = vim.diagnostic.get_namespace and vim.diagnostic.get_namespace(d.namespace)
    local client_id = ns and ns.name and tonumber(ns.name:match('vim%.lsp%.[^.]*%.?(%d+)'))
    if not (client_id and own[client_id]) then
      if type(lsp_d) == 'table' and lsp_d.range then
        table.insert(out, lsp_d)
      else
        local end_lnum = d.end_lnum or d.lnum
        table.insert(out, {
          range = {
            start = { line = d.lnum, character = col(d.lnum, d.col) },
            ['end'] = { line = end_lnum, character = col(end_lnum, d.end_col or d.col) },
          },
          severity = d.severity,
          message = d.message,
          source = d.source,
          code = d.code,
        })
      end
    end
  end
  return out
end

--- The handler of lsp-router/context/<name>: answers with what the
--- editor's other servers say, or null.
function M.handler(name)
  return function(_, params)
    local bufnr = params and params.textDocument and M.buffer(params.textDocument.uri)
    if not bufnr then
      return vim.NIL
    end
    if name == 'diagnostics' then
      return M.diagnostics(bufnr)
    end
    local result = M.ask(bufnr, M.methods[name], params)
    if empty(result) then
      return vim.NIL
    end
    return result
  end
end

--- The handlers to add to lsp-router's client.
function M.handlers()
  local out = {}
  for _, name in ipairs({ 'documentSymbol', 'hover', 'references', 'definition', 'diagnostics' }) do
    out['lsp-router/context/' .. name] = M.handler(name)
  end
  return out
end

return M
