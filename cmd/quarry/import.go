package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/dbt"
	"github.com/quarrydata/quarry/store"
)

// runImport handles `quarry import dbt`: a dbt project's artifacts into a
// data directory that no server holds, or through a server's
// POST /api/v1/dbt (--server, or the server holding --data).
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "dbt" {
		return usageError{"usage: quarry import dbt [--server URL | --data DIR] --namespace NS [--source NAME] [--manifest F --catalog F --run-results F --sources F] [TARGET_DIR]"}
	}
	fs := newFlagSet("import dbt", stderr)
	data := fs.String("data", "./quarry-data", "data directory")
	server := fs.String("server", "", "URL of a running server (default: the one holding --data, if any)")
	namespace := fs.String("namespace", "", "the warehouse's namespace, e.g. postgres://wh:5432, as its crawler and dbt-ol name it")
	source := fs.String("source", "", "a registered source whose namespace to use")
	jobNamespace := fs.String("job-namespace", "", "namespace of the models' jobs, dbt-ol's OPENLINEAGE_NAMESPACE (default \"default\")")
	docsURL := fs.String("docs-url", "", "address of the project's dbt docs site, to link each dataset to its page")
	project := fs.String("project", "", "the project's name (default: the manifest's)")
	var files dbt.Files
	fs.StringVar(&files.Manifest, "manifest", "", "manifest.json (default: TARGET_DIR/manifest.json)")
	fs.StringVar(&files.Catalog, "catalog", "", "catalog.json (default: beside the manifest, when there)")
	fs.StringVar(&files.RunResults, "run-results", "", "run_results.json (default: beside the manifest, when there)")
	fs.StringVar(&files.Sources, "sources", "", "sources.json (default: beside the manifest, when there)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	dir := ""
	switch fs.NArg() {
	case 0:
		if files.Manifest == "" {
			return usageError{"import dbt takes the target directory, or --manifest"}
		}
	case 1:
		dir = fs.Arg(0)
	default:
		return usageError{"import dbt takes one target directory"}
	}
	o := dbt.Options{Namespace: *namespace, JobNamespace: *jobNamespace, DocsURL: *docsURL, Project: *project}
	if *namespace == "" && *source == "" {
		return usageError{"import dbt needs --namespace (the warehouse's, e.g. postgres://wh:5432) or --source"}
	}
	start := time.Now()
	var res quarry.DBTResult
	var via string
	if *server == "" {
		if err := os.MkdirAll(*data, 0o700); err != nil {
			return err
		}
		st, err := store.Open(filepath.Join(*data, storeFile), &store.Options{Timeout: 200 * time.Millisecond, Logger: newLogger(LogConfig{Level: "warn", Format: "text"}, stderr)})
		if err == nil {
			defer st.Close()
			via = *data
			if *source != "" {
				src, err := st.Source(ctx, *source)
				if err != nil {
					return fmt.Errorf("--source: %w", err)
				}
				if o.Namespace == "" {
					o.Namespace = src.Namespace
				}
			}
			a, err := dbt.ReadDir(dir, files)
			if err != nil {
				return err
			}
			if res, err = dbt.Import(ctx, st, a, o); err != nil {
				return fmt.Errorf("import failed, nothing was stored: %w", err)
			}
		} else {
			addr, infoErr := runningServer(*data)
			if infoErr != nil {
				return fmt.Errorf("%v; %v", err, infoErr)
			}
			*server = addr
		}
	}
	if *server != "" {
		via = *server
		var err error
		if res, err = postDBT(ctx, *server, dir, files, o, *source); err != nil {
			return err
		}
	}
	c := res.Counts
	fmt.Fprintf(stdout, "imported dbt project %s into %s in %s\n", res.Project, via, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  models %d (%d ephemeral), seeds %d, snapshots %d, sources %d (%d with freshness), exposures %d\n",
		c.Models, c.Ephemeral, c.Seeds, c.Snapshots, c.Sources, c.Freshness, c.Exposures)
	fmt.Fprintf(stdout, "  tests %d, unit tests %d, test results %d, jobs %d, lineage edges %d\n", c.Tests, c.UnitTests, c.TestResults, c.Jobs, c.Edges)
	fmt.Fprintf(stdout, "  datasets: %d new, %d changed, %d removed\n", res.Created, res.Changed, res.Removed)
	for _, w := range res.Warnings {
		fmt.Fprintf(stdout, "  warning: %s\n", w)
	}
	return nil
}

// postDBT sends the artifacts to a server as one JSON object, streaming the
// files into it as they are (each is a JSON value).
func postDBT(ctx context.Context, server, dir string, f dbt.Files, o dbt.Options, source string) (quarry.DBTResult, error) {
	var res quarry.DBTResult
	head := map[string]string{"namespace": o.Namespace, "source": source, "jobNamespace": o.JobNamespace, "docsUrl": o.DocsURL, "project": o.Project}
	var parts []io.Reader
	sep := "{"
	for _, k := range []string{"namespace", "source", "jobNamespace", "docsUrl", "project"} {
		if head[k] == "" {
			continue
		}
		v, _ := json.Marshal(head[k])
		parts = append(parts, strings.NewReader(fmt.Sprintf("%s%q: %s", sep, k, v)))
		sep = ", "
	}
	base := dir
	if base == "" {
		base = filepath.Dir(f.Manifest)
	}
	for _, a := range []struct{ field, name, def string }{
		{"manifest", f.Manifest, "manifest.json"}, {"catalog", f.Catalog, "catalog.json"},
		{"run_results", f.RunResults, "run_results.json"}, {"sources", f.Sources, "sources.json"},
	} {
		path := a.name
		if path == "" {
			path = filepath.Join(base, a.def)
		}
		file, err := os.Open(path)
		if err != nil {
			if a.name == "" && a.field != "manifest" && os.IsNotExist(err) {
				continue
			}
			return res, err
		}
		defer file.Close()
		parts = append(parts, strings.NewReader(fmt.Sprintf("%s%q: ", sep, a.field)), file)
		sep = ", "
	}
	parts = append(parts, strings.NewReader("}"))
	url := strings.TrimRight(server, "/") + "/api/v1/dbt"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, io.MultiReader(parts...))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/json")
	withToken(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return res, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return res, fmt.Errorf("%s: %s: import failed, nothing was stored: %s", url, resp.Status, e.Error.Message)
		}
		return res, fmt.Errorf("%s: %s: import failed, nothing was stored", url, resp.Status)
	}
	return res, json.Unmarshal(body, &res)
}
