package pgtest

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Fake is a listening endpoint on 127.0.0.1 that speaks just enough of
// PostgreSQL's protocol to ask every client for its password in clear
// text: it declines SSL, reads the startup message, asks for the password,
// records all that clients send, and answers that authentication failed.
// Tests use it to see what a client would give away to a host it was
// pointed at.
type Fake struct {
	Addr string // host:port

	mu       sync.Mutex
	conns    int
	received []byte
}

// NewFake starts a Fake for a test; it stops when the test ends.
func NewFake(tb testing.TB) *Fake {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &Fake{Addr: l.Addr().String()}
	var wg sync.WaitGroup
	tb.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { f.serve(c) })
		}
	})
	return f
}

// Seen returns how many connections the Fake accepted and every byte
// their clients sent.
func (f *Fake) Seen() (conns int, received string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, string(f.received)
}

func (f *Fake) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	f.mu.Lock()
	f.conns++
	f.mu.Unlock()
	read := func(n int) []byte {
		if n < 0 || n > 1<<20 {
			return nil
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(c, b); err != nil {
			return nil
		}
		f.mu.Lock()
		f.received = append(f.received, b...)
		f.mu.Unlock()
		return b
	}
	for {
		head := read(8) // length, then the protocol version or a request code
		if head == nil || read(int(binary.BigEndian.Uint32(head[:4]))-8) == nil {
			return
		}
		if code := binary.BigEndian.Uint32(head[4:]); code != 80877103 && code != 80877104 { // SSLRequest, GSSENCRequest
			break
		}
		c.Write([]byte("N"))
	}
	c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}) // AuthenticationCleartextPassword
	if head := read(5); head != nil {
		read(int(binary.BigEndian.Uint32(head[1:])) - 4) // the PasswordMessage
	}
	var fields []byte
	for _, s := range []string{"SFATAL", "VFATAL", "C28P01", "Mpassword authentication failed"} {
		fields = append(append(fields, s...), 0)
	}
	fields = append(fields, 0)
	msg := append([]byte{'E'}, binary.BigEndian.AppendUint32(nil, uint32(4+len(fields)))...)
	c.Write(append(msg, fields...))
}
