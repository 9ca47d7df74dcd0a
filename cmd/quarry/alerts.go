package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quarrydata/quarry"
)

// errAlerting is returned when an open alert is at ERROR: the command
// exits 2, so cron jobs and monitors can page on it.
type errAlerting struct{ n int }

func (e errAlerting) Error() string { return fmt.Sprintf("%d open alert(s) at ERROR", e.n) }

// runAlerts prints the open alerts of a running server, worst first.
func runAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("alerts", stderr)
	server := fs.String("server", "", "URL of a running server (default: the one holding --data, else http://127.0.0.1:8080)")
	data := fs.String("data", "./quarry-data", "data directory of a local server")
	asJSON := fs.Bool("json", false, "print the alerts as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("alerts takes no arguments, got %q", fs.Args())}
	}
	url := *server
	if url == "" {
		var err error
		if url, err = runningServer(*data); err != nil {
			url = "http://127.0.0.1:8080"
		}
	}
	alerts, err := fetchAlerts(ctx, url)
	if err != nil {
		return err
	}
	errors := 0
	for _, a := range alerts {
		if a.Level == quarry.LevelError {
			errors++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(alerts); err != nil {
			return err
		}
	} else {
		printAlerts(stdout, alerts)
	}
	if errors > 0 {
		return errAlerting{errors}
	}
	return nil
}

// openAlert is an open alert as the alerts command reads it.
type openAlert struct {
	Level      quarry.AlertLevel `json:"level"`
	Kind       quarry.AlertKind  `json:"kind"`
	Status     string            `json:"status"`
	Message    string            `json:"message"`
	OpenedAt   time.Time         `json:"openedAt"`
	AgeSeconds int64             `json:"ageSeconds"`
	CheckName  *string           `json:"checkName"`
	Column     *string           `json:"column"`
	Dataset    struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"dataset"`
}

// alertsQuery asks for a page of 1000 (the default page is 100), the most
// a server gives unless its limits.pageMax says less.
const alertsQuery = `{ alerts(open: true, first: 1000) { level kind status message openedAt ageSeconds checkName column dataset { namespace name } } }`

func fetchAlerts(ctx context.Context, server string) ([]openAlert, error) {
	body, _ := json.Marshal(map[string]string{"query": alertsQuery})
	url := strings.TrimRight(server, "/") + "/graphql"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	withToken(req)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Alerts []openAlert `json:"alerts"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", url, resp.Status, err)
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("%s: %s", url, out.Errors[0].Message)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return out.Data.Alerts, nil
}

func printAlerts(w io.Writer, alerts []openAlert) {
	if len(alerts) == 0 {
		fmt.Fprintln(w, "no open alerts")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tKIND\tDATASET\tCHECK\tOPEN FOR\tDETAIL")
	for _, a := range alerts {
		check := "-"
		if a.CheckName != nil {
			check = *a.CheckName
			if a.Column != nil {
				check = *a.Column + "." + check
			}
		}
		age := quarry.FormatDuration((time.Duration(a.AgeSeconds) * time.Second).Truncate(time.Minute))
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\n", a.Level, a.Kind, a.Dataset.Namespace, a.Dataset.Name, check, age, a.Message)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d open alert(s)\n", len(alerts))
}
