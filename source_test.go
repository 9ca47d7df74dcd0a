package quarry_test

import (
	"testing"

	"github.com/quarrydata/quarry"
)

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://etl:s3cret@db:5432/shop?sslmode=require": "postgres://etl:xxxxx@db:5432/shop?sslmode=require",
		"postgres://etl@db/shop":                             "postgres://etl@db/shop",
		"host=db user=etl password=s3cret dbname=shop":       "host=db user=etl password=xxxxx dbname=shop",
		"postgres://db/shop?password=s3cret":                 "postgres://db/shop?password=xxxxx",
	} {
		if got := quarry.RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
