package lineage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/quarrydata/quarry"
)

// A small JSON parser of our own: it reads an event once into a flat tree of
// nodes that point into the input, which the mapping then walks. Walking a
// tree knows the path of every value, so a wrong type anywhere gives an
// error that names the field; and the digest hashes the same tree. With
// encoding/json it took three decodes (structs, facets, `any` for the
// digest); json.Valid alone costs about as much as ParseEvent does in all,
// and decoding to `any` about five times as much.

type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	switch k {
	case jNull:
		return "null"
	case jFalse, jTrue:
		return "boolean"
	case jNumber:
		return "number"
	case jString:
		return "string"
	case jArray:
		return "array"
	}
	return "object"
}

// Node flags.
const (
	fEsc     = 1 << iota // the string value has escapes
	fHigh                // the string value has bytes >= 0x80
	fKeyEsc              // the member key has escapes
	fKeyHigh             // the member key has bytes >= 0x80
)

// jnode is one JSON value. Children of an array or object are a linked list
// (first, next); an object's children carry their member key.
type jnode struct {
	start, end       int32 // string: content between the quotes; number: its text
	keyStart, keyEnd int32 // member key content (object members only)
	first, next      int32 // first child; next sibling; -1 for none
	n                int32 // number of children
	kind             jkind
	flags            uint8
}

// maxDepth is encoding/json's nesting limit, so that both agree on what is
// JSON.
const maxDepth = 10000

type doc struct {
	data  []byte
	nodes []jnode
	pos   int
	depth int
	stack []int32 // scratch for the digest
	canon []byte  // scratch for the digest
}

var docs = sync.Pool{New: func() any { return new(doc) }}

func getDoc() *doc { return docs.Get().(*doc) }

func putDoc(d *doc) {
	if cap(d.nodes) > 1<<16 || cap(d.canon) > 1<<20 {
		return // don't keep the memory of one huge batch around
	}
	d.data = nil
	d.nodes = d.nodes[:0]
	d.stack = d.stack[:0]
	d.canon = d.canon[:0]
	docs.Put(d)
}

// parse reads data as one JSON value and returns its node.
func (d *doc) parse(data []byte) (int32, error) {
	if len(data) >= math.MaxInt32 {
		return -1, quarry.Invalid("body", "is %d bytes long; too large", len(data))
	}
	d.data, d.pos, d.depth = data, 0, 0
	d.nodes = d.nodes[:0]
	root := d.value()
	if root >= 0 {
		d.ws()
		if d.pos == len(d.data) {
			return root, nil
		}
	}
	return -1, syntaxError(data, d.pos)
}

// syntaxError describes why data is not JSON. encoding/json says it best,
// and only invalid input pays for asking it.
func syntaxError(data []byte, pos int) error {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return quarry.Invalid("body", "is not JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return quarry.Invalid("body", "is not JSON (at byte %d)", pos)
}

func (d *doc) ws() {
	b, i := d.data, d.pos
	for i < len(b) && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\r':
			i++
		case '\n':
			i++
			// Indentation: eight spaces at a time.
			for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == lo8*' ' {
				i += 8
			}
		default:
			d.pos = i
			return
		}
	}
	d.pos = i
}

func (d *doc) add(k jkind) int32 {
	d.nodes = append(d.nodes, jnode{kind: k, first: -1, next: -1})
	return int32(len(d.nodes) - 1)
}

// value parses one value at d.pos; -1 means a syntax error at d.pos.
func (d *doc) value() int32 {
	d.ws()
	if d.pos >= len(d.data) {
		return -1
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.container(jObject)
	case '[':
		return d.container(jArray)
	case '"':
		i := d.add(jString)
		s, e, fl, ok := d.str()
		if !ok {
			return -1
		}
		n := &d.nodes[i]
		n.start, n.end, n.flags = s, e, fl
		return i
	case 't':
		return d.literal("true", jTrue)
	case 'f':
		return d.literal("false", jFalse)
	case 'n':
		return d.literal("null", jNull)
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return d.number()
		}
		return -1
	}
}

