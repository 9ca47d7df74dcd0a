package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quarrydata/quarry/internal/runreport"
)

// serverEnv holds the server that quarry run reports to when --server is
// not given.
const serverEnv = "QUARRY_SERVER"

// exitCode is the status quarry run exits with: its command's.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

// listFlag is a flag given once per value.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runRun runs a command as a child, with its stdio, signals and exit code
// its own, and reports the run to a server as OpenLineage events (START,
// then COMPLETE or FAIL). Whatever happens to the report, the command
// runs and its exit code is returned: reporting problems are warnings.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	server := fs.String("server", "", "URL of the server to report to (default: the config file's server, else $"+serverEnv+", else http://127.0.0.1:8080)")
	job := fs.String("job", "", "the job, NAMESPACE/NAME (default: the config file's job, else cron/ and the script's name)")
	var inputs, outputs listFlag
	fs.Var(&inputs, "input", "a dataset the command reads, NAMESPACE:NAME (repeat for more; default: the config file's)")
	fs.Var(&outputs, "output", "a dataset the command writes, NAMESPACE:NAME (repeat for more; default: the config file's)")
	token := fs.String("token", "", "API token with the ingest role (default: $"+tokenEnv+", which the process list does not show)")
	config := fs.String("config", "", "the run's YAML (default: "+runreport.ConfigFile+" beside the script, else in the working directory)")
	spool := fs.String("spool", "", "directory for the events the server could not take (default: a directory per server under the user's cache directory)")
	retryFor := fs.Duration("retry-for", 30*time.Second, "how long to retry a report before spooling it")
	flush := fs.Bool("flush", false, "only send the spooled events, and exit")
	// Flags end at the command: its own flags are its own.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	command := fs.Args()
	if !*flush && len(command) == 0 {
		return usageError{"run takes a command: quarry run [flags] -- CMD [ARGS...]"}
	}
	warn := func(format string, args ...any) {
		fmt.Fprintf(stderr, "quarry run: warning: "+format+"\n", args...)
	}

	// What the config file says; a broken one is a warning, not a
	// reason not to run the command.
	cfgPath, script := *config, runreport.Script(command)
	if cfgPath == "" {
		cfgPath, _ = runreport.FindConfig(command)
	}
	section, cfgServer := &runreport.Section{}, ""
	if cfgPath != "" {
		s, srv, err := runreport.LoadConfig(cfgPath, script)
		if err != nil {
			warn("%v (ignored)", err)
		} else {
			section, cfgServer = s, srv
		}
	}
	url := firstOf(*server, cfgServer, os.Getenv(serverEnv), "http://127.0.0.1:8080")
	secret := firstOf(*token, strings.TrimSpace(os.Getenv(tokenEnv)))
	dir := *spool
	if dir == "" {
		dir = runreport.DefaultSpoolDir(url)
	}
	rep := &runreport.Reporter{
		Client: &runreport.Client{Server: url, Token: secret},
		Spool:  &runreport.Spool{Dir: dir},
		Warn:   warn,
	}
	if *flush {
		res, err := rep.Spool.Flush(ctx, rep.Client, time.Now().Add(*retryFor), runreport.DefaultBackoff)
		for _, d := range res.Dropped {
			warn("a spooled event was dropped: %v", d)
		}
		fmt.Fprintf(stderr, "quarry run: sent %d spooled event(s) to %s; %d left in %s\n", res.Sent, url, res.Left, dir)
		if err != nil {
			warn("%s: %v", url, err)
		}
		return nil
	}

	jobNS, jobName := splitJob(firstOf(*job, section.Job), command, script)
	run := runreport.NewRun(jobNS, jobName, time.Now())
	run.Inputs = datasets(inputs, section.Inputs, "--input", warn)
	run.Outputs = datasets(outputs, section.Outputs, "--output", warn)
	run.Command = runreport.RedactArgs(command, secret)
	run.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		run.User = u.Username
	}
	run.Version = buildVersion()

	code := runChild(ctx, command, run, rep, *retryFor, stdout, stderr, secret)
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// runChild runs the command and reports it; it returns the command's exit
// code.
func runChild(ctx context.Context, command []string, run *runreport.Run, rep *runreport.Reporter, retryFor time.Duration,
	stdout, stderr io.Writer, secret string) int {
	// The report outlives a signal that stops the command: it is the
	// FAIL that says so. A signal after the command ended stops the
	// report's retries (the events are spooled).
	rctx, cancelReport := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReport()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	tail := &runreport.Tail{}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, tee{stderr, tail}
	// A command that leaves a background process holding its stderr has
	// ended all the same: its exit is not held up by the copying.
	cmd.WaitDelay = 2 * time.Second
	startErr := cmd.Start()

	started := make(chan struct{})
	go func() {
		defer close(started)
		rep.Deliver(rctx, run.StartEvent(), run.Start.Add(retryFor))
	}()

	var exited atomic.Bool
	stopForwarding := make(chan struct{})
	defer close(stopForwarding)
	go func() {
		for {
			select {
			case s := <-sigs:
				if exited.Load() || cmd.Process == nil {
					cancelReport()
				} else {
					_ = cmd.Process.Signal(s) // it may have just ended
				}
			case <-stopForwarding:
				return
			}
		}
	}()

	code := 0
	if startErr != nil {
		code = 126
		if errors.Is(startErr, exec.ErrNotFound) || errors.Is(startErr, os.ErrNotExist) {
			code = 127 // as a shell says it
		}
		fmt.Fprintf(stderr, "quarry run: %v\n", startErr)
		run.StartError = runreport.RedactText(startErr.Error(), secret)
	} else {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil, errors.Is(err, exec.ErrWaitDelay):
		case errors.As(err, &ee):
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
				run.Signal = sigName(ws.Signal())
			}
		default:
			code = 1
			run.StartError = runreport.RedactText(err.Error(), secret)
		}
	}
	exited.Store(true)
	run.End = time.Now().UTC()
	run.ExitCode = code
	run.StderrTail = tail.Lines(secret)

	<-started
	rep.Deliver(rctx, run.EndEvent(), run.End.Add(retryFor))
	return code
}

