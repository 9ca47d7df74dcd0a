package crawler

// Column-level lineage of PostgreSQL views, read from the view's rewrite
// rule rather than from its SQL text.
//
// A view (or materialized view) is stored as a _RETURN rule whose action,
// pg_rewrite.ev_action, is a pg_node_tree: the parsed and analyzed Query in
// PostgreSQL's node serialization (src/backend/nodes/outfuncs.c, read back by
// read.c). This file has a small generic reader for that text and a resolver
// that follows each output column's Vars through subqueries, joins, CTEs,
// GROUP BY entries (PG 18) and set operations down to base-relation columns.
//
// The lineage is projection lineage: the columns an output value is computed
// from. Columns that only filter or group rows (WHERE, JOIN ... ON, GROUP BY,
// HAVING, EXISTS subqueries) are not sources.

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ColumnSource is a base-relation column that a view's output column reads.
type ColumnSource struct {
	Relid  uint32 // pg_class OID of the relation read
	Attnum int16  // its column number
	Direct bool   // true when the output column is that column, unchanged (a bare Var); false when it is computed from it (an expression, aggregate, CASE, function...)
}

// ViewColumnLineage parses a view's _RETURN rule (pg_rewrite.ev_action as text)
// and returns, for each output column (1-based resno of non-junk target entries),
// the base-relation columns it reads. Columns that read nothing (constants) are absent.
//
// A relation read may itself be a view: lineage is one hop, so a view over a
// view names the inner view's columns. A source is Direct when every hop from
// the output column down to it is a bare Var; a column merged by a set
// operation (UNION ...) is Direct from a branch's column when that branch
// passes it through unchanged. Sources are sorted by relation and column,
// and a column read both directly and through an expression counts as not
// Direct. Parts of the tree that cannot be resolved (unknown range-table
// kinds, references out of range) are skipped; the error is only for text
// that is not a well-formed node tree holding a Query.
func ViewColumnLineage(evAction string) (map[int][]ColumnSource, error) {
	tree, err := parsePGNodeTree(evAction)
	if err != nil {
		return nil, err
	}
	query := firstQuery(tree)
	if query == nil {
		return nil, errors.New("pg_node_tree: no QUERY node in rule action")
	}
	r := &lineageResolver{inProgress: map[resolveKey]bool{}}
	out := map[int][]ColumnSource{}
	for _, te := range query.list("targetList") {
		ten, ok := te.(*pgNode)
		if !ok || ten.name != "TARGETENTRY" || ten.boolean("resjunk") {
			continue
		}
		resno, ok := ten.integer("resno")
		if !ok || resno <= 0 {
			continue
		}
		var acc sourceSet
		r.resolveTarget([]*pgNode{query}, int(resno), true, &acc)
		if srcs := acc.sorted(); len(srcs) > 0 {
			out[int(resno)] = srcs
		}
	}
	return out, nil
}

// firstQuery finds the rule's Query: ev_action is a list of Querys, one for
// a _RETURN rule.
func firstQuery(v any) *pgNode {
	switch v := v.(type) {
	case *pgNode:
		if v.name == "QUERY" {
			return v
		}
	case pgList:
		for _, e := range v {
			if q := firstQuery(e); q != nil {
				return q
			}
		}
	}
	return nil
}

// --- Resolution ---------------------------------------------------------

type sourceKey struct {
	relid  uint32
	attnum int16
}

// sourceSet accumulates the sources of one output column, deduplicated; a
// column is Direct only if every path to it is.
type sourceSet struct {
	order []sourceKey
	isDir map[sourceKey]bool
}

func (s *sourceSet) add(relid uint32, attnum int16, direct bool) {
	if s.isDir == nil {
		s.isDir = map[sourceKey]bool{}
	}
	k := sourceKey{relid, attnum}
	if d, seen := s.isDir[k]; seen {
		s.isDir[k] = d && direct
		return
	}
	s.isDir[k] = direct
	s.order = append(s.order, k)
}

