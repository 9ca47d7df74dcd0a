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

// preallocate reserves the size bytes of f from off, so that writes within
// them do not change its size. A file system without fallocate says
// errors.ErrUnsupported.
func preallocate(f *os.File, off, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, off, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
	}
	return err
}

// freeSpace returns the bytes free (to this unprivileged process) on the
// file system of dir, and whether it could tell.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
