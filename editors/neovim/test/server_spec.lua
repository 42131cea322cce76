-- Tests against the real `lsp-router serve` (no LLM needed): the plugin starts
-- and attaches it, the server sees the settings and offers its commands, a
-- failing command is reported, cancel works, :checkhealth reports the binary.
local T = require('helpers')
local H = require('lsp_helpers')
local compat = require('lsp_router.compat')
local ui = require('lsp_router.ui')

T.after_each = function()
  ui.close()
  H.stop_all(false)
  -- bdelete, not bwipeout: 0.7 resets diagnostics of the buffer numbers when
  -- the client exits, and errors on wiped-out ones.
  vim.cmd('silent! %bdelete!')
end

T.test('setup() starts lsp-router for a Go file and it advertises every command', function()
  local path = H.workspace()
  local buf, client = H.open(path, nil, { keymaps = { explain = '<F7>' } })
  assert(vim.lsp.buf_is_attached(buf, client.id), 'buffer attached')
  -- Keymaps are buffer-local to attached buffers: explain remapped, the rest default.
  T.contains(vim.fn.maparg('<F7>', 'n'), 'require("lsp_router").run("explain")')
  T.contains(vim.fn.maparg('<leader>ar', 'n'), 'require("lsp_router").prompt("refactor")')
  T.contains(vim.fn.maparg('<F7>', 'x'), 'LspRouterExplain')
  local caps = client.server_capabilities
  local cmds = caps.executeCommandProvider and caps.executeCommandProvider.commands or {}
  for _, a in ipairs({ 'explain', 'refactor', 'document', 'fix', 'tests', 'ask', 'models', 'cancel' }) do
    assert(vim.tbl_contains(cmds, 'lsp-router.' .. a), 'server does not offer lsp-router.' .. a .. ': '
      .. vim.inspect(cmds))
  end
  -- The workspace root is the folder with go.mod.
  T.eq(vim.fn.fnamemodify(path, ':h'), client.config.root_dir)
  T.eq('lsp-router', require('lsp_router').statusline():sub(1, 10))
end)

T.test('a second Go file of the same workspace shares the server', function()
  local path = H.workspace()
  local _, client = H.open(path)
  local other = vim.fn.fnamemodify(path, ':h') .. '/other.go'
  vim.fn.writefile({ 'package greet', '', 'func Other() {}' }, other)
  vim.cmd('edit ' .. other)
  local buf2 = vim.api.nvim_get_current_buf()
  T.wait_for(10000, function()
    return vim.lsp.buf_is_attached(buf2, client.id)
  end, 'the second buffer to attach to the same client')
  local same = {}
  for _, c in ipairs(compat.get_clients('lsp_router')) do
    if c.config.root_dir == client.config.root_dir then
      table.insert(same, c.id)
    end
  end
  T.eq({ client.id }, same, 'one client for the workspace')
end)

T.test('code actions at the cursor list the lsp-router commands', function()
  local buf = H.open(H.workspace())
  H.cursor_on(buf, 'Greet(')
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = {} }
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000)
  local titles = {}
  for _, r in pairs(res or {}) do
    for _, a in ipairs(r.result or {}) do
      local cmd = a.command
      if type(cmd) == 'table' then
        cmd = cmd.command
      end
      table.insert(titles, tostring(cmd))
    end
  end
  local all = table.concat(titles, ' ')
  for _, c in ipairs({ 'lsp-router.explain', 'lsp-router.refactor', 'lsp-router.document' }) do
    T.contains(all, c, 'code actions')
  end
end)

T.test('the "Refactor…" code action asks for the instruction, then runs the command', function()
  local buf, client = H.open(H.workspace())
  H.cursor_on(buf, 'Greet(')
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = {} }
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000)
  local refactor
  for _, r in pairs(res or {}) do
    for _, a in ipairs(r.result or {}) do
      local cmd = a.command
      if type(cmd) == 'table' and cmd.command == 'lsp-router.refactor' then
        refactor = cmd
      end
    end
  end
  assert(refactor, 'no refactor code action')
  local asked
  local saved_input = vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    asked = opts.prompt
    on_confirm('use a strings.Builder')
  end
  local sent
  local saved_execute = require('lsp_router.commands').execute
  require('lsp_router.commands').execute = function(_, action, args)
    sent = { action = action, args = args }
    return 1
  end
  local ok, err = pcall(vim.lsp.commands['lsp-router.refactor'], refactor, { bufnr = buf, client_id = client.id })
  vim.ui.input = saved_input
  require('lsp_router.commands').execute = saved_execute
  assert(ok, err)
  T.eq('Refactor how? ', asked)
  T.eq('refactor', sent.action)
  T.eq('use a strings.Builder', sent.args.instruction)
  T.eq(vim.uri_from_bufnr(buf), sent.args.uri, 'the code action\'s own arguments are kept')
