package classify

import (
	"context"
	"regexp"
	"strings"
)

// Turn is one message of a conversation as an agent sends it.
type Turn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// maxTaskChars bounds the text classified from one turn: the request is
// in its first sentences; a pasted log is not.
const maxTaskChars = 2000

var (
	// Blocks agents wrap around the user's words: environment details,
	// reminders, file listings, attached files, pasted code and logs.
	taggedBlockRe = regexp.MustCompile(`(?s)<(environment_details|system-reminder|system_reminder|context|file|files|attachment|environment|env|user_instructions|instructions|repo_map|repo-map|project_layout|workspace|ide_opened_file|ide_selection|tool_result|function_results|command-name|command-message|local-command-stdout)\b[^>]*>.*?</(environment_details|system-reminder|system_reminder|context|file|files|attachment|environment|env|user_instructions|instructions|repo_map|repo-map|project_layout|workspace|ide_opened_file|ide_selection|tool_result|function_results|command-name|command-message|local-command-stdout)>`)
	fenceRe       = regexp.MustCompile("(?s)```.*?(```|$)")
	// Labelled wrappers some agents put around the task.
	taskTagRe = regexp.MustCompile(`(?s)<(task|user_query|user_request|request|query)>(.*?)</(task|user_query|user_request|request|query)>`)
	// Lines that only name a file or carry a header an agent added.
	boilerLineRe = regexp.MustCompile(`(?i)^\s*(#+\s*)?((current )?(working directory|cwd|date|time|os|platform|shell|git branch|branch|model|mode)\s*:.*|[\w./-]+\.(go|py|ts|tsx|js|jsx|rs|java|c|h|cc|cpp|rb|php|md|toml|yaml|yml|json|sql)\s*:?\s*)$`)
)

// Conversation classifies what a coding agent sends: a long system prompt,
// tool schemas, earlier turns, tool results. Only the latest turn the user
// wrote decides (earlier turns when it says too little, like "go on"); the
// system prompt and tool output are the agent's boilerplate, the same for
// every task. tools says the request carried tool schemas: with no word
// pointing elsewhere, an agent with tools is asked to change code.
func Conversation(turns []Turn, tools bool) Result {
	texts := userTexts(turns)
	for i := len(texts) - 1; i >= 0; i-- {
		if goAheadRe.MatchString(normalize(texts[i])) {
			// "yes, do it": the task is the turn before; with none, an
			// agent told to go ahead changes code.
			if i > 0 {
				continue
			}
			return Result{Category: Coding, Confidence: 0.5, Signals: []string{"coding:go-ahead"}}
		}
		r := Classify(texts[i])
		if r.Signals[0] != "default:no-signal" {
			return r
		}
		// Only a short follow-up ("go on", "yes, do that") continues the
		// task of the turn before; a longer request is a new task.
		if len(strings.Fields(texts[i])) > maxFollowUpWords {
			break
		}
	}
	r := Classify("")
	if tools {
		r.Signals = []string{"default:agent-with-tools"}
	}
	return r
}

// goAheadRe is a turn that only tells the agent to proceed.
var goAheadRe = regexp.MustCompile(`^(yes|yep|yeah|ok|okay|sure|go ahead|do it|please do|sounds good|lgtm|continue|proceed|go on|carry on|looks good)([ ,.!]+(yes|ok|please|go ahead|do it|do that|proceed|continue|apply it|thanks))*[ .!]*$`)

// maxFollowUpWords is the longest turn read as a follow-up of the turn
// before when it carries no signal of its own.
const maxFollowUpWords = 6

// ClassifyConversation is Conversation with the optional LLM hook asked,
// like Classify, when the patterns are unsure.
func (c Classifier) ClassifyConversation(ctx context.Context, turns []Turn, tools bool) Result {
	r := Conversation(turns, tools)
	th := c.Threshold
	if th == 0 {
		th = DefaultThreshold
	}
	if c.LLM == nil || r.Confidence >= th {
		return r
	}
	texts := userTexts(turns)
	if len(texts) == 0 {
		return r
	}
	lr := c.Classify(ctx, texts[len(texts)-1])
	if len(lr.Signals) > 0 && strings.HasPrefix(lr.Signals[0], "llm:") && !strings.HasPrefix(lr.Signals[0], "llm:error") && !strings.HasPrefix(lr.Signals[0], "llm:ignored") {
		return lr
	}
	return r
}

// userTexts returns the user's own words of each user turn, oldest first,
// with the agent's wrappers removed; turns that held only wrappers (tool
// results sent as user messages) are left out.
func userTexts(turns []Turn) []string {
	var out []string
	for _, t := range turns {
		if t.Role != "user" {
			continue
		}
		if s := TaskText(t.Content); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TaskText extracts the user's request from one message an agent built:
// the content of a <task> (or similar) tag when there is one, else the
// text without tagged context blocks, code fences and header lines, cut
// to its first maxTaskChars characters.
func TaskText(s string) string {
	// The substring checks spare the matchers on plain requests.
	if strings.Contains(s, "</") {
		if m := taskTagRe.FindStringSubmatch(s); m != nil {
			s = m[2]
		}
		s = taggedBlockRe.ReplaceAllString(s, "\n")
	}
	if strings.Contains(s, "```") {
		s = fenceRe.ReplaceAllString(s, "\n")
	}
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" || boilerLineRe.MatchString(line) {
			continue
		}
		keep = append(keep, strings.TrimSpace(line))
	}
	s = strings.Join(keep, "\n")
	if len(s) > maxTaskChars {
		s = s[:maxTaskChars]
	}
	return strings.TrimSpace(s)
}
