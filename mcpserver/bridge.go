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
	"time"

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
	b := &bridge{ctx: ctx, local: local, rt: rt, log: o.Logger, pending: map[jsonrpc.ID]*call{}, dead: map[mcp.Connection]bool{},
		dial: func() (mcp.Connection, error) {
			return (&mcp.StreamableClientTransport{Endpoint: o.URL, HTTPClient: client, DisableStandaloneSSE: true, MaxRetries: -1}).Connect(ctx)
		}}
	defer b.close()
	// Calls go out side by side: the server answers each when its tool is
	// done, and a slow one should not hold back the others. The rest
	// (initialize, notifications, responses) go in order.
	var sending sync.WaitGroup
	for {
		msg, err := local.Read(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				// The client said all it had to say (a pipe closes its end
				// after the last request): answer what it asked first.
				sending.Wait()
				b.drain(drainWait)
				return nil
			}
			return fmt.Errorf("reading from the client: %w", err)
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() && req.Method != "initialize" {
			sending.Go(func() { b.send(msg) })
			continue
		}
		b.send(msg)
	}
}

// drainWait bounds the wait for the answers of a client that closed its
// input: more than the server's own bound on a call.
const drainWait = 30 * time.Second

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
	initID  jsonrpc.ID              // the client's initialize request, whose answer names the protocol version
	pending map[jsonrpc.ID]*call    // the client's calls not answered yet
	dead    map[mcp.Connection]bool // connections whose relay ended
	drained chan struct{}           // closed when pending empties, while drain waits
	// answering counts the answers taken off pending and not yet written.
	answering sync.WaitGroup
	writeMu   sync.Mutex // the local connection's writes
}

// call is a request of the client's that awaits its answer. While send
// writes it, a failure is send's to answer (it knows why); after, the
// relay's that ends with the connection.
type call struct {
	conn    mcp.Connection
	writing bool
}

// send relays one message from the client to the server. A call that
// cannot be sent is answered with a JSON-RPC error that says why.
func (b *bridge) send(msg jsonrpc.Message) {
	req, isCall := msg.(*jsonrpc.Request)
	isCall = isCall && req.IsCall()
	if isCall && req.Method == "initialize" {
		b.mu.Lock()
		b.initID = req.ID
		b.mu.Unlock()
	}
	remote, err := b.connection()
	if err != nil {
		b.fail(msg, err.Error())
		return
	}
	if isCall {
		b.mu.Lock()
		b.pending[req.ID] = &call{conn: remote, writing: true}
		b.mu.Unlock()
	}
	var refused string // why the server refused it, as the transport read its answer
	err = remote.Write(context.WithValue(b.ctx, refusedKey{}, &refused), msg)
	if err == nil {
		if isCall {
			b.mu.Lock()
			c := b.pending[req.ID]
			orphan := c != nil && b.dead[remote] // its connection ended while it was written
			if c != nil {
				c.writing = false
			}
			b.mu.Unlock()
			if orphan {
				b.fail(msg, "the connection to the server broke")
			}
		}
		return
	}
	if b.ctx.Err() != nil {
		return
	}
	// The connection may be broken for good (the SDK's client fails it on
	// a refusal): the next message gets a new one.
	b.drop(remote)
	if refused != "" {
		b.fail(msg, refused)
	} else {
		b.fail(msg, err.Error())
	}
}

// fail answers msg, if it is a call still pending, with an error.
func (b *bridge) fail(msg jsonrpc.Message, why string) {
	req, ok := msg.(*jsonrpc.Request)
	if !ok || !req.IsCall() {
		b.log.Warn("the server did not take a message", "method", msgMethod(msg), "err", why)
		return
	}
	b.answer(req.ID, &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the Quarry server refused the request: " + why}})
}

// answer writes msg to the client as the answer of the pending call id;
// nothing when it is not pending (answered already).
func (b *bridge) answer(id jsonrpc.ID, msg jsonrpc.Message) error {
	b.mu.Lock()
	if _, ok := b.pending[id]; !ok {
		b.mu.Unlock()
		return nil
	}
	delete(b.pending, id)
	b.answering.Add(1) // before drain hears that none is pending
	if len(b.pending) == 0 && b.drained != nil {
		close(b.drained)
		b.drained = nil
	}
	b.mu.Unlock()
	defer b.answering.Done()
	return b.reply(msg)
}

// drain waits until every pending call is answered, at most d.
func (b *bridge) drain(d time.Duration) {
	b.mu.Lock()
	if len(b.pending) == 0 {
		b.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	b.drained = ch
	b.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		b.answering.Wait()
	case <-t.C:
		b.log.Warn("the server did not answer every request in time", "wait", d)
	case <-b.ctx.Done():
	}
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

// receive relays the server's messages on c to the client until c ends;
// then the calls that went out on it and await their answers get an error.
func (b *bridge) receive(c mcp.Connection) {
	err := b.relay(c)
	b.drop(c)
	b.mu.Lock()
	b.dead[c] = true
	var orphans []jsonrpc.ID
	for id, p := range b.pending {
		if p.conn == c && !p.writing {
			orphans = append(orphans, id)
		}
	}
	b.mu.Unlock()
	for _, id := range orphans {
		b.answer(id, &jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("the connection to the Quarry server broke: %v", err)}})
	}
}

func (b *bridge) relay(c mcp.Connection) error {
	for {
		msg, err := c.Read(b.ctx)
		if err != nil {
			return err
		}
		if resp, ok := msg.(*jsonrpc.Response); ok {
			b.mu.Lock()
			isInit := resp.Error == nil && b.initID.IsValid() && resp.ID == b.initID
			b.mu.Unlock()
			if isInit {
				var r struct {
					ProtocolVersion string `json:"protocolVersion"`
				}
				if json.Unmarshal(resp.Result, &r) == nil && r.ProtocolVersion != "" {
					b.rt.version.Store(&r.ProtocolVersion)
				}
			}
			if err := b.answer(resp.ID, msg); err != nil {
				return fmt.Errorf("writing to the client: %w", err)
			}
			continue
		}
		if err := b.reply(msg); err != nil {
			return fmt.Errorf("writing to the client: %w", err)
		}
	}
}

func (b *bridge) reply(msg jsonrpc.Message) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	err := b.local.Write(b.ctx, msg)
	if err != nil && b.ctx.Err() == nil {
		b.log.Warn("writing to the client", "err", err)
	}
	return err
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
