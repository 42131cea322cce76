package serena

import (
	"context"
	"fmt"
)

// Serena's tool names.
const (
	ToolGetSymbolsOverview     = "get_symbols_overview"
	ToolFindSymbol             = "find_symbol"
	ToolFindReferencingSymbols = "find_referencing_symbols"
	ToolFindDeclaration        = "find_declaration"
	ToolGetDiagnosticsForFile  = "get_diagnostics_for_file"
	ToolReplaceSymbolBody      = "replace_symbol_body"
	ToolInsertBeforeSymbol     = "insert_before_symbol"
	ToolInsertAfterSymbol      = "insert_after_symbol"
	ToolRenameSymbol           = "rename_symbol"
)

// toolHasArg reports whether tool's input schema declares arg, so calls
// adapt to older or newer Serena versions instead of failing validation.
func (c *Client) toolHasArg(tool, arg string) bool {
	c.mu.Lock()
	t := c.tools[tool]
	c.mu.Unlock()
	if t == nil {
		return false
	}
	schema, ok := t.InputSchema.(map[string]any)
	if !ok {
		return false
	}
	props, ok := schema["properties"].(map[string]any)
	if !ok {
		return false
	}
	_, ok = props[arg]
	return ok
}

// FindSymbolArgs are find_symbol's arguments we use.
type FindSymbolArgs struct {
	NamePath     string // name_path_pattern; a leading "/" anchors at the file root
	RelativePath string
	Depth        int
	IncludeBody  bool
	// IncludeInfo asks for the hover text, when this Serena supports it.
	// Serena ignores it when IncludeBody is set and never gives it for
	// children (FindSymbolTool.apply in src/serena/tools/symbol_tools.py),
	// so it is not sent together with IncludeBody.
	IncludeInfo bool
	MaxMatches  int // 0: no limit
}

// FindSymbol calls find_symbol.
func (c *Client) FindSymbol(ctx context.Context, a FindSymbolArgs) ([]SymbolInfo, error) {
	nameArg := "name_path_pattern"
	if !c.toolHasArg(ToolFindSymbol, nameArg) && c.toolHasArg(ToolFindSymbol, "name_path") {
		nameArg = "name_path"
	}
	args := map[string]any{nameArg: a.NamePath, "relative_path": a.RelativePath, "depth": a.Depth,
		"include_body": a.IncludeBody}
	if a.IncludeInfo && !a.IncludeBody && c.toolHasArg(ToolFindSymbol, "include_info") {
		args["include_info"] = true
	}
	if a.MaxMatches > 0 {
		args["max_matches"] = a.MaxMatches
	}
	text, err := c.CallTool(ctx, ToolFindSymbol, args)
	if err != nil {
		return nil, err
	}
	return ParseSymbols(ToolFindSymbol, text)
}

// GetSymbolsOverview calls get_symbols_overview at depth 0: kind -> names
// of the file's top-level symbols.
func (c *Client) GetSymbolsOverview(ctx context.Context, relPath string) (map[string][]string, error) {
	text, err := c.CallTool(ctx, ToolGetSymbolsOverview, map[string]any{"relative_path": relPath, "depth": 0})
	if err != nil {
		return nil, err
	}
	return ParseOverview(ToolGetSymbolsOverview, text)
}

// FindReferencingSymbols calls find_referencing_symbols.
func (c *Client) FindReferencingSymbols(ctx context.Context, namePath, relPath string) ([]ReferenceInfo, error) {
	text, err := c.CallTool(ctx, ToolFindReferencingSymbols, map[string]any{"name_path": namePath, "relative_path": relPath})
	if err != nil {
		return nil, err
	}
	return ParseReferences(ToolFindReferencingSymbols, text)
}

// FindDeclaration calls find_declaration: regex must have exactly one
// group around the identifier whose declaration is wanted. As with
// find_symbol, Serena gives the info only without the body.
func (c *Client) FindDeclaration(ctx context.Context, relPath, regex string, includeBody, includeInfo bool) (*SymbolInfo, error) {
	args := map[string]any{"relative_path": relPath, "regex": regex, "include_body": includeBody}
	if includeInfo && !includeBody && c.toolHasArg(ToolFindDeclaration, "include_info") {
		args["include_info"] = true
	}
	text, err := c.CallTool(ctx, ToolFindDeclaration, args)
	if err != nil {
		return nil, err
	}
	return ParseSymbol(ToolFindDeclaration, text)
}

// GetDiagnosticsForFile calls get_diagnostics_for_file for lines
// [startLine, endLine] (0-based; endLine -1 means to the end).
func (c *Client) GetDiagnosticsForFile(ctx context.Context, relPath string, startLine, endLine int) ([]DiagnosticInfo, error) {
	text, err := c.CallTool(ctx, ToolGetDiagnosticsForFile, map[string]any{"relative_path": relPath,
		"start_line": startLine, "end_line": endLine})
	if err != nil {
		return nil, err
	}
	return ParseDiagnostics(ToolGetDiagnosticsForFile, text)
}

// ReplaceSymbolBody replaces the whole declaration of the symbol (Serena's
// "body" includes the signature) with body.
func (c *Client) ReplaceSymbolBody(ctx context.Context, namePath, relPath, body string) error {
	return c.edit(ctx, ToolReplaceSymbolBody, namePath, relPath, body)
}

// InsertBeforeSymbol inserts body before the symbol's declaration (doc
// comments, a new function).
func (c *Client) InsertBeforeSymbol(ctx context.Context, namePath, relPath, body string) error {
	return c.edit(ctx, ToolInsertBeforeSymbol, namePath, relPath, body)
}

func (c *Client) edit(ctx context.Context, tool, namePath, relPath, body string) error {
	text, err := c.CallTool(ctx, tool, map[string]any{"name_path": namePath, "relative_path": relPath, "body": body})
	if err != nil {
		return err
	}
	if err := ParseOK(tool, text); err != nil {
		return fmt.Errorf("edit %s in %s: %w", namePath, relPath, err)
	}
	return nil
}

// RenameSymbol renames the symbol across the project and returns the
// number of changes Serena applied.
func (c *Client) RenameSymbol(ctx context.Context, namePath, relPath, newName string) (int, error) {
	text, err := c.CallTool(ctx, ToolRenameSymbol, map[string]any{"name_path": namePath, "relative_path": relPath, "new_name": newName})
	if err != nil {
		return 0, err
	}
	return ParseRename(ToolRenameSymbol, text)
}
