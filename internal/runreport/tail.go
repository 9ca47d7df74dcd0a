package runreport

import (
	"bytes"
	"strings"
	"sync"
)

// Tail keeps the end of what is written to it: the last MaxBytes bytes,
// of which Lines returns the last MaxLines lines. It is what a failed
// run's errorMessage facet says, bounded whatever the command writes.
type Tail struct {
	MaxLines int // zero means 20
	MaxBytes int // zero means 4096

	mu  sync.Mutex
	buf []byte
	cut bool // bytes were dropped from the front
}

// Write keeps the end of p; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	max := t.MaxBytes
	if max <= 0 {
		max = 4096
	}
	n := len(p)
	if len(p) >= max {
		t.buf, t.cut = append(t.buf[:0], p[len(p)-max:]...), true
		return n, nil
	}
	if over := len(t.buf) + len(p) - max; over > 0 {
		t.buf, t.cut = append(t.buf[:0], t.buf[over:]...), true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// Lines returns the last lines written, without a trailing newline, with
// secrets redacted (RedactText, and the extra strings). A line cut by the
// byte bound is dropped unless it is the only one.
func (t *Tail) Lines(extra ...string) string {
	t.mu.Lock()
	b := bytes.TrimRight(t.buf, "\r\n")
	cut := t.cut
	t.mu.Unlock()
	lines := strings.Split(string(b), "\n")
	if cut && len(lines) > 1 {
		lines = lines[1:]
	}
	max := t.MaxLines
	if max <= 0 {
		max = 20
	}
	if len(lines) > max {
		lines = lines[len(lines)-max:]
	}
	return RedactText(strings.ToValidUTF8(strings.Join(lines, "\n"), "�"), extra...)
}
