-- Neovim init for the headless tests: only this plugin on the runtimepath,
-- no user configuration, no swap or shada files.
local here = debug.getinfo(1, 'S').source:sub(2)
local plugin_dir = vim.fn.fnamemodify(here, ':p:h:h')
vim.opt.runtimepath:prepend(plugin_dir)
vim.opt.runtimepath:append(plugin_dir .. '/test')
vim.opt.swapfile = false
vim.opt.shadafile = 'NONE'
vim.opt.more = false
vim.cmd('filetype on')
vim.cmd('runtime plugin/lsp_router.lua')
package.path = plugin_dir .. '/test/?.lua;' .. package.path

--- Runs a spec file; a spec that raises outside a test exits Neovim with
--- status 2 instead of leaving it waiting for input.
function _G.lsp_router_run_spec(path)
  local ok, err = xpcall(dofile, debug.traceback, path)
  if not ok then
    io.stderr:write('spec ' .. path .. ' failed to run:\n' .. tostring(err) .. '\n')
    vim.cmd('cquit 2')
  end
end