end)

T.test('settings reach the server: a bad key in initializationOptions is reported', function()
  local messages = {}
  local saved = vim.lsp.handlers['window/showMessage']
  vim.lsp.handlers['window/showMessage'] = function(_, result)
    table.insert(messages, result.message)
  end
  local ok, err = pcall(function()
    H.open(H.workspace(), { no_such_section = { x = 1 } })
    T.wait_for(10000, function()
      return #messages > 0
    end, 'a window/showMessage about the bad settings')
  end)
  vim.lsp.handlers['window/showMessage'] = saved
  assert(ok, err)
  T.contains(table.concat(messages, '\n'), 'no_such_section')
end)

T.test('update_settings() sends workspace/didChangeConfiguration to the running server', function()
  local messages = {}
  local saved = vim.lsp.handlers['window/showMessage']
  vim.lsp.handlers['window/showMessage'] = function(_, result)
    table.insert(messages, result.message)
  end
  local ok, err = pcall(function()
    H.open(H.workspace())
    require('lsp_router').update_settings({ services = { not_a_service = { endpoint = 'http://127.0.0.1:1' } } })
    T.wait_for(10000, function()
      return #messages > 0
    end, 'a window/showMessage about the bad settings')
  end)
  vim.lsp.handlers['window/showMessage'] = saved
  assert(ok, err)
  T.contains(table.concat(messages, '\n'), 'not_a_service')
end)

T.test('a command that fails tells the user why, and the status returns to idle', function()
  local seen = T.capture_notify()
  local buf = H.open(H.workspace())
  H.cursor_on(buf, 'Greet(')
  local done = false
  local id = require('lsp_router').run('explain', { on_done = function() done = true end })
  assert(id, 'request sent')
  -- Every service is disabled: no model can answer.
  T.wait_for(60000, function()
    return done
  end, 'the explain request to finish')
  local msgs = {}
  for _, n in ipairs(seen) do
    table.insert(msgs, n.msg)
  end
  T.contains(table.concat(msgs, '\n'), 'lsp-router: explain failed: ')
  T.wait_for(5000, function()
    return require('lsp_router.status').state == 'idle'
  end, 'status idle')
end)

T.test(':LspRouterCancel with nothing running reports and leaves the server up', function()
  local seen = T.capture_notify()
  local buf = H.open(H.workspace())
  vim.cmd('LspRouterCancel')
  T.wait_for(10000, function()
    for _, n in ipairs(seen) do
      if n.msg:find('cancel', 1, true) then
        return true
      end
    end
    return false
  end, 'a cancel notification')
  local client = compat.get_clients('lsp_router', buf)[1]
  assert(client and not compat.is_stopped(client), 'server still running')
end)

T.test(':checkhealth lsp_router reports the binary, its version and the client', function()
  H.open(H.workspace())
  vim.cmd('checkhealth lsp_router')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  if text:find('Failed to run healthcheck', 1, true) or text:find('No healthcheck found', 1, true) then
    error('health check crashed:\n' .. text)
  end
  T.contains(text, 'binary: ' .. H.bin)
  T.contains(text, 'version: lsp-router')
  T.contains(text, 'buffer(s) attached')
  -- Only the configured filetypes (here go) have their language server checked.
  T.contains(text, 'language server go')
  for _, other in ipairs({ 'python', 'typescript', 'c:', 'cpp', 'rust' }) do
    assert(not text:find('language server ' .. other, 1, true), 'checked a language server for ' .. other .. ':\n' .. text)
  end
  vim.cmd('bwipeout!')
end)

T.test('stopping the client (shutdown, exit) ends the server process', function()
  local _, client = H.open(H.workspace())
  local pid = client.rpc and client.rpc.pid
  H.stop_all(true)
  if pid then
    T.wait_for(10000, function()
      return vim.fn.system({ 'sh', '-c', 'kill -0 ' .. pid .. ' 2>/dev/null && echo alive || echo gone' }):find('gone') ~= nil
    end, 'the lsp-router process ' .. pid .. ' to exit')
  end
end)

T.run('server')
