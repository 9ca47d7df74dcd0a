package lineage

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// The nodes' IDs and names live in an arena of bytes, and the index from
// an ID to its node is a table of integers, so that the graph's per-node
// state holds no pointer at all. At a million datasets the nodes' strings
// and a map of them were more than two million heap objects that the
// collector marked at every cycle: a tenth of a second of its work per
// cycle, a sixth of the search server's CPU, and its p99 with it.
// An answer's strings are made from the arena's bytes (str).

// A text locates a string in an arena: its chunk, its offset in the chunk
// and its length, packed into 64 bits. The zero text is "".
type text uint64

const (
	chunkBits   = 20 // a chunk holds up to 1 MiB of short strings
	chunkSize   = 1 << chunkBits
	firstChunk  = 4 << 10 // a small graph (a test's) holds a small arena
	textLenBits = 24
	maxTextLen  = 1<<textLenBits - 1 // 16 MiB; names are at most quarry.MaxNameLen
	maxChunks   = 1 << (64 - chunkBits - textLenBits)
)

func (t text) chunk() int { return int(t >> (chunkBits + textLenBits)) }
func (t text) off() int   { return int(t>>textLenBits) & (chunkSize - 1) }
func (t text) len() int   { return int(t & maxTextLen) }

// arena holds strings in chunks of bytes that are only ever appended to:
// a string's bytes are never written again, nor moved. A chunk is never
// grown by copying (a full one is followed by a new one), so building a
// graph copies no arena. A string that is replaced (a node renamed) leaves
// a hole; compacted copies the strings still referred to into new chunks
// and leaves the old ones to the collector.
type arena struct {
	chunks [][]byte
	used   int // bytes of strings, holes included
	holes  int // bytes of strings nothing refers to any more
}

// add appends s to the arena.
func (a *arena) add(s string) text { return addText(a, s) }

func addText[S string | []byte](a *arena, s S) text {
	if len(s) == 0 {
		return 0
	}
	if len(s) > maxTextLen {
		panic(fmt.Sprintf("lineage: a node ID or name of %d bytes; the graph holds at most %d", len(s), maxTextLen))
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(s) > cap(a.chunks[last]) {
		size := firstChunk
		if last >= 0 {
			size = min(chunkSize, 2*cap(a.chunks[last]))
		}
		if len(a.chunks) == maxChunks {
			panic("lineage: the graph's arena of names is full")
		}
		// A string longer than a chunk gets a chunk of its own; its offset
		// is 0, and nothing follows it.
		a.chunks = append(a.chunks, make([]byte, 0, max(size, len(s))))
		last++
	}
	off := len(a.chunks[last])
	a.chunks[last] = append(a.chunks[last], s...)
	a.used += len(s)
	return text(uint64(last)<<(chunkBits+textLenBits) | uint64(off)<<textLenBits | uint64(len(s)))
}

// bytes returns the string at t. They must not be written: answers'
// strings share them (str).
func (a *arena) bytes(t text) []byte {
	if t == 0 {
		return nil
	}
	off := t.off()
	return a.chunks[t.chunk()][off : off+t.len() : off+t.len()]
}

// str returns the string at t, without copying it: unsafe.String over the
// arena's bytes, which is sound because they are never written again
// (add only appends to a chunk, within its capacity, and compacted writes
// new chunks rather than rewriting old ones). An answer's strings so
// share the graph's memory, as they did when the nodes held strings: the
// collector keeps a chunk alive while a string points into it, after a
// compaction or a new Load too, so an answer kept long keeps at most the
// chunks (1 MiB each) its strings are in.
func (a *arena) str(t text) string {
	if t == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[t.chunk()][t.off()], t.len())
}

// drop counts the string at t as a hole.
func (a *arena) drop(t text) { a.holes += t.len() }

// compacted returns the strings at every text refs yields copied into a
// new arena without holes, each text moved to its new place.
func (a *arena) compacted(refs func(yield func(*text))) arena {
	var out arena
	refs(func(t *text) {
		*t = addText(&out, a.bytes(*t))
	})
	return out
}

// idIndex finds a node by its ID: an open-addressing table with linear
// probing. A slot holds a node's index and 32 bits of its ID's hash (the
// node's key), so that a probe reads a node and its ID only when the hash
// matches, and the index holds no pointer, unlike a map of strings.
type idIndex struct {
	slots []uint64 // hash tag << 32 | node + 1; 0 is empty
	n     int
	shift uint // 64 - log2(len(slots))
}

func idTag(h uint64) uint64 { return uint64(uint32(h)) << 32 }

// home is the first slot to probe for hash h: Fibonacci hashing takes the
// product's high bits, which depend on every bit of h.
func (x *idIndex) home(h uint64) int { return int((h * 0x9E3779B97F4A7C15) >> x.shift) }

// size makes room for n IDs at most three quarters full, placing the IDs
// held again by their nodes' keys.
func (x *idIndex) size(n int, nodes []tnode) {
	want := max(8, 1<<bits.Len(uint(n*4/3)))
	if want <= len(x.slots) {
		return
	}
	old := x.slots
	x.slots = make([]uint64, want)
	x.shift = uint(64 - bits.TrailingZeros(uint(want)))
	mask := len(x.slots) - 1
	for _, v := range old {
		if v == 0 {
			continue
		}
		h := nodes[uint32(v)-1].key
		i := x.home(h)
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = v
	}
}

// find returns the node whose ID is id (of hash h) or, if there is none,
// the slot where it goes.
func (s *graphState) find(id string, h uint64) (n int32, slot int, ok bool) {
	x := &s.ids
	if len(x.slots) == 0 {
		return none, -1, false
	}
	mask := len(x.slots) - 1
	tag := idTag(h)
	for i := x.home(h); ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return none, i, false
		}
		if v&^(1<<32-1) != tag {
			continue
		}
		n := int32(uint32(v) - 1)
		if t := &s.nodes[n]; t.key == h && string(s.text.bytes(t.id)) == id {
			return n, i, true
		}
	}
}
