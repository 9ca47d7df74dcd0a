// Package runreport reports the runs of a command that `quarry run` wraps
// (a cron job, a script) as OpenLineage run events: it builds the START
// and COMPLETE or FAIL events (the job, the datasets it reads and writes,
// and a quarry_run facet with the command line, its secrets redacted, the
// host, the exit code and duration; on failure the last lines of stderr
// as the errorMessage facet), posts them to a Quarry server's OpenLineage
// endpoint with retries, and spools to a directory what it could not send
// by a deadline, for the next run to send first.
//
// Nothing here may make the wrapped command fail or wait without bound:
// errors are warnings for the caller to print, and every wait has a
// deadline. The package knows nothing of processes or signals (cmd/quarry
// runs the command) and nothing of the server's insides: it speaks
// OpenLineage over HTTP like any other producer.
package runreport
