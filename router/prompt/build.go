package prompt

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/lsp-router/lsp-router/router/codectx"
)

// section is one cuttable part of the prompt. units are the pieces it is
// cut by (lines, references, diagnostics); render(k) is the section's text
// keeping k units (with a marker when k < len(units)); k == 0 drops it.
type section struct {
	name   string
	n      int
	render func(k int) string
	set    func(d *TemplateData, s string)
	// unit names what is counted in Dropped ("lines", "references").
	unit string
	// essential sections must keep at least one unit.
	essential bool
}

// omitted is the marker put where content was cut. It is on its own line
// and clearly not code, so a model does not copy it into an answer.
func omitted(n int, what string) string {
	return fmt.Sprintf("[... %d %s omitted to fit the model's context ...]", n, what)
}

// Build renders the prompt for in within budget.
func (b *Builder) Build(in Input, budget Budget) (Prompt, error) {
	t, ok := b.tmpl[in.Action]
	if !ok {
		return Prompt{}, fmt.Errorf("build prompt: unknown action %q (actions: explain, refactor, document, fix, tests, ask)", in.Action)
	}
	if err := validate(in); err != nil {
		return Prompt{}, fmt.Errorf("build prompt for %s: %w", in.Action, err)
	}
	limit, err := promptLimit(budget)
	if err != nil {
		return Prompt{}, err
	}
	f := filler{t: t, action: in.Action, count: cachedCounter(budget.Count), limit: limit}

	li := languageInfo(in.Language, in.Path)
	data := TemplateData{
		Action: string(in.Action), Instruction: strings.TrimSpace(in.Instruction), Language: in.Language,
		LanguageName: li.name, Path: in.Path, Fence: li.fence, DocStyle: li.doc, TestStyle: li.tests,
	}
	if in.Language == "" && in.Path == "" {
		data.LanguageName = ""
	}
	secs := sections(in, &data)
	data.Ticks = fenceFor(in)

	// Fill sections greedily in priority order: each takes all it can of
	// what the ones before it left.
	var dropped []string
	// final is the render of data as it stands, when the last section's
	// fitting already made it.
	var final *fitRender
	for _, s := range secs {
		if s.n == 0 {
			continue
		}
		s.render = memoLast(s.render)
		k, fit, err := f.fit(s, data)
		if err != nil {
			return Prompt{}, err
		}
		if k < s.n {
			if s.essential && k < 1 {
				_, n, _ := f.render(data)
				return Prompt{}, fmt.Errorf("build prompt for %s: %w: the %s does not fit: %d tokens are left beside the answer and the prompt needs %d; lower generation.max_answer_tokens or use a larger model",
					in.Action, ErrBudget, s.name, limit, n)
			}
			dropped = append(dropped, cutNote(s, k))
		}
		s.set(&data, s.render(k))
		final = fit.at(k)
	}
	msgs, n, err := final.reuse(func() ([]Message, int, error) { return f.render(data) })
	if err != nil {
		return Prompt{}, err
	}
	if n > limit {
		return Prompt{}, fmt.Errorf("build prompt for %s: %w: the instructions alone take %d tokens and only %d are left beside the answer; shorten the request, lower generation.max_answer_tokens or use a larger model",
			in.Action, ErrBudget, n, limit)
	}
	return Prompt{Messages: msgs, Tokens: n, Dropped: dropped}, nil
}

// promptLimit is the room for the prompt: the window minus the answer
// reserve.
func promptLimit(budget Budget) (int, error) {
	if budget.ContextLength <= 0 {
		return 0, fmt.Errorf("build prompt: the model's context length is unknown (%d); set context_length for the model in the config", budget.ContextLength)
	}
	if budget.AnswerReserve < 0 {
		return 0, fmt.Errorf("build prompt: negative answer reserve %d", budget.AnswerReserve)
	}
	limit := budget.ContextLength - budget.AnswerReserve
	if limit <= 0 {
		return 0, fmt.Errorf("build prompt: %w: the answer reserve (%d tokens) takes the whole context (%d tokens); lower generation.max_answer_tokens", ErrBudget, budget.AnswerReserve, budget.ContextLength)
	}
	return limit, nil
}

