-- Tests that need no server: options, command arguments (UTF-16 ranges,
-- versions, diagnostics), the statusline and the answer window.
local T = require('helpers')
local config = require('lsp_router.config')
local commands = require('lsp_router.commands')
local status = require('lsp_router.status')
local ui = require('lsp_router.ui')
local client = require('lsp_router.client')

local function scratch_go(lines)
  vim.cmd('enew')
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.api.nvim_buf_set_name(buf, vim.fn.tempname() .. '.go')
  return buf
end

T.after_each = function()
  ui.close()
  status.reset()
  vim.diagnostic.reset()
  vim.cmd('silent! %bwipeout!')
end

T.test('setup rejects unknown options and names the valid ones', function()
  local ok, err = pcall(config.resolve, { filetype = { 'go' } })
  T.eq(false, ok, 'resolve succeeded')
  T.contains(err, 'unknown option "filetype"')
  T.contains(err, 'filetypes')
end)

T.test('setup rejects bad values with what to write instead', function()
  local cases = {
    { { filetypes = 'go' }, 'filetypes must be a non-empty list' },
    { { cmd = {} }, 'cmd must be a non-empty list of strings' },
    { { answer = { view = 'popup' } }, 'answer.view must be "float", "split" or "vsplit"' },
    { { keymaps = { explian = '<leader>e' } }, 'unknown action "explian"' },
    { { settings = 'ollama' }, 'settings must be a table' },
  }
  for _, c in ipairs(cases) do
    local ok, err = pcall(config.resolve, c[1])
    T.eq(false, ok, vim.inspect(c[1]) .. ' accepted')
    T.contains(err, c[2])
  end
end)

T.test('the command line is binary, args, serve; lists replace the defaults', function()
  local cfg = config.resolve({ binary = '/opt/lsp-router', args = { '--log-level', 'debug' }, filetypes = { 'go' } })
  T.eq({ '/opt/lsp-router', '--log-level', 'debug', 'serve' }, config.command(cfg))
  T.eq({ 'go' }, cfg.filetypes)
  T.eq({ 'x', 'serve' }, config.command(config.resolve({ cmd = { 'x', 'serve' } })))
end)

T.test('settings become initializationOptions and settings["lsp-router"]', function()
  local settings = { services = { ollama = { endpoint = 'http://127.0.0.1:11434' } } }
  local c = client.client_config(config.resolve({ settings = settings }))
  T.eq(settings, c.init_options)
  T.eq(settings, c.settings['lsp-router'])
  T.eq(settings, vim.json.decode(vim.json.encode(c.init_options)))
  -- Empty settings must go out as a JSON object, not an array.
  T.eq('{}', vim.json.encode(client.client_config(config.resolve({})).init_options))
end)

T.test('default keymaps are optional and can be overridden', function()
  T.eq({}, config.keymaps(config.resolve({})))
  local maps = config.keymaps(config.resolve({ keymaps = { explain = '<F5>', cancel = false } }))
  T.eq('<F5>', maps.explain)
  T.eq(nil, maps.cancel)
  T.eq('<leader>ar', maps.refactor)
end)

T.test('arguments at the cursor: uri, empty range in UTF-16, version', function()
  local buf = scratch_go({ 'package p', '', 'var s = "héllo😀" + x' })
  -- Cursor on the "x" after a 2-byte é and a 4-byte emoji (2 UTF-16 units).
  local line = vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1]
  local byte_col = line:find('x', 1, true) - 1
  vim.api.nvim_win_set_cursor(0, { 3, byte_col })
  local args = commands.make_args(buf, 'explain', {}, 'utf-16')
  T.eq(vim.uri_from_bufnr(buf), args.uri)
  T.eq({ start = { line = 2, character = 20 }, ['end'] = { line = 2, character = 20 } }, args.range)
  T.eq('number', type(args.version))
  T.eq(nil, args.instruction)
  T.eq(nil, args.diagnostics)
  -- The same position in UTF-32 and UTF-8.
  T.eq(19, commands.make_args(buf, 'explain', {}, 'utf-32').range.start.character)
  T.eq(byte_col, commands.make_args(buf, 'explain', {}, 'utf-8').range.start.character)
end)

T.test('arguments for a selection, with the instruction', function()
  local buf = scratch_go({ 'package p', 'func F() {}', 'func G() {}' })
  local args = commands.make_args(buf, 'refactor', {
    selection = { start = { 1, 0 }, ['end'] = { 2, 11 } },
    instruction = 'use a strings.Builder',
  }, 'utf-16')
  T.eq({ start = { line = 1, character = 0 }, ['end'] = { line = 2, character = 11 } }, args.range)
  T.eq('use a strings.Builder', args.instruction)
end)

