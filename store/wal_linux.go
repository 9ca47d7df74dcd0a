package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fdatasync flushes f's data and what of its metadata reading it back
// needs, not its times.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// preallocate reserves size bytes for f, so that writes within them do not
// change its size. A file system without fallocate says
// errors.ErrUnsupported.
func preallocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
	}
	return err
}
