package main

import (
	"os"
	"runtime/debug"
)

// servingGCPercent is the garbage collector's target for a server (Go's
// default is 100). The benchmarks that measure what a server does set the
// same (servertest.ServingGC): keep the two alike.
const servingGCPercent = 400

// setServingGC sets the garbage collector for serving, unless the GOGC
// environment variable sets it: a heap may grow to five times what is live
// between collections instead of twice. A server's live heap is small (about
// 12 MB at 100k datasets: the search index is mapped, not on the heap)
// while a search allocates about 0.6 MB, so at Go's default the collector
// ran every 20 searches or so, and on two cores each 4-7 ms cycle slowed the
// searches it overlapped; its p99 latency was 10-40% lower at 400 in
// BenchmarkSearch100k. A large catalog's lineage graph and caches make the
// live heap larger; GOGC or GOMEMLIMIT bound what that costs.
func setServingGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(servingGCPercent)
	}
}
