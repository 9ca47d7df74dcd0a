package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// servingGCPercent is the garbage collector's target for a server with a
// small live heap (Go's default is 100). The benchmarks that measure what a
// server does set the same (servertest.ServingGC): keep the two alike.
//
// A heap may grow to five times what is live between collections instead
// of twice. A server's live heap is small (about 40 MB at 100k datasets:
// the search index is mapped, not on the heap) while a search allocates
// about 0.6 MB, so at Go's default the collector ran every 20 searches or
// so, and on two cores each 4-7 ms cycle slowed the searches it overlapped;
// its p99 latency was 10-40% lower at 400 in BenchmarkSearch100k.
const servingGCPercent = 400

// minGCPercent is the lowest target the tuner sets: below it a large live
// heap is marked so often that the collector takes more CPU than the
// memory it saves is worth; the soft memory limit bounds the rest.
const minGCPercent = 50

// maxHeapHeadroom is the most a heap may grow over what was live before it
// is collected again, unless the memory limit's share (headroomFraction)
// is smaller. At GOGC=400 alone, the 150-200 MB that ingesting a large
// batch holds live (bleve's analysis and segment building) let the heap
// reach 800 MB and RSS 1.9 GB at 100k datasets, 12 GB of heap at 1M.
const maxHeapHeadroom = 256 << 20

// headroomFraction is the share of the memory limit the heap may grow by
// between collections, when that is less than maxHeapHeadroom.
const headroomFraction = 8

// setServingGC sets the garbage collector for serving, unless the GOGC
// environment variable sets it (the runtime has read it already): a
// collection once the heap has grown by servingGCPercent of what is live,
// or by headroom, whichever comes first. Go's GOGC is a share of the live
// heap, so the tuner sets it again after each collection, from the live
// heap that collection found. It stops when ctx ends.
func setServingGC(ctx context.Context, limit int64) *gcTuner {
	return setGC(ctx, limit, maxHeapHeadroom)
}

// setGC is setServingGC with most for maxHeapHeadroom.
func setGC(ctx context.Context, limit, most int64) *gcTuner {
	if os.Getenv("GOGC") != "" {
		return nil
	}
	headroom := most
	if limit > 0 {
		headroom = max(min(headroom, limit/headroomFraction), 16<<20)
	}
	t := &gcTuner{headroom: headroom, percent: servingGCPercent, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	debug.SetGCPercent(servingGCPercent)
	t.arm()
	context.AfterFunc(ctx, func() { t.stopped.Store(true) })
	return t
}

// gcTuner sets GOGC after each collection: see setServingGC.
type gcTuner struct {
	headroom int64
	stopped  atomic.Bool

	mu      sync.Mutex // cleanups may run concurrently
	percent int        // the target set last
	sample  []metrics.Sample
}

// gcSentinel is garbage from birth: its cleanup runs after a collection.
type gcSentinel struct{ _ [64]byte }

// arm has t.collected called after the next collection.
func (t *gcTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), func(t *gcTuner) { t.collected() }, t)
}

func (t *gcTuner) collected() {
	if t.stopped.Load() {
		return
	}
	t.mu.Lock()
	metrics.Read(t.sample)
	live := int64(0)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = int64(t.sample[0].Value.Uint64())
	}
	p := gcPercent(live, t.headroom)
	// Setting GOGC stops the world for a moment: only for a change that
	// moves the heap's goal by a tenth or more.
	if p != t.percent && (p == servingGCPercent || p == minGCPercent || 10*abs(p-t.percent) >= t.percent) {
		debug.SetGCPercent(p)
		t.percent = p
	}
	t.mu.Unlock()
	t.arm()
}

// gcPercent is the GOGC that lets a heap of live bytes grow by headroom
// before the next collection, within minGCPercent and servingGCPercent.
func gcPercent(live, headroom int64) int {
	if live <= 0 {
		return servingGCPercent
	}
	return int(max(min(headroom*100/live, servingGCPercent), minGCPercent))
}

