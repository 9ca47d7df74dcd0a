package lineage_test

import (
	"testing"

	"github.com/quarrydata/quarry/lineage"
)

// TestDigestStable pins the digest of an OpenLineage event: digests are
// stored to recognize a retried delivery, so the digest of a given event
// must never change (a retry after an upgrade would be applied again).
// The event has members out of order, escapes, numbers and nesting.
func TestDigestStable(t *testing.T) {
	raw := []byte(`{
	  "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.9.1/integration/spark",
	  "eventTime": "2024-01-02T03:04:05.123Z", "eventType": "COMPLETE",
	  "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
	  "run": {"runId": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "facets": {"nominalTime": {"nominalStartTime": "2024-01-02T03:00:00Z"}}},
	  "job": {"namespace": "spark", "name": "orders\u005fdaily", "facets": {"sql": {"query": "SELECT \"a\"\n FROM t"}}},
	  "inputs": [{"namespace": "postgres://db:5432", "name": "shop.public.orders",
	    "facets": {"schema": {"fields": [{"name": "id", "type": "bigint"}, {"name": "amount", "type": "numeric"}]}},
	    "inputFacets": {"dataQualityMetrics": {"rowCount": 1.0e3, "bytes": 42, "columnMetrics": {}}}}],
	  "outputs": [{"namespace": "s3://bucket", "name": "/dw/orders", "facets": {"ownership": {"owners": [{"name": "team:data", "type": null}]}}}]
	}`)
	ev, err := lineage.ParseEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	const want = "90f5931352833e033c45b387182e8f99e9f7e048a3c207043315ae9ad79c3e1e"
	if ev.Digest != want {
		t.Errorf("digest = %s, want %s", ev.Digest, want)
	}
}