func (s *sourceSet) sorted() []ColumnSource {
	out := make([]ColumnSource, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, ColumnSource{Relid: k.relid, Attnum: k.attnum, Direct: s.isDir[k]})
	}
	slices.SortFunc(out, func(a, b ColumnSource) int {
		if c := cmp.Compare(a.Relid, b.Relid); c != 0 {
			return c
		}
		return cmp.Compare(a.Attnum, b.Attnum)
	})
	return out
}

// resolveKey marks a (query, output column) being resolved, to cut cycles
// (recursive CTEs refer to themselves). The value records whether the
// column was re-entered through an expression.
type resolveKey struct {
	query *pgNode
	resno int
}

type lineageResolver struct {
	inProgress map[resolveKey]bool // true: re-entered through an expression
}

// maxQueryDepth bounds query nesting during resolution; real views are far
// shallower, and a malicious or corrupt tree must not recurse forever.
const maxQueryDepth = 200

// resolveTarget adds the sources of output column resno of the query on top
// of stack (the enclosing queries below it, for outer references). direct
// says whether every hop so far was a bare Var.
func (r *lineageResolver) resolveTarget(stack []*pgNode, resno int, direct bool, acc *sourceSet) {
	if len(stack) > maxQueryDepth {
		return
	}
	q := stack[len(stack)-1]
	key := resolveKey{q, resno}
	if _, busy := r.inProgress[key]; busy {
		// A cycle (a recursive CTE reading itself): the sources are those
		// found on the other paths, but if this path computes the column,
		// none of them is passed through unchanged.
		if !direct {
			r.inProgress[key] = true
		}
		return
	}
	r.inProgress[key] = false
	outer := acc
	acc = &sourceSet{}
	defer func() {
		computed := r.inProgress[key]
		delete(r.inProgress, key)
		for _, k := range acc.order {
			outer.add(k.relid, k.attnum, acc.isDir[k] && !computed)
		}
	}()

	// A set operation's own target list only reads its leftmost branch; the
	// column is the union of the column in every branch.
	if setOp, ok := q.field("setOperations").(*pgNode); ok {
		rtable := q.list("rtable")
		for _, rti := range setOpLeaves(setOp) {
			if rti < 1 || rti > len(rtable) {
				continue
			}
			rte, ok := rtable[rti-1].(*pgNode)
			if !ok {
				continue
			}
			if sub, ok := rte.field("subquery").(*pgNode); ok && sub.name == "QUERY" {
				r.resolveTarget(pushQuery(stack, sub), resno, direct, acc)
			}
		}
		return
	}
	for _, te := range q.list("targetList") {
		ten, ok := te.(*pgNode)
		if !ok || ten.name != "TARGETENTRY" {
			continue
		}
		if n, ok := ten.integer("resno"); ok && int(n) == resno {
			expr := ten.field("expr")
			r.collect(stack, expr, direct && isNode(expr, "VAR"), acc)
			return
		}
	}
}

// setOpLeaves lists the range-table indexes of a set operation's branches,
// left to right.
func setOpLeaves(v any) []int {
	n, ok := v.(*pgNode)
	if !ok {
		return nil
	}
	switch n.name {
	case "RANGETBLREF":
		if i, ok := n.integer("rtindex"); ok {
			return []int{int(i)}
		}
		return nil
	default: // SETOPERATIONSTMT
		return append(setOpLeaves(n.field("larg")), setOpLeaves(n.field("rarg"))...)
	}
}

func pushQuery(stack []*pgNode, q *pgNode) []*pgNode {
	out := make([]*pgNode, len(stack), len(stack)+1)
	copy(out, stack)
	return append(out, q)
}

// collect adds the sources of an expression evaluated in the query on top
// of stack. direct is true only when expr is a bare Var on a Direct path.
func (r *lineageResolver) collect(stack []*pgNode, v any, direct bool, acc *sourceSet) {
	switch v := v.(type) {
	case *pgNode:
		switch v.name {
		case "VAR":
			r.resolveVar(stack, v, direct, acc)
		case "QUERY":
			// A sublink's subquery: its value comes from its output columns.
			r.collectQueryOutputs(pushQuery(stack, v), acc)
		case "SUBLINK":
			// EXISTS (subLinkType 0) yields a boolean from the subquery's
			// row count, not from its columns.
			if t, _ := v.integer("subLinkType"); t == 0 {
				r.collect(stack, v.field("testexpr"), false, acc)
				return
			}
			r.collectFields(stack, v, acc)
		default:
			r.collectFields(stack, v, acc)
		}
	case pgList:
		for _, e := range v {
			r.collect(stack, e, false, acc)
		}
	case pgSeq:
		for _, e := range v {
			r.collect(stack, e, false, acc)
		}
	}
}

