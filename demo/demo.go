// Package demo is the catalog `quarry serve --demo` loads: a small, made-up
// online shop, its warehouse and ten days of the ETL between them.
//
// It loads through the paths a user's tools take, so that every demo start
// exercises them: the datasets as a crawler upserts them
// (store.UpsertDatasets and the view lineage through store.ReplaceEdges),
// the ETL runs as OpenLineage events through lineage.IngestBatch (what POST
// /api/v1/lineage/batch does), and the checks and freshness policies that
// no OpenLineage facet carries through the store calls of the reportCheck
// and setFreshnessPolicy mutations.
//
// Nothing but cmd/ and tests imports it: the demo is data, not domain.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
)

// Result says what a Load stored.
type Result struct {
	Datasets int // in the demo catalog
	Changed  int // of them, created or changed by this load
	Runs     int // ETL runs this load added: those that ended since the last load
	Events   int // the OpenLineage events of those runs
}

// Load loads the demo catalog into st as of now, and returns once all of
// it is applied (OpenLineage events are applied after they are accepted:
// Load waits for them, so that what reads the store next sees them). It is
// idempotent: loading it again adds only the ETL runs that ended since, and
// changes nothing else. Writes are recorded as the actor "demo".
func Load(ctx context.Context, st *store.Store, now time.Time) (Result, error) {
	ctx = quarry.WithActor(ctx, "demo")
	var res Result
	// Earlier versions go in first, once, so the demo has schema history.
	var earlier []quarry.Dataset
	for _, d := range EarlierVersions() {
		_, err := st.DatasetByName(ctx, d.Namespace, d.Name)
		switch quarry.ErrorCode(err) {
		case quarry.ENOTFOUND:
			earlier = append(earlier, d)
		case "":
		default:
			return res, fmt.Errorf("demo catalog: %w", err)
		}
	}
	if len(earlier) > 0 {
		if _, err := st.UpsertDatasets(ctx, earlier); err != nil {
			return res, fmt.Errorf("demo catalog: %w", err)
		}
	}
	up, err := st.UpsertDatasets(ctx, Datasets())
	if err != nil {
		return res, fmt.Errorf("demo catalog: %w", err)
	}
	res.Datasets, res.Changed = len(up.IDs), up.Changed
	if err := st.ReplaceEdges(ctx, quarry.OriginCatalog, CatalogEdges()); err != nil {
		return res, fmt.Errorf("demo view lineage: %w", err)
	}

	// Events an earlier start accepted and did not apply yet are applied
	// first, so that their runs count as loaded.
	if err := st.SyncLineage(ctx); err != nil {
		return res, fmt.Errorf("demo runs: %w", err)
	}
	all, err := runs(now)
	if err != nil {
		return res, fmt.Errorf("demo runs: %w", err)
	}
	var fresh []run
	var batch []json.RawMessage
	for _, r := range all {
		_, err := st.Run(ctx, r.id)
		switch quarry.ErrorCode(err) {
		case quarry.ENOTFOUND:
			fresh = append(fresh, r)
			batch = append(batch, r.events...)
		case "":
		default:
			return res, fmt.Errorf("demo runs: %w", err)
		}
	}
	if len(batch) > 0 {
		body, err := json.Marshal(batch)
		if err != nil {
			return res, fmt.Errorf("demo runs: %w", err)
		}
		errs, err := lineage.IngestBatch(ctx, st, body)
		if err != nil {
			return res, fmt.Errorf("demo runs: %w", err)
		}
		for i, err := range errs {
			if err != nil {
				return res, fmt.Errorf("demo runs: event %d: %w", i, err)
			}
		}
		if err := st.SyncLineage(ctx); err != nil {
			return res, fmt.Errorf("demo runs: %w", err)
		}
	}
	res.Runs, res.Events = len(fresh), len(batch)
	for _, r := range fresh {
		for _, c := range r.warnings {
			if _, err := st.PutCheck(ctx, c); err != nil {
				return res, fmt.Errorf("demo check %s: %w", c.Name, err)
			}
		}
	}

	if err := loadUsage(ctx, st, now); err != nil {
		return res, err
	}

	for _, dep := range deprecations() {
		ns, name := datasetName(dep.name)
		d, err := st.DatasetByName(ctx, ns, name)
		var repl *quarry.Dataset
		if err == nil {
			rns, rname := datasetName(dep.replacement)
			repl, err = st.DatasetByName(ctx, rns, rname)
		}
		if err == nil && d.Deprecated() == nil { // a load is idempotent: an edit only when it is not
			_, err = st.UpdateDataset(ctx, d.ID, quarry.DatasetUpdate{Deprecation: &quarry.DeprecationUpdate{
				Set: &quarry.Deprecation{Note: dep.note, ReplacementID: repl.ID}}})
		}
		if err != nil {
			return res, fmt.Errorf("demo deprecation of %s: %w", dep.name, err)
		}
	}

	for _, p := range policies() {
		d, err := st.DatasetByName(ctx, p.ns, p.name)
		var cur *quarry.FreshnessPolicy
		if err == nil {
			cur, err = st.FreshnessPolicy(ctx, d.ID)
		}
		if err == nil && (cur == nil || *cur != p.policy) {
			err = st.SetFreshnessPolicy(ctx, d.ID, &p.policy)
		}
		if err != nil {
			return res, fmt.Errorf("demo freshness policy of %s: %w", p.name, err)
		}
	}
	return res, nil
}

// deprecation is a dataset the demo deprecates, as a person would with
// the deprecateDataset mutation.
type deprecation struct {
	name, replacement, note string
}

// deprecations are the demo's deprecated datasets: the old summary that the
// marts migration replaced.
func deprecations() []deprecation {
	return []deprecation{{name: "analytics.reporting.customer_orders_summary", replacement: "analytics.reporting.customer_lifetime_value",
		note: "Replaced by customer_lifetime_value in the marts migration; no longer refreshed."}}
}

// policy is a freshness policy the demo sets on one of its datasets.
type policy struct {
	ns, name string
	policy   quarry.FreshnessPolicy
}

// policies are the policies the demo sets: the finance export is due
// daily, and late since its runs started failing; so is the deprecated
// summary, late since it was switched off, and not alerting.
func policies() []policy {
	ns, name := datasetName("s3:finance/revenue_export.csv")
	sns, sname := datasetName("analytics.reporting.customer_orders_summary")
	return []policy{
		{ns: ns, name: name, policy: quarry.FreshnessPolicy{WarnAfter: 26 * time.Hour, ErrorAfter: 36 * time.Hour}},
		{ns: sns, name: sname, policy: quarry.FreshnessPolicy{WarnAfter: 26 * time.Hour}},
	}
}

// datasetName names a demo dataset from its short form: shop.* is the
// production database, billing.* the billing service's MySQL database,
// analytics.* the warehouse, kafka: a topic, s3: a file.
func datasetName(short string) (namespace, name string) {
	switch {
	case strings.HasPrefix(short, "shop."):
		return shopNS, short
	case strings.HasPrefix(short, "billing."):
		return billingNS, short
	case strings.HasPrefix(short, "kafka:"):
		return kafkaNS, strings.TrimPrefix(short, "kafka:")
	case strings.HasPrefix(short, "s3:"):
		return s3NS, strings.TrimPrefix(short, "s3:")
	}
	return warehouseNS, short
}
