package quarry_test

import (
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"6h": 6 * time.Hour, "90m": 90 * time.Minute, "1d": 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, "1.5d": 36 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		got, err := quarry.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := quarry.ParseDuration(quarry.FormatDuration(got)); back != got {
			t.Errorf("FormatDuration(%v) = %q does not parse back", got, quarry.FormatDuration(got))
		}
	}
	for _, in := range []string{"", "d", "6", "6x", "h6", "1d-"} {
		if _, err := quarry.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
}

func TestFreshnessPolicyStatus(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	p := quarry.FreshnessPolicy{WarnAfter: 6 * time.Hour, ErrorAfter: 24 * time.Hour}
	at := func(ago time.Duration) *time.Time { t := now.Add(-ago); return &t }
	for _, tc := range []struct {
		last *time.Time
		want quarry.FreshnessStatus
	}{
		{nil, quarry.FreshnessUnknown},
		{at(time.Hour), quarry.Fresh},
		{at(7 * time.Hour), quarry.FreshnessWarn},
		{at(25 * time.Hour), quarry.FreshnessError},
	} {
		if got := p.Status(tc.last, now); got != tc.want {
			t.Errorf("Status(%v) = %s, want %s", tc.last, got, tc.want)
		}
	}
	if err := (quarry.FreshnessPolicy{WarnAfter: 2 * time.Hour, ErrorAfter: time.Hour}).Validate(); quarry.ErrorCode(err) != quarry.EINVALID {
		t.Errorf("warn after error: %v", err)
	}
}

func TestInferPolicy(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var daily []time.Time
	for i := range 6 {
		daily = append(daily, t0.Add(time.Duration(i)*day))
	}
	p, ok := quarry.InferPolicy(append(daily, daily[2])) // a repeated observation counts once
	if !ok || p.WarnAfter != 36*time.Hour || p.ErrorAfter != 72*time.Hour {
		t.Fatalf("daily loads: %+v %v", p, ok)
	}
	if _, ok := quarry.InferPolicy(daily[:4]); ok {
		t.Fatal("four updates inferred a policy")
	}
	// One slow day among many: the 95th percentile of 20 gaps is the
	// largest but one.
	var hourly []time.Time
	for i := range 21 {
		hourly = append(hourly, t0.Add(time.Duration(i)*time.Hour))
	}
	hourly[20] = hourly[19].Add(10 * time.Hour)
	if p, _ := quarry.InferPolicy(hourly); p.WarnAfter != 90*time.Minute {
		t.Fatalf("hourly with one 10h gap: %+v", p)
	}
	if got := p.Status(&daily[5], daily[5].Add(37*time.Hour)); got != quarry.FreshnessWarn {
		t.Fatalf("37h after a daily load: %s", got)
	}
}

func TestParseDurationOverflow(t *testing.T) {
	for _, s := range []string{"100000d100000d100000d", "9999999999999h", "300000w"} {
		if d, err := quarry.ParseDuration(s); err == nil {
			t.Errorf("%q parsed as %s", s, d)
		}
	}
}
