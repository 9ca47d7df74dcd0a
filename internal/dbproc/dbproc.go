// Package dbproc runs the throwaway database servers of the test helpers
// (crawler/pgtest, crawler/mysqltest): a server process in its own process
// group with its output in a log file, waiting until it answers (or says
// in its log why it never will), freezing and thawing it as a hung server
// would be, and stopping it.
package dbproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a running server.
type Process struct {
	name    string // what errors call it: "pgtest: postgres", "mysqltest: mariadbd"
	cmd     *exec.Cmd
	exited  chan error
	logPath string
}

// Start starts cmd in a process group of its own (so that a signal
// reaches what it forks), appending its output to logPath.
func Start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: start: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, exited: make(chan error, 1), logPath: logPath}
	go func() { p.exited <- cmd.Wait(); logf.Close() }()
	return p, nil
}

// WaitReady calls ready every 100 ms until it succeeds, for at most a
// minute; a server that exits meanwhile fails at once, with its log.
func (p *Process) WaitReady(ctx context.Context, ready func() error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case werr := <-p.exited:
			p.exited <- werr
			log, _ := os.ReadFile(p.logPath)
			return fmt.Errorf("%s exited: %v\n%s", p.name, werr, log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.logPath)
			return fmt.Errorf("%s did not accept connections within 60s: %v\n%s", p.name, err, log)
		}
	}
}

// Freeze stops every process of the server with SIGSTOP, as a hung or
// swapped-out server would be: its connections stay open, the kernel
// still accepts new ones, and nothing answers. Thaw continues them.
func (p *Process) Freeze() error { return p.signal(syscall.SIGSTOP) }

// Thaw continues a frozen server's processes.
func (p *Process) Thaw() error { return p.signal(syscall.SIGCONT) }

// signal sends sig to the server's process group (the server, and runuser
// before it when it runs as another user) and then to each of its
// descendants: PostgreSQL's backends call setsid, so the group does not
// hold them. The group goes first, so that it forks none while the
// descendants are found.
func (p *Process) signal(sig syscall.Signal) error {
	if p == nil || p.cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("%s: signal %v: %w", p.name, sig, err)
	}
	for _, pid := range descendants(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, sig) // one may have exited meanwhile
	}
	return nil
}

// Stop thaws the server (a stopped process would not act on a signal),
// sends its group sig, and waits for it to exit; after 10 s it is killed.
// The servers are thrown away, so sig is an immediate shutdown.
func (p *Process) Stop(sig syscall.Signal) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.Thaw()
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// descendants lists the processes under pid, from /proc.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// FreePort returns a TCP port free on 127.0.0.1 now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
