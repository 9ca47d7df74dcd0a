package viewsql

import (
	"strconv"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// kind says how a source reaches a value. The DIRECT kinds are ordered:
// along a path the strongest wins.
type kind uint8

const (
	kIdentity kind = iota
	kTransformation
	kAggregation
	kConditional
	kWindow
)

func (k kind) direct() bool { return k <= kAggregation }

func (k kind) String() string {
	return [...]string{DirectIdentity, DirectTransformation, DirectAggregation, IndirectConditional, IndirectWindow}[k]
}

// colKey is one column of one catalog relation.
type colKey struct {
	rel Relation
	col string
}

type entry struct {
	key  colKey
	kind kind
}

// sources is the lineage of one value, in order of first appearance. Lists
// are short (the columns one expression reads), so lookups are linear.
type sources []entry

func (s *sources) add(k colKey, kd kind) {
	for i := range *s {
		e := &(*s)[i]
		if e.key != k {
			continue
		}
		if kd.direct() && e.kind.direct() {
			e.kind = max(e.kind, kd)
			return
		}
		if e.kind == kd {
			return
		}
	}
	*s = append(*s, entry{k, kd})
}

// lift adds from as read through a context of kind lvl: in a DIRECT
// context the DIRECT kinds are raised to lvl and the INDIRECT ones stay (a
// CASE condition inside a derived column still decides the outer one); in a
// CONDITIONAL or WINDOW context every source takes that role.
func (s *sources) lift(from sources, lvl kind) {
	for _, e := range from {
		kd := lvl
		if lvl.direct() {
			kd = e.kind
			if kd.direct() {
				kd = max(kd, lvl)
			}
		}
		s.add(e.key, kd)
	}
}

// derived is the result of a query: its column names and their lineage.
type derived struct {
	names []string
	cols  []sources
}

func (d *derived) renamed(names sqlparser.Columns, what string) (*derived, error) {
	if len(names) != len(d.names) {
		return nil, invalid("%s names %d columns, the query has %d", what, len(names), len(d.names))
	}
	out := &derived{names: make([]string, len(names)), cols: d.cols}
	for i, n := range names {
		out.names[i] = n.String()
	}
	return out, nil
}

// item is one FROM entry of a query: a catalog relation or a derived
// table (subquery, CTE, JSON_TABLE).
type item struct {
	alias string    // what qualifies its columns: the alias, else the table name
	rel   *Relation // a catalog relation; nil for a derived one
	cols  []string  // its columns in order (the catalog's spelling)
	der   *derived  // a derived table's column lineage
}

func (it *item) index(name string) int {
	for i, c := range it.cols {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

func (it *item) sources(i int) sources {
	if it.der != nil {
		return it.der.cols[i]
	}
	return sources{{colKey{*it.rel, it.cols[i]}, kIdentity}}
}

// matches says whether a column qualified as schema.table (schema may be
// empty) refers to this item.
func (it *item) matches(schema, table string) bool {
	if schema != "" {
		return it.rel != nil && strings.EqualFold(it.rel.Schema, schema) && strings.EqualFold(it.rel.Name, table)
	}
	return strings.EqualFold(it.alias, table)
}

// cte is a common table expression, resolved when first referenced.
type cte struct {
	name      string
	def       *sqlparser.CommonTableExpr
	recursive bool
	scope     *scope // where its body resolves: the WITH's enclosing scope and the WITH's CTEs
	busy      bool
	partial   *derived // a recursive CTE's anchor result while its recursive branches resolve
	result    *derived
	indirect  []indKey // its own indirect columns, recorded again at each reference
}

// aliasMode says how unqualified names in ORDER BY, GROUP BY and HAVING
// meet the select list's aliases.
type aliasMode uint8

const (
	aliasNone  aliasMode = iota
	aliasFirst           // ORDER BY, HAVING: an alias wins over a FROM column
	aliasLast            // GROUP BY: a FROM column wins over an alias
)

// scope is one query level: its FROM items, CTEs, named windows and, once
// the select list is resolved, its output.
type scope struct {
	parent  *scope
	items   []*item
	hidden  map[*item]map[string]bool // columns merged away by USING / NATURAL (lower-cased)
	ctes    map[string]*cte           // lower-cased name
	windows map[string]*sqlparser.WindowSpecification
	out     *derived
	mode    aliasMode
}

func (s *scope) isHidden(it *item, col string) bool {
	return s.hidden[it][strings.ToLower(col)]
}

func (s *scope) hide(it *item, col string) {
	if s.hidden == nil {
		s.hidden = map[*item]map[string]bool{}
	}
	if s.hidden[it] == nil {
		s.hidden[it] = map[string]bool{}
	}
	s.hidden[it][strings.ToLower(col)] = true
}

func (s *scope) lookupCTE(name string) *cte {
	for sc := s; sc != nil; sc = sc.parent {
		if c := sc.ctes[strings.ToLower(name)]; c != nil {
			return c
		}
	}
	return nil
}

type indKey struct {
	key  colKey
	role string
}

// resolver holds what one Parse collects across all query levels.
type resolver struct {
	schema   string
	cat      Catalog
	tables   []Relation
	seen     map[Relation]bool
	indirect []indKey
	seenInd  map[indKey]bool
	force    string // while non-empty, every indirect column is recorded with this role (a subquery used as a condition)
	depth    int
	steps    int
}

func newResolver(schema string, cat Catalog) *resolver {
	return &resolver{schema: schema, cat: cat, seen: map[Relation]bool{}, seenInd: map[indKey]bool{}}
}

func (r *resolver) lineage(d *derived) *Lineage {
	l := &Lineage{Tables: r.tables, Columns: map[string][]ColumnSource{}, Output: d.names}
	for i, name := range d.names {
		for _, e := range d.cols[i] {
			l.Columns[name] = append(l.Columns[name], ColumnSource{e.key.rel, e.key.col, e.kind.String()})
		}
	}
	for _, k := range r.indirect {
		l.Indirect = append(l.Indirect, ColumnSource{k.key.rel, k.key.col, k.role})
	}
	if l.Tables == nil {
		l.Tables = []Relation{}
	}
	return l
}

func (r *resolver) enter() error {
	r.depth++
	r.steps++
	if r.depth > maxDepth {
		return invalid("nested more than %d levels deep", maxDepth)
	}
	if r.steps > maxSteps {
		return invalid("too complex to resolve (more than %d steps)", maxSteps)
	}
	return nil
}

func (r *resolver) leave() { r.depth-- }

// relation looks a table or view up in the catalog and records it as read.
func (r *resolver) relation(schema, table string) (Relation, []string, error) {
	if schema == "" {
		schema = r.schema
	}
	if schema == "" {
		return Relation{}, nil, invalid("table %q has no schema and no default schema was given", table)
	}
	rel := Relation{schema, table}
	cols, ok := r.cat.Columns(schema, table)
	if !ok {
		if sp, isSpeller := r.cat.(Speller); isSpeller {
			if rel, ok = sp.Spell(schema, table); ok {
				cols, ok = r.cat.Columns(rel.Schema, rel.Name)
			}
		}
	}
	if !ok {
		return Relation{}, nil, invalid("unknown table or view %s.%s", schema, table)
	}
	if !r.seen[rel] {
		r.seen[rel] = true
		r.tables = append(r.tables, rel)
	}
	return rel, cols, nil
}

// indirectAll records every source of s with role (or the forced role).
func (r *resolver) indirectAll(s sources, role string) {
	if r.force != "" {
		role = r.force
	}
	for _, e := range s {
		k := indKey{e.key, role}
		if !r.seenInd[k] {
			r.seenInd[k] = true
			r.indirect = append(r.indirect, k)
		}
	}
}

// condition resolves an expression that joins, filters, groups or sorts:
// every column it reads, subqueries included, takes role.
func (r *resolver) condition(e sqlparser.Expr, s *scope, role string) error {
	if e == nil {
		return nil
	}
	saved := r.force
	if r.force == "" {
		r.force = role
	}
	var acc sources
	err := r.value(e, s, kTransformation, &acc)
	r.force = saved
	if err != nil {
		return err
	}
	r.indirectAll(acc, role)
	return nil
}

// query resolves a SELECT or UNION whose correlated names resolve in parent.
func (r *resolver) query(stmt sqlparser.TableStatement, parent *scope) (*derived, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	switch q := stmt.(type) {
	case *sqlparser.Select:
		return r.selectQuery(q, parent)
	case *sqlparser.Union:
		s := &scope{parent: parent}
		r.with(q.With, s)
		var d *derived
		for _, b := range unionBranches(q) {
			var err error
			if d, err = r.branch(d, b, s); err != nil {
				return nil, err
			}
		}
		// ORDER BY of a union names its output columns.
		os := &scope{parent: s, items: []*item{{cols: d.names, der: d}}}
		for _, o := range q.OrderBy {
			if err := r.orderExpr(o.Expr, os, d, IndirectSort); err != nil {
				return nil, err
			}
		}
		return d, nil
	case nil:
		return nil, invalid("empty query")
	default:
		return nil, invalid("unsupported query form %T", stmt)
	}
}

// unionBranches flattens a UNION tree into its SELECTs, left to right.
// Nested unions keep their own WITH and ORDER BY only when they are not
// plain branches, which vitess reports as separate Union nodes.
func unionBranches(u *sqlparser.Union) []sqlparser.TableStatement {
	var out []sqlparser.TableStatement
	for _, side := range []sqlparser.TableStatement{u.Left, u.Right} {
		if inner, ok := side.(*sqlparser.Union); ok && inner.With == nil && len(inner.OrderBy) == 0 && inner.Limit == nil {
			out = append(out, unionBranches(inner)...)
			continue
		}
		out = append(out, side)
	}
	return out
}

// branch resolves a UNION branch and adds it to d; the right side of an
// EXCEPT (see setops.go) only filters.
func (r *resolver) branch(d *derived, b sqlparser.TableStatement, s *scope) (*derived, error) {
	bd, err := r.query(b, s)
	if err != nil {
		return nil, err
	}
	if d == nil || !isExcept(b) {
		return merge(d, bd)
	}
	if len(bd.cols) != len(d.cols) {
		return nil, invalid("EXCEPT branches have %d and %d columns", len(d.cols), len(bd.cols))
	}
	for _, c := range bd.cols {
		r.indirectAll(c, IndirectFilter)
	}
	return d, nil
}

// merge adds a UNION branch: column i of the result reads column i of
// every branch, and the first branch names the columns.
func merge(d, b *derived) (*derived, error) {
	if d == nil {
		out := &derived{names: append([]string(nil), b.names...), cols: make([]sources, len(b.cols))}
		for i := range b.cols {
			out.cols[i] = append(sources(nil), b.cols[i]...)
		}
		return out, nil
	}
	if len(b.cols) != len(d.cols) {
		return nil, invalid("UNION branches have %d and %d columns", len(d.cols), len(b.cols))
	}
	for i := range b.cols {
		d.cols[i].lift(b.cols[i], kIdentity)
	}
	return d, nil
}

// with registers a WITH clause's CTEs in s; they resolve when referenced.
func (r *resolver) with(w *sqlparser.With, s *scope) {
	if w == nil {
		return
	}
	s.ctes = map[string]*cte{}
	body := &scope{parent: s.parent, ctes: s.ctes}
	for _, c := range w.CTEs {
		name := c.ID.String()
		s.ctes[strings.ToLower(name)] = &cte{name: name, def: c, recursive: w.Recursive, scope: body}
	}
}

// cteResult resolves a CTE once and records its indirect columns at each
// reference, in the role of that reference: a CTE read by a filtering
// subquery only filters there, and may join elsewhere.
func (r *resolver) cteResult(c *cte) (*derived, error) {
	if c.result == nil && !c.busy {
		savedInd, savedSeen, savedForce := r.indirect, r.seenInd, r.force
		r.indirect, r.seenInd, r.force = nil, map[indKey]bool{}, ""
		d, err := r.resolveCTE(c)
		c.indirect = r.indirect
		r.indirect, r.seenInd, r.force = savedInd, savedSeen, savedForce
		if err != nil {
			return nil, err
		}
		c.result = d
	}
	if c.result == nil {
		return r.resolveCTE(c) // a recursive reference from inside its own body
	}
	for _, k := range c.indirect {
		r.indirectAll(sources{{k.key, kIdentity}}, k.role)
	}
	return c.result, nil
}

func (r *resolver) resolveCTE(c *cte) (*derived, error) {
	if c.busy {
		if c.partial != nil {
			return c.partial, nil
		}
		return nil, invalid("CTE %s refers to itself before any non-recursive branch", c.name)
	}
	c.busy = true
	defer func() { c.busy = false }()
	var (
		d   *derived
		err error
	)
	u, isUnion := c.def.Subquery.(*sqlparser.Union)
	if !c.recursive || !isUnion {
		if d, err = r.query(c.def.Subquery, c.scope); err != nil {
			return nil, err
		}
		if len(c.def.Columns) > 0 {
			return d.renamed(c.def.Columns, "CTE "+c.name)
		}
		return d, nil
	}
	var anchors, recursive []sqlparser.TableStatement
	for _, b := range unionBranches(u) {
		if refersTo(b, c.name) {
			recursive = append(recursive, b)
		} else {
			anchors = append(anchors, b)
		}
	}
	for _, b := range anchors {
		if d, err = r.branch(d, b, c.scope); err != nil {
			return nil, err
		}
	}
	if d == nil {
		return nil, invalid("recursive CTE %s has no non-recursive branch", c.name)
	}
	if len(c.def.Columns) > 0 {
		if d, err = d.renamed(c.def.Columns, "CTE "+c.name); err != nil {
			return nil, err
		}
	}
	// Each pass may carry sources one step further round the cycle;
	// lineage sets are finite, so a few passes reach the fixed point.
	for pass := 0; pass < 8; pass++ {
		c.partial = d
		before := d.size()
		for _, b := range recursive {
			if d, err = r.branch(d, b, c.scope); err != nil {
				return nil, err
			}
		}
		if d.size() == before {
			break
		}
	}
	return d, nil
}

func (d *derived) size() int {
	n := 0
	for _, c := range d.cols {
		n += len(c)
		for _, e := range c {
			n += int(e.kind)
		}
	}
	return n
}

// refersTo says whether stmt names the unqualified table name anywhere.
func refersTo(stmt sqlparser.SQLNode, name string) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if t, ok := n.(sqlparser.TableName); ok && t.Qualifier.IsEmpty() && strings.EqualFold(t.Name.String(), name) {
			found = true
		}
		return !found, nil
	}, stmt)
	return found
}

