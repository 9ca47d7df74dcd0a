package store

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data and what of its metadata reading it back
// needs, not its times.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// preallocate reserves size bytes for f, so that writes within them do not
// change its size.
func preallocate(f *os.File, size int64) error {
	return syscall.Fallocate(int(f.Fd()), 0, 0, size)
}
