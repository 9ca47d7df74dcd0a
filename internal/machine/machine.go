// Package machine reads what benchmarks report of the machine they ran on:
// its CPU time, the part a hypervisor stole, and its load.
package machine

import (
	"os"
	"strconv"
	"strings"
)

// Ticks is the machine's CPU time from /proc/stat, in ticks, and the part
// of it the hypervisor stole (0, 0 where there is no such file).
func Ticks() (total, steal uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n") // cpu user nice system idle iowait irq softirq steal ...
	for i, v := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i < 8 {
			total += n
		}
		if i == 7 {
			steal = n
		}
	}
	return total, steal
}

// LoadAvg is the 1, 5 and 15 minute load averages ("?" where unknown).
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