func (r *resolver) selectQuery(q *sqlparser.Select, parent *scope) (*derived, error) {
	s := &scope{parent: parent}
	r.with(q.With, s)
	for _, te := range q.From {
		if err := r.from(te, s); err != nil {
			return nil, err
		}
	}
	for _, nw := range q.Windows {
		for _, w := range nw.Windows {
			if s.windows == nil {
				s.windows = map[string]*sqlparser.WindowSpecification{}
			}
			s.windows[w.Name.Lowered()] = w.WindowSpec
		}
	}
	d := &derived{}
	if q.SelectExprs != nil {
		for _, se := range q.SelectExprs.Exprs {
			if err := r.selectExpr(se, s, d); err != nil {
				return nil, err
			}
		}
	}
	s.out = d
	if q.Where != nil {
		if err := r.condition(q.Where.Expr, s, IndirectFilter); err != nil {
			return nil, err
		}
	}
	if q.GroupBy != nil {
		s.mode = aliasLast
		for _, e := range q.GroupBy.Exprs {
			if err := r.orderExpr(e, s, d, IndirectGroupBy); err != nil {
				return nil, err
			}
		}
	}
	s.mode = aliasFirst
	if q.Having != nil {
		if err := r.condition(q.Having.Expr, s, IndirectFilter); err != nil {
			return nil, err
		}
	}
	for _, o := range q.OrderBy {
		if err := r.orderExpr(o.Expr, s, d, IndirectSort); err != nil {
			return nil, err
		}
	}
	s.mode = aliasNone
	return d, nil
}

