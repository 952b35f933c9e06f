package pgstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
	"github.com/fiosync/fiosync/state/store/storetest"
)

var target = state.Target{AccountID: "a", WorkspaceID: "w", ProjectID: "p", RootFolderID: "r"}

// open returns a Backend for name at url, closed when t ends.
func open(t *testing.T, url, name string) *Backend {
	t.Helper()
	b, err := New(url, name)
	if err != nil {
		t.Fatal(err)
	}
	b.pollInterval = 10 * time.Millisecond
	t.Cleanup(func() { b.Close() })
	return b
}

// reopen returns a second Backend over the same database and name, as another process would
// open it.
func reopen(t *testing.T, b *Backend) *Backend {
	t.Helper()
	o := &Backend{cfg: b.cfg.Copy(), name: b.name, display: b.display, pollInterval: b.pollInterval}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) store.Backend { return open(t, pgtest.URL(t), "conformance") },
		Reopen: func(t *testing.T, b store.Backend) store.Backend {
			return reopen(t, b.(*Backend))
		},
	})
}

// psql runs sql on a connection of its own, as a person with psql would.
func psql(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// entry returns a complete entry for a test state.
func entry(id string) *state.Entry {
	return &state.Entry{
		Source:     source.OfURL("https://example.com/" + id),
		FileID:     id,
		Status:     state.StatusComplete,
		UploadedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, want string
	}{
		{"user info password", "postgres://ci:hunter2@db.example.com:5432/fiosync?sslmode=require",
			"postgres://ci@db.example.com:5432/fiosync?sslmode=require#s"},
		{"password parameter", "postgresql://ci@db.example.com/fiosync?password=hunter2&sslmode=verify-full&sslpassword=hunter2",
			"postgresql://ci@db.example.com/fiosync?sslmode=verify-full#s"},
		{"no password", "postgres://ci@db.example.com/fiosync", "postgres://ci@db.example.com/fiosync#s"},
		{"socket host", "postgres:///fiosync?host=/run/postgresql", "postgres:///fiosync?host=/run/postgresql#s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(tt.url, "s")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPasswordNeverShown makes the errors of a bad URL and of a failed connection, and
// checks that neither mentions the password.
func TestPasswordNeverShown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		useIt     bool // the URL parses; the error comes from using it
	}{
		{"bad port", "postgres://ci:hunter2@db.example.com:port/fiosync", false},
		{"bad sslmode", "postgres://ci:hunter2@db.example.com/fiosync?sslmode=sometimes", false},
		{"bad escape", "postgres://ci:hunter2%zz@db.example.com/fiosync", false},
		{"refused", "postgres://ci:hunter2@127.0.0.1:1/fiosync?sslmode=disable&connect_timeout=5", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(tt.url, "s")
			if tt.useIt {
				if err != nil {
					t.Fatal(err)
				}
				_, err = b.Load(context.Background())
			}
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

// TestStaleWritersRefused has several writers save over the same serial at once: exactly
// one wins, the others get ErrStale, and the stored state is the winner's.
func TestStaleWritersRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	first := open(t, url, "race")
	s := state.New(target)
	if err := first.Save(ctx, s); err != nil {
		t.Fatal(err)
	}

	const writers = 6
	errs := make([]error, writers)
	states := make([]*state.State, writers)
	backends := make([]*Backend, writers)
	for i := range writers {
		backends[i] = open(t, url, "race")
		st, err := backends[i].Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Entries[fmt.Sprintf("/w%d.mov", i)] = entry(fmt.Sprint(i))
		states[i] = st
	}
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = backends[i].Save(ctx, states[i]) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("writers %d and %d both saved over serial 1", winner, i)
		case !errors.Is(err, store.ErrStale):
			t.Errorf("writer %d: error %v, want ErrStale", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer saved")
	}
	got, err := first.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("/w%d.mov", winner)}
	if diff := cmp.Diff(want, got.Addresses()); diff != "" {
		t.Errorf("stored addresses (-want +got):\n%s", diff)
	}
	if got.Serial != 2 {
		t.Errorf("stored serial %d, want 2", got.Serial)
	}
}

// TestDamagedDocument edits the stored document by hand: Load reports it as damaged, and
// neither Save nor Replace writes over it.
func TestDamagedDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "damaged")
	s := state.New(target)
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	doc, err := statefile.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Replace(doc, []byte(`"serial": 1`), []byte(`"serial": 7`), 1)
	psql(t, url, `UPDATE fiosync_states SET document = $1 WHERE name = 'damaged'`, damaged)

	_, err = b.Load(ctx)
	var ce *statefile.CorruptError
	if !errors.As(err, &ce) || ce.Path != b.String() {
		t.Fatalf("Load of a damaged document: error %v, want *CorruptError naming %q", err, b)
	}
	if err := b.Save(ctx, s); !errors.Is(err, statefile.ErrCorrupt) {
		t.Errorf("Save over a damaged document: error %v, want ErrCorrupt", err)
	}
	if err := b.Replace(ctx, s, state.New(target)); !errors.Is(err, statefile.ErrCorrupt) {
		t.Errorf("Replace of a damaged document: error %v, want ErrCorrupt", err)
	}
	var stored []byte
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, `SELECT document FROM fiosync_states WHERE name = 'damaged'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, damaged) {
		t.Error("the damaged document was replaced")
	}
}

// TestReplace stores a state with its own serial, byte for byte, and only over what the
// caller expected.
func TestReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := open(t, pgtest.URL(t), "replace")
	s := state.New(target)
	s.Serial = 7
	s.Entries["/a.mov"] = entry("a")
	if err := b.Replace(ctx, nil, s); err != nil {
		t.Fatal(err)
	}
	got, err := reopen(t, b).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := statefile.Encode(s)
	gotDoc, _ := statefile.Encode(got)
	if diff := cmp.Diff(string(want), string(gotDoc)); diff != "" {
		t.Errorf("stored document (-want +got):\n%s", diff)
	}

	if err := b.Replace(ctx, nil, s); !errors.Is(err, store.ErrStale) {
		t.Errorf("Replace expecting nothing stored: error %v, want ErrStale", err)
	}
	old := got.Clone()
	old.Serial = 6
	if err := b.Replace(ctx, old, s); !errors.Is(err, store.ErrStale) {
		t.Errorf("Replace expecting serial 6: error %v, want ErrStale", err)
	}
	other := state.New(target)
	other.Serial = 8
	if err := b.Replace(ctx, got, other); err != nil {
		t.Errorf("Replace of the stored state by another lineage: %v", err)
	}
	if err := b.Save(ctx, s); !errors.Is(err, store.ErrLineage) {
		t.Errorf("Save of the old lineage after Replace: error %v, want ErrLineage", err)
	}
}

// TestSchema checks that many first uses at once migrate once without errors, that the
// schema version is recorded, and that tables from a newer fiosync are refused.
func TestSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		b := open(t, url, fmt.Sprintf("s%d", i))
		wg.Go(func() { _, errs[i] = b.Load(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, store.ErrNoState) {
			t.Errorf("first use %d: error %v, want ErrNoState", i, err)
		}
	}

	psql(t, url, `UPDATE fiosync_schema_version SET version = version + 1`)
	_, err := open(t, url, "s0").Load(ctx)
	if !errors.Is(err, errNewerSchema) {
		t.Errorf("Load with newer tables: error %v, want errNewerSchema", err)
	}
}

// TestNoSchema names a search_path without an existing schema: the error says so.
func TestNoSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	url = strings.Replace(url, "search_path=", "search_path=no_such_schema_", 1)
	_, err := open(t, url, "s").Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "names no existing schema") {
		t.Errorf("error %v, want one about search_path", err)
	}
}