// filler renders one action's template and measures it against the limit.
type filler struct {
	t      *template.Template
	action Action
	count  func(string) int
	limit  int
}

// render returns the messages for d and their size.
func (f filler) render(d TemplateData) ([]Message, int, error) {
	var sys bytes.Buffer
	usr := grownBuffer(d)
	if err := f.t.ExecuteTemplate(&sys, "system", d); err != nil {
		return nil, 0, fmt.Errorf("render %s prompt: %w", f.action, err)
	}
	if err := f.t.ExecuteTemplate(usr, "user", d); err != nil {
		return nil, 0, fmt.Errorf("render %s prompt: %w", f.action, err)
	}
	msgs := []Message{{Role: "system", Content: strings.TrimSpace(sys.String())}, {Role: "user", Content: strings.TrimSpace(usr.String())}}
	return msgs, CountMessages(msgs, f.count), nil
}

// fit returns how many of section s's units fit beside data: all of them,
// or the largest number found by binary search; and the last render that
// fit, so the final prompt need not be rendered again.
func (f filler) fit(s section, data TemplateData) (int, *fitRender, error) {
	var last *fitRender
	try := func(k int) (bool, error) {
		d := data
		s.set(&d, s.render(k))
		msgs, n, err := f.render(d)
		if err == nil && n <= f.limit {
			last = &fitRender{msgs: msgs, n: n, k: k}
		}
		return n <= f.limit, err
	}
	fits, err := try(s.n)
	if err != nil || fits {
		return s.n, last, err
	}
	lo, hi := 0, s.n-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		ok, err := try(mid)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, last, nil
}

// cutNote tells what fitting cut of s when k units are kept.
func cutNote(s section, k int) string {
	if k == 0 {
		return fmt.Sprintf("%s: dropped (%d %s)", s.name, s.n, s.unit)
	}
	return fmt.Sprintf("%s: %d of %d %s cut", s.name, s.n-k, s.n, s.unit)
}

// fitRender is a rendered prompt that fit the budget, with the size k its
// section had.
type fitRender struct {
	msgs []Message
	n, k int
}

// at returns f when it was rendered with the section at size k, else nil.
func (f *fitRender) at(k int) *fitRender {
	if f == nil || f.k != k {
		return nil
	}
	return f
}

// reuse returns f's render, or renders when f is nil.
func (f *fitRender) reuse(render func() ([]Message, int, error)) ([]Message, int, error) {
	if f == nil {
		return render()
	}
	return f.msgs, f.n, nil
}

// FollowUp renders the user message for a follow-up request in a running
// conversation (see package session): the action's task and output format
// with the new instruction, without the code context the conversation
// already holds. in.Context.Symbol, when set, names the symbol.
func (b *Builder) FollowUp(in Input) (Message, error) {
	t, ok := b.tmpl[in.Action]
	if !ok {
		return Message{}, fmt.Errorf("build follow-up: unknown action %q (actions: explain, refactor, document, fix, tests, ask)", in.Action)
	}
	if strings.TrimSpace(in.Instruction) == "" {
		return Message{}, fmt.Errorf("build follow-up for %s: a follow-up needs the user's text", in.Action)
	}
	if (in.Action == Document || in.Action == Tests) && in.Context.Symbol == nil {
		return Message{}, fmt.Errorf("build follow-up for %s: needs the conversation's symbol", in.Action)
	}
	li := languageInfo(in.Language, in.Path)
	data := TemplateData{
		Action: string(in.Action), Instruction: strings.TrimSpace(in.Instruction), Language: in.Language,
		LanguageName: li.name, Path: in.Path, Fence: li.fence, DocStyle: li.doc, TestStyle: li.tests,
		Ticks: fenceFor(in), FollowUp: true,
	}
	if s := in.Context.Symbol; s != nil {
		name := s.Name
		if name == "" {
			name = s.NamePath
		}
		data.Symbol = &SymbolData{Name: name, NamePath: s.NamePath, Kind: s.Kind, Line: s.Range.Start.Line + 1}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "user", data); err != nil {
		return Message{}, fmt.Errorf("render %s follow-up: %w", in.Action, err)
	}
	return Message{Role: "user", Content: strings.TrimSpace(buf.String())}, nil
}

