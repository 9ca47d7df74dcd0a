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

// Budget is how many bytes of mapped files the process keeps resident
// before Every drops its maps sooner than its period: under what the
// anonymous memory of a server of a million datasets is, above what its
// searches keep touching (about 0.2 GB with 8 searchers). A page fault
// maps the 64 KiB around the page it reads when the file is in the page
// cache (fault-around), so reads of records at random fill the resident
// set as fast as they come: an ingest of a million datasets mapped about
// 1 GB of the store's file a second, and dropped every 2 s, 1.6 of its
// 2 GB were resident at the peak (every 0.5 s, 0.8).
const Budget = 512 << 20

// budget is Budget, but for tests.
var budget int64 = Budget

// overEvery is how often Every looks at the resident set.
const overEvery = 100 * time.Millisecond

// Every calls release every d, and sooner whenever the process's resident
// pages of mapped files exceed Budget (FileResident, looked at every 100
// ms), until done is closed: the pages that reads touch stay mapped while
// they are few, and a burst of them is dropped within a tenth of a second
// rather than at the next period.
func Every(done <-chan struct{}, d time.Duration, release func()) {
	t := time.NewTicker(min(d, overEvery))
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			// A tick may come a little early: half a look's slack.
			if now.Sub(last) >= d-overEvery/2 || FileResident() > budget {
				release()
				last = now
			}
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