// orderExpr resolves a GROUP BY or ORDER BY entry, which may be a select
// list position.
func (r *resolver) orderExpr(e sqlparser.Expr, s *scope, out *derived, role string) error {
	if lit, ok := e.(*sqlparser.Literal); ok && lit.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(lit.Val)
		if err != nil || n < 1 || n > len(out.cols) {
			return invalid("position %s is not a column of the select list", lit.Val)
		}
		r.indirectAll(out.cols[n-1], role)
		return nil
	}
	return r.condition(e, s, role)
}

func (r *resolver) selectExpr(se sqlparser.SelectExpr, s *scope, d *derived) error {
	switch se := se.(type) {
	case *sqlparser.StarExpr:
		found := false
		for _, it := range s.items {
			if !se.TableName.IsEmpty() && !it.matches(se.TableName.Qualifier.String(), se.TableName.Name.String()) {
				continue
			}
			found = true
			for i, c := range it.cols {
				if se.TableName.IsEmpty() && s.isHidden(it, c) {
					continue
				}
				d.names = append(d.names, c)
				d.cols = append(d.cols, append(sources(nil), it.sources(i)...))
			}
		}
		if !found {
			if se.TableName.IsEmpty() {
				return invalid("* without a FROM clause")
			}
			return invalid("unknown table %s in %s.*", sqlparser.String(se.TableName), sqlparser.String(se.TableName))
		}
		return nil
	case *sqlparser.AliasedExpr:
		var acc sources
		if err := r.value(se.Expr, s, kIdentity, &acc); err != nil {
			return err
		}
		name := se.As.String()
		if name == "" {
			if c, ok := se.Expr.(*sqlparser.ColName); ok {
				name = c.Name.String()
			} else {
				name = sqlparser.String(se.Expr)
			}
		}
		d.names = append(d.names, name)
		d.cols = append(d.cols, acc)
		return nil
	default:
		return invalid("unsupported select item %s", sqlparser.String(se))
	}
}