// validate checks that the input has what its action needs.
func validate(in Input) error {
	sym := in.Context.Symbol
	hasCode := sym != nil || in.Context.Surrounding != "" || in.FileText != ""
	switch in.Action {
	case Refactor:
		if strings.TrimSpace(in.Instruction) == "" {
			return fmt.Errorf("refactor needs an instruction saying what to change")
		}
		if !hasCode {
			return fmt.Errorf("refactor needs code: no symbol, selection or file text was found")
		}
	case Ask:
		if strings.TrimSpace(in.Instruction) == "" {
			return fmt.Errorf("ask needs a question")
		}
	case Document, Tests:
		if sym == nil {
			return fmt.Errorf("%s needs a symbol at the cursor; put the cursor on a function, method or type", in.Action)
		}
	case Fix:
		if len(in.Context.Diagnostics) == 0 && strings.TrimSpace(in.Instruction) == "" {
			return fmt.Errorf("fix needs diagnostics at the cursor or an instruction describing the bug")
		}
		if !hasCode {
			return fmt.Errorf("fix needs code: no symbol, selection or file text was found")
		}
	case Explain:
		if !hasCode {
			return fmt.Errorf("explain needs code: no symbol, selection or file text was found")
		}
	}
	return nil
}

// cachedCounter memoises count: Build counts the same system message and
// sections many times, and Count may be a call to the server's tokenizer.
func cachedCounter(count func(string) int) func(string) int {
	if count == nil {
		count = func(s string) int { return EstimateTokens("", s) }
	}
	cache := map[string]int{}
	return func(s string) int {
		if n, ok := cache[s]; ok {
			return n
		}
		n := count(s)
		cache[s] = n
		return n
	}
}

// fenceFor returns a backtick fence longer than any backtick run in the
// code shown, so that code holding ``` (Markdown in a string, say) cannot
// close the block early.
func fenceFor(in Input) string {
	longest := 0
	check := func(s string) { longest = max(longest, longestRun(s, '`')) }
	if in.Context.Symbol != nil {
		check(in.Context.Symbol.Body)
	}
	check(in.Context.Surrounding)
	check(in.FileText)
	return strings.Repeat("`", max(3, longest+1))
}

// longestRun is the length of the longest run of c in s. It jumps from one
// c to the next with IndexByte: a large file has few backticks.
func longestRun(s string, c byte) int {
	longest := 0
	for {
		i := strings.IndexByte(s, c)
		if i < 0 {
			return longest
		}
		j := i + 1
		for j < len(s) && s[j] == c {
			j++
		}
		longest = max(longest, j-i)
		s = s[j:]
	}
}

// memoLast remembers render's last result: Build renders a section at the
// size it tried, then again at the size it keeps, which is usually the same.
func memoLast(render func(int) string) func(int) string {
	lastK, last, ok := 0, "", false
	return func(k int) string {
		if !ok || k != lastK {
			lastK, last, ok = k, render(k), true
		}
		return last
	}
}

// grownBuffer returns a buffer with room for d's code sections, so the
// template does not copy a large file's text over and over as it grows; a
// strings.Builder hands its text over without another copy.
func grownBuffer(d TemplateData) *strings.Builder {
	n := len(d.Instruction) + len(d.Diagnostics) + len(d.Hover) + len(d.References) + len(d.Surrounding) + 4096
	if d.Symbol != nil {
		n += len(d.Symbol.Body)
	}
	var b strings.Builder
	b.Grow(n)
	return &b
}

