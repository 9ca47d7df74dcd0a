package lineage

import (
	"context"

	"github.com/quarrydata/quarry"
)

// Acceptor validates parsed events against the catalog and makes the valid
// ones durable, returning each event's error (nil: accepted): the store's
// lineage log (store.Store.AcceptLineage).
type Acceptor interface {
	AcceptLineage(ctx context.Context, evs []quarry.LineageEvent) []error
}

// Ingest parses one OpenLineage event and hands it to acc: what POST
// /api/v1/lineage does with its body, and the one way an event enters the
// catalog. A nil error means accepted: durable, and applied a moment later.
func Ingest(ctx context.Context, acc Acceptor, raw []byte) error {
	ev, err := ParseEvent(raw)
	if err != nil {
		return err
	}
	return acc.AcceptLineage(ctx, []quarry.LineageEvent{ev})[0]
}

// IngestBatch parses a JSON array of OpenLineage events and hands the
// valid ones to acc in one call (one write to the lineage log): what POST
// /api/v1/lineage/batch does. errs[i] is the i-th event's parse or accept
// error, nil when it was accepted; err is set, and errs nil, when raw is
// not a JSON array.
func IngestBatch(ctx context.Context, acc Acceptor, raw []byte) (errs []error, err error) {
	evs, errs, err := ParseBatch(raw)
	if err != nil {
		return nil, err
	}
	valid := make([]quarry.LineageEvent, 0, len(evs))
	index := make([]int, 0, len(evs))
	for i := range evs {
		if errs[i] == nil {
			valid = append(valid, evs[i])
			index = append(index, i)
		}
	}
	if len(valid) == 0 {
		return errs, nil
	}
	for j, err := range acc.AcceptLineage(ctx, valid) {
		errs[index[j]] = err
	}
	return errs, nil
}
