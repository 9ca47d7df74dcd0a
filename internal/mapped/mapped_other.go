//go:build !linux

package mapped

// Release does nothing where madvise is not known to be safe for it.
func Release(addr, n uintptr) {}
