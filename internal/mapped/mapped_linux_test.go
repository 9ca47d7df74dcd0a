package mapped

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Every drops a map as soon as the process's mapped file pages exceed the
// budget, long before its period; under the budget it waits for the
// period.
func TestEveryDropsMapsOverTheBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	const size = 32 << 20
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	resident := func() int64 {
		n, _, err := Resident(func(p string) bool { return p == path })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	touch := func() {
		sum := byte(0)
		for i := 0; i < size; i += os.Getpagesize() {
			sum += m[i]
		}
		if r := resident(); r < size/2 {
			t.Fatalf("%d of %d bytes resident after reading them all (%d)", r, size, sum)
		}
	}
	run := func(b int64) (stop func()) {
		budget = b
		done, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			Every(done, time.Hour, func() { ReleaseBytes(m) })
		}()
		return func() { close(done); <-stopped; budget = Budget }
	}

	touch()
	stop := run(FileResident() + size) // the file's pages and as many again
	time.Sleep(5 * overEvery)
	if r := resident(); r < size/2 {
		t.Errorf("under the budget, the map was dropped before its period: %d bytes resident", r)
	}
	stop()

	stop = run(size / 4)
	defer stop()
	for range 2 {
		touch()
		deadline := time.Now().Add(10 * time.Second)
		for resident() > size/8 {
			if time.Now().After(deadline) {
				t.Fatalf("over the budget, %d bytes stay resident after 10 s", resident())
			}
			time.Sleep(overEvery / 2)
		}
	}
}
