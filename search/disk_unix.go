//go:build unix

package search

import (
	"errors"
	"strings"
	"syscall"
)

// freeSpace returns the bytes free on the file system of dir (or of the
// nearest directory above it that exists), and whether it could tell.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	for d := dir; ; {
		err := syscall.Statfs(d, &st)
		if err == nil {
			return int64(st.Bavail) * int64(st.Bsize), true
		}
		up := d[:max(strings.LastIndexByte(d, '/'), 0)]
		if !errors.Is(err, syscall.ENOENT) || up == "" || up == d {
			return 0, false
		}
		d = up
	}
}
