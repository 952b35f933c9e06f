// Package pgstate keeps fiosync's state in PostgreSQL, so that ephemeral CI
// runners and a team's machines share one state and one lock.
//
// # Selecting it
//
// `--state postgres://user@host/db?sslmode=require` (or FIOSYNC_STATE) selects
// this backend; `--state-name` picks the state within the database, by
// default one derived from the manifest's target and path. The connection
// string is pgx's, so the password may come from PGPASSWORD or ~/.pgpass
// instead of the URL. Whatever the URL holds, no message shows a password:
// String gives the URL without it (and without password or sslpassword query
// parameters), followed by "#" and the state name.
//
// # Storage
//
// Three tables live in the connection's current schema (the first existing
// schema of search_path):
//
//	fiosync_schema_version (version)          the schema's version, one row
//	fiosync_states (name, lineage, serial,    one row per state name: the
//	    document, updated_at)                 state's file form, as bytes
//	fiosync_locks (name, id, operation, who,  the current lock holder's
//	    pid, created, backend_pid)            details, for messages
//
// The document column holds exactly what statefile.Encode writes and a state file
// holds, so `fiosync state pull` prints a file byte for byte and the two
// backends never disagree on the format; lineage and serial are copied out of
// it for the compare-and-swap and for people querying the table. The tables
// are created on first use by a migration that runs under a transaction-level
// advisory lock, so concurrent first runs do not race, and that records its
// version: a database migrated by a newer fiosync is refused rather than
// misread.
//
// # Saving
//
// Save is a compare-and-swap on (lineage, serial) inside one transaction: it
// locks the state's row (SELECT ... FOR UPDATE), refuses with store.ErrLineage
// or store.ErrStale when the row moved on, and otherwise runs
// UPDATE ... WHERE name = $1 AND serial = $2 AND lineage = $3, or an INSERT
// for the first save (serial 0) that fails with ErrStale when another writer
// inserted first. Two writers that loaded the same serial therefore cannot
// both succeed: the second fails loudly instead of undoing the first. Like
// the file backend, Save never replaces a document it cannot decode: the
// Backend remembers the SHA-256 of the bytes it last loaded or saved, and
// when the database's copy hashes differently it decodes that copy before
// writing over it. Replace is the same transaction storing a state exactly as
// given, serial included; `fiosync state push` uses it.
//
// # Locking
//
// Lock takes a session-level advisory lock (pg_try_advisory_lock, polled
// until the timeout) on a connection opened for that lock alone and held
// until Unlock. The key is a 64-bit hash of the schema and the state name.
// A session's advisory locks end with the session, so when a holder dies --
// kill -9, a cancelled CI job, a lost network -- the server releases its lock
// as soon as it notices the connection is gone; no timeout or cleanup job is
// involved. The holder records its details in fiosync_locks after taking the
// lock, replacing whatever row a dead holder left; a process that finds the
// state locked reads that row (only if it belongs to the session holding the
// lock) and fails with *store.LockedError naming the holder.
//
// ForceUnlock is for a holder that is alive but stuck, or a connection the
// server has not yet noticed is dead: it finds the session holding the
// advisory lock in pg_locks, terminates it with pg_terminate_backend (which
// needs the same database role as the holder, or membership in
// pg_signal_backend), waits until the lock is gone, and deletes the holder's
// row. The terminated fiosync's next statement fails.
//
// # Connections
//
// A Backend opens one connection for Load, Save and Replace when first used
// and keeps it until Close, reconnecting if it breaks; each Lock opens one
// more. Nothing connects before the first call.
package pgstate
