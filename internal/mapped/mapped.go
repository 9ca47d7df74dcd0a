// Package mapped drops the pages of read-only file maps from the process's
// resident set.
//
// A page of a memory-mapped file that is read stays in the process's
// resident set (RssFile) until the kernel needs the memory, besides being
// in the page cache: the store's file and the search index's segments
// are read that way, and a scan of either (a rebuild, a merge) left all
// of it resident. Released, the pages stay in the page cache, and a later
// read maps the ones it needs back with a minor fault.
package mapped

import "unsafe"

// ReleaseBytes is Release of the bytes of m, which must be a read-only
// shared file mapping (not a copy of one) that stays mapped meanwhile.
func ReleaseBytes(m []byte) {
	if len(m) > 0 {
		Release(uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m)))
	}
}