func (d *doc) literal(lit string, k jkind) int32 {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return -1
	}
	d.pos += len(lit)
	return d.add(k)
}

func (d *doc) number() int32 {
	b, i := d.data, d.pos
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		d.pos = i
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			d.pos = i
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			d.pos = i
			return -1
		}
	}
	n := d.add(jNumber)
	d.nodes[n].start, d.nodes[n].end = int32(d.pos), int32(i)
	d.pos = i
	return n
}

// str scans a string at d.pos (on its opening quote) and returns the span
// of its content.
func (d *doc) str() (start, end int32, flags uint8, ok bool) {
	b := d.data
	first := d.pos + 1
	i := first
	for {
		// Eight bytes at a time to the first special one: a quote, a
		// backslash, a control character or a byte >= 0x80.
		for i+8 <= len(b) {
			if m := specials(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return int32(first), int32(i), flags, true
		case c == '\\':
			flags |= fEsc
			if i+1 >= len(b) {
				d.pos = len(b)
				return 0, 0, 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					d.pos = len(b)
					return 0, 0, 0, false
				}
				for _, h := range b[i+2 : i+6] {
					if unhex(h) < 0 {
						d.pos = i
						return 0, 0, 0, false
					}
				}
				i += 6
			default:
				d.pos = i
				return 0, 0, 0, false
			}
		case c < 0x20:
			d.pos = i
			return 0, 0, 0, false
		default:
			if c >= 0x80 {
				flags |= fHigh
			}
			i++
		}
	}
	d.pos = len(b)
	return 0, 0, 0, false
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// specials marks the bytes of w (little-endian) that are '"', '\\', < 0x20
// or >= 0x80 with their high bit. The lowest mark is exact; marks above it
// may be false (a borrow), so only the lowest is used.
func specials(w uint64) uint64 {
	q := w ^ (lo8 * '"')
	bs := w ^ (lo8 * '\\')
	// (x - lo8) &^ x has the high bit of x's first zero byte set.
	return ((q-lo8)&^q | (bs-lo8)&^bs | (w-lo8*0x20)&^w | w) & hi8
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

func (d *doc) container(k jkind) int32 {
	d.depth++
	if d.depth > maxDepth {
		return -1
	}
	self := d.add(k)
	d.pos++ // the bracket
	closer := byte(']')
	if k == jObject {
		closer = '}'
	}
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == closer {
		d.pos++
		d.depth--
		return self
	}
	last := int32(-1)
	count := int32(0)
	for {
		var ks, ke int32
		var kf uint8
		if k == jObject {
			d.ws()
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return -1
			}
			var ok bool
			if ks, ke, kf, ok = d.str(); !ok {
				return -1
			}
			d.ws()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return -1
			}
			d.pos++
		}
		c := d.value()
		if c < 0 {
			return -1
		}
		if k == jObject {
			n := &d.nodes[c]
			n.keyStart, n.keyEnd = ks, ke
			n.flags |= kf << 2 // fEsc→fKeyEsc, fHigh→fKeyHigh
		}
		if last < 0 {
			d.nodes[self].first = c
		} else {
			d.nodes[last].next = c
		}
		last = c
		count++
		d.ws()
		if d.pos >= len(d.data) {
			return -1
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case closer:
			d.pos++
			d.depth--
			d.nodes[self].n = count
			return self
		default:
			return -1
		}
	}
}

// text returns a string node's value, unescaped, with invalid UTF-8
// replaced as encoding/json does.
func (d *doc) text(n int32) string {
	nd := &d.nodes[n]
	return d.span(nd.start, nd.end, nd.flags&(fEsc|fHigh))
}

// key returns a member's key.
func (d *doc) key(n int32) string {
	nd := &d.nodes[n]
	return d.span(nd.keyStart, nd.keyEnd, nd.flags>>2&(fEsc|fHigh))
}

func (d *doc) span(s, e int32, flags uint8) string {
	b := d.data[s:e]
	if flags&fEsc == 0 && (flags&fHigh == 0 || utf8.Valid(b)) {
		return string(b)
	}
	return string(unescape(nil, b))
}

