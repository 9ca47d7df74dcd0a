package search

import (
	"github.com/quarrydata/quarry/internal/lru"

	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
	lev "github.com/blevesearch/vellum/levenshtein"
)

// A fuzzy query finds the terms of a field within an edit distance of a
// word, as bleve's FuzzyQuery does, with the same scoring. bleve builds
// the word's Levenshtein automaton for every query and field: for a word
// of 8+ letters (distance 2) that takes about 0.4 ms and 700 KB, a search
// did it three times (two name fields, then the highlight search), and
// it was most of the memory a search allocated. Here automata are built
// once per word and distance and kept, compacted, in a bounded cache.

// fuzzyQuery is bleve's FuzzyQuery with cached automata.
type fuzzyQuery struct {
	automata *automatonCache
	term     string
	field    string
	fuzz     int     // 1 or 2
	prefix   int     // bytes that must match exactly
	boost    float64 // unlike bleve's, 0 until SetBoost (textQuery sets every clause's)
}

func (q *fuzzyQuery) Field() string      { return q.field }
func (q *fuzzyQuery) SetField(f string)  { q.field = f }
func (q *fuzzyQuery) SetBoost(b float64) { q.boost = b }
func (q *fuzzyQuery) Boost() float64     { return q.boost }
func (q *fuzzyQuery) Validate() error    { return nil }
func (q *fuzzyQuery) String() string     { return fmt.Sprintf("%s:%s~%d", q.field, q.term, q.fuzz) }
func (q *fuzzyQuery) prefixTerm() (string, bool) {
	// As bleve: the prefix ends at a rune boundary at or after q.prefix.
	for i := range q.term {
		if i >= q.prefix {
			return q.term[:i], i > 0
		}
	}
	return q.term, q.term != ""
}

// Searcher finds the candidate terms in each segment's dictionary with the
// cached automaton and searches them as bleve's fuzzy searcher does. On an
// index reader that is not a scorch snapshot it is bleve's.
func (q *fuzzyQuery) Searcher(ctx context.Context, r index.IndexReader, _ mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return searcher.NewFuzzySearcher(ctx, r, q.term, q.prefix, q.fuzz, q.field, q.boost, o)
	}
	p, hasPrefix := q.prefixTerm()
	e, err := expand(ctx, expansionKey{field: q.field, term: q.term, fuzz: q.fuzz, prefix: len(p)}, func() (expansion, error) {
		a, err := q.automata.get(q.term, q.fuzz)
		if err != nil {
			return expansion{}, err
		}
		var beg, end []byte
		if hasPrefix {
			beg = []byte(p)
			end = prefixEnd(beg)
		}
		return dictTerms(snap, q.field, a, beg, end)
	})
	if err != nil {
		return nil, fmt.Errorf("fuzzy %w", err)
	}
	if len(e.terms) == 0 || len(e.terms) == 1 && e.terms[0] == q.term {
		return searcher.NewTermSearcher(ctx, hotIndex(ctx, r), q.term, q.field, q.boost, o)
	}
	return searcher.NewMultiTermSearcherBoosted(ctx, hotIndex(ctx, r), e.terms, q.field, q.boost, e.eds, composite(o), true)
}

// prefixEnd is the first key after every key that starts with p (nil:
// none), as bleve computes it.
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end
		}
	}
	return nil
}

// automatonCache holds an index's compacted automata by word and
// distance, up to automataBytes of them (2-20 KB for a word of 6-12
// letters, at most about 140 KB for the longest words typo-matched); the
// least recently used make room.
type automatonCache struct {
	lru *lru.Cache[automatonKey, *compactDFA]

	buildOnce sync.Once
	builders  [3]*lev.LevenshteinAutomatonBuilder // by distance
	buildErr  error
}

type automatonKey struct {
	term string
	fuzz int
}

func newAutomatonCache(maxBytes int) *automatonCache {
	// The count bound is never the one reached: the smallest automata take
	// over 1 KB.
	return &automatonCache{lru: lru.New[automatonKey, *compactDFA](maxBytes/512, maxBytes)}
}

