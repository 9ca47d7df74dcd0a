package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/quarrydata/quarry/mcpserver"
)

// runMCP bridges an MCP client that launches a command (stdio) to a
// server's /mcp endpoint. Stdout carries the protocol: messages go to
// stderr.
func runMCP(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("mcp", stderr)
	server := fs.String("server", "", "URL of the server, e.g. https://quarry.example.com (default: the one holding --data, else http://127.0.0.1:8080)")
	data := fs.String("data", "./quarry-data", "data directory of a local server")
	token := fs.String("token", "", "API token to send (default $"+tokenEnv+", which keeps it out of the process list)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("mcp takes no arguments, got %q", fs.Args())}
	}
	base := *server
	if base == "" {
		var err error
		if base, err = runningServer(*data); err != nil {
			base = "http://127.0.0.1:8080"
		}
	}
	endpoint, err := mcpEndpoint(base)
	if err != nil {
		return usageError{err.Error()}
	}
	tok := strings.TrimSpace(*token)
	if tok == "" {
		tok = strings.TrimSpace(os.Getenv(tokenEnv))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return mcpserver.Bridge(ctx, stdin, stdout, mcpserver.BridgeOptions{URL: endpoint, Token: tok, Logger: log})
}

// mcpEndpoint is the server's MCP endpoint: a URL without a path gets /mcp.
func mcpEndpoint(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--server: %q is not an http(s) URL", server)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/mcp"
	}
	return u.String(), nil
}
