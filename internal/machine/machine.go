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
	t := cpuTicks()
	for _, n := range t {
		total += n
	}
	if len(t) > 7 {
		steal = t[7]
	}
	return total, steal
}

// Busy is the machine's CPU time that was neither idle nor waiting for
// I/O, and all of it, in ticks (0, 0 where there is no /proc/stat).
func Busy() (busy, total uint64) {
	for i, n := range cpuTicks() {
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total
}

// cpuTicks is the first eight counters of /proc/stat's cpu line: user
// nice system idle iowait irq softirq steal (guest time is in user).
func cpuTicks() []uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	f = f[1:min(len(f), 9)]
	t := make([]uint64, len(f))
	for i, v := range f {
		t[i], _ = strconv.ParseUint(v, 10, 64)
	}
	return t
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
