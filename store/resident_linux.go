package store

import "syscall"

// dontNeed drops the pages of the n bytes of a read-only shared file
// mapping at addr from the resident set. Safe for such a mapping: a later
// read faults the same bytes back in from the page cache (or the file).
func dontNeed(addr, n uintptr) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED)
}
