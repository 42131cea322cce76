package classify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

type labelled struct {
	Text     string `json:"text"`
	Category string `json:"category"`
	Split    string `json:"split"`
	// Agent rows are whole conversations as coding agents send them:
	// system prompt, earlier turns, tool results, wrappers (Conversation).
	Agent    bool   `json:"agent"`
	Tools    bool   `json:"tools"`
	Messages []Turn `json:"messages"`
}

// predict classifies a row the way the router does: free text with
// Classify, an agent's conversation with Conversation.
func predict(l labelled) Result {
	if l.Agent {
		return Conversation(l.Messages, l.Tools)
	}
	return Classify(l.Text)
}

// naive classifies an agent row's last message as free text, as a router
// unaware of agents would.
func naive(l labelled) Result {
	if l.Agent {
		return Classify(l.Messages[len(l.Messages)-1].Content)
	}
	return Classify(l.Text)
}

func loadLabelled(t testing.TB) []labelled {
	t.Helper()
	f, err := os.Open("testdata/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("labelled.jsonl:%d: %v", line, err)
		}
		if l.Agent != (len(l.Messages) > 0) || l.Agent == (l.Text != "") {
			t.Fatalf("labelled.jsonl:%d: a row has either text or (agent and messages)", line)
		}
		if !validCat(l.Category) || (l.Split != "tune" && l.Split != "heldout" && l.Split != "fresh1" && l.Split != "fresh2" && l.Split != "fresh3" && l.Split != "fresh4" && l.Split != "agent-tune" && l.Split != "agent-heldout" && l.Split != "agent-fresh" && l.Split != "agent-fresh2" && l.Split != "agent-fresh3" && l.Split != "agent-fresh4" && l.Split != "agent-tune2" && l.Split != "agent-tune3" && l.Split != "agent-tune4" && l.Split != "agent-fresh5") {
			t.Fatalf("labelled.jsonl:%d: bad category %q or split %q", line, l.Category, l.Split)
		}
		out = append(out, l)
	}
	return out
}

func validCat(c string) bool {
	for _, k := range Categories {
		if k == c {
			return true
		}
	}
	return false
}

type acc struct{ ok, n int }

func (a acc) pct() float64 {
	if a.n == 0 {
		return 0
	}
	return 100 * float64(a.ok) / float64(a.n)
}

// measure returns accuracy per split and category ("" = all categories).
func measure(set []labelled, f func(labelled) Result) map[string]map[string]acc {
	m := map[string]map[string]acc{}
	for _, l := range set {
		got := f(l).Category == l.Category
		for _, split := range []string{l.Split, "all"} {
			if m[split] == nil {
				m[split] = map[string]acc{}
			}
			for _, c := range []string{l.Category, ""} {
				a := m[split][c]
				a.n++
				if got {
					a.ok++
				}
				m[split][c] = a
			}
		}
	}
	return m
}