T.test("a :'<,'> range without a charwise selection covers whole lines", function()
  local buf = scratch_go({ 'package p', 'func F() {}', 'func Gé() {}' })
  local sel = commands.selection_from_range(buf, 2, 3)
  T.eq({ start = { 1, 0 }, ['end'] = { 2, #'func Gé() {}' } }, sel)
  local args = commands.make_args(buf, 'explain', { selection = sel }, 'utf-16')
  T.eq(12, args.range['end'].character)
end)

T.test('charwise visual selection keeps its columns, end exclusive', function()
  local buf = scratch_go({ 'package p', 'var é = 1' })
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.cmd('normal! vl')
  vim.cmd('normal! \27') -- leave visual mode so '< and '> are set
  local sel = commands.selection_from_range(buf, 2, 2)
  -- "é" is 2 bytes at byte 4; the selection "é " ends after the space.
  T.eq({ start = { 1, 4 }, ['end'] = { 1, 7 } }, sel)
end)

T.test('diagnostics on the lines of the range go along as LSP diagnostics', function()
  local buf = scratch_go({ 'package p', 'func F() { x := 1 }', 'func G() {}' })
  local ns = vim.api.nvim_create_namespace('lsp_router_test')
  vim.diagnostic.set(ns, buf, {
    { lnum = 1, col = 11, end_lnum = 1, end_col = 12, severity = vim.diagnostic.severity.ERROR,
      message = 'declared and not used: x', source = 'compiler', code = 'UnusedVar' },
    { lnum = 2, col = 0, severity = vim.diagnostic.severity.HINT, message = 'elsewhere' },
  })
  vim.api.nvim_win_set_cursor(0, { 2, 12 })
  local args = commands.make_args(buf, 'fix', {}, 'utf-16')
  T.eq(1, #args.diagnostics, 'only the diagnostic on the cursor line')
  local d = args.diagnostics[1]
  T.eq({ start = { line = 1, character = 11 }, ['end'] = { line = 1, character = 12 } }, d.range)
  T.eq(1, d.severity)
  T.eq('declared and not used: x', d.message)
  T.eq('compiler', d.source)
  T.eq('UnusedVar', d.code)
end)

T.test('refactor and ask without an instruction say how to give one', function()
  local seen = T.capture_notify()
  scratch_go({ 'package p' })
  local id, err = commands.run('refactor', {})
  T.eq(nil, id)
  T.contains(err, ':LspRouterRefactor use a strings.Builder')
  T.contains(seen[1].msg, 'needs an instruction')
end)

T.test('a command in a buffer without the server says what to do', function()
  local seen = T.capture_notify()
  scratch_go({ 'package p' })
  local id, err = commands.run('explain', {})
  T.eq(nil, id)
  T.contains(err, 'not attached to this buffer')
  T.contains(err, ':checkhealth lsp_router')
  T.eq(vim.log.levels.ERROR, seen[1].level)
end)

T.test('user commands before setup() ask for setup()', function()
  local seen = T.capture_notify()
  require('lsp_router').options = nil
  vim.cmd('LspRouterExplain')
  T.contains(seen[1].msg, 'setup(')
end)

T.test('statusline shows state, model and the newest progress report', function()
  T.eq('lsp-router', status.line())
  status.on_status({ model = 'qwen2.5-coder:7b', service = 'Ollama', state = 'idle' })
  T.eq('lsp-router: qwen2.5-coder:7b (Ollama)', status.line())
  status.on_status({ state = 'waiting' })
  T.eq('lsp-router: waiting · qwen2.5-coder:7b (Ollama)', status.line())
  status.on_progress({ token = 't1', value = { kind = 'begin', title = 'lsp-router: refactor', message = 'gathering context' } })
  T.eq('lsp-router: refactor: gathering context · qwen2.5-coder:7b (Ollama)', status.line())
  status.on_progress({ token = 't1', value = { kind = 'report', message = 'generating (42 tokens)' } })
  T.eq('lsp-router: refactor: generating (42 tokens) · qwen2.5-coder:7b (Ollama)', status.line())
  status.on_progress({ token = 't1', value = { kind = 'end' } })
  status.on_status({ state = 'idle' })
  T.eq('lsp-router: qwen2.5-coder:7b (Ollama)', status.line())
  -- Bad notifications are ignored, not errors.
  status.on_progress({ token = 'x' })
  status.on_status('junk')
end)

T.test('$/progress is passed on to the global handler (fidget.nvim, LspProgress)', function()
  local got
  local saved = vim.lsp.handlers['$/progress']
  vim.lsp.handlers['$/progress'] = function(_, result)
    got = result
  end
  local params = { token = 'tok', value = { kind = 'begin', title = 'lsp-router: explain' } }
  local ok, err = pcall(client.handlers()['$/progress'], nil, params, { client_id = 1, method = '$/progress' }, {})
  vim.lsp.handlers['$/progress'] = saved
  assert(ok, err)
  T.eq(params, got, 'global handler got the notification')
  T.eq('lsp-router: explain', status.current_progress().title)
end)

T.test('lsp-router/answer opens a Markdown float; a second answer reuses it', function()
  commands.opts = config.resolve({})
  client.handlers()['lsp-router/answer'](nil, {
    title = 'Explain Greet', markdown = '`Greet` returns a greeting.\n\n```go\nGreet("a")\n```',
    model = 'qwen2.5-coder:7b', service = 'Ollama', uri = 'file:///x.go',
  }, { method = 'lsp-router/answer' })
  T.wait_for(5000, function()
    return ui.last.winid ~= nil
  end, 'the answer window')
  local w = ui.last.winid
  T.eq('editor', vim.api.nvim_win_get_config(w).relative, 'floating window')
  local buf = vim.api.nvim_win_get_buf(w)
  T.eq('markdown', vim.bo[buf].filetype)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  T.eq('# Explain Greet', lines[1])
  T.eq('_qwen2.5-coder:7b · Ollama_', lines[2])
  T.eq('`Greet` returns a greeting.', lines[4])
  T.eq(false, vim.bo[buf].modifiable)
  commands.show_answer({ title = 'Second', markdown = 'two' })
  T.eq(w, ui.last.winid, 'same window')
  T.eq({ '# Second', '', 'two' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
end)

T.test('q in the code buffer closes the answer float; the buffer\'s own q comes back', function()
  commands.opts = config.resolve({})
  local code = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_set_current_buf(code)
  vim.g.lsp_router_test_q = nil
  vim.api.nvim_buf_set_keymap(code, 'n', 'q', '<cmd>let g:lsp_router_test_q = 1<CR>', { noremap = true })
  commands.show_answer({ title = 'T', markdown = 'text' })
  local w = ui.last.winid
  T.eq(code, vim.api.nvim_get_current_buf(), 'the focus stays in the code')
  vim.api.nvim_feedkeys('q', 'x', false)
  T.eq(false, vim.api.nvim_win_is_valid(w), 'q closed the float')
  T.eq(nil, vim.g.lsp_router_test_q, 'the buffer mapping did not run while the float was open')
  vim.api.nvim_feedkeys('q', 'x', false)
  T.eq(1, vim.g.lsp_router_test_q, 'the buffer q mapping is back')
  -- Closed by other means (<C-w>o, :close), q is given back as well.
  vim.g.lsp_router_test_q = nil
  commands.show_answer({ title = 'T', markdown = 'again' })
  vim.api.nvim_win_close(ui.last.winid, true)
  vim.api.nvim_feedkeys('q', 'x', false)
  T.eq(1, vim.g.lsp_router_test_q, 'q after the float was closed with :close')
  vim.api.nvim_buf_delete(code, { force = true })
end)

T.test('answers can go to a split on request', function()
  commands.opts = config.resolve({ answer = { view = 'split' } })
  local wins = #vim.api.nvim_list_wins()
  commands.show_answer({ title = 'T', markdown = 'in a split' })
  T.eq(wins + 1, #vim.api.nvim_list_wins())
  T.eq('', vim.api.nvim_win_get_config(ui.last.winid).relative, 'a normal window')
  T.contains(table.concat(vim.api.nvim_buf_get_lines(ui.last.bufnr, 0, -1, false), '\n'), 'in a split')
end)

T.test('models list renders as a Markdown table', function()
  local md = ui.models_markdown({
    { id = 'qwen2.5-coder:7b', service = 'Ollama', family = 'qwen2', params_b = 7.6, quantization = 'Q4_K_M',
      context_length = 32768, loaded = true },
  })
  T.contains(md, '| qwen2.5-coder:7b | Ollama | qwen2 | 7.6 | Q4_K_M | 32768 | yes |')
  T.contains(ui.models_markdown({ models = {} }), 'No models available')
end)

T.test(':checkhealth lsp_router runs and reports a missing binary as an error with the fix', function()
  require('lsp_router').options = config.resolve({ binary = '/nonexistent/lsp-router' })
  vim.cmd('checkhealth lsp_router')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  if text:find('Failed to run healthcheck', 1, true) or text:find('No healthcheck found', 1, true) then
    error('health check crashed:\n' .. text)
  end
  T.contains(text, '"/nonexistent/lsp-router" not found')
  T.contains(text, 'go build -o')
  require('lsp_router').options = nil
end)

T.test('the help file has valid tags for every command and section', function()
  local doc = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h') .. '/doc/lsp-router.txt'
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile(vim.fn.readfile(doc), dir .. '/lsp-router.txt')
  vim.v.errmsg = ''
  vim.cmd('helptags ' .. vim.fn.fnameescape(dir))
  T.eq('', vim.v.errmsg, 'helptags error')
  local tags = table.concat(vim.fn.readfile(dir .. '/tags'), '\n')
  -- `:help lsp-router` must land on the top of the file, not mid-file.
  local first_tag_line = nil
  for i, l in ipairs(vim.fn.readfile(doc)) do
    if l:find('*lsp-router*', 1, true) then
      first_tag_line = i
      break
    end
  end
  assert(first_tag_line and first_tag_line <= 3, 'no *lsp-router* tag in the first lines of the help file')
  for _, tag in ipairs({ 'lsp-router', 'lsp-router-setup', 'lsp-router-health', 'lsp_router.statusline()', ':LspRouterExplain',
    ':LspRouterRefactor', ':LspRouterDocument', ':LspRouterFix', ':LspRouterTests', ':LspRouterAsk',
    ':LspRouterModels', ':LspRouterCancel' }) do
    T.contains(tags, tag .. '\t', 'tags')
  end
end)

T.run('unit')
