package quarry

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// EventDigest returns a lineage event's Digest: the hex SHA-256 of a
// canonical encoding of what its producer sent. A retried delivery has the
// same encoding, so the store recognizes it and applies it once.
//
// Each ingest path has its encoding, and it must never change: digests are
// stored, and a retry encoded differently after an upgrade would be
// applied again. They are:
//
//   - an OpenLineage event (lineage.ParseEvent): the parser's canonical
//     binary form of the event's JSON, with object members sorted by key,
//     strings unescaped and no layout, so deliveries that differ only in
//     those match;
//   - a reportRun mutation: the encoding/json encoding of the LineageEvent
//     it maps to, Digest empty.
func EventDigest(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// ProvidedDigest hashes what a crawler or tool provides about a dataset:
// kind, provided metadata, columns, constraints, definition and partitions
// (not its source, which an upsert may leave out to keep; not row counts,
// sizes or stats, which move on every crawl; not people's edits or times). Two upserts with the same digest carry
// the same facts, so a store can skip an unchanged dataset without decoding
// it. Call it on a normalized dataset.
//
// Every field of the types it covers must be written here: the tests fail
// when a field is added to them and not to the digest.
func (d *Dataset) ProvidedDigest() [32]byte {
	b := make(digestBuf, 0, 512)
	b = b.str(string(d.Kind))
	b = b.str(d.Database).str(d.Schema)
	b = b.str(d.Provided.Description)
	b = b.strs(d.Provided.Owners)
	b = b.strs(d.Provided.Tags)
	b = b.str(d.Definition)
	b = b.strs(d.Partitions)
	b = b.int(len(d.Columns))
	for i := range d.Columns {
		c := &d.Columns[i]
		b = b.str(c.Name).str(c.Type).bool(c.Nullable).int(c.Ordinal).str(c.Description).str(c.Default)
		b = b.bool(c.PrimaryKey).bool(c.Unique).bool(c.ForeignKey != nil)
		if fk := c.ForeignKey; fk != nil {
			b = b.str(fk.Namespace).str(fk.Name).str(fk.Column)
		}
	}
	b = b.int(len(d.Constraints))
	for i := range d.Constraints {
		c := &d.Constraints[i]
		b = b.str(c.Name).str(string(c.Kind)).strs(c.Columns).bool(c.References != nil)
		if r := c.References; r != nil {
			b = b.str(r.Namespace).str(r.Name).strs(r.Columns)
		}
	}
	return sha256.Sum256(b)
}

// digestBuf collects length-prefixed values, so that ("ab","c") and
// ("a","bc") differ; it is hashed once.
type digestBuf []byte

func (b digestBuf) int(n int) digestBuf { return binary.AppendVarint(b, int64(n)) }

func (b digestBuf) str(s string) digestBuf { return append(b.int(len(s)), s...) }

func (b digestBuf) strs(ss []string) digestBuf {
	b = b.int(len(ss))
	for _, s := range ss {
		b = b.str(s)
	}
	return b
}

func (b digestBuf) bool(v bool) digestBuf {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
