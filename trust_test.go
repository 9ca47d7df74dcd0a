package quarry_test

import (
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

// dbt's deprecation_date deprecates a dataset unless a person's edit says
// otherwise.
func TestDeprecatedFromDBT(t *testing.T) {
	d := &quarry.Dataset{DBT: &quarry.DBTInfo{Deprecated: true, Properties: map[string]string{"dbt.deprecation_date": "2026-01-31T00:00:00Z"}}}
	dep := d.Deprecated()
	if dep == nil || !dep.FromDBT || !dep.At.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("from dbt: %+v", dep)
	}
	d.Edited.Deprecated = &quarry.Deprecation{By: "ann"} // zero At: "not deprecated"
	if dep := d.Deprecated(); dep != nil {
		t.Fatalf("undeprecated by a person: %+v", dep)
	}
	d.Edited.Deprecated = &quarry.Deprecation{At: time.Now(), Note: "use b"}
	if dep := d.Deprecated(); dep == nil || dep.FromDBT || dep.Note != "use b" {
		t.Fatalf("deprecated by a person: %+v", dep)
	}
	if dep := (&quarry.Dataset{}).Deprecated(); dep != nil {
		t.Fatalf("live: %+v", dep)
	}
}
