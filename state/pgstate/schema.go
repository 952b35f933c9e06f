package pgstate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/state/statefile"
)

// schemaVersion is the version of the tables this fiosync writes.
const schemaVersion = 2

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
	// Version 2: a row per entry and per folder, each with its revision; the
	// document keeps only the header (layout 2; splitDocuments moves the
	// entries and folders of the documents already stored); claims and the
	// runners of cooperative applies.
	`ALTER TABLE fiosync_states ADD COLUMN layout smallint NOT NULL DEFAULT 1;
	CREATE TABLE fiosync_entries (
		name     text NOT NULL,
		address  text NOT NULL,
		revision bigint NOT NULL,
		entry    bytea NOT NULL,
		PRIMARY KEY (name, address)
	);
	CREATE TABLE fiosync_folders (
		name      text NOT NULL,
		path      text NOT NULL,
		revision  bigint NOT NULL,
		folder_id text NOT NULL,
		PRIMARY KEY (name, path)
	);
	CREATE TABLE fiosync_unsaved (
		name text PRIMARY KEY
	);
	CREATE TABLE fiosync_claims (
		name    text NOT NULL,
		key     text NOT NULL,
		runner  text NOT NULL,
		host    text NOT NULL,
		pid     integer NOT NULL,
		claimed timestamptz NOT NULL,
		expires timestamptz NOT NULL,
		PRIMARY KEY (name, key)
	);
	CREATE TABLE fiosync_runners (
		name        text NOT NULL,
		id          text NOT NULL,
		operation   text NOT NULL,
		who         text NOT NULL,
		pid         integer NOT NULL,
		created     timestamptz NOT NULL,
		backend_pid integer NOT NULL,
		PRIMARY KEY (name, id)
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
		if v == 1 {
			if err := splitDocuments(ctx, tx); err != nil {
				return fmt.Errorf("migrate from version %d: %w", v, err)
			}
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

// splitDocuments moves the entries and folders of every stored document into their rows,
// leaving the header as the document (layout 2). A document that does not decode stays
// whole (layout 1): Load reports it as damaged, as before, and Save refuses to replace it.
func splitDocuments(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT name, document FROM fiosync_states`)
	if err != nil {
		return fmt.Errorf("read states: %w", err)
	}
	type doc struct {
		name string
		data []byte
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (doc, error) {
		var d doc
		return d, r.Scan(&d.name, &d.data)
	})
	if err != nil {
		return fmt.Errorf("read states: %w", err)
	}
	for _, d := range docs {
		s, err := statefile.Decode(d.data)
		if err != nil {
			continue
		}
		head, err := encodeHeader(s)
		if err != nil {
			return fmt.Errorf("state %q: %w", d.name, err)
		}
		batch := &pgx.Batch{}
		for addr, e := range s.Entries {
			data, err := statefile.EncodeEntry(e)
			if err != nil {
				return fmt.Errorf("state %q: %w", d.name, err)
			}
			batch.Queue(upsertEntry, d.name, addr, data)
		}
		for p, id := range s.Folders {
			batch.Queue(upsertFolder, d.name, p, id)
		}
		batch.Queue(`UPDATE fiosync_states SET document = $2, layout = $3 WHERE name = $1`, d.name, head, layoutRows)
		if err := sendBatch(ctx, tx, batch); err != nil {
			return fmt.Errorf("state %q: %w", d.name, err)
		}
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
