package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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

// alertsWidth is the width printAlerts keeps to: a terminal's, or a
// mail's or a ticket's, without wrapping in the middle of a column.
const alertsWidth = 100

// printAlerts prints one line per alert (level, kind, how long open, the
// dataset) and under it, indented, the dataset's namespace when the line
// has no room for it and the alert's message, wrapped, all within
// alertsWidth columns.
func printAlerts(w io.Writer, alerts []openAlert) {
	if len(alerts) == 0 {
		fmt.Fprintln(w, "no open alerts")
		return
	}
	const head = "%-5s  %-10s %-9s %s\n"
	fixed := utf8.RuneCountInString(fmt.Sprintf(head, "", "", "", ""))
	fmt.Fprintf(w, head, "LEVEL", "KIND", "OPEN FOR", "DATASET")
	for _, a := range alerts {
		age := quarry.FormatDuration((time.Duration(a.AgeSeconds) * time.Second).Truncate(time.Minute))
		ds, ns := fitDataset(a.Dataset.Namespace, a.Dataset.Name, alertsWidth-fixed+1)
		fmt.Fprintf(w, head, a.Level, a.Kind, age, ds)
		if ns != "" {
			fmt.Fprintln(w, "    in "+cutMiddle(ns, alertsWidth-7))
		}
		detail := a.Message
		if a.CheckName != nil {
			check := *a.CheckName
			if a.Column != nil {
				check = *a.Column + "." + check
			}
			if !strings.Contains(detail, check) {
				detail = "check " + check + ": " + detail
			}
		}
		for _, line := range wrap(detail, alertsWidth-4) {
			fmt.Fprintln(w, "    "+line)
		}
	}
	fmt.Fprintf(w, "%d open alert(s)\n", len(alerts))
}

// fitDataset names a dataset in at most width columns: "namespace name"
// when that fits, else the name alone, and the namespace for a line of its
// own. A name longer than width loses its beginning: its end is what tells
// tables apart.
func fitDataset(namespace, name string, width int) (column, own string) {
	if full := namespace + " " + name; utf8.RuneCountInString(full) <= width {
		return full, ""
	}
	if r := []rune(name); len(r) > width {
		name = "…" + string(r[len(r)-(width-1):])
	}
	return name, namespace
}

// cutMiddle shortens s to width runes, keeping its ends.
func cutMiddle(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	left := (width - 1) / 2
	return string(r[:left]) + "…" + string(r[len(r)-(width-1-left):])
}

// wrap breaks text into lines of at most width runes at spaces; a word
// longer than a line is cut.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		for utf8.RuneCountInString(word) > width {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			r := []rune(word)
			lines, word = append(lines, string(r[:width])), string(r[width:])
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
