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

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// ReleaseBytes is Release of the bytes of m, which must be a read-only
// shared file mapping (not a copy of one) that stays mapped meanwhile.
func ReleaseBytes(m []byte) {
	if len(m) > 0 {
		Release(uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m)))
	}
}

// Every calls release every d until done is closed.
func Every(done <-chan struct{}, d time.Duration, release func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			release()
		}
	}
}

// Resident returns how many bytes of this process's memory maps of the
// files whose path match accepts are in its resident set, and how many
// such maps there are, from /proc/self/smaps (Linux only): for tests.
func Resident(match func(path string) bool) (bytes int64, maps int, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A map's header: address perms offset dev inode [path].
			if in = len(fields) >= 6 && match(fields[5]); in {
				maps++
			}
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, 0, err
			}
			bytes += kb << 10
		}
	}
	return bytes, maps, sc.Err()
}
