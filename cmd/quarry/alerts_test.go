package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quarrydata/quarry"
)

// TestPrintAlertsWidth: however long a dataset's names and an alert's
// message, quarry alerts keeps to 100 columns, and keeps the end of the
// dataset's name (what tells tables apart) and all of the message.
func TestPrintAlertsWidth(t *testing.T) {
	check, column := "accepted_values_"+strings.Repeat("x", 120), "method"
	long := openAlert{Level: quarry.LevelError, Kind: quarry.AlertCheck, Message: "check failed: " + strings.Repeat("many words ", 40) + strings.Repeat("y", 150),
		CheckName: &check, Column: &column}
	long.Dataset.Namespace = "postgres://" + strings.Repeat("long-host.", 5) + "internal:5432"
	long.Dataset.Name = "analytics.reporting_schema.daily_revenue_by_region_and_currency_final"
	longer := long
	longer.Dataset.Name = strings.Repeat("n", 150) + ".the_end"
	var out bytes.Buffer
	printAlerts(&out, []openAlert{long, longer})
	for line := range strings.Lines(out.String()) {
		if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > 100 {
			t.Errorf("a line of %d columns: %q", n, line)
		}
	}
	text := out.String()
	joined := strings.ReplaceAll(strings.ReplaceAll(text, "\n    ", ""), " ", "")
	for _, want := range []string{long.Dataset.Name, ".the_end", "in " + long.Dataset.Namespace, strings.ReplaceAll(long.Message, " ", ""), column + "." + check} {
		if !strings.Contains(joined, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("the output lacks %.40q:\n%s", want, text)
		}
	}
}
