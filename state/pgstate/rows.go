package pgstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// layoutRows is the layout of a row of fiosync_states whose document is the header (no
// entries or folders), the entries and folders being rows of fiosync_entries and
// fiosync_folders. Layout 1, the column's default, is schema 1's whole state in the document;
// after the migration to schema 2 only a document that does not decode stays so.
const layoutRows = 2

// header is a state's row of fiosync_states.
type header struct {
	layout int
	doc    []byte
}

// readHeader reads the state's row, taking lock ("", "FOR SHARE", "FOR UPDATE"); nil when
// there is none.
func (b *Backend) readHeader(ctx context.Context, tx pgx.Tx, lock string) (*header, error) {
	var h header
	err := tx.QueryRow(ctx, `SELECT layout, document FROM fiosync_states WHERE name = $1 `+lock, b.name).Scan(&h.layout, &h.doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read stored state: %w", err)
	}
	return &h, nil
}

// decodeHeader decodes a header's document: the whole state in layoutDocument, the state
// without entries and folders in layoutRows.
func (b *Backend) decodeHeader(h *header) (*state.State, error) {
	s, err := statefile.Decode(h.doc)
	if err != nil {
		return nil, b.named(err)
	}
	if h.layout == layoutRows && (len(s.Entries) > 0 || len(s.Folders) > 0) {
		return nil, b.named(&statefile.CorruptError{Err: errors.New("the header document holds entries or folders")})
	}
	return s, nil
}

// named makes a *statefile.CorruptError name this state; other errors pass.
func (b *Backend) named(err error) error {
	var ce *statefile.CorruptError
	if errors.As(err, &ce) {
		ce.Path = b.display
		return ce
	}
	return err
}

// encodeHeader encodes s without its entries and folders, as the header's document.
func encodeHeader(s *state.State) ([]byte, error) {
	h := *s
	h.Entries, h.Folders = map[string]*state.Entry{}, map[string]string{}
	return statefile.Encode(&h)
}

// Load reads the state: its header and every entry and folder row, in one snapshot.
// Nothing stored gives store.ErrNoState, a damaged header or row *statefile.CorruptError.
func (b *Backend) Load(ctx context.Context) (*state.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("load state %q: begin transaction: %w", b.display, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	h, err := b.readHeader(ctx, tx, "")
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, err)
	}
	if h == nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, store.ErrNoState)
	}
	s, err := b.decodeHeader(h)
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", b.display, err)
	}
	if h.layout == layoutRows {
		if err := b.loadRows(ctx, tx, s); err != nil {
			return nil, fmt.Errorf("load state %q: %w", b.display, err)
		}
	}
	return s, tx.Commit(ctx)
}