// unescape appends the decoded content of a JSON string to out.
func unescape(out, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			switch b[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2 = hex4(b[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, b[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			out = utf8.AppendRune(out, r) // RuneError for an invalid byte
			i += size
		}
	}
	return out
}

func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

// member returns the value of obj's member key, or -1 when it is absent or
// null (producers send null for any optional field). A repeated key takes
// its last value, as in encoding/json.
func (d *doc) member(obj int32, key string) int32 {
	found := int32(-1)
	for c := d.nodes[obj].first; c >= 0; c = d.nodes[c].next {
		n := &d.nodes[c]
		if n.flags&(fKeyEsc|fKeyHigh) == 0 {
			if int(n.keyEnd-n.keyStart) == len(key) && string(d.data[n.keyStart:n.keyEnd]) == key {
				found = c
			}
		} else if d.key(c) == key {
			found = c
		}
	}
	if found >= 0 && d.nodes[found].kind == jNull {
		return -1
	}
	return found
}

// The accessors below return errors about the member they read (Field is
// its key); callers put them under their own path with quarry.InField.

func typeError(field, want string, got jkind) error {
	return quarry.Invalid(field, "must be %s, got %s", want, got)
}

// want checks a node's kind; its error names no field.
func (d *doc) want(n int32, k jkind) error {
	if d.nodes[n].kind == k {
		return nil
	}
	return typeError("", "an "+k.String(), d.nodes[n].kind)
}

// optObject returns member key of obj, which must be an object if present;
// -1 if absent.
func (d *doc) optObject(obj int32, key string) (int32, error) {
	return d.optKind(obj, key, jObject, "an object")
}

func (d *doc) optArray(obj int32, key string) (int32, error) {
	return d.optKind(obj, key, jArray, "an array")
}

func (d *doc) optKind(obj int32, key string, k jkind, want string) (int32, error) {
	n := d.member(obj, key)
	if n >= 0 && d.nodes[n].kind != k {
		return -1, typeError(key, want, d.nodes[n].kind)
	}
	return n, nil
}

// optString returns member key of obj, which must be a string if present;
// ok reports whether it was.
func (d *doc) optString(obj int32, key string) (s string, ok bool, err error) {
	n := d.member(obj, key)
	if n < 0 {
		return "", false, nil
	}
	if d.nodes[n].kind != jString {
		return "", false, typeError(key, "a string", d.nodes[n].kind)
	}
	return d.text(n), true, nil
}

// reqString returns member key of obj, a string with more than spaces.
func (d *doc) reqString(obj int32, key string) (string, error) {
	s, ok, err := d.optString(obj, key)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", quarry.Invalid(key, "is required")
	case isBlank(s):
		return "", quarry.Invalid(key, "must not be empty")
	}
	return s, nil
}

// reqStringLike is reqString that returns prev (a valid value), not a new
// copy, when the value equals it: column lineage names the same few
// datasets many times.
func (d *doc) reqStringLike(obj int32, key, prev string) (string, error) {
	if n := d.member(obj, key); n >= 0 && prev != "" {
		nd := &d.nodes[n]
		if nd.kind == jString && nd.flags&(fEsc|fHigh) == 0 && string(d.data[nd.start:nd.end]) == prev {
			return prev, nil
		}
	}
	return d.reqString(obj, key)
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// optBool returns member key of obj, which must be a boolean if present.
func (d *doc) optBool(obj int32, key string) (v, ok bool, err error) {
	n := d.member(obj, key)
	if n < 0 {
		return false, false, nil
	}
	switch d.nodes[n].kind {
	case jTrue:
		return true, true, nil
	case jFalse:
		return false, true, nil
	}
	return false, false, typeError(key, "a boolean", d.nodes[n].kind)
}

func (d *doc) numText(n int32) string {
	nd := &d.nodes[n]
	return string(d.data[nd.start:nd.end])
}

// optCount returns member key of obj, which must be a non-negative integer
// if present.
func (d *doc) optCount(obj int32, key string) (*int64, error) {
	n := d.member(obj, key)
	if n < 0 {
		return nil, nil
	}
	if d.nodes[n].kind != jNumber {
		return nil, typeError(key, "an integer", d.nodes[n].kind)
	}
	nd := &d.nodes[n]
	txt := d.data[nd.start:nd.end]
	v, err := strconv.ParseInt(string(txt), 10, 64)
	if err != nil {
		// 1e3 and 10.0 are integers too.
		f, ferr := strconv.ParseFloat(string(txt), 64)
		if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return nil, quarry.Invalid(key, "must be an integer, got %s", quarry.Truncate(string(txt), 32))
		}
		v = int64(f)
	}
	if v < 0 {
		return nil, quarry.Invalid(key, "must not be negative, got %d", v)
	}
	return &v, nil
}

// optFloat returns member key of obj, which must be a number if present.
func (d *doc) optFloat(obj int32, key string) (*float64, error) {
	n := d.member(obj, key)
	if n < 0 {
		return nil, nil
	}
	if d.nodes[n].kind != jNumber {
		return nil, typeError(key, "a number", d.nodes[n].kind)
	}
	nd := &d.nodes[n]
	f, err := strconv.ParseFloat(string(d.data[nd.start:nd.end]), 64)
	if err != nil {
		return nil, quarry.Invalid(key, "%s is out of range", quarry.Truncate(d.numText(n), 32))
	}
	return &f, nil
}

// digest returns the hex SHA-256 of the value's canonical form: object
// members sorted by key (stably, so repeated keys keep their order),
// strings unescaped, no whitespace. Two deliveries of one event that differ
// only in layout, key order or escaping have the same digest. Numbers are
// hashed as written: 1.0 and 1 differ.
func (d *doc) digest(n int32) string {
	d.canon = d.canonical(d.canon[:0], n)
	return quarry.EventDigest(d.canon)
}

// canonical appends a length-prefixed binary form (not JSON): a tag byte,
// then the value.
func (d *doc) canonical(b []byte, n int32) []byte {
	nd := &d.nodes[n]
	switch nd.kind {
	case jNull:
		return append(b, 'z')
	case jFalse:
		return append(b, 'f')
	case jTrue:
		return append(b, 't')
	case jNumber:
		b = append(b, 'n')
		return appendBytes(b, d.data[nd.start:nd.end])
	case jString:
		b = append(b, 's')
		return d.appendText(b, nd.start, nd.end, nd.flags&fEsc != 0)
	case jArray:
		b = append(b, 'a')
		b = binary.AppendUvarint(b, uint64(nd.n))
		for c := nd.first; c >= 0; c = d.nodes[c].next {
			b = d.canonical(b, c)
		}
		return b
	}
	b = append(b, 'o')
	b = binary.AppendUvarint(b, uint64(nd.n))
	base := len(d.stack)
	for c := nd.first; c >= 0; c = d.nodes[c].next {
		d.stack = append(d.stack, c)
	}
	if members := d.stack[base:]; !slices.IsSortedFunc(members, d.cmpKeys) {
		slices.SortStableFunc(members, d.cmpKeys)
	}
	for i := base; i < base+int(nd.n); i++ {
		c := d.stack[i] // d.stack may grow in the recursion: index it afresh
		m := &d.nodes[c]
		b = d.appendText(b, m.keyStart, m.keyEnd, m.flags&fKeyEsc != 0)
		b = d.canonical(b, c)
	}
	d.stack = d.stack[:base]
	return b
}

func (d *doc) cmpKeys(a, b int32) int {
	return bytes.Compare(d.rawKey(a), d.rawKey(b))
}

// rawKey is a member's key as bytes, unescaped.
func (d *doc) rawKey(n int32) []byte {
	nd := &d.nodes[n]
	k := d.data[nd.keyStart:nd.keyEnd]
	if nd.flags&fKeyEsc != 0 {
		return unescape(nil, k)
	}
	return k
}

func (d *doc) appendText(b []byte, s, e int32, esc bool) []byte {
	if !esc {
		return appendBytes(b, d.data[s:e])
	}
	u := unescape(nil, d.data[s:e])
	return appendBytes(b, u)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
