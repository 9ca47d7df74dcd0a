package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	machine := func(t *testing.T, files map[string]string) string {
		root := t.TempDir()
		for name, body := range files {
			path := filepath.Join(root, name)
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, []byte(body), 0o644)
		}
		return root
	}
	meminfo := "MemTotal:        4000000 kB\nMemFree:          100000 kB\n"
	for _, tc := range []struct {
		name  string
		cfg   string
		files map[string]string
		want  int64
	}{
		{"DefaultMemTotal", "", map[string]string{"proc/meminfo": meminfo}, 4000000 << 10 * 3 / 4},
		{"DefaultCgroupV2", "", map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "1073741824\n"}, 3 << 28},
		{"CgroupV2Max", "", map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "max\n"}, 4000000 << 10 * 3 / 4},
		{"CgroupV1None", "", map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 4000000 << 10 * 3 / 4},
		{"CgroupV1", "50%", map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n"}, 1 << 30},
		{"Size", "1.5GiB", nil, 3 << 29},
		{"SizeMB", "800MB", nil, 800e6},
		{"Off", "off", nil, 0},
		{"Unknown", "", nil, 0}, // no /proc: no limit, and serve says why
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, from, err := memoryLimit(tc.cfg, machine(t, tc.files))
			if err != nil || got != tc.want || from == "" {
				t.Fatalf("memoryLimit(%q) = %d, %q, %v; want %d", tc.cfg, got, from, err, tc.want)
			}
		})
	}
	for _, cfg := range []string{"0%", "120%", "lots", "-1GiB", "2TB", "12 parsecs"} {
		t.Run("Err"+cfg, func(t *testing.T) {
			if _, _, err := memoryLimit(cfg, machine(t, map[string]string{"proc/meminfo": meminfo})); err == nil || !strings.Contains(err.Error(), "memoryLimit") {
				t.Fatalf("memoryLimit(%q): %v", cfg, err)
			}
		})
	}
}

func TestLoadConfigMemoryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(path, []byte("memoryLimit: lots\n"), 0o600)
	if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), `memoryLimit "lots"`) {
		t.Fatalf("memoryLimit: lots: %v", err)
	}
	os.WriteFile(path, []byte("memoryLimit: 60%\n"), 0o600)
	if cfg, err := loadConfig(path); err != nil || cfg.MemoryLimit != "60%" {
		t.Fatalf("memoryLimit: 60%%: %+v, %v", cfg, err)
	}
}

// quarry serve sets a soft memory limit and says which: the config's, or
// GOMEMLIMIT's, which wins.
func TestServeMemoryLimit(t *testing.T) {
	config := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(config, []byte("memoryLimit: 1GiB\n"), 0o600)
	p := start(t, "--data", t.TempDir(), "--config", config)
	p.stop(t)
	if !strings.Contains(p.logs.String(), `msg="memory limit" bytes=1073741824 from=memoryLimit`) {
		t.Fatalf("no memory limit of the config in the log:\n%s", p.logs)
	}
	// The GC tuner's headroom is the limit's eighth below 256 MiB.
	if !strings.Contains(p.logs.String(), `msg="garbage collector" gogc_max=400 gogc_min=50 heap_headroom=134217728`) {
		t.Fatalf("no GC tuner in the log:\n%s", p.logs)
	}
	t.Setenv("GOMEMLIMIT", "600MiB")
	p = start(t, "--data", t.TempDir(), "--config", config)
	p.stop(t)
	if !strings.Contains(p.logs.String(), `msg="memory limit" bytes=629145600 from=GOMEMLIMIT`) {
		t.Fatalf("no memory limit of GOMEMLIMIT in the log:\n%s", p.logs)
	}
}

// The tuner lets the heap grow by 4x what is live while that is less than
// the headroom, by the headroom above, and by half what is live at least.
func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live, headroom int64
		want           int
	}{
		{0, 256 * mb, 400},
		{40 * mb, 256 * mb, 400},
		{64 * mb, 256 * mb, 400},
		{128 * mb, 256 * mb, 200},
		{200 * mb, 256 * mb, 128},
		{512 * mb, 256 * mb, 50},
		{4096 * mb, 256 * mb, 50},
		{100 * mb, 50 * mb, 50},
	} {
		if got := gcPercent(tc.live, tc.headroom); got != tc.want {
			t.Errorf("gcPercent(%d MB, %d MB) = %d, want %d", tc.live/mb, tc.headroom/mb, got, tc.want)
		}
	}
}
