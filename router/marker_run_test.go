package router_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lsp-router/lsp-router/router"
	"github.com/lsp-router/lsp-router/router/codectx"
	"github.com/lsp-router/lsp-router/router/edits"
	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

func TestRunTakesTheInstructionFromAMarkerComment(t *testing.T) {
	srv := llmtest.New(llm.KindOllama, llmtest.Options{Reply: goAnswer})
	defer srv.Close()
	p := newPipeline(t, &fixedServices{services: []llm.Service{serviceOf(srv, "Ollama", 10)}}, nil)
	withMarker := strings.Replace(goSource, "func reverseWords", "// lsp-router: use slices.Reverse\nfunc reverseWords", 1)
	req := request(router.ActionRefactor, "")
	req.Query.Text = withMarker
	req.Query.Position = codectx.Position{Line: 5, Character: 5}
	res, err := p.Run(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Chats()[0].Messages
	prompt := msgs[len(msgs)-1].Content
	if !strings.Contains(prompt, "use slices.Reverse") || strings.Contains(msgs[0].Content+prompt, "lsp-router:") {
		t.Errorf("prompt:\n%s", prompt)
	}
	var tes []edits.TextEdit
	for _, e := range res.Edits[0].Edits {
		tes = append(tes, edits.TextEdit{Range: e.Range, NewText: e.NewText})
	}
	got, err := edits.Apply(withMarker, tes)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(goSource, "\tfor i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {\n\t\twords[i], words[j] = words[j], words[i]\n\t}\n", "\tslices.Reverse(words)\n", 1)
	if got != want {
		t.Errorf("applied:\n%s\nwant:\n%s", got, want)
	}

	// Ask: the question comes from the marker; no edit.
	req = request(router.ActionAsk, "")
	req.Query.Text = strings.Replace(goSource, "\twords := strings.Fields(s)", "\t// lsp-router: why not strings.Split?\n\twords := strings.Fields(s)", 1)
	req.Query.Position = codectx.Position{Line: 5}
	res, err = p.Run(context.Background(), req, nil)
	if err != nil || len(res.Edits) != 0 {
		t.Fatalf("ask: %v %+v", err, res)
	}
	msgs = srv.Chats()[1].Messages
	if last := msgs[len(msgs)-1].Content; !strings.Contains(last, "why not strings.Split?") || strings.Contains(last, "lsp-router:") {
		t.Errorf("ask prompt:\n%s", last)
	}
}