func abs(n int) int { return max(n, -n) }

// defaultMemoryFraction is the soft memory limit when neither GOMEMLIMIT
// nor memoryLimit sets one: the share of the machine's memory (or of the
// cgroup's limit) the Go runtime aims to stay under. The GC tuner
// (setServingGC) keeps the heap near what is live; the limit is the
// backstop: the collector runs more often as the heap nears it, before the
// kernel's OOM killer acts, and the rest of the memory is left to the page
// cache that bbolt and bleve read through.
const defaultMemoryFraction = 0.75

// setMemoryLimit sets the runtime's soft memory limit and says which it set
// and why: GOMEMLIMIT when the environment sets it (the runtime has read
// it already), else the config's memoryLimit ("off", a size like "2GiB",
// or a share like "60%" of the machine's memory), else 75% of the
// machine's memory. root is the file system root the machine's memory is
// read from ("/"; a test's directory).
func setMemoryLimit(cfg string, getenv func(string) string, root string) (limit int64, from string, err error) {
	if env := getenv("GOMEMLIMIT"); env != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT", nil
	}
	limit, from, err = memoryLimit(cfg, root)
	if err != nil {
		return 0, "", err
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	} else {
		debug.SetMemoryLimit(math.MaxInt64)
	}
	return limit, from, nil
}

// memoryLimit computes the limit of a memoryLimit config value; 0 means
// none.
func memoryLimit(cfg string, root string) (int64, string, error) {
	cfg = strings.TrimSpace(cfg)
	if strings.EqualFold(cfg, "off") {
		return 0, "memoryLimit: off", nil
	}
	frac, from := defaultMemoryFraction, "75% of the machine's memory"
	if p, ok := strings.CutSuffix(cfg, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || f > 100 {
			return 0, "", fmt.Errorf("config: memoryLimit %q: want a share above 0%% and at most 100%%", cfg)
		}
		frac, from = f/100, "memoryLimit: "+cfg+" of the machine's memory"
	} else if cfg != "" {
		n, err := parseBytes(cfg)
		if err != nil {
			return 0, "", fmt.Errorf("config: memoryLimit %q: %v", cfg, err)
		}
		return n, "memoryLimit", nil
	}
	total, what, err := machineMemory(root)
	if err != nil && cfg == "" {
		return 0, fmt.Sprintf("none: the machine's memory is unknown (%v); set memoryLimit or GOMEMLIMIT", err), nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("config: memoryLimit %q: the machine's memory is unknown (%w): give a size", cfg, err)
	}
	return int64(float64(total) * frac), from + " (" + what + ")", nil
}

// machineMemory returns the memory this process may use: the cgroup's
// limit (v2 memory.max, else v1 memory.limit_in_bytes) when there is one
// below the machine's, else MemTotal of /proc/meminfo.
func machineMemory(root string) (int64, string, error) {
	b, err := os.ReadFile(filepath.Join(root, "proc", "meminfo"))
	if err != nil {
		return 0, "", err
	}
	var total int64
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, "", fmt.Errorf("/proc/meminfo: MemTotal %q", strings.TrimSpace(rest))
			}
			total = kb << 10
		}
	}
	if total <= 0 {
		return 0, "", errors.New("/proc/meminfo has no MemTotal")
	}
	for _, f := range []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		// "max", or v1's page-rounded 2^63-1, mean none.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < total {
			return n, "the cgroup's limit", nil
		}
	}
	return total, "MemTotal", nil
}

// parseBytes reads a size: a number with an optional unit (B, KB, MB, GB,
// KiB, MiB, GiB; K, M, G are the binary ones, as GOMEMLIMIT's are).
func parseBytes(s string) (int64, error) {
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
	unit := strings.TrimSpace(s[len(num):])
	mult, ok := map[string]float64{
		"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9,
		"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
	}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f <= 0 {
		return 0, errors.New("want a size like 2GiB, 1500MB, or a share like 60%, or off")
	}
	return int64(f * mult), nil
}
