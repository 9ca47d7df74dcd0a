package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMCPStdio: an MCP client launches `quarry mcp` as the README's stdio
// config says (its server pointed at `quarry serve --demo`) and asks the
// catalog through it. The server is open (loopback, no auth): the
// read-only tools are listed, the edits are not.
func TestMCPStdio(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var stdio struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		} `json:"mcpServers"`
	}
	blocks := regexp.MustCompile("(?s)```json\n(\\{\n  \"mcpServers\".*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) != 2 {
		t.Fatalf("README.md has %d MCP config snippets, want 2 (stdio and HTTP)", len(blocks))
	}
	for _, b := range blocks {
		var v any
		if err := json.Unmarshal(b[1], &v); err != nil {
			t.Fatalf("README.md's MCP config is not JSON: %v\n%s", err, b[1])
		}
	}
	if err := json.Unmarshal(blocks[0][1], &stdio); err != nil {
		t.Fatal(err)
	}
	cfg := stdio.MCPServers["quarry"]
	if cfg.Command != "quarry" || len(cfg.Args) < 3 || cfg.Args[0] != "mcp" || cfg.Args[1] != "--server" {
		t.Fatalf("README.md's stdio config: %+v", cfg)
	}

	p := start(t, "--data", t.TempDir(), "--demo")
	waitSearchReady(t, p)
	args := slices.Clone(cfg.Args)
	args[2] = "http://" + p.addr
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), tokenEnv+"=") // an open server: no token
	c := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
	ctx := context.Background()
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if !slices.Contains(names, "get_dataset") || slices.Contains(names, "update_description") {
		t.Errorf("an open server's tools: %v", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search_datasets", Arguments: map[string]any{"query": "daily revenue", "limit": 1}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	if res.IsError || !strings.Contains(string(raw), `"name":"analytics.reporting.daily_revenue"`) {
		t.Errorf("search through quarry mcp: %s", raw)
	}
}
