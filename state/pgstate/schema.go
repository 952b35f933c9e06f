package pgstate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// schemaVersion is the version of the tables this fiosync writes.
const schemaVersion = 1

// migrations[v] brings the tables from version v to v+1. A change to the
// tables is a new entry here, never an edit of an old one.
var migrations = []string{
	`CREATE TABLE fiosync_states (
		name       text PRIMARY KEY,
		lineage    text NOT NULL,
		serial     bigint NOT NULL CHECK (serial >= 0),
		document   bytea NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE fiosync_locks (
		name        text PRIMARY KEY,
		id          text NOT NULL,
		operation   text NOT NULL,
		who         text NOT NULL,
		pid         integer NOT NULL,
		created     timestamptz NOT NULL,
		backend_pid integer NOT NULL
	);`,
}

// setup migrates the schema and computes the lock key, once per Backend.
func (b *Backend) setup(ctx context.Context, c *pgx.Conn) error {
	b.setupMu.Lock()
	defer b.setupMu.Unlock()
	if b.ready {
		return nil
	}
	var schema *string
	if err := c.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("find current schema: %w", err)
	}
	if schema == nil {
		var path string
		if err := c.QueryRow(ctx, `SELECT current_setting('search_path')`).Scan(&path); err != nil {
			return fmt.Errorf("find search_path: %w", err)
		}
		return fmt.Errorf("no schema to keep the state in: search_path %q names no existing schema", path)
	}
	if err := migrate(ctx, c, *schema); err != nil {
		return fmt.Errorf("set up tables in schema %q: %w", *schema, err)
	}
	b.lockKey = key("fiosync state lock", *schema, b.name)
	b.ready = true
	return nil
}

// migrate brings the fiosync tables in schema to schemaVersion. The usual
// case, tables already current, costs two queries and takes no lock.
func migrate(ctx context.Context, c *pgx.Conn, schema string) error {
	versionTable := pgx.Identifier{schema, "fiosync_schema_version"}.Sanitize()
	var exists bool
	if err := c.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, versionTable).Scan(&exists); err != nil {
		return fmt.Errorf("look for %s: %w", versionTable, err)
	}
	if exists {
		v, err := version(ctx, c)
		if err != nil {
			return err
		}
		if v == schemaVersion {
			return nil
		}
	}

	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Concurrent CREATE TABLE IF NOT EXISTS can still collide in the
	// catalogue; one migration at a time per schema.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key("fiosync schema migration", schema)); err != nil {
		return fmt.Errorf("lock migration: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS fiosync_schema_version (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("create fiosync_schema_version: %w", err)
	}
	v, err := version(ctx, tx)
	if err != nil {
		return err
	}
	if v == schemaVersion {
		return nil // another fiosync migrated while this one waited
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate from version %d: %w", v, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM fiosync_schema_version`); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO fiosync_schema_version (version) VALUES ($1)`, schemaVersion); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// errNewerSchema is returned when the tables were made by a newer fiosync.
var errNewerSchema = errors.New("made by a newer fiosync; upgrade fiosync")

// version reads the schema version (0 when the table is empty) and refuses
// one above schemaVersion.
func version(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM fiosync_schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v > schemaVersion {
		return 0, fmt.Errorf("the tables are at schema version %d, this fiosync knows up to %d: %w", v, schemaVersion, errNewerSchema)
	}
	return v, nil
}

// key derives a 64-bit advisory lock key from its parts.
func key(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}