func report(name string, m map[string]map[string]acc) string {
	var b strings.Builder
	splits := make([]string, 0, len(m))
	for s := range m {
		splits = append(splits, s)
	}
	sort.Strings(splits)
	for _, s := range splits {
		fmt.Fprintf(&b, "%-9s %-8s overall %5.1f%% (%d/%d)", name, s, m[s][""].pct(), m[s][""].ok, m[s][""].n)
		for _, c := range Categories {
			fmt.Fprintf(&b, "  %s %5.1f%%", c, m[s][c].pct())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestAccuracy measures Classify and the original design's Baseline on the labelled set.
//
// Splits, in the order they were written:
//   - tune (183) and heldout (78): written together before any rule existed; the split was
//     fixed by position (every 10 rows, positions 2, 5, 8 held out); only tune rows were
//     looked at while writing rules. Same author and time as tune, so heldout is optimistic.
//   - fresh1, fresh2, fresh3 (64+80+80): each written after freezing a rule version, measured
//     once (51.6%, 78.8%, 85.0%: the honest unseen accuracy of versions 1-3), then used to
//     tune the next version.
//   - fresh4 (80): written after the final freeze and never tuned on: the generalisation
//     figure to quote.
//   - agent-tune (81) and agent-heldout (35): whole conversations as coding agents send them
//     (long system prompts, tool schemas, earlier turns, tool results, <task> and
//     <environment_details> wrappers, aider's file blocks), split by position like tune and
//     heldout. agent-heldout measured 97.1% (34/35) before any tuning on agent rows, and
//     again after it; classifying the last message as free text gets 80.0% (naive below).
//   - agent-fresh (40): written after freezing the agent rules, measured once (82.5%, 33/40:
//     analysis 60%), then used to tune.
//   - agent-fresh2 (40): written after that freeze, measured once (90.0%, 36/40; reasoning
//     80%), then used to tune.
//   - agent-fresh3 (40): written after the last freeze, never tuned on: 87.5% (35/40; coding
//     100%, reasoning 90%, analysis and documentation 80%), the agent-shaped figure to quote.
//   - agent-fresh4 (64, 16 per category): written after agent-fresh3 was measured, before the
//     rules changed again, in more agent shapes (opencode with JSON tool schemas, Continue with
//     pasted code, Claude Code with <system-reminder> blocks, longer sessions). Measured once
//     with the rules agent-fresh3 was measured with: 89.1% (57/64; coding 100%, reasoning 93.8%,
//     analysis 68.8%, documentation 93.8%).
//   - agent-tune2 (60, mostly reasoning and analysis): written next, as tuning rows, because no
//     tuning split had a miss left: 76.7% (46/60) before tuning on it.
//   - agent-tune3 (48): written after the agent-tune2 rules, measured once as validation: 83.3%
//     (40/48; 77.1% with the rules before agent-tune2), then tuned on.
//   - Final measure of the never-tuned splits with the agent-tune3 rules (each looked at once,
//     no row inspected): agent-fresh3 87.5% -> 90.0% (36/40), agent-fresh4 89.1% -> 93.8%
//     (60/64), agent-heldout 97.1% -> 97.1%, heldout 98.7% -> 100%, fresh4 90.0% -> 92.5%.
//     The agent-shaped figure to quote: agent-fresh3 and agent-fresh4 together, 92.3% (96/104).
//   - agent-tune4 (60, 15 per category): tuning rows written after the agent-tune3 rules: 93.3%
//     (56/60) before tuning on it, 100% after. The never-tuned splits with those rules: agent-fresh3
//     90.0% -> 90.0%, agent-fresh4 93.8% -> 93.8%, fresh4 92.5% -> 93.8% (75/80), heldout and
//     agent-heldout unchanged (100%, 97.1%).
//   - agent-fresh5 (64, 16 per category): written after the agent-tune4 rules were frozen and
//     committed, labelled without running the classifier, measured once: 95.3% (61/64; coding,
//     reasoning and documentation 100%, analysis 81.2%), the same with the rules before
//     agent-tune4. Never tuned on. The agent-shaped figure to quote: agent-fresh3, agent-fresh4
//     and agent-fresh5 together, 93.5% (157/168); agent-fresh5 alone, the newest, 95.3%.
//
// testdata/agent_rows.py writes the agent rows from one hand-written request each.
//
// The floors are the measured values rounded down, so a change that lowers accuracy fails.
// CLASSIFY_SHOW_TUNE_ERRORS=1 prints misses of the tuning splits only.
func TestAccuracy(t *testing.T) {
	set := loadLabelled(t)
	if len(set) < 240 {
		t.Fatalf("labelled set has %d rows, want >= 240", len(set))
	}
	ours := measure(set, predict)
	base := measure(set, func(l labelled) Result {
		if l.Agent {
			return Baseline(l.Messages[len(l.Messages)-1].Content)
		}
		return Baseline(l.Text)
	})
	unaware := measure(set, naive)
	t.Logf("\n%s%s", report("classify", ours), report("baseline", base))
	t.Logf("agent rows, last message classified as free text: agent-tune %.1f%%, agent-heldout %.1f%%, agent-fresh3 %.1f%%, agent-fresh4 %.1f%%, agent-fresh5 %.1f%%",
		unaware["agent-tune"][""].pct(), unaware["agent-heldout"][""].pct(), unaware["agent-fresh3"][""].pct(), unaware["agent-fresh4"][""].pct(), unaware["agent-fresh5"][""].pct())

	for split, floor := range classifyFloors {
		a, ok := ours[split][""]
		if !ok {
			t.Errorf("split %s missing from the labelled set", split)
			continue
		}
		if a.pct() < floor {
			t.Errorf("classify %s accuracy %.1f%% below the measured floor %.1f%%", split, a.pct(), floor)
		}
	}
	for _, c := range Categories {
		if a := ours["all"][c]; a.pct() < classifyFloorPerCategory {
			t.Errorf("classify accuracy for %s is %.1f%%, below %.1f%%", c, a.pct(), classifyFloorPerCategory)
		}
	}
	if ours["all"][""].pct() < base["all"][""].pct()+30 {
		t.Errorf("classify (%.1f%%) should beat the baseline (%.1f%%) by a wide margin", ours["all"][""].pct(), base["all"][""].pct())
	}

	// How the optional LLM hook would be used on unseen text: share of low-confidence
	// predictions and how many of the misses they contain.
	var low, lowMiss, miss, n int
	for _, l := range set {
		if l.Split != "fresh4" {
			continue
		}
		n++
		r := predict(l)
		wrong := r.Category != l.Category
		if wrong {
			miss++
		}
		if r.Confidence < DefaultThreshold {
			low++
			if wrong {
				lowMiss++
			}
		}
	}
	t.Logf("fresh4: %d/%d predictions below confidence %.2f (the LLM hook would decide them); they hold %d of the %d misses", low, n, DefaultThreshold, lowMiss, miss)

	if os.Getenv("CLASSIFY_SHOW_TUNE_ERRORS") != "" {
		for _, l := range set {
			if l.Split == "heldout" || l.Split == "fresh4" || l.Split == "agent-heldout" || l.Split == "agent-fresh3" || l.Split == "agent-fresh4" || l.Split == "agent-fresh5" {
				continue // never look at held-out rows while tuning
			}
			if r := predict(l); r.Category != l.Category {
				text := l.Text
				if l.Agent {
					text = "[agent] " + userTexts(l.Messages)[len(userTexts(l.Messages))-1]
				}
				t.Logf("MISS want %-13s got %-13s %.2f %v  %q", l.Category, r.Category, r.Confidence, r.Signals, text)
			}
		}
	}
}

// Measured floors (see TestAccuracy).
var classifyFloors = map[string]float64{
	"tune": 99, "heldout": 99, "fresh1": 99, "fresh2": 99, "fresh3": 99, "fresh4": 93,
	"agent-tune": 99, "agent-heldout": 97, "agent-fresh": 99, "agent-fresh2": 99, "agent-fresh3": 90,
	"agent-fresh4": 93, "agent-tune2": 99, "agent-tune3": 99, "agent-tune4": 99, "agent-fresh5": 95,
}

const classifyFloorPerCategory = 95.0
