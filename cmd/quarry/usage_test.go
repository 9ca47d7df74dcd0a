package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUsageComplete: the binary's usage text and the README's "Running
// it" list every command and every flag the binary takes, and no other,
// within 100 columns. The commands come from `quarry help`, each one's
// flags from `quarry COMMAND -h`: a flag added without a word in either
// fails here.
func TestUsageComplete(t *testing.T) {
	help, err := exec.Command(binary, "help").Output()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	running := string(readme)
	if i := strings.Index(running, "\n## Running it\n"); i < 0 {
		t.Fatal(`README.md has no "## Running it"`)
	} else {
		running = running[i:]
	}
	a := strings.Index(running, "```\n")
	b := strings.Index(running[a+4:], "```\n")
	if a < 0 || b < 0 {
		t.Fatal(`README.md's "Running it" does not begin with a code block`)
	}
	docs := map[string]map[string]string{
		"quarry help":              commandEntries(t, string(help)),
		`README.md's "Running it"`: commandEntries(t, running[a+4:a+4+b]),
	}

	commands := slices.Sorted(func(yield func(string) bool) {
		for c := range docs["quarry help"] {
			if !yield(c) {
				return
			}
		}
	})
	if !slices.Contains(commands, "serve") || !slices.Contains(commands, "index rebuild") {
		t.Fatalf("quarry help lists the commands %q", commands)
	}
	flagName := regexp.MustCompile(`(?m)^  -([a-z-]+)`)
	mentioned := regexp.MustCompile(`--([a-z][a-z-]*)`)
	for _, c := range commands {
		var flags []string
		if c != "version" {
			out, _ := exec.Command(binary, append(strings.Fields(c), "-h")...).CombinedOutput()
			for _, m := range flagName.FindAllStringSubmatch(string(out), -1) {
				flags = append(flags, m[1])
			}
			if len(flags) == 0 {
				t.Fatalf("quarry %s -h lists no flags:\n%s", c, out)
			}
		}
		for doc, entries := range docs {
			entry, ok := entries[c]
			if !ok {
				t.Errorf("%s does not list quarry %s", doc, c)
				continue
			}
			for _, f := range flags {
				if !regexp.MustCompile(`--` + f + `\b[^-]`).MatchString(entry + " ") {
					t.Errorf("%s does not list quarry %s's flag --%s:\n%s", doc, c, f, entry)
				}
			}
			for _, m := range mentioned.FindAllStringSubmatch(entry, -1) {
				if !slices.Contains(flags, m[1]) {
					t.Errorf("%s lists --%s for quarry %s, which has no such flag", doc, m[1], c)
				}
			}
		}
	}
	for doc, entries := range docs {
		for c, entry := range entries {
			if !slices.Contains(commands, c) {
				t.Errorf("%s lists quarry %s, which quarry help does not", doc, c)
			}
			for line := range strings.Lines(entry) {
				if n := utf8.RuneCountInString(strings.TrimRight(line, "\n")); n > 100 {
					t.Errorf("%s: a line of %d columns, want at most 100: %q", doc, n, line)
				}
			}
		}
	}
}

// commandEntries reads a usage text: each line "quarry COMMAND ..." and
// the indented lines after it are COMMAND's entry. COMMAND is the words
// before the first flag or argument ("index rebuild").
func commandEntries(t *testing.T, text string) map[string]string {
	t.Helper()
	entries := map[string]string{}
	var cur string
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "quarry "):
			var words []string
			for _, w := range strings.Fields(trimmed)[1:] {
				if !regexp.MustCompile(`^[a-z]+$`).MatchString(w) {
					break
				}
				words = append(words, w)
			}
			cur = strings.Join(words, " ")
			entries[cur] += line
		case cur != "" && strings.HasPrefix(line, " ") && trimmed != "":
			entries[cur] += line
		default:
			cur = ""
		}
	}
	if len(entries) == 0 {
		t.Fatalf("no command in:\n%s", text)
	}
	return entries
}
