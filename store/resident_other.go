//go:build !linux

package store

// dontNeed does nothing where madvise is not known to be safe for it.
func dontNeed(addr, n uintptr) {}
