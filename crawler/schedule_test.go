package crawler_test

import (
	"errors"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
)

// An "@every" schedule is at least a minute: "@every 1ms" would crawl a
// whole catalog without pause.
func TestParseSchedule(t *testing.T) {
	for _, spec := range []string{"0 * * * *", "* * * * *", "@hourly", "@every 1m", "@every 30m", "@every 6h"} {
		if _, err := crawler.ParseSchedule(spec); err != nil {
			t.Errorf("%q: %v", spec, err)
		}
	}
	for _, spec := range []string{"@every 1ms", "@every 0s", "@every 59s", "@every 1s", "every hour", "@every"} {
		_, err := crawler.ParseSchedule(spec)
		if e, ok := errors.AsType[*quarry.Error](err); !ok || e.Code != quarry.EINVALID || e.Field != "schedule" {
			t.Errorf("%q: %v, want invalid schedule", spec, err)
		}
	}
}