// loadRows reads the entry and folder rows into s.
func (b *Backend) loadRows(ctx context.Context, tx pgx.Tx, s *state.State) error {
	rows, err := tx.Query(ctx, `SELECT address, entry FROM fiosync_entries WHERE name = $1`, b.name)
	if err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	var (
		addr string
		data []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&addr, &data}, func() error {
		e, err := statefile.DecodeEntry(addr, data)
		if err != nil {
			return b.named(err)
		}
		s.Entries[addr] = e
		return nil
	})
	if err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT path, folder_id FROM fiosync_folders WHERE name = $1`, b.name)
	if err != nil {
		return fmt.Errorf("read folders: %w", err)
	}
	var p, id string
	_, err = pgx.ForEachRow(rows, []any{&p, &id}, func() error {
		s.Folders[p] = id
		return nil
	})
	if err != nil {
		return fmt.Errorf("read folders: %w", err)
	}
	return nil
}

// Save stores s with its serial bumped, if the stored state still has s.Lineage and s.Serial
// (or nothing is stored and s.Serial is 0); otherwise it fails with store.ErrLineage or
// store.ErrStale and changes nothing. It rewrites the header and writes only the entry and
// folder rows that differ from s (each written row's revision moves on by one).
func (b *Backend) Save(ctx context.Context, s *state.State) error {
	next := *s // shallow: nothing below changes the maps
	next.Serial = s.Serial + 1
	if err := b.write(ctx, s.Lineage, s.Serial, &next); err != nil {
		return fmt.Errorf("save state %q: %w", b.display, err)
	}
	s.Serial = next.Serial
	return nil
}

// Replace stores s exactly as it is, its serial included, if the stored state is still old
// (same lineage and serial), or, when old is nil, if nothing is stored. Otherwise it fails
// with store.ErrLineage or store.ErrStale and changes nothing. It is how `fiosync state push`
// brings in a state file without renumbering it; the caller decides which serial s may have.
func (b *Backend) Replace(ctx context.Context, old, s *state.State) error {
	lineage, serial := s.Lineage, uint64(0)
	if old != nil {
		lineage, serial = old.Lineage, old.Serial
	}
	if err := b.write(ctx, lineage, serial, s); err != nil {
		return fmt.Errorf("replace state %q: %w", b.display, err)
	}
	return nil
}

// write stores next in one transaction, if the stored state has lineage and serial (serial 0
// also matches nothing stored): the header, then the rows that differ.
func (b *Backend) write(ctx context.Context, lineage string, serial uint64, next *state.State) error {
	doc, err := encodeHeader(next)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	h, err := b.readHeader(ctx, tx, "FOR UPDATE")
	if err != nil {
		return err
	}
	if h == nil {
		if serial != 0 {
			return errGone(serial)
		}
		inserted, err := b.insertHeader(ctx, tx, next.Lineage, next.Serial, doc)
		if err != nil {
			return err
		}
		if !inserted {
			return fmt.Errorf("another fiosync stored the first state at the same time: %w", store.ErrStale)
		}
	} else {
		cur, err := b.decodeHeader(h)
		if err != nil {
			return fmt.Errorf("refuse to replace a state that cannot be loaded: %w", err)
		}
		if err := checkStored(cur, lineage, serial, false); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE fiosync_states
			SET lineage = $2, serial = $3, document = $4, layout = $5, updated_at = now() WHERE name = $1`,
			b.name, next.Lineage, int64(next.Serial), doc, layoutRows); err != nil {
			return fmt.Errorf("update state: %w", err)
		}
	}
	if err := b.reconcile(ctx, tx, next); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM fiosync_unsaved WHERE name = $1`, b.name); err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// The statements that write one row; a row written again has its revision moved on.
const (
	upsertEntry = `INSERT INTO fiosync_entries (name, address, revision, entry) VALUES ($1, $2, 1, $3)
		ON CONFLICT (name, address) DO UPDATE SET entry = EXCLUDED.entry, revision = fiosync_entries.revision + 1`
	deleteEntry  = `DELETE FROM fiosync_entries WHERE name = $1 AND address = $2`
	upsertFolder = `INSERT INTO fiosync_folders (name, path, revision, folder_id) VALUES ($1, $2, 1, $3)
		ON CONFLICT (name, path) DO UPDATE SET folder_id = EXCLUDED.folder_id, revision = fiosync_folders.revision + 1
		WHERE fiosync_folders.folder_id <> EXCLUDED.folder_id`
	deleteFolder = `DELETE FROM fiosync_folders WHERE name = $1 AND path = $2`
)

// reconcile makes the entry and folder rows those of s, writing only the rows that differ.
func (b *Backend) reconcile(ctx context.Context, tx pgx.Tx, s *state.State) error {
	stored := map[string][]byte{}
	rows, err := tx.Query(ctx, `SELECT address, entry FROM fiosync_entries WHERE name = $1`, b.name)
	if err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	var (
		addr string
		data []byte
	)
	if _, err := pgx.ForEachRow(rows, []any{&addr, &data}, func() error {
		stored[addr] = bytes.Clone(data)
		return nil
	}); err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	storedFolders := map[string]string{}
	rows, err = tx.Query(ctx, `SELECT path, folder_id FROM fiosync_folders WHERE name = $1`, b.name)
	if err != nil {
		return fmt.Errorf("read folders: %w", err)
	}
	var p, id string
	if _, err := pgx.ForEachRow(rows, []any{&p, &id}, func() error {
		storedFolders[p] = id
		return nil
	}); err != nil {
		return fmt.Errorf("read folders: %w", err)
	}

	batch := &pgx.Batch{}
	for addr, e := range s.Entries {
		data, err := statefile.EncodeEntry(e)
		if err != nil {
			return fmt.Errorf("entry %q: %w", addr, err)
		}
		old, ok := stored[addr]
		delete(stored, addr)
		if !ok || !bytes.Equal(old, data) {
			batch.Queue(upsertEntry, b.name, addr, data)
		}
	}
	for addr := range stored {
		batch.Queue(deleteEntry, b.name, addr)
	}
	for p, id := range s.Folders {
		old, ok := storedFolders[p]
		delete(storedFolders, p)
		if !ok || old != id {
			batch.Queue(upsertFolder, b.name, p, id)
		}
	}
	for p := range storedFolders {
		batch.Queue(deleteFolder, b.name, p)
	}
	return sendBatch(ctx, tx, batch)
}

// sendBatch runs batch, if it holds anything.
func sendBatch(ctx context.Context, tx pgx.Tx, batch *pgx.Batch) error {
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write rows: %w", err)
	}
	return nil
}

// Append makes changes durable, in order, writing only the rows they touch, if the stored
// state has base's lineage and serial (see store.Appender). It takes the header row shared,
// so appends of several writers run side by side and only Save waits for them.
func (b *Backend) Append(ctx context.Context, base *state.State, changes []state.Change) error {
	if err := b.append(ctx, base, changes, nil); err != nil {
		return fmt.Errorf("append to state %q: %w", b.display, err)
	}
	return nil
}

// append is Append, fenced by r's claims when r is not nil (see store.Claimer).
func (b *Backend) append(ctx context.Context, base *state.State, changes []state.Change, r *runner) error {
	var c state.Change
	c.Entries, c.Folders = map[string]*state.Entry{}, map[string]string{}
	for _, ch := range changes {
		for a, e := range ch.Entries {
			c.Entries[a] = e
		}
		for p, id := range ch.Folders {
			c.Folders[p] = id
		}
	}
	if c.Empty() {
		return nil
	}
	batch := &pgx.Batch{}
	keys := make([]string, 0, len(c.Entries)+len(c.Folders))
	for addr, e := range c.Entries {
		keys = append(keys, store.EntryKey(addr))
		if e == nil {
			batch.Queue(deleteEntry, b.name, addr)
			continue
		}
		data, err := statefile.EncodeEntry(e)
		if err != nil {
			return fmt.Errorf("entry %q: %w", addr, err)
		}
		batch.Queue(upsertEntry, b.name, addr, data)
	}
	for p, id := range c.Folders {
		keys = append(keys, store.FolderKey(p))
		if id == "" {
			batch.Queue(deleteFolder, b.name, p)
			continue
		}
		batch.Queue(upsertFolder, b.name, p, id)
	}
	batch.Queue(`INSERT INTO fiosync_unsaved (name) VALUES ($1) ON CONFLICT DO NOTHING`, b.name)

	b.mu.Lock()
	defer b.mu.Unlock()
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	if done, err := b.appendPipelined(ctx, conn, base, batch, keys, r); done || err != nil {
		return err
	}
	// Nothing stored yet: the same in steps, storing the header first.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	h, err := b.readHeader(ctx, tx, "FOR SHARE")
	if err != nil {
		return err
	}
	if h == nil {
		if base.Serial != 0 {
			return errGone(base.Serial)
		}
		doc, err := encodeHeader(base)
		if err != nil {
			return err
		}
		if _, err := b.insertHeader(ctx, tx, base.Lineage, 0, doc); err != nil {
			return err // not inserted: another runner's header is read next
		}
		if h, err = b.readHeader(ctx, tx, "FOR SHARE"); err != nil {
			return err
		}
	}
	if err := b.checkBase(h, base, r); err != nil {
		return err
	}
	if r != nil {
		if err := r.fence(ctx, tx, keys); err != nil {
			return err
		}
	}
	if err := sendBatch(ctx, tx, batch); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// checkBase refuses to append to the stored header h on top of base (see Append).
func (b *Backend) checkBase(h *header, base *state.State, r *runner) error {
	cur, err := b.decodeHeader(h)
	if err != nil {
		return fmt.Errorf("refuse to change a state that cannot be loaded: %w", err)
	}
	if h.layout != layoutRows {
		return fmt.Errorf("the state is stored as one document: %w", store.ErrStale)
	}
	// Runners that each started a state of their own at the same time (nothing was stored
	// yet) write one: the first header stored.
	fresh := r != nil && cur.Serial == 0 && base.Serial == 0 && cur.Target == base.Target
	return checkStored(cur, base.Lineage, base.Serial, fresh)
}

// checkStored refuses a write made on a state loaded at lineage and serial when the stored
// header cur is another (anyLineage: any lineage will do).
func checkStored(cur *state.State, lineage string, serial uint64, anyLineage bool) error {
	if cur.Lineage != lineage && !anyLineage {
		return fmt.Errorf("stored lineage %q, this state's %q: %w", cur.Lineage, lineage, store.ErrLineage)
	}
	if cur.Serial != serial {
		return fmt.Errorf("stored serial %d, this state was loaded at %d: %w", cur.Serial, serial, store.ErrStale)
	}
	return nil
}

// errGone is the refusal of a write made on a state loaded at serial when none is stored.
func errGone(serial uint64) error {
	return fmt.Errorf("the stored state is gone, but this one was loaded from it at serial %d: %w", serial, store.ErrStale)
}

// insertHeader stores the header of a first state, unless another is stored by now; it
// reports whether it stored it.
func (b *Backend) insertHeader(ctx context.Context, tx pgx.Tx, lineage string, serial uint64, doc []byte) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO fiosync_states (name, lineage, serial, document, layout, updated_at)
		VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (name) DO NOTHING`, b.name, lineage, int64(serial), doc, layoutRows)
	if err != nil {
		return false, fmt.Errorf("insert state: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// appendPipelined is append in two round trips: BEGIN, the header (FOR SHARE), the fence's
// claim rows and the writes go out as one pipeline, and COMMIT follows only when the header
// and the claims allow what was written; otherwise ROLLBACK undoes it. done is false, with
// nothing stored, when there is no header yet (the caller stores it first).
func (b *Backend) appendPipelined(ctx context.Context, conn *pgx.Conn, base *state.State, writes *pgx.Batch, keys []string, r *runner) (done bool, err error) {
	batch := &pgx.Batch{}
	batch.Queue(`BEGIN`)
	batch.Queue(`SELECT layout, document FROM fiosync_states WHERE name = $1 FOR SHARE`, b.name)
	if r != nil {
		batch.Queue(fenceQuery, b.name, keys, r.id)
	}
	batch.QueuedQueries = append(batch.QueuedQueries, writes.QueuedQueries...)

	br := conn.SendBatch(ctx, batch)
	var h *header
	checkErr := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		var got header
		switch err := br.QueryRow().Scan(&got.layout, &got.doc); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read stored state: %w", err)
		default:
			h = &got
		}
		if r != nil {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("check claims: %w", err)
			}
			if err := r.fenceRows(rows); err != nil {
				return err
			}
		}
		for range writes.QueuedQueries {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("write rows: %w", err)
			}
		}
		return nil
	}()
	if cerr := br.Close(); checkErr == nil && cerr != nil {
		checkErr = fmt.Errorf("write rows: %w", cerr)
	}
	if checkErr == nil && h != nil {
		checkErr = b.checkBase(h, base, r)
	}
	if checkErr != nil || h == nil {
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil && checkErr == nil {
			checkErr = fmt.Errorf("rollback: %w", rerr)
		}
		return checkErr != nil, checkErr
	}
	if _, err := conn.Exec(ctx, `COMMIT`); err != nil {
		return true, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}
