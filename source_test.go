package quarry_test

import (
	"testing"

	"github.com/quarrydata/quarry"
)

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://etl:s3cret@db:5432/shop?sslmode=require":  "postgres://etl:xxxxx@db:5432/shop?sslmode=require",
		"postgres://etl@db/shop":                              "postgres://etl@db/shop",
		"host=db user=etl password=s3cret dbname=shop":        "host=db user=etl password=xxxxx dbname=shop",
		"postgres://db/shop?password=s3cret":                  "postgres://db/shop?password=xxxxx",
		"postgres://app@db/shop?sslpassword=s3cret":           "postgres://app@db/shop?sslpassword=xxxxx",
		"host=db user=app password = s3cret dbname=shop":      "host=db user=app password=xxxxx dbname=shop",
		"host=db user=app password='s3cret word' dbname=shop": "host=db user=app password=xxxxx dbname=shop",
		`host=db password='it\'s s3cret' user=app`:            "host=db password=xxxxx user=app",
		"host=db password='s3cret unterminated":               "(an unreadable DSN, not shown)",
		"host=db password":                                    "(an unreadable DSN, not shown)",
		"etl:s3cret@tcp(db:3306)/shop?parseTime=true":         "etl:xxxxx@tcp(db:3306)/shop?parseTime=true",
		"etl:s3c@r/et@tcp(db:3306)/shop":                      "etl:xxxxx@tcp(db:3306)/shop",
		"etl@unix(/run/mysqld.sock)/shop":                     "etl@unix(/run/mysqld.sock)/shop",
		"mysql://etl:s3cret@db:3306/shop":                     "mysql://etl:xxxxx@db:3306/shop",
		"host=db password=a@/b":                               "host=db password=xxxxx",
	} {
		if got := quarry.RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
