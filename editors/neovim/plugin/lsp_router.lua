-- User commands of lsp-router. They do nothing until
-- require('lsp_router').setup({...}) is called (see :help lsp-router).
if vim.g.loaded_lsp_router then
  return
end
vim.g.loaded_lsp_router = true

if vim.fn.has('nvim-0.7') ~= 1 then
  vim.api.nvim_err_writeln('lsp-router needs Neovim 0.7 or newer')
  return
end

local function define(name, action, opts)
  opts = vim.tbl_extend('force', { desc = 'lsp-router: ' .. action }, opts or {})
  vim.api.nvim_create_user_command(name, function(cmd)
    require('lsp_router')._command(action, cmd)
  end, opts)
end

define('LspRouterExplain', 'explain', { range = true })
define('LspRouterRefactor', 'refactor', { range = true, nargs = '*' })
define('LspRouterDocument', 'document', { range = true })
define('LspRouterFix', 'fix', { range = true })
define('LspRouterTests', 'tests', { range = true })
define('LspRouterAsk', 'ask', { range = true, nargs = '*' })
define('LspRouterModels', 'models', {})
define('LspRouterCancel', 'cancel', {})

vim.api.nvim_create_user_command('LspRouterAnswer', function(cmd)
  require('lsp_router').show_last_answer(cmd.args ~= '' and cmd.args or nil)
end, {
  nargs = '?',
  desc = 'lsp-router: reopen the last answer (float, split or vsplit)',
  complete = function()
    return { 'float', 'split', 'vsplit' }
  end,
})
