//go:build !linux

package store

import (
	"errors"
	"os"
)

// fdatasync is fsync where there is no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }

// preallocate is not done where fallocate is missing: segments grow as
// they are written, which makes each sync record the new size too.
func preallocate(f *os.File, off, size int64) error { return errors.ErrUnsupported }

// freeSpace is not known here: the store's probe then tries a commit now
// and then whatever the free space.
func freeSpace(dir string) (int64, bool) { return 0, false }
