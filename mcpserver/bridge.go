package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BridgeOptions configure Bridge.
type BridgeOptions struct {
	// URL is the server's MCP endpoint, e.g. http://127.0.0.1:8080/mcp.
	URL string
	// Token is sent as Authorization: Bearer; empty sends none (an open
	// server on this machine).
	Token string
	// HTTPClient makes the requests; nil means http.DefaultClient's
	// transport.
	HTTPClient *http.Client
	Logger     *slog.Logger // nil means slog.Default()
}

// Bridge relays MCP messages between a client that launched this process
// (newline-delimited JSON-RPC on in and out, MCP's stdio transport) and a
// server's streamable HTTP endpoint, until in ends or ctx is done. It
// relays rather than interprets: the server answers everything, with the
// token's access. A request the server refuses (a bad token: 401) is
// answered with a JSON-RPC error that says why, and the bridge goes on: the
// server is stateless, so a new connection serves the next request.
func Bridge(ctx context.Context, in io.Reader, out io.Writer, o BridgeOptions) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	base := http.DefaultTransport
	if o.HTTPClient != nil && o.HTTPClient.Transport != nil {
		base = o.HTTPClient.Transport
	}
	rt := &bridgeTransport{base: base, token: o.Token}
	client := &http.Client{Transport: rt}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		c.Transport = rt
		client = &c
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	local, err := (&mcp.IOTransport{Reader: io.NopCloser(in), Writer: nopCloser{out}}).Connect(ctx)
	if err != nil {
		return err
	}
	defer local.Close()
	b := &bridge{ctx: ctx, local: local, rt: rt, log: o.Logger, dial: func() (mcp.Connection, error) {
		return (&mcp.StreamableClientTransport{Endpoint: o.URL, HTTPClient: client, DisableStandaloneSSE: true, MaxRetries: -1}).Connect(ctx)
	}}
	defer b.close()
	// Calls go out side by side: the server answers each when its tool is
	// done, and a slow one should not hold back the others. The rest
	// (initialize, notifications, responses) go in order.
	var calls sync.WaitGroup
	defer calls.Wait()
	for {
		msg, err := local.Read(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading from the client: %w", err)
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() && req.Method != "initialize" {
			calls.Go(func() {
				if err := b.send(msg); err != nil {
					b.log.Warn("answering the client", "err", err)
				}
			})
			continue
		}
		if err := b.send(msg); err != nil {
			return err
		}
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type bridge struct {
	ctx   context.Context
	local mcp.Connection
	rt    *bridgeTransport
	log   *slog.Logger
	dial  func() (mcp.Connection, error)

	mu      sync.Mutex
	remote  mcp.Connection
	initID  jsonrpc.ID // the client's initialize request, whose answer names the protocol version
	writeMu sync.Mutex // the local connection's writes
}

// send relays one message from the client to the server.
func (b *bridge) send(msg jsonrpc.Message) error {
	req, isReq := msg.(*jsonrpc.Request)
	if isReq && req.Method == "initialize" {
		b.mu.Lock()
		b.initID = req.ID
		b.mu.Unlock()
	}
	remote, err := b.connection()
	if err != nil {
		return err
	}
	var refused string // why the server refused it, as the transport read its answer
	err = remote.Write(context.WithValue(b.ctx, refusedKey{}, &refused), msg)
	if err == nil {
		return nil
	}
	if b.ctx.Err() != nil {
		return nil
	}
	// The connection may be broken for good (the SDK's client fails it on
	// a refusal): the next message gets a new one.
	b.drop(remote)
	if !isReq || !req.IsCall() {
		b.log.Warn("the server did not take a notification", "method", msgMethod(msg), "err", err)
		return nil
	}
	why := err.Error()
	if refused != "" {
		why = refused
	}
	return b.reply(&jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the Quarry server refused the request: " + why}})
}

func msgMethod(m jsonrpc.Message) string {
	if r, ok := m.(*jsonrpc.Request); ok {
		return r.Method
	}
	return ""
}

// connection returns the connection to the server, dialing one (and
// starting its relay back to the client) when there is none.
func (b *bridge) connection() (mcp.Connection, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.remote != nil {
		return b.remote, nil
	}
	c, err := b.dial()
	if err != nil {
		return nil, fmt.Errorf("connecting to the server: %w", err)
	}
	b.remote = c
	go b.receive(c)
	return c, nil
}

func (b *bridge) drop(c mcp.Connection) {
	b.mu.Lock()
	if b.remote == c {
		b.remote = nil
	}
	b.mu.Unlock()
	c.Close()
}

func (b *bridge) close() {
	b.mu.Lock()
	c := b.remote
	b.remote = nil
	b.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// receive relays the server's messages on c to the client until c ends.
func (b *bridge) receive(c mcp.Connection) {
	for {
		msg, err := c.Read(b.ctx)
		if err != nil {
			return
		}
		if resp, ok := msg.(*jsonrpc.Response); ok && resp.Error == nil {
			b.mu.Lock()
			isInit := b.initID.IsValid() && resp.ID == b.initID
			b.mu.Unlock()
			if isInit {
				var r struct {
					ProtocolVersion string `json:"protocolVersion"`
				}
				if json.Unmarshal(resp.Result, &r) == nil && r.ProtocolVersion != "" {
					b.rt.version.Store(&r.ProtocolVersion)
				}
			}
		}
		if err := b.reply(msg); err != nil {
			b.log.Warn("writing to the client", "err", err)
			return
		}
	}
}

func (b *bridge) reply(msg jsonrpc.Message) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	return b.local.Write(b.ctx, msg)
}

// bridgeTransport adds the token and the negotiated protocol version to
// each request (the SDK's client adds the version only for a session it
// initialized itself), and says why the server refused one in the string
// its context holds under refusedKey.
type bridgeTransport struct {
	base    http.RoundTripper
	token   string
	version atomic.Pointer[string]
}

type refusedKey struct{}

func (t *bridgeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if t.token != "" {
		r.Header.Set("Authorization", "Bearer "+t.token)
	}
	if v := t.version.Load(); v != nil && r.Header.Get("Mcp-Protocol-Version") == "" {
		r.Header.Set("Mcp-Protocol-Version", *v)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	// Quarry's error answer: {"error": {"code", "message"}}. Read it, and
	// give the SDK the same bytes.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	why := resp.Status
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		why += ": " + e.Error.Message
	} else if s := strings.TrimSpace(string(body)); s != "" {
		why += ": " + s
	}
	if p, ok := r.Context().Value(refusedKey{}).(*string); ok {
		*p = why
	}
	return resp, nil
}
