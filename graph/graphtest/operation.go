package graphtest

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// UIOperation is the UI's query name as its operations file (path, e.g.
// ui/src/api/operations.graphql) has it, with the fragments it spreads,
// so that a test or benchmark asks what the UI asks.
func UIOperation(path, name string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var op string
	frags := map[string]string{}
	// A definition starts at column 0 and ends at a "}" line.
	for _, def := range strings.SplitAfter(string(src), "\n}\n") {
		def = strings.TrimLeft(def, "\n")
		for strings.HasPrefix(def, "#") { // comments before it
			_, def, _ = strings.Cut(def, "\n")
		}
		f := strings.FieldsFunc(def, func(r rune) bool { return r == ' ' || r == '(' || r == '{' || r == '\n' })
		switch {
		case len(f) < 2:
		case f[0] == "fragment":
			frags[f[1]] = def
		case f[0] == "query" && f[1] == name:
			op = def
		}
	}
	if op == "" {
		return "", fmt.Errorf("%s has no query %s", path, name)
	}
	spread := regexp.MustCompile(`\.\.\.\s*(\w+)`)
	for more := true; more; {
		more = false
		for _, m := range spread.FindAllStringSubmatch(op, -1) {
			if text, ok := frags[m[1]]; ok {
				op += "\n" + text
				delete(frags, m[1])
				more = true
			}
		}
	}
	return op, nil
}
