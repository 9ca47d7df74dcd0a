package viewsql

import (
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// vitess's grammar has UNION but not INTERSECT or EXCEPT, which MariaDB
// (10.3+) and MySQL (8.0.31+) accept and print in VIEW_DEFINITION. For
// lineage they are unions with one difference: the rows of an EXCEPT's
// right side never reach the output, they only remove rows. So the text is
// rewritten before parsing: each INTERSECT or EXCEPT outside strings,
// quoted names and comments becomes UNION, and the SELECT after an EXCEPT
// is marked with a comment, which vitess keeps on the Select node. The
// resolver reads a marked branch's columns as INDIRECT/FILTER. An INTERSECT
// branch stays DIRECT: its values are the output's values too.

const exceptMark = "viewsql:except"

// rewriteSetOps returns sql with INTERSECT and EXCEPT rewritten, or sql
// itself when it has neither.
func rewriteSetOps(sql string) string {
	lower := strings.ToLower(sql)
	if !strings.Contains(lower, "intersect") && !strings.Contains(lower, "except") {
		return sql
	}
	var b strings.Builder
	b.Grow(len(sql) + 32)
	marking := false // after EXCEPT, until its SELECT
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := quotedEnd(sql, i)
			b.WriteString(sql[i:j])
			i = j
		case c == '#' || (c == '-' && strings.HasPrefix(sql[i:], "-- ")):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				b.WriteString(sql[i:])
				return b.String()
			}
			b.WriteString(sql[i : i+2+j+2])
			i += 2 + j + 2
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			word := sql[i:j]
			prevDot := i > 0 && sql[i-1] == '.'
			switch {
			case prevDot:
				b.WriteString(word)
			case strings.EqualFold(word, "intersect"):
				b.WriteString("union")
			case strings.EqualFold(word, "except"):
				b.WriteString("union")
				marking = true
			case marking && strings.EqualFold(word, "select"):
				b.WriteString(word + " /* " + exceptMark + " */")
				marking = false
			case marking && (strings.EqualFold(word, "all") || strings.EqualFold(word, "distinct")):
				b.WriteString(word)
			default:
				marking = false
				b.WriteString(word)
			}
			i = j
		default:
			if marking && c != '(' && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				marking = false
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// quotedEnd returns the index just past the quoted string or name that
// starts at i: a doubled quote stays inside, and so does a
// backslash-escaped one in a string.
func quotedEnd(sql string, i int) int {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isExcept says whether a UNION branch was the right side of an EXCEPT.
func isExcept(stmt sqlparser.TableStatement) bool {
	s, ok := stmt.(*sqlparser.Select)
	if !ok || s.Comments == nil {
		return false
	}
	for _, c := range s.Comments.GetComments() {
		if strings.Contains(c, exceptMark) {
			return true
		}
	}
	return false
}