func (r *lineageResolver) collectFields(stack []*pgNode, n *pgNode, acc *sourceSet) {
	for _, name := range n.names {
		r.collect(stack, n.vals[name], false, acc)
	}
}

// collectQueryOutputs adds the sources of every output column of the query
// on top of stack, as computed (not Direct) sources.
func (r *lineageResolver) collectQueryOutputs(stack []*pgNode, acc *sourceSet) {
	if len(stack) > maxQueryDepth {
		return
	}
	q := stack[len(stack)-1]
	for _, te := range q.list("targetList") {
		ten, ok := te.(*pgNode)
		if !ok || ten.name != "TARGETENTRY" || ten.boolean("resjunk") {
			continue
		}
		if n, ok := ten.integer("resno"); ok {
			r.resolveTarget(stack, int(n), false, acc)
		}
	}
}

// resolveVar follows a Var to the range-table entry it reads.
func (r *lineageResolver) resolveVar(stack []*pgNode, v *pgNode, direct bool, acc *sourceSet) {
	up, _ := v.integer("varlevelsup")
	level := len(stack) - 1 - int(up)
	if up < 0 || level < 0 {
		return
	}
	stack = stack[:level+1]
	q := stack[level]
	varno, ok := v.integer("varno")
	if !ok {
		return
	}
	attno, ok := v.integer("varattno")
	if !ok {
		return
	}
	rtable := q.list("rtable")
	if varno < 1 || int(varno) > len(rtable) {
		return
	}
	rte, ok := rtable[varno-1].(*pgNode)
	if !ok {
		return
	}
	wholeRow := attno == 0 // a whole-row reference reads every column, computed
	if wholeRow {
		direct = false
	}

	// Dispatch on the fields present rather than on :rtekind alone: the
	// RTEKind numbering changed between versions, and outfuncs writes only
	// the fields of the entry's kind.
	switch {
	case isNode(rte.field("subquery"), "QUERY"):
		sub := rte.field("subquery").(*pgNode)
		sstack := pushQuery(stack, sub)
		if wholeRow {
			r.collectQueryOutputs(sstack, acc)
			return
		}
		r.resolveTarget(sstack, int(attno), direct, acc)

	case rte.has("joinaliasvars") || rte.has("groupexprs"):
		// JOIN: each join output column is a Var of an input (or, for a
		// merged USING column of a FULL JOIN, a COALESCE). GROUP (PG 18):
		// each grouped expression, referenced by position.
		exprs := rte.list("joinaliasvars")
		if !rte.has("joinaliasvars") {
			exprs = rte.list("groupexprs")
		}
		if wholeRow {
			for _, e := range exprs {
				r.collect(stack, e, false, acc)
			}
			return
		}
		if int(attno) < 1 || int(attno) > len(exprs) {
			return
		}
		e := exprs[attno-1]
		r.collect(stack, e, direct && isNode(e, "VAR"), acc)

	case rte.has("ctename"):
		r.resolveCTE(stack, rte, int(attno), direct, acc)

	case rte.has("values_lists"):
		for _, row := range rte.list("values_lists") {
			row, ok := row.(pgList)
			if !ok {
				continue
			}
			if wholeRow {
				r.collect(stack, row, false, acc)
				continue
			}
			if int(attno) >= 1 && int(attno) <= len(row) {
				e := row[attno-1]
				r.collect(stack, e, direct && isNode(e, "VAR"), acc)
			}
		}

	case rte.has("functions"):
		// Set-returning functions in FROM: a column is computed from the
		// arguments of the function producing it (ROWS FROM may hold several).
		first := 1
		for _, f := range rte.list("functions") {
			fn, ok := f.(*pgNode)
			if !ok {
				continue
			}
			count, known := fn.integer("funccolcount")
			if wholeRow || !known || (int(attno) >= first && int(attno) < first+int(count)) {
				r.collect(stack, fn.field("funcexpr"), false, acc)
			}
			first += int(count)
		}

	case rte.has("tablefunc"):
		r.collect(stack, rte.field("tablefunc"), false, acc)

	case rte.has("relid"):
		relid, ok := rte.integer("relid")
		if !ok || relid <= 0 || relid > 1<<32-1 {
			return
		}
		if !wholeRow {
			if attno < -1<<15 || attno > 1<<15-1 {
				return
			}
			acc.add(uint32(relid), int16(attno), direct)
			return
		}
		// Whole row: the columns the relation had when the view was made,
		// which the entry's alias lists (dropped columns as empty names).
		var eref *pgNode
		if e, ok := rte.field("eref").(*pgNode); ok {
			eref = e
		}
		if eref == nil {
			return
		}
		for i, name := range eref.list("colnames") {
			if s, ok := name.(pgToken); ok && s.str() != "" && i+1 <= 1<<15-1 {
				acc.add(uint32(relid), int16(i+1), false)
			}
		}
	}
	// Anything else (named tuplestores, RTE_RESULT, future kinds) is skipped.
}

