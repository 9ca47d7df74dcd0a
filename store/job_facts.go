package store

import (
	"bytes"
	"context"

	"github.com/quarrydata/quarry"
)

// bucketJobDAGs indexes jobs by the DAG their facts name (quarry.JobFacts):
// namespace \x00 dag \x00 job id -> nil. It is created by the first job
// that names a DAG, not by a migration: jobs stored before facts existed
// name none, so there is nothing to index.
var bucketJobDAGs = []byte("job_dags")

func jobDAGKey(namespace, dag, jobID string) []byte {
	k := make([]byte, 0, len(namespace)+len(dag)+len(jobID)+2)
	k = append(append(append(k, namespace...), 0), dag...)
	return append(append(k, 0), jobID...)
}

// indexJobDAG moves a job's entry in the DAG index from the DAG its old
// facts named to the one its facts name now.
func indexJobDAG(tx kvTx, j *quarry.Job, old *quarry.JobFacts) error {
	var was, now string
	if old != nil {
		was = old.DAG
	}
	if j.Facts != nil {
		now = j.Facts.DAG
	}
	if was == now {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketJobDAGs)
	if err != nil {
		return err
	}
	if was != "" {
		if err := b.Delete(jobDAGKey(j.Namespace, was, j.ID)); err != nil {
			return err
		}
	}
	if now == "" {
		return nil
	}
	return b.Put(jobDAGKey(j.Namespace, now, j.ID), []byte{})
}

// DAGJobs returns the IDs of the jobs in a namespace whose facts name the
// DAG (the tasks of an Airflow DAG, the models of a dbt run), in no
// particular order. The namespace is normalized as a job's is.
func (s *Store) DAGJobs(ctx context.Context, namespace, dag string) ([]string, error) {
	ns, err := quarry.NormalizeNamespace(namespace)
	if err != nil {
		return nil, quarry.InField("namespace", err)
	}
	var ids []string
	err = s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketJobDAGs)
		if b == nil {
			return nil
		}
		prefix := jobDAGKey(ns, dag, "")
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		return ctx.Err()
	})
	return ids, err
}