// sections builds the cuttable sections in priority order. The instruction
// is not cut: it is rendered as is, and Build fails when it does not fit.
func sections(in Input, data *TemplateData) []section {
	var secs []section
	sym := in.Context.Symbol
	if sym != nil {
		name := sym.Name
		if name == "" {
			name = sym.NamePath
		}
		np := sym.NamePath
		if np == "" {
			np = name
		}
		kind := sym.Kind
		if kind == "" {
			kind = "Symbol"
		}
		data.Symbol = &SymbolData{Name: name, NamePath: np, Kind: kind, Line: sym.Range.Start.Line + 1}
		lines := splitLines(sym.Body)
		secs = append(secs, section{
			name: "symbol body", n: len(lines), unit: "lines", essential: true,
			render: func(k int) string { return headLines(lines, k) },
			set:    func(d *TemplateData, s string) { sd := *d.Symbol; sd.Body = s; d.Symbol = &sd },
		})
	}
	diags := sortedDiagnostics(in.Context.Diagnostics, sym)
	secs = append(secs, section{
		name: "diagnostics", n: len(diags), unit: "diagnostics",
		render: func(k int) string { return listItems(diags, k, "diagnostics") },
		set:    func(d *TemplateData, s string) { d.Diagnostics = s },
	})
	hover := splitLines(strings.TrimSpace(in.Context.Hover))
	if strings.TrimSpace(in.Context.Hover) == "" {
		hover = nil
	}
	secs = append(secs, section{
		name: "hover", n: len(hover), unit: "lines",
		render: func(k int) string { return headLines(hover, k) },
		set:    func(d *TemplateData, s string) { d.Hover = s },
	})
	refs := formatReferences(in.Context.References)
	secs = append(secs, section{
		name: "references", n: len(refs), unit: "references",
		render: func(k int) string { return listItems(refs, k, "references") },
		set:    func(d *TemplateData, s string) { d.References = s },
	})
	surrN, surrRender := surroundingSection(in)
	secs = append(secs, section{
		name: "surrounding code", n: surrN, unit: "lines",
		// Without a symbol the surrounding code is all the code there
		// is, so it must keep at least some lines.
		essential: sym == nil && in.Action != Ask,
		render:    surrRender,
		set:       func(d *TemplateData, s string) { d.Surrounding = s },
	})
	return secs
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// headLines keeps the first k lines and marks the rest as omitted.
func headLines(lines []string, k int) string {
	if k <= 0 {
		return ""
	}
	if k >= len(lines) {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:k], "\n") + "\n" + omitted(len(lines)-k, "lines")
}

// listItems keeps the first k items and says how many were left out.
func listItems(items []string, k int, what string) string {
	if k <= 0 {
		return ""
	}
	if k >= len(items) {
		return strings.Join(items, "\n")
	}
	return strings.Join(items[:k], "\n") + "\n" + omitted(len(items)-k, what)
}

// windowLines keeps k lines centred on focus, marking what was cut above
// and below.
func windowLines(lines []string, focus, k int) string {
	if k <= 0 {
		return ""
	}
	if k >= len(lines) {
		return strings.Join(lines, "\n")
	}
	from := focus - k/2
	from = max(0, min(from, len(lines)-k))
	to := from + k
	var sb strings.Builder
	if from > 0 {
		sb.WriteString(omitted(from, "lines") + "\n")
	}
	sb.WriteString(strings.Join(lines[from:to], "\n"))
	if to < len(lines) {
		sb.WriteString("\n" + omitted(len(lines)-to, "lines"))
	}
	return sb.String()
}

// sortedDiagnostics formats diagnostics, errors first and those inside the
// symbol before others, so cutting drops the least relevant.
func sortedDiagnostics(ds []codectx.Diagnostic, sym *codectx.Symbol) []string {
	ds = append([]codectx.Diagnostic(nil), ds...)
	inside := func(d codectx.Diagnostic) bool {
		return sym != nil && d.Range.Start.Line >= sym.Range.Start.Line && d.Range.Start.Line <= sym.Range.End.Line
	}
	sev := func(d codectx.Diagnostic) int {
		if d.Severity == 0 {
			return 5
		}
		return int(d.Severity)
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if a, b := inside(ds[i]), inside(ds[j]); a != b {
			return a
		}
		return sev(ds[i]) < sev(ds[j])
	})
	names := map[codectx.Severity]string{codectx.SeverityError: "error", codectx.SeverityWarning: "warning", codectx.SeverityInfo: "info", codectx.SeverityHint: "hint"}
	out := make([]string, len(ds))
	for i, d := range ds {
		s := names[d.Severity]
		if s == "" {
			s = "problem"
		}
		src := ""
		if d.Source != "" {
			src = " (" + d.Source
			if d.Code != "" {
				src += " " + d.Code
			}
			src += ")"
		}
		msg := strings.ReplaceAll(strings.TrimSpace(d.Message), "\n", "\n  ")
		out[i] = fmt.Sprintf("- %s:%d:%d: %s%s: %s", filepath.Base(d.Path), d.Range.Start.Line+1, d.Range.Start.Character+1, s, src, msg)
	}
	return out
}

