package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/store"
)

// runCrawl crawls one PostgreSQL or MySQL/MariaDB database (or server)
// into a data directory that no server holds, showing a progress bar on a
// terminal and a summary on any output. The DSN's form says which kind it
// is (crawler.KindOfDSN).
func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("crawl", stderr)
	data := fs.String("data", "./quarry-data", "data directory")
	source := fs.String("source", "", "name of the source to record on the datasets")
	namespace := fs.String("namespace", "", "namespace for the datasets (default: postgres://host:port or mysql://host:port of the DSN)")
	include := fs.String("include", "", "comma-separated schema patterns to crawl (globs; MySQL: database patterns)")
	exclude := fs.String("exclude", "", "comma-separated schema patterns to skip (globs; MySQL: database patterns)")
	all := fs.Bool("all-databases", false, "crawl every database on the server the role (MySQL: the account) may see")
	viewDefs := fs.Bool("view-definitions", false, "PostgreSQL: read view definitions (takes a lock on each view); MySQL reads them always")
	stmtTimeout := fs.Duration("statement-timeout", 30*time.Second, "statement time limit of the catalog queries (statement_timeout, max_execution_time, max_statement_time)")
	lockTimeout := fs.Duration("lock-timeout", time.Second, "lock wait limit of the catalog queries (lock_timeout, lock_wait_timeout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"crawl takes one argument: the DSN, e.g. postgres://user@host:5432/db or mysql://user@host:3306/db"}
	}
	dsn := fs.Arg(0)
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(*data, storeFile), &store.Options{Timeout: 200 * time.Millisecond, Logger: newLogger(LogConfig{Level: "warn", Format: "text"}, stderr)})
	if err != nil {
		return fmt.Errorf("%w (while a server runs, register the source and use the crawlSource mutation)", err)
	}
	defer st.Close()

	o := crawler.Options{
		Source: *source, Namespace: *namespace, Include: splitList(*include), Exclude: splitList(*exclude),
		AllDatabases: *all, ViewDefinitions: *viewDefs, StatementTimeout: *stmtTimeout, LockTimeout: *lockTimeout,
		Trusted: true, // the operator's own DSN, read as psql or mysql would
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(1, progressbar.OptionSetWriter(stderr), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(false))
		defer bar.Exit()
		o.Progress = func(p crawler.Progress) {
			bar.ChangeMax(max(p.Total, 1))
			bar.Describe(fmt.Sprintf("%-10s %s", p.Database, p.Phase))
			bar.Set(p.Done)
		}
	}
	fmt.Fprintf(stderr, "crawling %s\n", quarry.RedactDSN(dsn))
	res, err := crawler.Crawl(ctx, crawler.KindOfDSN(dsn), st, dsn, o)
	if err != nil {
		return fmt.Errorf("crawl failed, nothing was removed: %w", err)
	}
	fmt.Fprintf(stdout, "crawled %s (%s) in %s\n", res.Namespace, strings.Join(res.Databases, ", "), res.Duration.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  datasets %d: %d new, %d changed, %d removed, %d restored\n", res.Datasets, res.New, res.Changed, res.Removed, res.Restored)
	fmt.Fprintf(stdout, "  columns %d, lineage edges %d, skipped (no access) %d\n", res.Columns, res.Edges, res.Skipped)
	if res.ViewsUnparsed > 0 {
		fmt.Fprintf(stdout, "  views whose SQL could not be read for lineage: %d\n", res.ViewsUnparsed)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