// resolveCTE follows a Var over a CTE reference to the CTE's query.
func (r *lineageResolver) resolveCTE(stack []*pgNode, rte *pgNode, attno int, direct bool, acc *sourceSet) {
	name := rte.str("ctename")
	up, _ := rte.integer("ctelevelsup")
	level := len(stack) - 1 - int(up)
	if up < 0 || level < 0 {
		return
	}
	for _, c := range stack[level].list("cteList") {
		cte, ok := c.(*pgNode)
		if !ok || cte.str("ctename") != name {
			continue
		}
		cq, ok := cte.field("ctequery").(*pgNode)
		if !ok || cq.name != "QUERY" {
			return // e.g. a data-modifying statement's RETURNING: not a view's
		}
		cstack := pushQuery(stack[:level+1], cq)
		if attno == 0 {
			r.collectQueryOutputs(cstack, acc)
			return
		}
		r.resolveTarget(cstack, attno, direct, acc)
		return
	}
}

// --- Node-tree text -----------------------------------------------------

// pgNode is a {NAME :field value ...} node. Fields keep their order.
type pgNode struct {
	name  string
	names []string
	vals  map[string]any
}

// pgList is a ( ... ) list. Integer, OID, XID lists and bitmapsets keep
// their marker token first: (i 1 2), (o 16420), (b 3).
type pgList []any

// pgSeq is a field value written as several tokens, such as a Const's
// datum: 4 [ 1 0 0 0 0 0 0 0 ].
type pgSeq []any

// pgToken is a scalar token as written, quotes and backslashes included.
type pgToken string

// str returns the token's text: surrounding double quotes (a String value)
// removed and backslash escapes undone.
func (t pgToken) str() string {
	s := string(t)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !escapedAt(s, len(s)-1) {
		s = s[1 : len(s)-1]
	}
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapedAt reports whether s[i] is preceded by an odd number of backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

func (n *pgNode) has(name string) bool {
	_, ok := n.vals[name]
	return ok
}

func (n *pgNode) field(name string) any { return n.vals[name] }

func (n *pgNode) list(name string) pgList {
	l, _ := n.vals[name].(pgList)
	return l
}

func (n *pgNode) str(name string) string {
	t, _ := n.vals[name].(pgToken)
	return t.str()
}

func (n *pgNode) integer(name string) (int64, bool) {
	t, ok := n.vals[name].(pgToken)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(t), 10, 64)
	return i, err == nil
}

func (n *pgNode) boolean(name string) bool {
	t, _ := n.vals[name].(pgToken)
	return t == "true"
}

func isNode(v any, name string) bool {
	n, ok := v.(*pgNode)
	return ok && n.name == name
}

