package pgstate

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// query runs sql on a connection of its own and scans its one row into dest.
func query(t *testing.T, url, sql string, args []any, dest ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// revision returns the revision of the entry row at address.
func revision(t *testing.T, url, name, address string) int64 {
	t.Helper()
	var rev int64
	query(t, url, `SELECT revision FROM fiosync_entries WHERE name = $1 AND address = $2`, []any{name, address}, &rev)
	return rev
}

// TestUpgradeFromDocument makes the tables of schema 1 by hand, as an older fiosync left
// them, with one good and one damaged document: the first use upgrades them, the good state
// loads as it was (and pulls back byte for byte), its entries are rows, and the damaged one
// is still reported damaged and not replaced.
func TestUpgradeFromDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	psql(t, url, migrations[0]+`; CREATE TABLE fiosync_schema_version (version integer NOT NULL);
		INSERT INTO fiosync_schema_version VALUES (1)`)
	s := state.New(target)
	s.Serial = 4
	s.Folders["/A"] = "folder-a"
	s.Entries["/A/a.mov"] = entry("a")
	s.Entries["/b.mov"] = entry("b")
	doc, err := statefile.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	psql(t, url, `INSERT INTO fiosync_states (name, lineage, serial, document) VALUES ('old', $1, 4, $2), ('broken', 'x', 1, 'not json')`,
		s.Lineage, doc)

	b := open(t, url, "old")
	got, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotDoc, _ := statefile.Encode(got)
	if diff := cmp.Diff(string(doc), string(gotDoc)); diff != "" {
		t.Errorf("upgraded state (-before +after):\n%s", diff)
	}
	var v, entries, folders int
	query(t, url, `SELECT max(version), (SELECT count(*) FROM fiosync_entries WHERE name = 'old'),
		(SELECT count(*) FROM fiosync_folders WHERE name = 'old') FROM fiosync_schema_version`, nil, &v, &entries, &folders)
	if v != schemaVersion || entries != 2 || folders != 1 {
		t.Errorf("schema %d with %d entry rows and %d folder rows, want %d, 2 and 1", v, entries, folders, schemaVersion)
	}
	if err := b.Save(ctx, got); err != nil || got.Serial != 5 {
		t.Errorf("save after upgrade: %v, serial %d", err, got.Serial)
	}

	broken := open(t, url, "broken")
	if _, err := broken.Load(ctx); !errors.Is(err, statefile.ErrCorrupt) {
		t.Errorf("Load of a damaged document after upgrade: %v, want ErrCorrupt", err)
	}
	if err := broken.Save(ctx, &state.State{Lineage: "x", Serial: 1}); !errors.Is(err, statefile.ErrCorrupt) {
		t.Errorf("Save over a damaged document after upgrade: %v, want ErrCorrupt", err)
	}
}

// TestAppendWritesOnlyItsRows: Append changes the rows it names (their revisions move on),
// leaves the others and the serial alone, refuses a stale or foreign base storing nothing,
// and the Save that ends the run bumps the serial once and rewrites no unchanged row.
func TestAppendWritesOnlyItsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "rows")
	s := state.New(target)
	s.Entries["/a.mov"] = entry("a")
	s.Entries["/b.mov"] = entry("b")
	s.Entries["/gone.mov"] = entry("gone")
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	base := &state.State{Version: s.Version, Serial: s.Serial, Lineage: s.Lineage, Target: s.Target}
	changes := []state.Change{
		state.PutEntry("/a.mov", entry("a2")),
		state.RemoveEntry("/gone.mov"),
		state.PutFolders(map[string]string{"/New": "new"}),
		state.PutEntry("/c.mov", entry("c")),
	}
	if err := b.Append(ctx, base, changes); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		s.Apply(c)
	}
	got, err := reopen(t, b).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("loaded after Append (-want +got):\n%s", diff)
	}
	if got.Serial != 1 {
		t.Errorf("serial %d after Append, want 1", got.Serial)
	}
	if a, bb := revision(t, url, "rows", "/a.mov"), revision(t, url, "rows", "/b.mov"); a != 2 || bb != 1 {
		t.Errorf("revisions a %d, b %d; want 2 (changed) and 1 (untouched)", a, bb)
	}

	stale := *base
	stale.Serial = 0
	if err := b.Append(ctx, &stale, []state.Change{state.PutEntry("/x.mov", entry("x"))}); !errors.Is(err, store.ErrStale) {
		t.Errorf("Append on a stale serial: %v, want ErrStale", err)
	}
	foreign := *base
	foreign.Lineage = "another"
	if err := b.Append(ctx, &foreign, []state.Change{state.PutEntry("/x.mov", entry("x"))}); !errors.Is(err, store.ErrLineage) {
		t.Errorf("Append on another lineage: %v, want ErrLineage", err)
	}

	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 2 || revision(t, url, "rows", "/a.mov") != 2 || revision(t, url, "rows", "/b.mov") != 1 {
		t.Errorf("after Save: serial %d, revisions %d and %d; want 2, 2 and 1", s.Serial,
			revision(t, url, "rows", "/a.mov"), revision(t, url, "rows", "/b.mov"))
	}
	if got, err := b.Load(ctx); err != nil || got.Entries["/x.mov"] != nil {
		t.Errorf("a refused Append stored something: %v", err)
	}
}

// TestAppendFirstState: Append on nothing stored (serial 0) stores the header with the rows.
func TestAppendFirstState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := open(t, pgtest.URL(t), "first")
	s := state.New(target)
	if err := b.Append(ctx, s, []state.Change{state.PutEntry("/a.mov", entry("a"))}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Load(ctx)
	if err != nil || got.Lineage != s.Lineage || got.Serial != 0 || got.Entries["/a.mov"] == nil {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	s.Apply(state.PutEntry("/a.mov", entry("a")))
	if err := b.Save(ctx, s); err != nil || s.Serial != 1 {
		t.Errorf("Save after the first Append: %v, serial %d", err, s.Serial)
	}
}

// TestDamagedEntryRow: an entry row edited by hand makes Load fail naming the state.
func TestDamagedEntryRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "row")
	s := state.New(target)
	s.Entries["/a.mov"] = entry("a")
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	psql(t, url, `UPDATE fiosync_entries SET entry = convert_to('{"status":"lost"}', 'UTF8') WHERE address = '/a.mov'`)
	_, err := b.Load(ctx)
	var ce *statefile.CorruptError
	if !errors.As(err, &ce) || ce.Path != b.String() {
		t.Errorf("Load with a damaged row: %v, want *CorruptError naming the state", err)
	}
}
