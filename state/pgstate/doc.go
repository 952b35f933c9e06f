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
// The tables live in the connection's current schema (the first existing
// schema of search_path):
//
//	fiosync_schema_version (version)            the schema's version, one row
//	fiosync_states (name, lineage, serial,      the header row of each state:
//	    document, layout, updated_at)           lineage, serial, target, manifest
//	fiosync_entries (name, address, revision,   one row per entry, in the state
//	    entry)                                  file's form (statefile.EncodeEntry)
//	fiosync_folders (name, path, revision,      one row per folder
//	    folder_id)
//	fiosync_unsaved (name)                      a state appended to since its last Save
//	fiosync_locks (name, id, operation, who,    the exclusive lock holder's
//	    pid, created, backend_pid)              details, for messages
//	fiosync_runners (name, id, operation, ...)  the runners that joined (Join)
//	fiosync_claims (name, key, runner, host,    the runners' claims and leases
//	    pid, claimed, expires)
//
// The header's document is what statefile.Encode writes for the state without
// its entries and folders; Load assembles header and rows into the same state
// a state file holds, so `fiosync state pull` prints a file byte for byte and
// the two backends never disagree on the format. Each entry and folder row
// carries its own revision, which moves on by one whenever the row is written.
// The tables are created on first use by a migration that runs under a
// transaction-level advisory lock, so concurrent first runs do not race, and
// that records its version: a database migrated by a newer fiosync is refused
// rather than misread. The migration to schema 2 splits every document stored
// by schema 1 (the whole state in one row) into header and rows; a document
// that does not decode stays whole (layout 1), is reported damaged by Load,
// and is never replaced.
//
// # Saving
//
// Save is a compare-and-swap on (lineage, serial) inside one transaction: it
// locks the header row (SELECT ... FOR UPDATE), refuses with store.ErrLineage
// or store.ErrStale when the stored header moved on or does not decode, and
// otherwise rewrites the header with serial+1, writes the entry and folder rows
// that differ from the state saved and deletes the rows it no longer holds.
// Two writers that loaded the same serial therefore cannot both succeed.
// Replace is the same transaction storing a state exactly as given, serial
// included; `fiosync state push` uses it.
//
// Append (store.Appender) writes only the rows its changes touch, in one
// transaction that takes the header row shared (FOR SHARE) and checks its
// lineage and serial: appends of several writers run side by side, a Save
// waits for them. Apply appends as files finish and saves once at its end,
// so a run moves the serial on by one.
//
// # Several runners
//
// Backend is a store.Claimer: Join takes the state's advisory lock shared, so
// several applies (runners, on any number of machines) work on one state
// together while an exclusive Lock (state rm, state push) waits for all of
// them. A runner claims each address or folder before working on it: a row of
// fiosync_claims with a lease (store.JoinOptions.Lease), taken with INSERT ...
// ON CONFLICT DO NOTHING and, for a row that exists, SELECT ... FOR UPDATE
// SKIP LOCKED, so a runner never waits on another's claim; it takes over a
// claim whose lease ran out. The runner renews its claims every lease/3. Its
// appends are fenced: an append touching a key another live runner claims
// fails with store.ErrClaimed, so a runner that stalled past its lease cannot
// record over the one that took its work over. A runner's Save stores
// nothing; when the last runner leaves (it gets the lock exclusively on the
// way out) and anything was appended, the serial moves on by one.
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
// A Backend opens one connection for Load, Save, Replace, Append and claims
// when first used and keeps it until Close, reconnecting if it breaks; each
// Lock and each Join opens one more. Nothing connects before the first call.
package pgstate