// pgNodeLexer splits node-tree text as read.c's pg_strtok does: tokens end
// at unescaped whitespace or one of ( ) { }, which are tokens themselves; a
// backslash makes the next character ordinary; <> is the empty token.
type pgNodeLexer struct {
	s   string
	pos int
}

const tokEOF = "\x00eof"

func (l *pgNodeLexer) next() (tok string, at int) {
	for l.pos < len(l.s) && (l.s[l.pos] == ' ' || l.s[l.pos] == '\n' || l.s[l.pos] == '\t' || l.s[l.pos] == '\r') {
		l.pos++
	}
	at = l.pos
	if l.pos >= len(l.s) {
		return tokEOF, at
	}
	switch l.s[l.pos] {
	case '(', ')', '{', '}':
		l.pos++
		return l.s[at:l.pos], at
	}
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '(' || c == ')' || c == '{' || c == '}' {
			break
		}
		if c == '\\' && l.pos+1 < len(l.s) {
			l.pos += 2
		} else {
			l.pos++
		}
	}
	return l.s[at:l.pos], at
}

func (l *pgNodeLexer) peek() string {
	save := l.pos
	tok, _ := l.next()
	l.pos = save
	return tok
}

// parsePGNodeTree reads one node-tree value (normally the rule's list of
// Querys) into pgNode, pgList, pgToken and nil (for <>).
func parsePGNodeTree(s string) (any, error) {
	l := &pgNodeLexer{s: s}
	if l.peek() == tokEOF {
		return nil, errors.New("pg_node_tree: empty input")
	}
	v, err := parsePGValue(l)
	if err != nil {
		return nil, err
	}
	if tok, at := l.next(); tok != tokEOF {
		return nil, fmt.Errorf("pg_node_tree: unexpected %q at offset %d after the tree", tok, at)
	}
	return v, nil
}

func parsePGValue(l *pgNodeLexer) (any, error) {
	tok, at := l.next()
	switch tok {
	case tokEOF:
		return nil, fmt.Errorf("pg_node_tree: unexpected end of input at offset %d", at)
	case "{":
		return parsePGNode(l, at)
	case "(":
		var list pgList
		for {
			switch l.peek() {
			case ")":
				l.next()
				return list, nil
			case tokEOF:
				return nil, fmt.Errorf("pg_node_tree: list opened at offset %d is not closed", at)
			}
			v, err := parsePGValue(l)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case ")", "}":
		return nil, fmt.Errorf("pg_node_tree: unexpected %q at offset %d", tok, at)
	case "<>":
		return nil, nil
	default:
		return pgToken(tok), nil
	}
}

func parsePGNode(l *pgNodeLexer, open int) (*pgNode, error) {
	name, _ := l.next()
	switch {
	case name == tokEOF:
		return nil, fmt.Errorf("pg_node_tree: node opened at offset %d is not closed", open)
	case name == "<>" || strings.HasPrefix(name, ":") || strings.ContainsAny(name[:1], "(){}"):
		return nil, fmt.Errorf("pg_node_tree: node at offset %d has no type name (found %q)", open, name)
	}
	n := &pgNode{name: name, vals: map[string]any{}}
	field := "" // values before the first :field, if a format ever has them
	var vals pgSeq
	flush := func() {
		if field == "" && len(vals) == 0 {
			return
		}
		if _, dup := n.vals[field]; !dup {
			n.names = append(n.names, field)
		}
		switch len(vals) {
		case 0:
			n.vals[field] = nil
		case 1:
			n.vals[field] = vals[0]
		default:
			n.vals[field] = vals
		}
	}
	for {
		tok := l.peek()
		switch {
		case tok == tokEOF:
			return nil, fmt.Errorf("pg_node_tree: %s node opened at offset %d is not closed", name, open)
		case tok == "}":
			l.next()
			flush()
			return n, nil
		case len(tok) > 1 && tok[0] == ':' && (field == "" || len(vals) > 0):
			// outfuncs writes a value after every label, so a :token
			// right after a label is that value: a name such as ":x"
			// (outToken does not escape colons).
			l.next()
			flush()
			field, vals = tok[1:], nil
		default:
			v, err := parsePGValue(l)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
	}
}
