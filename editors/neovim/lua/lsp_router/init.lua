-- lsp-router for Neovim: starts `lsp-router serve` as a language server next
-- to your usual one and exposes its commands (explain, refactor, document,
-- fix, tests, ask, models, cancel). See :help lsp-router.
local config = require('lsp_router.config')
local client = require('lsp_router.client')
local commands = require('lsp_router.commands')
local status = require('lsp_router.status')
local ui = require('lsp_router.ui')

local M = {}

--- The resolved options of the last setup() call (nil before setup).
M.options = nil

--- Configures the plugin and starts the server for the chosen filetypes.
--- Raises an error naming the bad option when the options are wrong.
function M.setup(opts)
  local cfg = config.resolve(opts)
  require('lsp_router.completion').setup(cfg.completion) -- validates first: a bad option starts nothing
  M.options = cfg
  commands.opts = cfg
  commands.register_lsp_commands()
  client.enable(cfg)
  return M
end

--- Runs lsp-router.<action> at the cursor. opts: { selection, instruction, on_done }.
function M.run(action, opts)
  return commands.run(action, opts)
end

--- Asks for the instruction, then runs the action (refactor, ask).
function M.prompt(action, opts)
  opts = opts or {}
  local label = action == 'ask' and 'Ask lsp-router: ' or 'Refactor how? '
  vim.ui.input({ prompt = label }, function(text)
    if text and text ~= '' then
      opts.instruction = text
      commands.run(action, opts)
    end
  end)
end

--- Cancels every running command.
function M.cancel()
  return commands.cancel_all()
end

--- A short text for the statusline, e.g.
--- "lsp-router: refactor: generating (42 tokens) · qwen2.5-coder:7b (Ollama)".
--- Empty when no lsp-router server is running.
function M.statusline()
  if commands.client_for(vim.api.nvim_get_current_buf(), true) == nil then
    return ''
  end
  return status.line()
end

--- Sends new settings (the TOML structure as a table) to the running servers.
function M.update_settings(settings)
  if M.options then
    M.options.settings = settings
  end
  client.update_settings(config.wire_settings(settings))
end

--- Reopens the last answer, in `view` ('float', 'split', 'vsplit').
function M.show_last_answer(view)
  if not ui.last.answer then
    vim.notify('lsp-router: no answer yet', vim.log.levels.INFO)
    return
  end
  ui.show(ui.last.answer, view or (M.options and M.options.answer.view) or 'float',
    M.options and M.options.answer or {})
end

-- Entry point of the user commands defined in plugin/lsp_router.lua.
function M._command(action, cmd)
  if not M.options then
    vim.notify('lsp-router: call require("lsp_router").setup({...}) first (see :help lsp-router-setup)',
      vim.log.levels.ERROR)
    return
  end
  local opts = {}
  if cmd.range and cmd.range > 0 then
    opts.selection = commands.selection_from_range(0, cmd.line1, cmd.line2)
  end
  if cmd.args and cmd.args ~= '' then
    opts.instruction = cmd.args
  end
  if commands.needs_instruction[action] and not opts.instruction then
    return M.prompt(action, opts)
  end
  return commands.run(action, opts)
end

return M
