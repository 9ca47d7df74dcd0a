package graph

import (
	"time"

	"github.com/quarrydata/quarry"
)

// formatThreshold shows a policy's duration, or null when it is unset.
func formatThreshold(d time.Duration) *string {
	if d == 0 {
		return nil
	}
	s := quarry.FormatDuration(d)
	return &s
}

func ptr[T any](v T) *T { return &v }
