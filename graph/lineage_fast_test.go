package graph

import (
	"encoding/json"
	"strings"
	"testing"
)

// appendString writes a JSON string that reads back as encoding/json's
// encoding of the same text does (invalid UTF-8 becoming U+FFFD), for
// every kind of byte.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", "0190b5c1-2f2a-7d3e-8a1b-000000000003", `quote " and \ backslash`,
		"tab\tnew\nline\rcarriage", "\x00\x01\x1f\b\f control", "é ü 漢字 🙂 unicode",
		"bad \xff utf-8 \xc3", "<html> & </html>", "end with escape\n",
	} {
		check(t, s)
	}
	// Every byte that needs escaping, at every position of a long string
	// (the plain runs are scanned 8 bytes at a time).
	for _, c := range []string{"\x00", "\x1f", "\"", "\\", "\x7f", "\x80", "\xff", "é", " "} {
		for i := range 24 {
			check(t, strings.Repeat("a", i)+c+strings.Repeat("b", 24-i))
		}
	}
}

// check fails unless appendString(s) is a JSON string that reads back as
// encoding/json's encoding of s does.
func check(t *testing.T, s string) {
	t.Helper()
	std, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got, want string
	if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
		t.Fatalf("%q: %s is not a JSON string: %v", s, appendString(nil, s), err)
	}
	if err := json.Unmarshal(std, &want); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("%q reads back as %q, want %q", s, got, want)
	}
}
