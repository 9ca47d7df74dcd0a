package quarry

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FreshnessStatus says whether a dataset's data is as recent as expected.
type FreshnessStatus string

const (
	Fresh            FreshnessStatus = "FRESH"
	FreshnessWarn    FreshnessStatus = "WARN"
	FreshnessError   FreshnessStatus = "ERROR"
	FreshnessUnknown FreshnessStatus = "UNKNOWN"
)

// DataChange is one observation that a dataset's data changed: a run that
// wrote it completed, a crawler saw its modification counters rise, a tool
// reported it. A dataset's LastUpdatedAt is its newest.
type DataChange struct {
	At     time.Time `json:"at"`
	Signal string    `json:"signal"` // crawler, run, metric, manual, dbt
	Detail string    `json:"detail,omitempty"`
}

// Data change signals.
const (
	SignalCrawler = "crawler"
	SignalRun     = "run"
	SignalMetric  = "metric"
	SignalManual  = "manual"
	SignalDBT     = "dbt" // a dbt source's max_loaded_at (dbt source freshness)
)

// FreshnessPolicy says how old a dataset's data may get: past WarnAfter its
// status is WARN, past ErrorAfter it is ERROR. A zero duration is unset.
type FreshnessPolicy struct {
	WarnAfter  time.Duration `json:"warnAfter,omitempty"`
	ErrorAfter time.Duration `json:"errorAfter,omitempty"`
}

// Status returns the status of data last updated at lastUpdated, at now.
func (p FreshnessPolicy) Status(lastUpdated *time.Time, now time.Time) FreshnessStatus {
	if lastUpdated == nil || (p.WarnAfter == 0 && p.ErrorAfter == 0) {
		return FreshnessUnknown
	}
	age := now.Sub(*lastUpdated)
	switch {
	case p.ErrorAfter > 0 && age > p.ErrorAfter:
		return FreshnessError
	case p.WarnAfter > 0 && age > p.WarnAfter:
		return FreshnessWarn
	}
	return Fresh
}

// Validate checks that the policy has at least one threshold and that warn
// comes before error.
func (p FreshnessPolicy) Validate() error {
	switch {
	case p.WarnAfter < 0:
		return Invalid("warnAfter", "must not be negative")
	case p.ErrorAfter < 0:
		return Invalid("errorAfter", "must not be negative")
	case p.WarnAfter == 0 && p.ErrorAfter == 0:
		return Invalid("warnAfter", "set warnAfter, errorAfter or both")
	case p.WarnAfter > 0 && p.ErrorAfter > 0 && p.WarnAfter > p.ErrorAfter:
		return Invalid("warnAfter", "%s is after errorAfter %s", FormatDuration(p.WarnAfter), FormatDuration(p.ErrorAfter))
	}
	return nil
}

// ParseDuration parses durations as people write them in policies: Go's
// syntax ("90m", "1h30m") plus days and weeks ("1d", "2w", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("%q is not a duration like 6h, 30m or 1d", s)
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var per time.Duration
		switch unit {
		case "d":
			per = 24 * time.Hour
		case "w":
			per = 7 * 24 * time.Hour
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration like 6h, 30m or 1d", s)
			}
			if d > math.MaxInt64-total {
				return 0, fmt.Errorf("%q is too long", s)
			}
			total += d
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 6h, 30m or 1d", s)
		}
		if v := f * float64(per); v >= float64(math.MaxInt64)-float64(total) {
			return 0, fmt.Errorf("%q is too long", s)
		} else {
			total += time.Duration(v)
		}
	}
	return total, nil
}

// FormatDuration formats d the way ParseDuration reads it, using days for
// whole days ("1d", "1d6h", "45m").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	day := 24 * time.Hour
	var b strings.Builder
	if d >= day {
		fmt.Fprintf(&b, "%dd", d/day)
		d %= day
	}
	if d > 0 {
		s := d.String() // e.g. "1h30m0s", "6h0m0s", "45m0s", "1.5s"
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// Inferred freshness: a dataset without a policy whose data was seen to
// change at least InferMinUpdates times gets an expected interval learned
// from its history. The rule: take the intervals between consecutive
// observed updates (the newest InferWindow of them), their 95th percentile
// times 1.5 is when it is late (WARN), twice that is ERROR. A table loaded
// every day at 02:00 is WARN after 36 hours without a load, ERROR after 72.
const (
	InferMinUpdates = 5
	InferWindow     = 50
)

// InferPolicy learns a policy from the times a dataset's data changed, in
// any order; ok is false with fewer than InferMinUpdates distinct times.
func InferPolicy(changes []time.Time) (p FreshnessPolicy, ok bool) {
	ts := slices.Clone(changes)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	ts = slices.CompactFunc(ts, func(a, b time.Time) bool { return a.Equal(b) })
	if len(ts) < InferMinUpdates {
		return p, false
	}
	if len(ts) > InferWindow+1 {
		ts = ts[len(ts)-InferWindow-1:]
	}
	gaps := make([]time.Duration, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i].Sub(ts[i-1]))
	}
	slices.Sort(gaps)
	p95 := gaps[(len(gaps)*95+99)/100-1] // nearest rank
	warn := p95 * 3 / 2
	return FreshnessPolicy{WarnAfter: warn, ErrorAfter: 2 * warn}, true
}

// PolicyDefault is a freshness policy that applies to every dataset
// matching it (all of its set fields): by tag, by source, or by a name
// pattern (path.Match syntax on the qualified name, e.g.
// "analytics.reporting.*"). A policy set on a dataset wins over defaults.
type PolicyDefault struct {
	Tag    string
	Source string
	Name   string
	Policy FreshnessPolicy
}

// Validate checks the default; errors name the field.
func (d *PolicyDefault) Validate() error {
	if d.Tag == "" && d.Source == "" && d.Name == "" {
		return Invalid("tag", "set tag, source, name or several")
	}
	if d.Tag != "" {
		tags, err := NormalizeLabels([]string{d.Tag})
		if err != nil {
			return InField("tag", err)
		}
		d.Tag = tags[0] // as datasets' tags are kept
	}
	if d.Source != "" && !sourceName.MatchString(d.Source) {
		return Invalid("source", "%q is not a source name (lower-case letters, digits, '_', '.', '-')", Truncate(d.Source, 64))
	}
	if d.Name != "" {
		if _, err := path.Match(d.Name, ""); err != nil {
			return Invalid("name", "%q is not a pattern: %v", d.Name, err)
		}
	}
	return d.Policy.Validate()
}

// Matches reports whether the default applies to the dataset.
func (d *PolicyDefault) Matches(ds *Dataset) bool {
	if d.Tag != "" && !slices.Contains(ds.Tags(), d.Tag) {
		return false
	}
	if d.Source != "" && ds.Source != d.Source {
		return false
	}
	if d.Name != "" {
		if ok, _ := path.Match(d.Name, ds.Name); !ok {
			return false
		}
	}
	return true
}

// DefaultPolicy returns the policy of the first default that matches ds.
func DefaultPolicy(defaults []PolicyDefault, ds *Dataset) (*FreshnessPolicy, bool) {
	for i := range defaults {
		if defaults[i].Matches(ds) {
			p := defaults[i].Policy
			return &p, true
		}
	}
	return nil, false
}

// CheckTime reports a time the catalog cannot order (it keys histories by
// nanoseconds since 1970): before 1678 or after 2262.
func CheckTime(field string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return Invalid(field, "%s is out of range: want a time between 1678 and 2262", t.Format(time.RFC3339))
	}
	return nil
}

var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)
