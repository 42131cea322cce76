package edits

import "fmt"

// Reason classifies why an answer could not be turned into an edit.
type Reason string

// Refusal reasons. Each comes with a message for the user in
// RefusalError.Error.
const (
	ReasonEmptyAnswer     Reason = "empty_answer"
	ReasonOnlyReasoning   Reason = "only_reasoning"
	ReasonNoDefinition    Reason = "no_definition"
	ReasonIncomplete      Reason = "incomplete"
	ReasonLostIndentation Reason = "lost_indentation"
	ReasonUnchanged       Reason = "unchanged"
	ReasonNoDoc           Reason = "no_doc"
	ReasonSearchNotFound  Reason = "search_not_found"
	ReasonAmbiguous       Reason = "ambiguous"
	ReasonWrongFile       Reason = "wrong_file"
	ReasonOverlap         Reason = "overlap"
	ReasonNotEditAction   Reason = "not_edit_action"
	ReasonNoSymbol        Reason = "no_symbol"
	ReasonUnsupported     Reason = "unsupported"
	ReasonNoCode          Reason = "no_code"
	ReasonPlaceholder     Reason = "placeholder"
	ReasonStaleRange      Reason = "stale_range"
)

// RefusalError says why an answer was not turned into an edit. Nothing
// was changed when it is returned. Use errors.As to read the Reason.
type RefusalError struct {
	Reason Reason
	// Symbol is the symbol the edit was for ("" for file-level edits).
	Symbol string
	// Msg is the full, user-facing explanation.
	Msg string
}

func (e *RefusalError) Error() string { return e.Msg }

func refuse(reason Reason, symbol, format string, args ...any) error {
	return &RefusalError{Reason: reason, Symbol: symbol, Msg: fmt.Sprintf(format, args...)}
}
