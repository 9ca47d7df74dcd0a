package store

import (
	"bytes"
	"strings"

	"github.com/quarrydata/quarry"
)

// The name index (bucketDatasetNames) maps namespace \x00 name to a small
// entry: the dataset's ID, whether it is removed, and the digest and source
// of its provided facts. A crawl lists and compares datasets through it
// without decoding a record, and every write of a dataset touches it
// anyway: keeping these facts here costs no extra page.
//
// Layout: id (36 bytes), flags (1 byte, bit 0: removed), digest (32 bytes),
// then source, database and schema, separated by NUL bytes.
type nameEntry struct {
	id       string
	removed  bool
	digest   []byte // nil when unknown
	source   string
	database string
	schema   string
}

func encodeNameEntry(id string, removed bool, digest [32]byte, d *quarry.Dataset) []byte {
	b := make([]byte, 0, idLen+1+32+len(d.Source)+len(d.Database)+len(d.Schema)+2)
	b = append(b, id...)
	var flags byte
	if removed {
		flags |= 1
	}
	b = append(b, flags)
	b = append(b, digest[:]...)
	b = append(b, d.Source...)
	b = append(append(b, 0), d.Database...)
	return append(append(b, 0), d.Schema...)
}

func decodeNameEntry(v []byte) nameEntry {
	if len(v) < idLen {
		return nameEntry{id: string(v)}
	}
	e := nameEntry{id: string(v[:idLen])}
	if len(v) > idLen {
		e.removed = v[idLen]&1 != 0
	}
	if len(v) >= idLen+1+32 {
		e.digest = bytes.Clone(v[idLen+1 : idLen+1+32])
		rest := string(v[idLen+1+32:])
		e.source, rest, _ = strings.Cut(rest, "\x00")
		e.database, e.schema, _ = strings.Cut(rest, "\x00")
	}
	return e
}