func (c *automatonCache) get(term string, fuzz int) (*compactDFA, error) {
	if fuzz < 1 || fuzz > 2 {
		return nil, fmt.Errorf("fuzzy: distance %d is not 1 or 2", fuzz)
	}
	k := automatonKey{term, fuzz}
	if a, ok := c.lru.Get(k); ok {
		return a, nil
	}
	c.buildOnce.Do(func() {
		// As bleve's scorch: transpositions count as one edit.
		for d := 1; d <= 2 && c.buildErr == nil; d++ {
			c.builders[d], c.buildErr = lev.NewLevenshteinAutomatonBuilder(uint8(d), true)
		}
	})
	if c.buildErr != nil {
		return nil, c.buildErr
	}
	dfa, err := c.builders[fuzz].BuildDfa(term, uint8(fuzz))
	if err != nil {
		return nil, fmt.Errorf("fuzzy %q: %w", term, err)
	}
	a := compact(dfa)
	c.lru.Add(k, a, a.size()) // a search that built it meanwhile built the same
	return a, nil
}

// compactDFA is a Levenshtein DFA in the memory its states need: vellum's
// keeps a 256-entry row for each of the states it could have had (about
// 1 KB each, hundreds of KB for distance 2); here bytes that no state
// tells apart share a column. It is immutable, so searches share it.
type compactDFA struct {
	class   [256]uint8
	classes int
	next    []uint32 // state*classes + class -> state; state 0 is the dead end
	dist    []uint8  // edit distance of a matching state
	match   []bool
}

// compact copies the states reachable from the start of d, renumbered in
// the order found, with d's dead end (0) kept as 0.
func compact(d *lev.DFA) *compactDFA {
	ids := map[int]uint32{0: 0}
	order := []int{0}
	for i := 0; i < len(order); i++ {
		if i == 0 {
			if _, ok := ids[d.Start()]; !ok {
				ids[d.Start()] = uint32(len(order))
				order = append(order, d.Start())
			}
			continue
		}
		for b := range 256 {
			s := d.Accept(order[i], byte(b))
			if _, ok := ids[s]; !ok {
				ids[s] = uint32(len(order))
				order = append(order, s)
			}
		}
	}
	// Byte classes: bytes whose transitions agree in every state.
	c := &compactDFA{}
	column := make([]uint32, len(order))
	key := make([]byte, 0, 4*len(order))
	seen := map[string]uint8{}
	cols := [][]uint32{}
	for b := range 256 {
		key = key[:0]
		for i, s := range order {
			column[i] = ids[d.Accept(s, byte(b))]
			key = binary.LittleEndian.AppendUint32(key, column[i])
		}
		cl, ok := seen[string(key)]
		if !ok {
			cl = uint8(len(cols))
			seen[string(key)] = cl
			cols = append(cols, slices.Clone(column))
		}
		c.class[b] = cl
	}
	c.classes = len(cols)
	c.next = make([]uint32, len(order)*c.classes)
	c.dist = make([]uint8, len(order))
	c.match = make([]bool, len(order))
	for i, s := range order {
		for cl, col := range cols {
			c.next[i*c.classes+cl] = col[i]
		}
		if i > 0 && d.IsMatch(s) {
			c.match[i] = true
			c.dist[i] = d.EditDistance(s)
		}
	}
	return c
}

// size is about the memory c holds, in bytes.
func (c *compactDFA) size() int { return len(c.next)*4 + len(c.dist) + len(c.match) + 256 }

func (c *compactDFA) Start() int {
	if len(c.match) < 2 {
		return 0
	}
	return 1
}
func (c *compactDFA) IsMatch(s int) bool       { return c.match[s] }
func (c *compactDFA) CanMatch(s int) bool      { return s > 0 }
func (c *compactDFA) WillAlwaysMatch(int) bool { return false }
func (c *compactDFA) Accept(s int, b byte) int { return int(c.next[s*c.classes+int(c.class[b])]) }
func (c *compactDFA) EditDistance(s int) uint8 { return c.dist[s] }
func (c *compactDFA) MatchAndDistance(in string) (bool, uint8) {
	s := c.Start()
	for i := 0; i < len(in) && s > 0; i++ {
		s = c.Accept(s, in[i])
	}
	if s > 0 && c.match[s] {
		return true, c.dist[s]
	}
	return false, 0
}
