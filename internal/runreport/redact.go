package runreport

import (
	"regexp"
	"strings"
)

// Redacted replaces a secret in a command line.
const Redacted = "***"

// secretWord matches a name that says its value is a secret: a flag
// (--password, --api-key), an environment variable (PGPASSWORD,
// AWS_SECRET_ACCESS_KEY) or a parameter (token=...). Redacting a value
// that was no secret costs a reader little; showing one that was costs
// much more, so the words are broad.
const secretWord = `(?i:pass|secret|token|key|auth|credential)`

var (
	// NAME=VALUE anywhere in an argument (a flag's --password=x, an
	// assignment PGPASSWORD=x in a `sh -c` script, a DSN's password=x):
	// the value runs to a space, quote, semicolon or ampersand.
	assignment = regexp.MustCompile(`((?:^|[\s"'&?;(])[A-Za-z0-9_.-]*` + secretWord + `[A-Za-z0-9_.-]*=)([^\s"'&;)]+)`)
	// The password of a URL's user info: scheme://user:password@host.
	urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"']*:)([^@\s/"']+)(@)`)
	// An HTTP Authorization header, as curl -H takes it.
	authHeader = regexp.MustCompile(`(?i)(authorization:\s*(?:bearer\s+|basic\s+|token\s+)?)(\S+)`)
	// A flag that takes its value as the next argument: --password VALUE.
	secretFlag = regexp.MustCompile(`^-{1,2}[A-Za-z0-9_.-]*` + secretWord + `[A-Za-z0-9_.-]*$`)
)

// RedactArgs returns a command's arguments with the secrets they carry
// replaced by Redacted: values of NAME=VALUE where NAME says secret (flags
// and environment assignments alike, also inside a `sh -c` script), the
// argument after such a flag (--password VALUE), an attached -pVALUE (the
// MySQL clients' password), URL passwords (postgres://user:pw@host), HTTP
// Authorization headers, and every occurrence of the extra strings given
// (the token Quarry itself sends). args is not changed.
func RedactArgs(args []string, extra ...string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if i > 0 && secretFlag.MatchString(args[i-1]) && !strings.Contains(args[i-1], "=") && !strings.HasPrefix(a, "-") {
			out[i] = Redacted
			continue
		}
		if i > 0 && len(a) > 2 && strings.HasPrefix(a, "-p") && !strings.HasPrefix(a, "--") {
			out[i] = "-p" + Redacted
			continue
		}
		out[i] = RedactText(a, extra...)
	}
	return out
}

// RedactText redacts the secrets RedactArgs finds inside one argument,
// in any text: assignments, URL passwords, Authorization headers and the
// extra strings.
func RedactText(s string, extra ...string) string {
	for _, e := range extra {
		if len(e) >= 4 {
			s = strings.ReplaceAll(s, e, Redacted)
		}
	}
	s = assignment.ReplaceAllString(s, "${1}"+Redacted)
	s = urlPassword.ReplaceAllString(s, "${1}"+Redacted+"${3}")
	return authHeader.ReplaceAllString(s, "${1}"+Redacted)
}

// CommandLine joins arguments into one line a shell would split back into
// them: an argument with a space or a shell character is single-quoted.
func CommandLine(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if !strings.ContainsAny(s, " \t\n\"'\\$`|&;<>()*?[]{}#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