// tee writes the command's stderr to quarry's and keeps its tail. It
// never fails: a closed stderr must not break the command's pipe (which
// io.MultiWriter would, stopping at the first writer's error).
type tee struct {
	w    io.Writer
	tail *runreport.Tail
}

func (t tee) Write(p []byte) (int, error) {
	_, _ = t.w.Write(p)
	return t.tail.Write(p)
}

// sigName names a signal as kill -l does: TERM, INT, HUP.
func sigName(s syscall.Signal) string {
	for _, n := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGTERM, "TERM"}, {syscall.SIGINT, "INT"}, {syscall.SIGHUP, "HUP"}, {syscall.SIGKILL, "KILL"}, {syscall.SIGQUIT, "QUIT"},
		{syscall.SIGABRT, "ABRT"}, {syscall.SIGSEGV, "SEGV"}, {syscall.SIGPIPE, "PIPE"}} {
		if s == n.sig {
			return n.name
		}
	}
	return s.String()
}

// splitJob reads NAMESPACE/NAME; a name alone is in the namespace cron,
// and no job at all is the script's (or the command's) file name.
func splitJob(job string, command []string, script string) (namespace, name string) {
	if job == "" {
		base := script
		if base == "" {
			base = command[0]
		}
		return "cron", filepath.Base(base)
	}
	if ns, name, ok := strings.Cut(job, "/"); ok && ns != "" && name != "" {
		return ns, name
	}
	return "cron", strings.Trim(job, "/")
}

// datasets parses the flag's datasets, or when none were given the config
// file's; one that does not parse is left out, with a warning.
func datasets(flags, file []string, flag string, warn func(string, ...any)) []runreport.Dataset {
	list := flags
	if len(list) == 0 {
		list = file
	}
	var out []runreport.Dataset
	for _, s := range list {
		d, err := runreport.ParseDataset(s)
		if err != nil {
			warn("%s: %v (left out)", flag, err)
			continue
		}
		out = append(out, d)
	}
	return out
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
