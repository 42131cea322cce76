-- A tiny test runner for headless Neovim: register tests with T.test, run
-- them with T.run(), which prints one line per test and "N passed, N failed,
-- N skipped", appends the counts to $LSP_ROUTER_TEST_RESULTS, and exits
-- Neovim with status 1 when a test failed.
local T = { tests = {} }

local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

--- Registers a test. fn raises (error/assert) to fail, or calls T.skip(reason).
function T.test(name, fn)
  table.insert(T.tests, { name = name, fn = fn })
end

local SKIP = {}

--- Skips the running test with a reason (a prerequisite is missing).
function T.skip(reason)
  error({ [SKIP] = true, reason = reason }, 0)
end

--- Fails with "msg: expected X, got Y" unless got equals want (deep compare).
function T.eq(want, got, msg)
  if not vim.deep_equal(want, got) then
    error(string.format('%s: expected %s, got %s', msg or 'values differ', vim.inspect(want), vim.inspect(got)), 2)
  end
end

--- Fails unless `text` contains `needle` (plain).
function T.contains(text, needle, msg)
  if type(text) ~= 'string' or not text:find(needle, 1, true) then
    error(string.format('%s: %s does not contain %s', msg or 'missing text', vim.inspect(text), vim.inspect(needle)), 2)
  end
end

--- Waits up to `ms` for cond() to be true, processing events meanwhile, and
--- fails with `what` (a string, or a function giving one at failure time)
--- when it never becomes true. (Never sleep in tests.)
function T.wait_for(ms, cond, what)
  local ok = vim.wait(ms, cond, 20)
  if not ok then
    if type(what) == 'function' then
      what = what()
    end
    error('timed out after ' .. ms .. ' ms waiting for ' .. what, 2)
  end
end

--- Captures vim.notify calls while fn runs and afterwards; returns the list.
function T.capture_notify()
  local seen = {}
  vim.notify = function(msg, level)
    table.insert(seen, { msg = msg, level = level })
  end
  return seen
end

--- Runs the registered tests (optionally only the names in $LSP_ROUTER_TEST_ONLY).
function T.run(suite)
  local passed, failed, skipped = 0, 0, 0
  local only = os.getenv('LSP_ROUTER_TEST_ONLY')
  for _, t in ipairs(T.tests) do
    if only and only ~= '' and not t.name:find(only, 1, true) then
      goto continue
    end
    local ok, err = xpcall(t.fn, function(e)
      if type(e) == 'table' and e[SKIP] then
        return e
      end
      return debug.traceback(tostring(e), 2)
    end)
    if ok then
      passed = passed + 1
      out('ok   - ' .. suite .. ': ' .. t.name)
    elseif type(err) == 'table' and err[SKIP] then
      skipped = skipped + 1
      out('skip - ' .. suite .. ': ' .. t.name .. ' (' .. err.reason .. ')')
    else
      failed = failed + 1
      out('FAIL - ' .. suite .. ': ' .. t.name .. '\n    ' .. tostring(err):gsub('\n', '\n    '))
    end
    if T.after_each then
      pcall(T.after_each)
    end
    ::continue::
  end
  if T.after_all then
    pcall(T.after_all)
  end
  out(string.format('%s: %d passed, %d failed, %d skipped', suite, passed, failed, skipped))
  local results = os.getenv('LSP_ROUTER_TEST_RESULTS')
  if results and results ~= '' then
    local f = io.open(results, 'a')
    if f then
      f:write(string.format('%d %d %d\n', passed, failed, skipped))
      f:close()
    end
  end
  vim.cmd(failed > 0 and 'cquit 1' or 'qall!')
end

return T