// from adds a FROM entry's items to s and records its join columns.
func (r *resolver) from(te sqlparser.TableExpr, s *scope) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	switch te := te.(type) {
	case *sqlparser.AliasedTableExpr:
		return r.aliased(te, s)
	case *sqlparser.ParenTableExpr:
		for _, e := range te.Exprs {
			if err := r.from(e, s); err != nil {
				return err
			}
		}
		return nil
	case *sqlparser.JoinTableExpr:
		start := len(s.items)
		if err := r.from(te.LeftExpr, s); err != nil {
			return err
		}
		mid := len(s.items)
		if err := r.from(te.RightExpr, s); err != nil {
			return err
		}
		left, right := s.items[start:mid], s.items[mid:]
		switch te.Join {
		case sqlparser.NaturalJoinType, sqlparser.NaturalLeftJoinType, sqlparser.NaturalRightJoinType:
			var common []string
			for _, it := range left {
				for _, c := range it.cols {
					if !s.isHidden(it, c) && visibleIn(s, right, c) != nil {
						common = append(common, c)
					}
				}
			}
			return r.using(s, left, right, common)
		}
		if te.Condition == nil {
			return nil
		}
		if len(te.Condition.Using) > 0 {
			names := make([]string, len(te.Condition.Using))
			for i, c := range te.Condition.Using {
				names[i] = c.String()
			}
			return r.using(s, left, right, names)
		}
		return r.condition(te.Condition.On, s, IndirectJoin)
	case *sqlparser.JSONTableExpr:
		var acc sources
		if err := r.value(te.Expr, s, kTransformation, &acc); err != nil {
			return err
		}
		d := &derived{}
		jsonColumns(te.Columns, acc, d)
		s.items = append(s.items, &item{alias: te.Alias.String(), cols: d.names, der: d})
		return nil
	default:
		return invalid("unsupported FROM entry %s", sqlparser.String(te))
	}
}

