// Package classify sorts a request into one of the task categories the router knows (coding,
// reasoning, analysis, documentation), with a confidence and the signals that decided it.
//
// The categories, as the labelled test set uses them:
//   - coding: the user wants code written or changed (write, fix, refactor, tests, migrate).
//   - documentation: the user wants prose about code (doc comments, README, explanations of
//     what code does, summaries, commit messages).
//   - analysis: the user wants existing code or artefacts assessed (review, bugs, security,
//     performance, complexity of this code, diagnosing a failure or a trace).
//   - reasoning: the user wants a decision, a design or a solution worked out (trade-offs,
//     "should I", which approach, algorithms in general, estimates, proofs).
//
// An editor command fixes the category (ForAction); free text is classified by weighted
// patterns and the sentence's shape (Classify). An optional LLM hook (Classifier.LLM) decides
// when confidence is low; it is off by default.
package classify

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/lsp-router/lsp-router/router/catalog"
)

// The categories (the same strings as the catalog's).
const (
	Coding        = catalog.Coding
	Reasoning     = catalog.Reasoning
	Analysis      = catalog.Analysis
	Documentation = catalog.Documentation
)

// Categories lists the categories in a stable order.
var Categories = catalog.Categories

// Result is a classification.
type Result struct {
	Category string `json:"category"`
	// Confidence is in (0, 1]: 1 for a fixed action, else the winner's share of the evidence,
	// lowered when little evidence was found.
	Confidence float64 `json:"confidence"`
	// Signals names the rules that fired, strongest first ("analysis:is-it-safe").
	Signals []string `json:"signals"`
}

// ForAction returns the category an editor command fixes, and false for "ask" (or any
// unknown action), whose text must be classified.
func ForAction(action string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(action)) {
	case "refactor", "fix", "tests", "test", "write-tests", "write_tests", "generate", "implement", "complete":
		return Coding, true
	case "document", "doc", "docs", "explain", "summarize", "comment":
		return Documentation, true
	case "review", "analyze", "analyse", "audit":
		return Analysis, true
	case "design", "plan":
		return Reasoning, true
	}
	return "", false
}

// Classify classifies free text with weighted patterns. It never fails: with no evidence it
// returns coding (the most common request in an editor) with a low confidence.
func Classify(text string) Result {
	t := normalize(text)
	scores := map[string]float64{}
	type hit struct {
		name string
		w    float64
	}
	var hits []hit
	for _, r := range rules() {
		if r.lits != nil && !containsAny(t, r.lits) {
			continue
		}
		if r.re.MatchString(t) {
			scores[r.cat] += r.weight
			hits = append(hits, hit{r.cat + ":" + r.name, r.weight})
		}
	}
	if cat, name := shape(t); cat != "" {
		scores[cat] += shapeWeight
		hits = append(hits, hit{cat + ":" + name, shapeWeight})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].w > hits[j].w })
	signals := make([]string, len(hits))
	for i, h := range hits {
		signals[i] = h.name
	}
	best, total := "", 0.0
	for _, c := range tieOrder {
		total += scores[c]
		if best == "" || scores[c] > scores[best] {
			best = c
		}
	}
	if total == 0 {
		return Result{Category: Coding, Confidence: 0.25, Signals: []string{"default:no-signal"}}
	}
	// Share of the evidence, damped when the evidence is thin (one weak rule is not 100%).
	conf := scores[best] / total * min(1, 0.5+scores[best]/6)
	return Result{Category: best, Confidence: round2(conf), Signals: signals}
}

