// Package alert derives alerts from the catalog and sends their
// transitions to webhooks.
//
// The evaluator is derived state, like the search index and the lineage
// graph: its first pass reads what alerts derive from (every dataset's
// freshness inputs, every latest check result, the alerts and statuses
// recorded so far) and keeps it in memory; later passes read only the
// datasets the changelog says changed since, so a pass over 100k datasets
// is a walk over a map. A pass compares the alerts that should be open
// with those that are and records the difference in one write transaction
// of the store: the transitions (opened, escalated, de-escalated,
// resolved), the datasets' statuses and an outbox entry per webhook for
// each transition that notifies. A pass that finds nothing changed writes
// nothing.
//
// Delivery reads the outbox, which is in the store's file, so a restart
// loses no notification. Each webhook has its own loop: a slow or failing
// receiver delays nothing but its own deliveries, and none holds back
// ingestion. Failed attempts are retried with backoff; many events due at
// once reach a Slack channel as one digest.
//
// One Alerter evaluates a store at a time: its state mirrors the alerts
// it recorded, and a second one would not see the first's until it
// started again.
//
// The package owns no storage (the alert buckets and the outbox are the
// store's, read and written through the small interfaces declared here)
// and imports no other package of this module but the domain.
package alert
