package mapped

import "syscall"

// Release drops the pages of the n bytes of a read-only shared file
// mapping at addr from the resident set. Safe for such a mapping: a later
// read faults the same bytes back in from the page cache (or the file).
// The caller keeps the mapping mapped meanwhile.
func Release(addr, n uintptr) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED)
}
