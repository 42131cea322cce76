package classify

import (
	"regexp"
	"strings"
)

// Baseline is a reconstruction of the original design's classifier: one broad regular
// expression per category plus a table of keyword weights, summed, the highest total wins,
// coding when nothing matches. It is kept so the accuracy of Classify can be compared with it
// on the same labelled set (see the accuracy test); do not use it for routing.
func Baseline(text string) Result {
	t := strings.ToLower(text)
	scores := map[string]float64{}
	var signals []string
	for _, p := range baselinePatterns {
		if p.re.MatchString(t) {
			scores[p.cat] += p.weight
			signals = append(signals, p.cat+":/"+p.re.String()+"/")
		}
	}
	for _, w := range wordRe.FindAllString(t, -1) {
		for _, k := range baselineKeywords {
			if kw, ok := k.words[w]; ok {
				scores[k.cat] += kw
				signals = append(signals, k.cat+":"+w)
			}
		}
	}
	best, total := "", 0.0
	for _, c := range Categories {
		total += scores[c]
		if best == "" || scores[c] > scores[best] {
			best = c
		}
	}
	if total == 0 {
		return Result{Category: Coding, Confidence: 0.25, Signals: []string{"default: coding"}}
	}
	return Result{Category: best, Confidence: scores[best] / total, Signals: signals}
}

type baselinePattern struct {
	cat    string
	re     *regexp.Regexp
	weight float64
}

var baselinePatterns = []baselinePattern{
	{Coding, regexp.MustCompile(`\b(write|create|implement|generate|build|refactor|fix|debug|optimi[sz]e)\b.*\b(code|function|class|method|script|program|bug|test)`), 2},
	{Reasoning, regexp.MustCompile(`\b(why|how|reason|logic|think|solve|prove|proof|deduce|step by step)\b`), 2},
	{Analysis, regexp.MustCompile(`\b(analy[sz]e|analysis|review|evaluate|assess|compare|examine|inspect|audit)\b`), 2},
	{Documentation, regexp.MustCompile(`\b(document|documentation|docs?|readme|comments?|docstrings?|describe|summar(y|ize))\b`), 2},
}

var baselineKeywords = []struct {
	cat   string
	words map[string]float64
}{
	{Coding, map[string]float64{"code": 1, "function": 1, "implement": 2, "refactor": 2, "debug": 2, "fix": 1.5, "bug": 1.5, "test": 1, "tests": 1, "class": 1, "method": 1, "script": 1, "compile": 1}},
	{Reasoning, map[string]float64{"why": 1, "reason": 2, "logic": 2, "think": 1.5, "solve": 2, "problem": 1, "algorithm": 1.5, "math": 2, "calculate": 2, "explain": 1}},
	{Analysis, map[string]float64{"performance": 1.5, "security": 1.5, "complexity": 1.5, "data": 1, "pattern": 1, "trend": 1, "metrics": 1, "compare": 1}},
	{Documentation, map[string]float64{"api": 1, "guide": 1.5, "tutorial": 1.5, "explain": 1, "describe": 1, "summary": 1}},
}

var wordRe = regexp.MustCompile(`[a-z][a-z0-9_'-]*`)
