//go:build !linux

package mapped

// Release does nothing where madvise is not known to be safe for it.
func Release(addr, n uintptr) {}

// FileResident is 0 where it is not known how to read it: Every then
// releases on its period alone.
func FileResident() int64 { return 0 }
