// Command quarry runs Quarry: a data catalog and lineage server in one
// binary. It parses flags and config, wires the packages together and runs
// them; the logic lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `Quarry: a data catalog and lineage server in one binary.

Usage:
  quarry serve   [--addr 127.0.0.1:8080] [--data ./quarry-data] [--config quarry.yaml] [--demo]
                 [--tls-cert FILE --tls-key FILE]
  quarry crawl   [--data ./quarry-data] [--source NAME] [--namespace NS]
                 [--include SCHEMAS] [--exclude SCHEMAS] [--all-databases] [--view-definitions]
                 [--statement-timeout 30s] [--lock-timeout 1s] DSN
                 (DSN: postgres://user@host:5432/db, mysql://user@host:3306/db
                 or user:pass@tcp(host:3306)/db)
  quarry backup  [--data ./quarry-data] [--server URL] [--force] FILE
  quarry index rebuild [--data ./quarry-data] [--server URL]
  quarry import dbt [--data ./quarry-data | --server URL] (--namespace NS | --source NAME)
                 [--job-namespace NS] [--project NAME] [--docs-url URL]
                 [--manifest F] [--catalog F] [--run-results F] [--sources F] [TARGET_DIR]
  quarry alerts  [--server URL] [--data ./quarry-data] [--json]
                 (exits 2 when an open alert is at ERROR)
  quarry token create --name NAME --role viewer|editor|ingest|admin [--expires 90d]
                 [--data ./quarry-data | --server URL]
  quarry token list [--json] [--data ./quarry-data | --server URL]
  quarry token revoke [--data ./quarry-data | --server URL] NAME
                 (against a server, an admin token in $QUARRY_TOKEN; the commands that talk
                 to a server send it)
  quarry mcp     [--server URL] [--data ./quarry-data] [--token T]
                 (an MCP client's stdio server: relays to the server's /mcp; the token
                 defaults to $QUARRY_TOKEN)
  quarry run     [--server URL] [--job NAMESPACE/NAME] [--input NS:NAME ...] [--output NS:NAME ...]
                 [--token T] [--config quarry-run.yaml] [--spool DIR] [--retry-for 30s]
                 -- CMD [ARGS...]   (reports CMD's run to the server; exits with CMD's code)
  quarry run     --flush [--server URL] [--token T] [--spool DIR]   (sends the spooled reports)
  quarry migrate --from DIR --to postgres://... (or --from postgres://... --to DIR)
                 (copies a catalog between store engines, into a new store)
  quarry version

Flags may follow the arguments. Run 'quarry COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if code, ok := errors.AsType[exitCode](err); ok {
			os.Exit(int(code)) // quarry run: its command's, said by the command
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "quarry:", err)
		var ue usageError
		var ea errAlerting
		if errors.As(err, &ue) || errors.As(err, &ea) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "crawl":
		return runCrawl(ctx, rest, stdout, stderr)
	case "index":
		return runIndex(ctx, rest, stdout, stderr)
	case "import":
		return runImport(ctx, rest, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "alerts":
		return runAlerts(ctx, rest, stdout, stderr)
	case "token":
		return runToken(ctx, rest, stdout, stderr)
	case "mcp":
		return runMCP(ctx, rest, os.Stdin, stdout, stderr)
	case "run":
		return runRun(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "quarry", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		if v != "" {
			return v
		}
	}
	return "(devel)"
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("quarry "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and turns flag errors into usage errors. Flags may
// come after the arguments too (`quarry crawl DSN --data X`), as people
// type them; "--" ends the flags, for an argument that begins with "-".
// fs.Args() are the arguments, in order.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		rest := fs.Args()
		// The flag package stops at the first argument, and drops a "--"
		// it stops at: if one came before what is left, all of it is
		// arguments.
		if len(rest) == 0 || (len(args) > len(rest) && args[len(args)-len(rest)-1] == "--") {
			positional = append(positional, rest...)
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	// Parse again with nothing but the arguments, so that fs.Args() is them.
	return fs.Parse(append([]string{"--"}, positional...))
}
