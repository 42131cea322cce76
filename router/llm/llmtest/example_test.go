package llmtest_test

import (
	"context"
	"fmt"

	"github.com/lsp-router/lsp-router/router/llm"
	"github.com/lsp-router/lsp-router/router/llm/llmtest"
)

// A double of llama-server that answers a fixed text; the test then checks
// what the server saw.
func ExampleNew() {
	srv := llmtest.New(llm.KindLlamaCpp, llmtest.Options{Reply: "Hello, world."})
	defer srv.Close()

	c := llm.NewClient(llm.Service{Kind: llm.KindLlamaCpp, Endpoint: srv.URL}, nil, llm.Options{})
	var answer string
	_, err := c.Chat(context.Background(), llm.ChatRequest{
		Model:    llmtest.DefaultModel(llm.KindLlamaCpp).ID,
		Messages: []llm.Message{{Role: "user", Content: "greet"}},
	}, func(delta string) error { answer += delta; return nil })
	fmt.Println(answer, err, srv.Generations())
	// Output: Hello, world. <nil> 1
}