func jsonColumns(defs []*sqlparser.JtColumnDefinition, src sources, d *derived) {
	for _, c := range defs {
		switch {
		case c.JtOrdinal != nil:
			d.names = append(d.names, c.JtOrdinal.Name.String())
			d.cols = append(d.cols, nil)
		case c.JtPath != nil:
			d.names = append(d.names, c.JtPath.Name.String())
			d.cols = append(d.cols, append(sources(nil), src...))
		case c.JtNestedPath != nil:
			jsonColumns(c.JtNestedPath.Columns, src, d)
		}
	}
}

// visibleIn returns the one item among items with a visible column col.
func visibleIn(s *scope, items []*item, col string) *item {
	for _, it := range items {
		if it.index(col) >= 0 && !s.isHidden(it, col) {
			return it
		}
	}
	return nil
}

// using records USING / NATURAL join columns: both sides join, and the
// right side's copy is merged away for * and unqualified names.
func (r *resolver) using(s *scope, left, right []*item, cols []string) error {
	for _, c := range cols {
		l, rt := visibleIn(s, left, c), visibleIn(s, right, c)
		if l == nil || rt == nil {
			return invalid("USING column %s is not in both joined tables", c)
		}
		r.indirectAll(l.sources(l.index(c)), IndirectJoin)
		r.indirectAll(rt.sources(rt.index(c)), IndirectJoin)
		s.hide(rt, c)
	}
	return nil
}

