package mapped

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// Release drops the pages of the n bytes of a read-only shared file
// mapping at addr from the resident set. Safe for such a mapping: a later
// read faults the same bytes back in from the page cache (or the file).
// The caller keeps the mapping mapped meanwhile.
func Release(addr, n uintptr) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED)
}

// FileResident is how many bytes of the process's resident set are pages
// of files (its shared pages: /proc/self/statm's third field, RssFile and
// RssShmem, of which Quarry has none), or 0 when it cannot be read.
func FileResident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
