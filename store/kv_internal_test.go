package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"
)

// The PostgreSQL engine answers as bbolt does: a seeded random walk of
// writes, reads (some read ahead) and cursor moves (seeks between keys and past either end,
// turns of direction across its fetches) runs on both, in one write
// transaction and then in a read one, and every answer must be equal. It
// runs on the suite's PostgreSQL pass.
func TestKVEnginesAgree(t *testing.T) {
	dsn := os.Getenv("QUARRY_STORE_TEST_DSN") // storetest.EnvDSN; storetest imports this package
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	bdb, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	pg, err := openPostgres(newSchema(t, dsn), &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	engines := []kvDB{boltDB{bdb}, pg}

	key := func(r *rand.Rand) []byte { return fmt.Appendf(nil, "k%03d", r.IntN(120)) }
	step := func(r *rand.Rand, tx kvTx, c kvCursor, writable bool) string {
		b := tx.Bucket([]byte("b"))
		show := func(k, v []byte) string { return fmt.Sprintf("%q=%q", k, v) }
		switch n := r.IntN(12); {
		case n == 0 && writable:
			k := key(r)
			return fmt.Sprint("put ", b.Put(k, fmt.Appendf(nil, "v%d", r.IntN(1000))))
		case n == 1 && writable:
			return fmt.Sprint("delete ", b.Delete(key(r)))
		case n == 2 && r.IntN(3) == 0:
			k := key(r)
			if writable && r.IntN(2) == 0 { // of a key written and not sent yet
				return fmt.Sprint("delete, then has ", b.Delete(k), has(b, k), has(b, key(r)))
			}
			return fmt.Sprintf("has %v", has(b, k))
		case n == 2:
			return fmt.Sprintf("get %q", b.Get(key(r)))
		case n == 3:
			return "first " + show(c.First())
		case n == 4:
			return "last " + show(c.Last())
		case n == 5:
			k := key(r)
			if r.IntN(3) == 0 {
				k = append(k, 'x') // between two keys
			}
			return "seek " + show(c.Seek(k))
		case n == 6 && r.IntN(3) == 0:
			// Reads ahead (PostgreSQL) that later Gets, after writes and
			// cursors' flushes, must not answer from stale.
			// Ranges too, which later cursors and Gets read from
			// (and writes keep current): a prefix of one key, of ten
			// or of a hundred, or one no key has.
			prefix := func() []byte { return key(r)[:1+r.IntN(4)] }
			// And keys asked whether they exist only (has).
			prefetchAll(tx, []kvRead{{[]byte("b"), [][]byte{key(r), key(r), key(r)}, [][]byte{prefix(), prefix(), []byte("j")}, false},
				{[]byte("b"), [][]byte{key(r), key(r)}, nil, true}, {[]byte("none"), [][]byte{key(r)}, [][]byte{prefix()}, false}})
			return "prefetch"
		case n < 9:
			return "next " + show(c.Next())
		default:
			return "prev " + show(c.Prev())
		}
	}
	for _, writable := range []bool{true, false} {
		logs := make([][]string, len(engines))
		for i, e := range engines {
			r := rand.New(rand.NewPCG(1, 2))
			run := func(tx kvTx) error {
				b, err := tx.CreateBucketIfNotExists([]byte("b"))
				if writable && err != nil {
					return err
				}
				if writable {
					for k := range 60 {
						if err := b.Put(fmt.Appendf(nil, "k%03d", 2*k), []byte("init")); err != nil {
							return err
						}
					}
				} else {
					b = tx.Bucket([]byte("b"))
				}
				c := b.Cursor()
				c.First()
				for range 3000 {
					line := step(r, tx, c, writable)
					logs[i] = append(logs[i], line)
					// bbolt's cursor is not defined across writes to its
					// bucket (it skips or repeats keys): a new one after
					// each, as the store's code does.
					if r.IntN(50) == 0 || strings.HasPrefix(line, "put") || strings.HasPrefix(line, "delete") {
						c = tx.Bucket([]byte("b")).Cursor()
					}
				}
				return nil
			}
			if writable {
				err = e.Update(run)
			} else {
				err = e.View(run)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for j := range logs[0] {
			if logs[0][j] != logs[1][j] {
				for i := max(0, j-8); i < j; i++ {
					t.Log(i, logs[0][i], " / ", logs[1][i])
				}
				t.Fatalf("writable %v, step %d: bbolt %s, PostgreSQL %s", writable, j, logs[0][j], logs[1][j])
			}
		}
	}
}

// newSchema creates a schema in dsn's database and returns dsn with it as
// the search path (as storetest.Schema, which this package cannot import).
func newSchema(t *testing.T, dsn string) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("kv_%016x", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