func (r *resolver) aliased(te *sqlparser.AliasedTableExpr, s *scope) error {
	alias := te.As.String()
	switch e := te.Expr.(type) {
	case sqlparser.TableName:
		name, schema := e.Name.String(), e.Qualifier.String()
		if alias == "" {
			alias = name
		}
		if schema == "" {
			if c := s.lookupCTE(name); c != nil {
				d, err := r.cteResult(c)
				if err != nil {
					return err
				}
				if len(te.Columns) > 0 {
					if d, err = d.renamed(te.Columns, "alias "+alias); err != nil {
						return err
					}
				}
				s.items = append(s.items, &item{alias: alias, cols: d.names, der: d})
				return nil
			}
			if strings.EqualFold(name, "dual") {
				return nil
			}
		}
		rel, cols, err := r.relation(schema, name)
		if err != nil {
			return err
		}
		s.items = append(s.items, &item{alias: alias, rel: &rel, cols: cols})
		return nil
	case *sqlparser.DerivedTable:
		// A derived table sees the enclosing queries and this query's
		// CTEs; only a LATERAL one also sees the FROM entries before it.
		parent := &scope{parent: s.parent, ctes: s.ctes}
		if e.Lateral {
			parent = s
		}
		d, err := r.query(e.Select, parent)
		if err != nil {
			return err
		}
		if len(te.Columns) > 0 {
			if d, err = d.renamed(te.Columns, "derived table "+alias); err != nil {
				return err
			}
		}
		s.items = append(s.items, &item{alias: alias, cols: d.names, der: d})
		return nil
	default:
		return invalid("unsupported table expression %s", sqlparser.String(te))
	}
}

// column resolves a column reference in s or, for a correlated
// reference, in an enclosing query.
func (r *resolver) column(c *sqlparser.ColName, s *scope) (sources, error) {
	name := c.Name.String()
	table, schema := c.Qualifier.Name.String(), c.Qualifier.Qualifier.String()
	for sc := s; sc != nil; sc = sc.parent {
		if table == "" && sc.mode == aliasFirst && sc.out != nil {
			if src, ok := sc.out.lookup(name); ok {
				return src, nil
			}
		}
		var (
			found  sources
			nfound int
		)
		for _, it := range sc.items {
			if table != "" && !it.matches(schema, table) {
				continue
			}
			i := it.index(name)
			if i < 0 || (table == "" && sc.isHidden(it, name)) {
				continue
			}
			nfound++
			found = it.sources(i)
		}
		if nfound > 1 {
			return nil, invalid("column %s is ambiguous", sqlparser.String(c))
		}
		if nfound == 1 {
			return found, nil
		}
		if table == "" && sc.mode == aliasLast && sc.out != nil {
			if src, ok := sc.out.lookup(name); ok {
				return src, nil
			}
		}
	}
	return nil, invalid("unknown column %s", sqlparser.String(c))
}

