package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URL returns a PostgreSQL URL for t alone: the server of FIOSYNC_TEST_PG_URL
// with search_path set to a fresh schema, dropped (with everything in it)
// when t ends. See the package comment for what happens without a server.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("FIOSYNC_TEST_PG_URL")
	if base == "" {
		if os.Getenv("FIOSYNC_TEST_PG") == "off" {
			t.Skip("skipped: needs PostgreSQL, and FIOSYNC_TEST_PG=off")
		}
		t.Fatal("this test needs PostgreSQL: run it through scripts/with-pg.sh (make test does), " +
			"which starts a throwaway server and sets FIOSYNC_TEST_PG_URL; or set FIOSYNC_TEST_PG_URL " +
			"to a database URL; or set FIOSYNC_TEST_PG=off to skip such tests")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("FIOSYNC_TEST_PG_URL does not parse as a URL: %v", err)
	}
	schema := "fiosync_test_" + strings.ToLower(rand.Text())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, base, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, base, "SET lock_timeout = '10s'; DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on a connection of its own.
func exec(ctx context.Context, connString, sql string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