// tieOrder breaks exact ties: the more specific intents first.
var tieOrder = []string{Documentation, Analysis, Reasoning, Coding}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("’", "'", "`", "", "\n", " ", "\t", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// LLMFunc classifies text with a language model (the lead wires it to the smallest local
// model). It returns one of the four categories.
type LLMFunc func(ctx context.Context, text string) (string, error)

// Classifier combines the pattern classifier with an optional LLM for low-confidence cases.
// The zero value uses patterns only.
type Classifier struct {
	// LLM is consulted when the pattern confidence is below Threshold. Off (nil) by default:
	// it costs one extra generation (a cold load of even a 0.5B model takes seconds, a warm
	// one 100-500 ms on CPU) before the real request starts.
	LLM LLMFunc
	// Threshold is the confidence below which the LLM decides; 0 means DefaultThreshold.
	Threshold float64
}

// DefaultThreshold is the confidence under which the optional LLM is asked.
const DefaultThreshold = 0.5

// Classify classifies text; see the package Classify. When the LLM is set and the pattern
// confidence is low it asks the LLM; an LLM error or an answer that is not a category keeps
// the pattern result (with a signal saying so), so the hook can never break routing.
func (c Classifier) Classify(ctx context.Context, text string) Result {
	r := Classify(text)
	th := c.Threshold
	if th == 0 {
		th = DefaultThreshold
	}
	if c.LLM == nil || r.Confidence >= th {
		return r
	}
	cat, err := c.LLM(ctx, text)
	if err != nil {
		r.Signals = append(r.Signals, fmt.Sprintf("llm:error (%v)", err))
		return r
	}
	cat = strings.ToLower(strings.Trim(strings.TrimSpace(cat), ".\"'"))
	for _, k := range Categories {
		if cat == k {
			return Result{Category: k, Confidence: th, Signals: append([]string{"llm:" + k}, r.Signals...)}
		}
	}
	r.Signals = append(r.Signals, fmt.Sprintf("llm:ignored answer %q", cat))
	return r
}

// LLMPrompt is a prompt the LLM hook can send: it asks for exactly one word.
func LLMPrompt(text string) string {
	return "Classify the developer's request into exactly one category and answer with that single word.\n" +
		"coding: write or change code. documentation: explain or document code in prose. " +
		"analysis: review or diagnose existing code (bugs, security, performance). " +
		"reasoning: decide, design or solve a problem (trade-offs, which approach).\n\nRequest: " + text + "\nCategory:"
}

// shapeWeight is below every word rule's weight: the shape decides only when words say little.
const shapeWeight = 1.5

var (
	questionStart = regexp.MustCompile(`^(\w+, )?(what|what's|whats|how|why|is|are|can|could|would|will|do|does|did|should|which|when|where|has|have|if|given)\b`)
	deicticRe     = regexp.MustCompile(`\b(this|these|those|here|my (code|change|function|regex|query)|the code|the (\w+ )?(below|above))\b`)
	whatItDoesRe  = regexp.MustCompile(`^(what|what's|whats|how)\b.*\b(do|does|doing|used?|for|mean|means|work|works|going on|happening|contract)\b`)
	whyRe         = regexp.MustCompile(`^(\w+, )?why\b|, why\??$`)
	// A yes/no question whose subject is a definite artefact ("does the
	// serializer keep order?") asks about existing code, not for a decision.
	artefactQuestionRe = regexp.MustCompile(`^(does|do|did|will|is|are|can|could|has|have) (the|this|our|my|that|these|those|its|any of (the|our)) `)
)

// shape reads the sentence form. A "why" question is a diagnosis (analysis). A question about
// the code at hand ("this", "here") asks what it does (documentation) or whether it has some
// property (analysis). A question with no code at hand asks for a decision (reasoning).
// Anything else is a request, which the coding rules and the default cover.
func shape(t string) (category, name string) {
	question := strings.HasSuffix(t, "?") || questionStart.MatchString(t)
	if !question {
		return "", ""
	}
	switch {
	case whyRe.MatchString(t):
		return Analysis, "shape-why"
	case deicticRe.MatchString(t) && whatItDoesRe.MatchString(t):
		return Documentation, "shape-what-does-this-do"
	case deicticRe.MatchString(t):
		return Analysis, "shape-property-of-this"
	case artefactQuestionRe.MatchString(t):
		return Analysis, "shape-property-of-artefact"
	}
	return Reasoning, "shape-open-question"
}

type rule struct {
	cat    string
	name   string
	weight float64
	re     *regexp.Regexp
	// lits, when set, are strings one of which every match contains.
	lits []string
}

func r(cat, name string, w float64, pattern string) rule {
	return rule{cat: cat, name: name, weight: w, re: regexp.MustCompile(pattern), lits: requiredLiterals(pattern)}
}

// Words that point at existing code in the request ("this function", "here").
const deictic = `(this|these|that|the|my|our|here)`

// rules describe phrasings in general (verbs, word classes, question forms) rather than
// sentences; they were tuned on the tune and fresh1-3 splits of testdata/labelled.jsonl only.
// Weights: 3-4 for an intent that settles the category on its own, 2 for strong evidence,
// 1-1.5 for hints. Prose objects (4) outrank imperative verbs (3): "write godoc" is
// documentation.
// rules is built on first use: compiling the patterns at package init would
// cost every lsp-router start-up a few milliseconds and a megabyte.
var rules = sync.OnceValue(func() []rule {
	return []rule{
		// --- documentation: prose about code.
		r(Documentation, "doc-artifact", 3, `\b(godoc|docstrings?|doc ?comments?|jsdoc|javadoc|rustdoc|pydoc|readme|changelog|release notes|man ?page|help text|api (docs|documentation|reference)|openapi descriptions?|adr|contributing guide|docs? page|wiki|faq|onboarding|bullet points?|paragraph|markdown|tl;?dr|how-?tos?|runbooks?|playbooks?|cheat ?sheets?)`),
		// "document" as a verb, not the noun ("edit the same document").
		r(Documentation, "document-verb", 3, `^(please |can you |could you )?(document|annotate)\b|\b(document|annotate) (the|this|these|that|those|how|what|why|when|which|each|every|all|our|its|it|them|every)\b|\bto (document|annotate)\b`),
		r(Documentation, "documentation-noun", 2, `\b(documentation|docs)\b`),
		r(Documentation, "comments", 2, `\b(add|write|update|rewrite|improve)\b.*\bcomments?\b|\bcomments? (explaining|describing|block)\b|\bheader comment\b|\bpackage comment\b`),
		// An imperative whose object is prose is documentation, not coding: "write godoc",
		// "add a comment block", "write a commit message".
		r(Documentation, "write-prose", 4, `^(please |can you |could you )?(add|write|update|rewrite|generate|create|draft|improve|produce|fix|put)\b.*\b(comments?|doc ?strings?|doc|docs|documentation|summary|summaries|overview|explanation|readme|commit message|tutorial|changelog|release notes|godoc|jsdoc|javadoc|rustdoc|man ?page|help text|descriptions?|guide|reference)\b`),
		r(Documentation, "explain-this", 3, `^(please |can you |could you )?(explain|describe|summari[sz]e|walk me through|tell me (what|how) (this|the|it|these)\b|give me (a|an) (high-level |short |brief )?(explanation|overview|summary))\b`),
		r(Documentation, "explain", 1.5, `\b(explain|explanation|describe|summari[sz]e|summary|overview|in plain english|line by line)\b`),
		r(Documentation, "what-does-it-do", 3, `^what (does|do|is) .*\b(do|does|for|mean)( here)?\??$`),
		// "what does the Backoff type do, and how is it configured?"
		r(Documentation, "what-does-x-do-first", 3, `^what (does|do) [^,?]+? do\b[,;]`),
		// "what does the backoff option control?": the meaning of a named setting or part.
		r(Documentation, "what-does-x-control", 3, `^what (does|do) (the|this|that|these|our|its|a|an) [^?,.]{1,60}? (control|affect|configure|govern|determine|represent|contain|hold|store|specify|toggle|enable|return)s?\b`),
		// The answer goes into a document: "put it in the options doc", "add it to the README".
		r(Documentation, "into-a-doc", 2, `\b(in|into|to) (the|our|a|an) ([\w-]+ ){0,2}(doc|docs|documentation|readme|wiki|runbook|guide)\b`),
		r(Documentation, "how-to-use", 3, `^how (do|can|should|would) (i|we|you|one) use\b`),
		r(Documentation, "how-does-it-work", 3, `^how (does|do) `+deictic+`\b.*\bwork\??$`),
		r(Documentation, "what-is-the-purpose", 2, `\b(purpose|meaning|responsible for|what .* is for|point of|supposed to|intended|accomplish\w*|what (is|are) (it|they) doing|what it does|contract|role of|responsibilit\w*|what'?s going on|what is going on|what'?s happening)\b`),
		r(Documentation, "understand", 2, `\b(i don'?t (understand|get)|help me understand|clarify|break down|make sense of|confused by)\b`),
		r(Documentation, "doc-noun", 2, `\b(a|short|the) doc\b|\bput together (a|an|the)\b`),
		r(Documentation, "write-up", 4, `^(please |can you )?write[- ]up\b|\ba write[- ]up\b`),
		r(Documentation, "comment-verb", 4, `^(please |can you |could you )?comment\b`),
		r(Documentation, "mechanism-of-this", 4, `^how (does|do|is|are) (this|the|these|that|our) (\w+ ){1,2}(decide|handle|choose|pick|work|compute|determine|know|manage|store|find|resolve|parse|load|get|deal with|figure out|work out|detect|select|generate|assign|calculate|track|build|derive|discover|match|route|schedule|validate|authenticate|authorize|cache)\b`),
		r(Documentation, "writing-for-humans", 2, `\b(tour|walkthrough|newcomers?|newcomer-friendly|beginners?|introduction to|intro to|commit message|tutorial|usage example|description of|write-?up|draft the|for the reviewers|to a junior)\b`),

		// --- analysis: assessing existing code.
		r(Analysis, "review", 3, `\b(review|audit|inspect|scan|profile|diagnose|assess|evaluate)\b`),
		r(Analysis, "analy[sz]e", 2, `\banaly[sz](e|is)\b`),
		r(Analysis, "check-for", 2, `\b(check|look for|look at|spot|identify)\b`),
		r(Analysis, "is-it-safe", 3, `^(is|are|does|do|can|could) .*\b(safe|secure|correct(ly)?|thread-safe|vulnerable|sufficient|properly|leak|overflow|deadlock|terminate|outlive|go negative|handle)\b`),
		r(Analysis, "what-is-wrong", 3, `\b(what'?s|what is|anything|something) wrong\b|\bfind (the|a|any)? ?(bugs?|leaks?|bottlenecks?|problems?|issues?)\b|\bfind the\b.*\b(bug|leak)\b`),
		r(Analysis, "why-broken", 3, `^why (is|does|do|am|are|did|would)\b.*\b(slow|fail\w*|return\w*|growing|grow|differ\w*|panic\w*|crash\w*|get|hang\w*|exhaust\w*|500|error|nil|leak\w*)\b`),
		r(Analysis, "defect-words", 2, `\b(bugs?|race conditions?|deadlocks?|memory leaks?|leaks?|vulnerabilit(y|ies)|vulnerable|injection|xss|csrf|overflow|segfault|panic|stack trace|flaky|flame graph|cpu profile|bottleneck|edge cases?|code smells?|off-by-one|backtracking|blocks? forever|hangs?|path traversal|insecure|misconfigurations?|failure modes?|risky|thread-safe)\b`),
		r(Analysis, "complexity-of-this", 3, `\b(time|space|memory) complexity of `+deictic+`\b|\bbig-?o\b`),
		r(Analysis, "security", 2, `\b(security|secure|safe)\b`),
		r(Analysis, "performance", 1.5, `\b(performance|slow|faster|memory usage|cpu|allocat\w*|garbage|heap|timing out|times? out|under load|worst[- ]case|runtime|o\([^)]*\))\b`),
		r(Analysis, "assessment-verbs", 2, `\b(hunt down|track down|(figure|find|work) out why|tell me (if|whether)|what'?s (missing|different|off|broken)|hot ?path|footprint|ignored|unchecked|swallowed|flag (anything|any|all|issues|problems|risks)|point out|look over|look into|(any|the) cases where|never (exercised|called|used|reached|executed|hit|covered)|verify|actually (run|running|called|used|executed|works?|working|happens?)|sanity[- ]check|double[- ]check|go over|critique|see (if|whether)|tell me which|(figure|find) out (if|whether)|suspicious|stale|sanitiz\w*|malicious|escape|go vet|linter|static analysis|break if|ever (give up|stop|finish|return))\b`),
		r(Analysis, "causing", 2, `\b(what (could )?caus\w*|what'?s causing|tell me what caused|what does .* (tell|indicate))\b|\bwhat\b.*\b(could|might|would) (cause|explain|trigger|lead to)\b`),
		// A question about something observed: a dump, a log, a tool's output.
		r(Analysis, "observed-artifact", 2.5, `\b(in|from|going by|based on|according to|per) (the|this|that|these|my) (\w+ ){0,3}(dumps?|output|logs?|traces?|profiles?|pprof|metrics|events|results|report|core|stderr|stdout)\b|\b(heap|goroutine|thread|core|memory) dumps?\b|\bpprof\b`),
		// A symptom stated as a fact: "memory only goes up", "it keeps the connection open".
		// "was it introduced by the upgrade?": the origin of a defect.
		r(Analysis, "origin", 2, `\b(introduced|caused|broken|triggered) by\b|\b(explain|query) plans?\b|\bexplain analy[sz]e\b`),
		// "the coverage report says…", "the plans are above": evidence handed over.
		r(Analysis, "evidence-given", 2.5, `\b(report|output|logs?|trace|profile|dump|benchmark|plans?|metrics|graph) (says|say|shows?|reports?|is above|are above|is below|are below)\b`),
		r(Analysis, "symptom-statement", 2, `\b(keeps? (\w+ ){0,3}(open|growing|climbing|running|failing|crashing|restarting|timing out)|only goes up|keeps? going up|crash(es|ed|ing)?|are stale|is stale|never (returns|finishes|ends|closes|exits|completes)|gets? stuck|is stuck)\b`),
		r(Analysis, "is-there-any", 3, `^(are there|is there|does (this|it|the \w+) have)\b.*\b(any|unused|problems?|issues?|risks?|bugs?)\b`),
		r(Analysis, "find-where", 3, `^find (where|why|out (why|whether|if)|whether|if|all places)\b|^find (any|every|all|each|the)\b[^.]*\b(that|which|where) (forgets?|miss(es)?|lacks?|doesn'?t|does not|never|fails? to|leaks?|ignores?|skips?|can be|could be|isn'?t|is not)\b`),
		r(Analysis, "what-happens-if", 2, `^what happens (if|when)\b`),
		// Investigating a symptom: "dig through token.go", "look through the Terraform".
		r(Analysis, "investigate", 2.5, `\b(dig (through|into)|look through|investigate|troubleshoot|root[- ]cause|(trace|comb|run|go|read) through (the|this|these|that|our|my|its|all|every)\b.*\b(and|to) (see|find|tell|check|spot|flag|list)|trace (it|this|that) (back|down))\b`),
		r(Analysis, "symptom", 1.5, `\b(randomly|intermittent\w*|sporadic\w*|every (now and then|few \w+)|got (\d+% )?(slower|faster|worse)|slowed down|regress\w*)\b`),
		r(Analysis, "tell-me-why", 3, `\b(tell me|find out|figure out|work out) why\b`),
		// A yes/no question about what a named artefact does at run time.
		r(Analysis, "does-it-behave", 3, `^(does|do|will|would|can|could) (the|this|our|my|that|these) [\w.-]+( [\w.-]+){0,5}? (lock|block|leak|hold|hang|break|fail|race|deadlock|scale|retry|drop|overflow|time out|exhaust|respect|honou?r|handle|close|release|propagate|validate|escape|check|stop)\w*\b`),
		r(Analysis, "correctness-of-this", 2, `\b(is|are) `+deictic+`\b.*\b(correct|right|valid)\b`),
		// "are we validating the redirect?", "is the worker still holding the lock?": what the
		// system does now, in the progressive, is a question about existing code.
		r(Analysis, "what-it-does-now", 3, `^(are|is) (we|you|they|it|our \w+|the \w+|this \w+) (still |already |actually |currently |ever |really |even )?(\w+ing)\b`),
		// A yes/no question naming a source file asks about that file's code, not for a decision.
		r(Analysis, "question-about-a-file", 2.5, `^(is|are|does|do|did|will|can|could|has|have|was|were)\b[^?]*\b[\w-]+(/[\w.-]+)*\.(go|py|ts|tsx|js|jsx|rs|java|rb|php|c|h|cc|cpp|cs|kt|swift|sql|sh|ya?ml|tf|toml)\b[^?]*\?`),
		// Attack vocabulary: whether something is exploitable is an assessment.
		r(Analysis, "attack-words", 2, `\b(open redirects?|ssrf|request forgery|(timing|replay|downgrade|brute[- ]force) attacks?|privilege escalation|denial of service|remote code execution|exploit(able|ed)?|an attacker|someone (could|can) (use|abuse|exploit|forge|replay|bypass))\b`),

		// --- reasoning: decisions, designs, problems.
		// "do the retries respect the deadline?" asks about code, not for a decision.
		r(Reasoning, "should-i", 3, `^(should|shall|would) (i|we|you|it|this|the)\b|^do (i|we|you)\b|\bshould (i|we)\b`),
		r(Reasoning, "better-or-worth", 3, `\b(is it|would it be) (better|worth|reasonable|a good idea|wise|ok)\b|\bworth it\b`),
		r(Reasoning, "tradeoff", 3, `\b(trade-?offs?|pros and cons|versus|vs\.?|compared? (to|with)|compare the approaches)\b`),
		r(Reasoning, "x-or-y", 1.5, `\b\w+ or \w+\b.*\?`),
		r(Reasoning, "which", 2, `^(which|what)('s| is| are| would| should)? ?(be )?(the )?(best|better|right|cleanest|good|sensible|appropriate|more appropriate|approach|pattern|architecture|algorithm|data structure|strategy|model|abstraction|concurrency model|consistency model)\b|\bwhich (approach|pattern|algorithm|data structure|concurrency|consistency|is more|is better)\b`),
		r(Reasoning, "how-should", 3, `^how (should|would|could|can|do|might) (i|we|you|one)\b.*\b(design|approach|structure|model|choose|decide|pick|think|reason|estimate|split|guarantee|scale|break|handle|sort|prove|solve|version|make|keep|ensure|avoid|prevent)\b`),
		r(Reasoning, "design-words", 2, `\b(design|architecture|strategy|approach|plan|trade|decide|choose|choosing|pick between|help me decide|abstraction|sharding|shard|consistency|scalab\w+|scale)\b`),
		r(Reasoning, "problem-solving", 2, `\b(prove|proof|step by step|think through|reason about|walk me through how to solve|how many ways|expected number|estimate|break (this|the) problem down|dynamic programming|what would happen if)\b`),
		// "compare SQLite and Postgres": two named options to choose between.
		r(Reasoning, "compare-options", 3, `^compare (\w+ ){1,3}?(and|with|to|vs\.?|versus) \w+\b`),
		r(Reasoning, "how-to-solve", 3, `\bhow to (solve|approach|design|decide|choose)\b|\bsolve the\b.*\bproblem\b`),
		r(Reasoning, "general-complexity", 2, `\b(time|space) complexity of (finding|computing|sorting|searching|a|an)\b`),
		r(Reasoning, "best-way", 2, `\b(best|cleanest|right|proper|recommended|simplest|good|sensible) (way|approach|strategy|practice)\b`),
		r(Reasoning, "how-should-open", 3, `^how should\b`),
		r(Reasoning, "opinion", 2, `\b(thoughts\??$|torn between|risks of|downsides of|make more sense|sane way|smart(er|est)? way|smarter|do we (actually |really )?need|is it overkill|outline|roadmap|probability|backwards? compatib\w*|roll ?out|how do (we|i) keep|makes? (more )?sense|good idea|bad idea|implications)\b`),
		r(Reasoning, "would-it-help", 2, `\bwould (a|an|the|it)\b.*\bhelp\b|\bis (a|an|the) .* enough\b`),
		r(Reasoning, "prioritise", 3, `\b(prioriti[sz]e|justify (it|your|the|that)|rank (these|the options|them))\b`),
		r(Reasoning, "weigh-and-recommend", 3, `\b(think about whether|think about how|weigh (up )?(the|whether)|recommend (one|an? \w+|the best|which)|which (one )?(would|do) you recommend|and recommend)\b`),
		r(Reasoning, "what-algorithm", 2, `\bwhat (algorithm|data structure)\b|\b(algorithm|data structure) (should|would)\b`),
		r(Reasoning, "when-is-it-worth", 2, `^(when|is) .*\b(worth|good fit|good idea|need)\b`),
		// An imperative that asks for a design, a plan or a decision, not for code.
		r(Reasoning, "design-imperative", 3, `^(\w+, )?(please |can you |could you |help me )?(design|propose|suggest|brainstorm|sketch|devise|outline|come up with|work out (how|what|which|whether|a|an|the)|map out|lay out|figure out (a|an|the best|how (to|we|i|should))|think (through|about)|weigh|decide|choose|pick|recommend|estimate|calculate|plan)\b`),
		// "the smartest order", "the cheapest option": an optimum to find.
		r(Reasoning, "optimum", 2, `^(what|which)('s| is| are| would be| will be)? (the )?(\w+est|best|optimal|ideal|minimum|maximum|most \w+|least \w+)\b`),
		// A quantity to decide: "how big should the pool be", "how many do we need".
		r(Reasoning, "how-much-should", 2.5, `\bhow (big|many|much|large|long|often|fast|small)\b.*\b(should|do we need|would we need|will we need|is enough|to survive|to handle)\b`),
		// The user says they want no code: a concept, a decision.
		r(Reasoning, "no-code-wanted", 3, `\b(not (the )?code|no code|without code|don'?t (write|change|touch) (any )?code|before (writing|we write|i write) (any )?code|(the|a) concept\b|conceptually|in theory)\b`),
		// Criteria to weigh before a choice.
		r(Reasoning, "before-deciding", 3, `\b(consider|think about|keep in mind|look out for) before (deciding|choosing|picking|committing|we decide|i decide)\b|\bwhat should (i|we) (consider|think about|weigh|keep in mind)\b`),

		// --- coding: imperative requests to produce or change code.
		r(Coding, "imperative", 3, `^(\w+, )?(please |pls |(can|could|would|will) (you|u) (please |pls )?|i need (you )?to |let's |go ahead and )?(write|add|implement|create|generate|fix|refactor|convert|rename|make|extract|replace|update|migrate|port|remove|delete|split|inline|use|wrap|change|scaffold|hook up|optimi[sz]e|deduplicate|apply|code|fill in|turn|rewrite|move|introduce|handle|build|set up|bump|upgrade|translate|wire|plumb|thread|integrate|enable|disable|expose|register|inject|memoi[sz]e|normali[sz]e|regenerate|support|cache|parallelize|parallelise|validate|sanitize|escape|rename|delete|drop|strip|prune|trim|revert|restore|rework|tweak|adjust|simplify|consolidate|vendor|pin|unpin|reformat|rewire|swap|stub|mock|seed|backfill|downgrade|retire|deprecate)\b`),
		// "make the cache thread-safe" asks for a change, whatever the adjective.
		r(Coding, "make-it", 3, `^(please |can you |could you )?make (this|the|it|my|these)\b.*\b(safe|thread-safe|faster|generic|compile|work|pass|configurable|async|concurrent|testable|reusable|idempotent|robust)\b`),
		r(Coding, "can-it-be-changed", 3, `^(\w+, )?(can|could) (this|these|it|the \w+)\b.*\bbe (turned|converted|made|rewritten|changed|refactored|split|moved|replaced|simplified|extracted|parallelized|parallelised)\b`),
		r(Coding, "i-need-code", 2, `\bi need (a|an|some)\b.*\b(function|helper|script|class|method|endpoint|component|test)\b`),
		r(Coding, "code-nouns", 1, `\b(function|method|class|struct|interface|endpoint|component|handler|script|regex|flag|helper|mock|migration|dockerfile|module)\b`),
		r(Coding, "tests", 2, `\b(unit tests?|test cases?|tests? for|benchmarks? for|(add|write) (a )?benchmarks?|property-based tests?|table-driven tests?|make the tests pass|failing test)\b`),
		r(Coding, "want-change", 2, `^(i want|i'd like|we need|i need|let|get rid of|swap|support|stub|put|sort|parse|bump|clean)\b`),
		// "let the user choose the format": a capability to build.
		r(Coding, "let-someone", 3, `^(please )?(let|allow|enable) (the |our )?(users?|callers?|clients?|admins?|operators?|people|customers?|me|them|us) (to )?\w+`),
		// A command-line flag named in a request is usually one to add or change.
		r(Coding, "cli-flag", 1.5, `(^|\s)--[a-z][\w-]+`),
		r(Coding, "clean-up", 2.5, `\b(clean|tidy|fix|sort|speed) ((that|this|it|them|those|the \w+) )?up\b`),
		r(Coding, "change-verbs", 1.5, `\b(refactor|implement|rewrite|fix|convert|port|migrate|rename|inline)\b`),
		r(Coding, "compile-build", 2, `\b(does(n't| not) compile|make (this|it) compile|build fails|fails to build|undefined:)\b`),
	}
})
