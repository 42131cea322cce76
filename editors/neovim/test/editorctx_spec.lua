-- Editor-provided context, end to end: Neovim with gopls attached as a user
-- has it, the plugin set up against the real `lsp-router serve`, and the
-- Ollama double echoing the prompt it received. Explain on a method of a
-- copy of the standard library's container/list must send a prompt with the
-- method's body, the hover text of the editor's gopls and its references,
-- while lsp-router starts no language server of its own.
local T = require('helpers')
local H = require('lsp_helpers')
local compat = require('lsp_router.compat')
local ui = require('lsp_router.ui')

T.after_each = function()
  ui.close()
  H.stop_all(false)
  for _, c in ipairs(compat.get_clients('gopls')) do
    if compat.has('0.11') then
      c:stop()
    else
      c.stop()
    end
  end
  H.stop_fakellms()
  vim.cmd('silent! %bdelete!')
end

local function sh(cmd)
  local out = vim.fn.system(cmd)
  if vim.v.shell_error ~= 0 then
    return nil
  end
  return vim.trim(out)
end

--- A temp module holding a copy of $GOROOT/src/container/list/list.go.
local function list_module()
  local goroot = sh({ 'go', 'env', 'GOROOT' })
  if not goroot or vim.fn.filereadable(goroot .. '/src/container/list/list.go') == 0 then
    T.skip('go or $GOROOT/src/container/list not found')
  end
  local dir = H.tmp .. '/listmod'
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile({ 'module example.test/list', '', 'go 1.22' }, dir .. '/go.mod')
  vim.fn.writefile(vim.fn.readfile(goroot .. '/src/container/list/list.go'), dir .. '/list.go')
  return dir
end

--- Attaches gopls to Go buffers the way a user's config does (lspconfig
--- or vim.lsp.start), on every supported Neovim.
local function user_gopls(root)
  local cfg = { name = 'gopls', cmd = { 'gopls' }, root_dir = root }
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'go',
    callback = function(ev)
      if vim.lsp.start then
        vim.lsp.start(vim.deepcopy(cfg), { bufnr = ev.buf })
      else
        local id = vim.lsp.start_client(vim.deepcopy(cfg))
        vim.lsp.buf_attach_client(ev.buf, id)
      end
    end,
  })
end

T.test('context diagnostics: what the editor shows, in LSP shape with UTF-16 columns', function()
  local context = require('lsp_router.context')
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'package p', 'var s = "héllo" + x' })
  local ns = vim.api.nvim_create_namespace('editorctx_test')
  -- "x" is at byte 19 but UTF-16 column 18 (é is two bytes, one unit).
  vim.diagnostic.set(ns, buf, {
    { lnum = 1, col = 19, end_lnum = 1, end_col = 20, severity = vim.diagnostic.severity.ERROR, message = 'undefined: x', source = 'compiler' },
  })
  local got = context.diagnostics(buf)
  T.eq(1, #got, 'one diagnostic')
  T.eq({ start = { line = 1, character = 18 }, ['end'] = { line = 1, character = 19 } }, got[1].range, 'range in UTF-16')
  T.eq('undefined: x', got[1].message)
  T.eq(1, got[1].severity)
  vim.api.nvim_buf_delete(buf, { force = true })
end)

T.test('context requests about a file that is not open are answered with null', function()
  local context = require('lsp_router.context')
  local h = context.handlers()['lsp-router/context/hover']
  T.eq(vim.NIL, h(nil, { textDocument = { uri = vim.uri_from_fname(H.tmp .. '/not-open.go') }, position = { line = 0, character = 0 } }))
  T.eq(vim.NIL, h(nil, {}))
end)

T.test('Explain uses the editor gopls: body, hover and references in the prompt, no own server', function()
  if vim.fn.executable('gopls') ~= 1 then
    T.skip('gopls not on PATH')
  end
  local dir = list_module()
  -- lsp-router's own Go server is a wrapper that leaves a mark when started.
  local mark = H.tmp .. '/own-gopls-started'
  local wrapper = H.tmp .. '/own-gopls.sh'
  vim.fn.writefile({ '#!/bin/sh', 'echo started >> ' .. vim.fn.shellescape(mark), 'exec gopls "$@"' }, wrapper)
  vim.fn.setfperm(wrapper, 'rwx------')
  user_gopls(dir)
  local url = H.start_fakellm(nil, { '--echo' })
  local seen = T.capture_notify()
  local settings = H.settings({ ollama = { endpoint = url } })
  settings.language_servers = { go = { command = { wrapper } } }
  local buf = H.open(dir .. '/list.go', settings)
  -- Wait until the editor's gopls has loaded the package.
  T.wait_for(60000, function()
    local gopls = compat.get_clients('gopls', buf)[1]
    if not (gopls and gopls.initialized) then
      return false
    end
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/documentSymbol',
      { textDocument = { uri = vim.uri_from_bufnr(buf) } }, 5000)
    for _, r in pairs(res or {}) do
      if r.result and #r.result > 0 then
        return true
      end
    end
    return false
  end, 'the user gopls to attach and answer documentSymbol')
  H.cursor_on(buf, '\tif e == at {')
  vim.cmd('LspRouterExplain')
  local shown
  T.wait_for(120000, function()
    local w = ui.last.winid
    if w and vim.api.nvim_win_is_valid(w) then
      shown = H.text(vim.api.nvim_win_get_buf(w))
      return shown:find('## Task', 1, true) ~= nil
    end
    for _, n in ipairs(seen) do
      if n.level == vim.log.levels.ERROR then
        error('explain failed: ' .. n.msg .. '\nlog: ' .. H.log_tail())
      end
    end
    return false
  end, function()
    return 'the echoed prompt in the answer float (log: ' .. H.log_tail() .. ')'
  end)
  -- The method's body, found through the editor's documentSymbol.
  T.contains(shown, 'Method `List/move`', 'symbol from documentSymbol')
  T.contains(shown, 'func (l *List) move(e, at *Element) {\n\tif e == at {', 'method body')
  -- gopls's hover spells the parameters out; the source does not.
  T.contains(shown, '## Type information', 'hover section')
  T.contains(shown, 'func (l *List) move(e *Element, at *Element)', "hover text from the editor's gopls")
  T.contains(shown, '## References', 'references section')
  T.contains(shown, 'l.move(e, mark.prev)', 'a reference snippet')
  T.eq(0, vim.fn.filereadable(mark), 'lsp-router started a language server of its own')
end)

T.run('editorctx')