// formatReferences renders each reference with its snippet; a reference is
// dropped whole or kept whole.
func formatReferences(refs []codectx.Reference) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		head := fmt.Sprintf("- %s:%d", r.Location.Path, r.Location.Range.Start.Line+1)
		if r.Container != "" {
			head += " in " + r.Container
		}
		snip := strings.TrimRight(strings.ReplaceAll(r.Snippet, "\r\n", "\n"), "\n")
		if snip != "" {
			head += "\n" + indentBlock(snip, "    ")
		}
		out = append(out, head)
	}
	return out
}

func indentBlock(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// surroundingSection is the surrounding code's line count and renderer:
// windowLines over surrounding(in). When the whole file is shown around a
// symbol (the usual case, and a large file's whole cost), the count and the
// uncut text come from slicing the file at the symbol's lines; the file is
// split into lines only when a cut needs them.
func surroundingSection(in Input) (int, func(k int) string) {
	var lines []string
	focus, split := 0, false
	window := func(k int) string {
		if !split {
			lines, focus = surrounding(in)
			split = true
		}
		return windowLines(lines, focus, k)
	}
	n, whole, ok := fileAroundSymbol(in)
	if !ok {
		window(0)
		return len(lines), window
	}
	return n, func(k int) string {
		if k >= n {
			return whole
		}
		return window(k)
	}
}

// fileAroundSymbol is surrounding(in) for a file shown around its symbol,
// without splitting it: the number of lines and their join. ok is false in
// the other cases, which surrounding handles.
func fileAroundSymbol(in Input) (n int, whole string, ok bool) {
	sym := in.Context.Symbol
	if in.Context.Surrounding != "" || in.FileText == "" || sym == nil {
		return 0, "", false
	}
	t := strings.TrimRight(strings.ReplaceAll(in.FileText, "\r\n", "\n"), "\n")
	if t == "" {
		return 0, "", false
	}
	total := strings.Count(t, "\n") + 1
	s, e := sym.Range.Start.Line, sym.Range.End.Line
	if s < 0 || e >= total || e < s {
		return 0, "", false
	}
	from := lineOffset(t, s)
	var b strings.Builder
	b.Grow(len(t) + len(sym.Name) + 32)
	b.WriteString(t[:from])
	fmt.Fprintf(&b, "[... %s, shown above ...]", sym.Name)
	if e+1 < total {
		b.WriteString("\n")
		b.WriteString(t[from+lineOffset(t[from:], e+1-s):])
	}
	return total - (e - s), b.String(), true
}

// lineOffset is the offset in t of its line i (0 <= i < lines in t).
func lineOffset(t string, i int) int {
	off := 0
	for ; i > 0; i-- {
		off += strings.IndexByte(t[off:], '\n') + 1
	}
	return off
}

// surrounding returns the code around the request and the line to centre
// cuts on: the gathered surrounding lines, or else the file with the
// symbol's own lines replaced by a pointer (the body is shown already).
func surrounding(in Input) ([]string, int) {
	if in.Context.Surrounding != "" {
		lines := splitLines(in.Context.Surrounding)
		return lines, len(lines) / 2
	}
	if in.FileText == "" {
		return nil, 0
	}
	lines := splitLines(in.FileText)
	sym := in.Context.Symbol
	if sym == nil {
		return lines, len(lines) / 2
	}
	s, e := sym.Range.Start.Line, sym.Range.End.Line
	if s < 0 || e >= len(lines) || e < s {
		return lines, len(lines) / 2
	}
	out := append([]string(nil), lines[:s]...)
	out = append(out, fmt.Sprintf("[... %s, shown above ...]", sym.Name))
	out = append(out, lines[e+1:]...)
	return out, s
}
