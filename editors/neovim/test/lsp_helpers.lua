-- Helpers for the tests that run the real lsp-router binary: a scratch
-- workspace with a Go file, the plugin set up against the binary, waiting for
-- the client, and the LLM service double (tools/fakellm).
local T = require('helpers')
local compat = require('lsp_router.compat')

local H = {}

H.tmp = os.getenv('LSP_ROUTER_TEST_TMP') or vim.fn.tempname()
H.bin = os.getenv('LSP_ROUTER_BIN')
H.fakellm = os.getenv('LSP_ROUTER_FAKELLM')
-- testdata/: the go tool ignores it, so the sample is not a package of the module.
H.fixtures = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/testdata'

-- Every service kind the server knows (config.ServiceKinds), so tests can
-- switch off all but the double and never probe a real local server.
H.service_kinds = {
  'ollama', 'lmstudio', 'jan', 'openwebui', 'localai', 'vllm', 'llamacpp',
  'koboldcpp', 'gpt4all', 'textgenwebui', 'tgi', 'sglang',
}

local counter = 0

--- Settings with every service disabled except the given ones
--- ({ ollama = { endpoint = url } }), an audit log inside the test folder,
--- and no Serena.
function H.settings(services)
  local s = {}
  for _, k in ipairs(H.service_kinds) do
    s[k] = { enabled = false }
  end
  for k, v in pairs(services or {}) do
    s[k] = v
  end
  return {
    services = s,
    serena = { enabled = false },
    security = { audit_log_path = H.tmp .. '/audit.log' },
  }
end

--- A fresh workspace holding go.mod and greet.go; returns the Go file's path.
function H.workspace()
  counter = counter + 1
  local dir = string.format('%s/ws%d', H.tmp, counter)
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile({ 'module example.com/greet', '', 'go 1.22' }, dir .. '/go.mod')
  local lines = vim.fn.readfile(H.fixtures .. '/greet.go')
  vim.fn.writefile(lines, dir .. '/greet.go')
  return dir .. '/greet.go'
end

--- Skips the test when the binary is missing.
function H.need_bin()
  if not H.bin or H.bin == '' then
    T.skip('LSP_ROUTER_BIN is not set (run through test/run.sh)')
  end
end

--- Stops every lsp-router client (shutdown + exit, as a user's :LspStop
--- does); with `wait`, waits until they are gone.
function H.stop_all(wait)
  for _, c in ipairs(compat.get_clients('lsp_router')) do
    if compat.has('0.11') then
      c:stop()
    else
      c.stop()
    end
  end
  if wait then
    T.wait_for(10000, function()
      return #compat.get_clients('lsp_router') == 0
    end, 'lsp-router clients to stop after shutdown and exit')
  end
end

--- Sets the plugin up against the binary with `settings`, opens `path` and
--- waits until the client is initialized and attached. Returns bufnr, client.
function H.open(path, settings, extra)
  H.need_bin()
  local opts = vim.tbl_extend('force', {
    binary = H.bin,
    args = { '--log-level', 'debug', '--log-file', H.tmp .. '/lsp-router.log' },
    filetypes = { 'go' },
    settings = settings or H.settings(),
  }, extra or {})
  require('lsp_router').setup(opts)
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local client
  T.wait_for(20000, function()
    client = compat.get_clients('lsp_router', buf)[1]
    return client ~= nil and client.initialized == true
  end, 'the lsp-router client to start and initialize (log: ' .. H.tmp .. '/lsp-router.log)')
  return buf, client
end

--- Starts the Ollama double answering with `reply` (plus `extra` flags, e.g.
--- { '--first-token-delay', '10m' }); returns its base URL. A nil reply
--- with { '--echo' } answers with the prompt the double received.
function H.start_fakellm(reply, extra)
  if not H.fakellm or H.fakellm == '' then
    T.skip('the LLM double tools/fakellm is not built (run through test/run.sh once tools/fakellm exists)')
  end
  counter = counter + 1
  local url, errs = nil, {}
  local cmd = { H.fakellm, '--kind', 'ollama', '--addr', '127.0.0.1:0' }
  if reply ~= nil then
    local file = string.format('%s/reply%d.txt', H.tmp, counter)
    vim.fn.writefile(vim.split(reply, '\n', { plain = true }), file)
    vim.list_extend(cmd, { '--reply-file', file })
  end
  vim.list_extend(cmd, extra or {})
  local job = vim.fn.jobstart(cmd, {
    on_stdout = function(_, data)
      if not url and data[1] and data[1]:match('^https?://') then
        url = vim.trim(data[1])
      end
    end,
    on_stderr = function(_, data)
      vim.list_extend(errs, data)
    end,
  })
  assert(job > 0, 'cannot start ' .. H.fakellm)
  H.jobs = H.jobs or {}
  table.insert(H.jobs, job)
  T.wait_for(20000, function()
    return url ~= nil
  end, 'fakellm to print its URL (stderr: ' .. table.concat(errs, ' ') .. ')')
  return url
end

--- Stops the doubles started by start_fakellm.
function H.stop_fakellms()
  for _, j in ipairs(H.jobs or {}) do
    pcall(vim.fn.jobstop, j)
  end
  H.jobs = {}
end

--- The buffer's text as one string.
function H.text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- Moves the cursor onto the first occurrence of `needle`.
function H.cursor_on(buf, needle)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = l:find(needle, 1, true)
    if col then
      vim.api.nvim_win_set_cursor(0, { i, col - 1 })
      return
    end
  end
  error('text not found in buffer: ' .. needle)
end

--- The server's log, for failure messages.
function H.log_tail()
  local ok, lines = pcall(vim.fn.readfile, H.tmp .. '/lsp-router.log')
  if not ok then
    return '(no log)'
  end
  return table.concat(vim.list_slice(lines, math.max(1, #lines - 30)), '\n')
end

return H