func (d *derived) lookup(name string) (sources, bool) {
	for i, n := range d.names {
		if strings.EqualFold(n, name) {
			return d.cols[i], true
		}
	}
	return nil, false
}

// value collects the sources of an expression that computes a value, read
// through a context of kind lvl (kIdentity for a bare select item).
func (r *resolver) value(e sqlparser.Expr, s *scope, lvl kind, into *sources) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	inner := lvl
	if lvl.direct() {
		inner = max(lvl, kTransformation)
	}
	switch e := e.(type) {
	case nil:
		return nil
	case *sqlparser.ColName:
		src, err := r.column(e, s)
		if err != nil {
			return err
		}
		into.lift(src, lvl)
		return nil
	case *sqlparser.Subquery:
		d, err := r.query(e.Select, s)
		if err != nil {
			return err
		}
		for _, c := range d.cols {
			into.lift(c, inner)
		}
		return nil
	case *sqlparser.ExistsExpr:
		// Its select list is irrelevant; its conditions are recorded as
		// the subquery resolves.
		var ignored sources
		return r.value(e.Subquery, s, inner, &ignored)
	case *sqlparser.CaseExpr:
		if err := r.value(e.Expr, s, r.cond(lvl), into); err != nil {
			return err
		}
		for _, w := range e.Whens {
			if err := r.value(w.Cond, s, r.cond(lvl), into); err != nil {
				return err
			}
			if err := r.value(w.Val, s, inner, into); err != nil {
				return err
			}
		}
		return r.value(e.Else, s, inner, into)
	case *sqlparser.FuncExpr:
		if e.Qualifier.IsEmpty() && e.Name.EqualString("if") && len(e.Exprs) > 0 {
			if err := r.value(e.Exprs[0], s, r.cond(lvl), into); err != nil {
				return err
			}
			for _, a := range e.Exprs[1:] {
				if err := r.value(a, s, inner, into); err != nil {
					return err
				}
			}
			return nil
		}
	case sqlparser.AggrFunc:
		if lvl.direct() {
			inner = kAggregation
		}
	}
	return r.children(e, s, inner, into)
}

// cond is the kind for a condition inside a value read at lvl.
func (r *resolver) cond(lvl kind) kind {
	if lvl.direct() {
		return kConditional
	}
	return lvl
}

// children resolves the direct sub-expressions of e at lvl.
func (r *resolver) children(e sqlparser.Expr, s *scope, lvl kind, into *sources) error {
	first := true
	return sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if first {
			first = false
			return true, nil
		}
		switch n := n.(type) {
		case *sqlparser.OverClause:
			return false, r.window(n, s, lvl, into)
		case sqlparser.Expr:
			return false, r.value(n, s, lvl, into)
		}
		return true, nil
	}, e)
}

// window resolves an OVER clause: its PARTITION BY and ORDER BY columns
// decide the value of the one column the window function computes.
func (r *resolver) window(oc *sqlparser.OverClause, s *scope, lvl kind, into *sources) error {
	role := kWindow
	if !lvl.direct() {
		role = lvl
	}
	spec := oc.WindowSpec
	name := oc.WindowName
	for hops := 0; ; hops++ {
		if spec != nil {
			for _, p := range spec.PartitionClause {
				if err := r.value(p, s, role, into); err != nil {
					return err
				}
			}
			for _, o := range spec.OrderClause {
				if err := r.value(o.Expr, s, role, into); err != nil {
					return err
				}
			}
			name = spec.Name
		}
		if name.IsEmpty() {
			return nil
		}
		if hops > 100 {
			return invalid("window %s refers to itself", name.String())
		}
		var ok bool
		spec, ok = lookupWindow(s, name.Lowered())
		if !ok {
			return invalid("unknown window %s", name.String())
		}
	}
}

func lookupWindow(s *scope, name string) (*sqlparser.WindowSpecification, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		if w, ok := sc.windows[name]; ok {
			return w, true
		}
	}
	return nil, false
}
