// Package store keeps Quarry's source of truth in one bbolt file, and the
// lineage events it has accepted and not applied yet in a log beside it.
// The logic is written against a small key-value contract (kv.go) with a
// second engine, PostgreSQL (kv_pg.go, Options.Postgres), whose rules are
// bbolt's: what is said of bbolt transactions below holds for both.
//
// Rules:
//
//   - Every change is written in one bbolt transaction that also appends one
//     record per changed entity to the changelog bucket. The changelog's
//     sequence numbers are monotonic and gap-free: a transaction that rolls
//     back takes its sequence numbers with it. Derived state (the search
//     index, the lineage graph, the alert evaluator) follows the changelog
//     (quarry.Change) and never has to be trusted. The store keeps what
//     alerts record (alerts, their transitions, the webhook outbox) but not
//     the evaluator's rules or state.
//   - A write returns only after its transaction committed and was fsync'd.
//     Concurrent single writes share commits: a writer goroutine takes every
//     write waiting when it becomes free and commits them together (group
//     commit, no timer), so N concurrent clients do not pay N fsyncs and a
//     lone client pays one. A write whose function fails is taken out of the
//     group and run alone, so one bad write never fails its neighbours.
//   - Bulk writes (crawls, batch ingest) write many records in one
//     transaction, all or nothing.
//   - OpenLineage events are the exception to "a write returns after its
//     transaction committed": AcceptLineage validates them and returns once
//     they are fdatasync'd in the lineage log (wal.go, the directory
//     quarry.db.lineage beside the file); an applier folds them into the
//     file in order, each transaction recording the last one it applied,
//     and resumes from there when the store opens. The file and its log
//     directory go together: a copy of the file alone lacks what the log
//     holds (Snapshot applies it first). Replicas (Options.Replicas) accept
//     them into the shared database instead, applied by one replica at a
//     time (lineage_queue.go).
//   - A full disk degrades the store, never breaks it (space.go): a write
//     that fails for lack of space stores nothing and answers
//     EINSUFFICIENTSTORAGE; the writes after it are refused at once while
//     reads go on, until a probe finds space again and commits.
//   - Usage (usage.go: what crawls read of how datasets are used) is
//     statistics beside the entities: recording it appends nothing to the
//     changelog, and its readers (popularity) read it from the store.
//   - Values are JSON; a dataset's record is its JSON compressed
//     (recordSnappy, dataset.go), or plain JSON as stores before it wrote
//     them. Bytes read inside a transaction are decoded (copied) before it
//     ends.
//   - Metadata has two owners: crawlers and pushing tools provide it
//     (Dataset.Provided, replaced on every upsert); people edit it
//     (Dataset.Edited, only changed by UpdateDataset, recorded with the actor
//     in the dataset's metadata history). A crawl never overwrites an edit.
//
// Caveats: bbolt holds an exclusive lock on the file while a Store is open,
// so a second process cannot open the same data directory (on PostgreSQL
// an advisory lock per schema does the same, unless every process opens
// it as one of several replicas: Options.Replicas, replicas.go); use the running
// server's backup endpoint to copy it. bbolt ignores contexts; long scans
// check ctx themselves. Commits do not write bbolt's freelist; Close does,
// so a file whose process ended without closing it is walked page by page
// at its next open to rebuild it (seconds at a million datasets). bbolt
// reads the file through a memory map, which the store drops from the
// process's resident set after each scan of a whole bucket and every 10 s
// (resident.go): RssFile counts what was read lately, not the file.
//
// The store knows nothing of GraphQL, HTTP or search.
package store
