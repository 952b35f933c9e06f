package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/statetest"
)

func newFile(t *testing.T) *File {
	t.Helper()
	return NewFile(filepath.Join(t.TempDir(), "fiosync.state.json"))
}

// saveNew saves a fresh sample state to f and returns it.
func saveNew(t *testing.T, f *File) *state.State {
	t.Helper()
	s := statetest.Sample()
	if err := f.Save(context.Background(), s); err != nil {
		t.Fatalf("first save: %v", err)
	}
	return s
}

func TestFileLoadMissing(t *testing.T) {
	f := newFile(t)
	_, err := f.Load(context.Background())
	if !errors.Is(err, ErrNoState) {
		t.Fatalf("Load of a missing file: error %v, want ErrNoState", err)
	}
}

func TestFileSaveLoad(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	s := saveNew(t, f)
	if s.Serial != 1 {
		t.Fatalf("serial after the first save = %d, want 1", s.Serial)
	}
	first, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	// The first save is its own backup, so that losing the state file is noticed.
	if b, err := os.ReadFile(f.BackupPath()); err != nil || string(b) != string(first) {
		t.Errorf("backup after the first save is not the state (read error %v)", err)
	}

	// A second File (another process, in effect) loads what the first wrote.
	g := NewFile(f.Path())
	loaded, err := g.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, loaded); diff != "" {
		t.Errorf("loaded state mismatch (-want +got):\n%s", diff)
	}
	loaded.Remove("/Reels/reel.mp4")
	if err := g.Save(ctx, loaded); err != nil {
		t.Fatalf("second save: %v", err)
	}
	if loaded.Serial != 2 {
		t.Errorf("serial after the second save = %d, want 2", loaded.Serial)
	}
	backup, err := os.ReadFile(f.BackupPath())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(first), string(backup)); diff != "" {
		t.Errorf("backup is not the previous state (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o644 {
		t.Errorf("state file mode %v, want 0644", mode)
	}
	entries, _ := os.ReadDir(filepath.Dir(f.Path()))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"fiosync.state.json", "fiosync.state.json.backup"}, names); diff != "" {
		t.Errorf("files left beside the state (-want +got):\n%s", diff)
	}
}

func TestFileSaveRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup writes the stored state and returns the state to save.
		setup func(t *testing.T, f *File) *state.State
		is    error
		msg   string
	}{
		{
			name: "stale serial",
			setup: func(t *testing.T, f *File) *state.State {
				saveNew(t, f)
				a, _ := NewFile(f.Path()).Load(ctx)
				b, _ := NewFile(f.Path()).Load(ctx)
				if err := NewFile(f.Path()).Save(ctx, a); err != nil {
					t.Fatal(err)
				}
				return b
			},
			is:  ErrStale,
			msg: "stored serial 2, this state was loaded at 1",
		},
		{
			name: "other lineage",
			setup: func(t *testing.T, f *File) *state.State {
				saveNew(t, f)
				other := state.New(state.Target{ProjectID: "other"})
				other.Serial = 1
				return other
			},
			is:  ErrLineage,
			msg: "stored lineage",
		},
		{
			name: "new state over an existing file",
			setup: func(t *testing.T, f *File) *state.State {
				saveNew(t, f)
				s := statetest.Sample() // same lineage, serial 0
				return s
			},
			is:  ErrStale,
			msg: "stored serial 1, this state was loaded at 0",
		},
		{
			name: "file deleted since load",
			setup: func(t *testing.T, f *File) *state.State {
				s := saveNew(t, f)
				os.Remove(f.Path())
				return s
			},
			is:  ErrStale,
			msg: "the file is gone",
		},
		{
			name: "damaged file",
			setup: func(t *testing.T, f *File) *state.State {
				s := saveNew(t, f)
				os.WriteFile(f.Path(), []byte(`{"version": 1, "serial": 1`), 0o644)
				return s
			},
			is:  statefile.ErrCorrupt,
			msg: "refuse to replace a file that cannot be loaded",
		},
		{
			name: "damaged file, fresh state",
			setup: func(t *testing.T, f *File) *state.State {
				os.WriteFile(f.Path(), []byte("garbage\n"), 0o644)
				return statetest.Sample()
			},
			is:  statefile.ErrCorrupt,
			msg: "refuse to replace a file that cannot be loaded",
		},
		{
			name: "newer format",
			setup: func(t *testing.T, f *File) *state.State {
				s := saveNew(t, f)
				data, _ := os.ReadFile(f.Path())
				os.WriteFile(f.Path(), []byte(strings.Replace(string(data), fmt.Sprintf(`"version": %d`, state.FormatVersion), `"version": 7`, 1)), 0o644)
				return s
			},
			is:  statefile.ErrNewerFormat,
			msg: "upgrade fiosync",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFile(t)
			s := tt.setup(t, f)
			before, _ := os.ReadFile(f.Path())
			serial := s.Serial
			err := f.Save(ctx, s)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Save error %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), f.Path()) {
				t.Errorf("Save error %q does not name the file and say %q", err, tt.msg)
			}
			after, _ := os.ReadFile(f.Path())
			if string(before) != string(after) {
				t.Error("a refused Save changed the state file")
			}
			if s.Serial != serial {
				t.Errorf("a refused Save changed the serial from %d to %d", serial, s.Serial)
			}
		})
	}
}

func TestFileLoadDamaged(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	s := saveNew(t, f)
	if err := f.Save(ctx, s); err != nil { // now a backup exists
		t.Fatal(err)
	}
	data, _ := os.ReadFile(f.Path())
	tests := []struct {
		name string
		data string
		msg  string
	}{
		{"checksum mismatch", strings.Replace(string(data), "file-1", "file-X", 1), "checksum mismatch"},
		{"truncated", string(data[:len(data)-40]), "parse JSON"},
		{"unknown field", strings.Replace(string(data), `"serial"`, `"extra": true, "serial"`, 1), `unknown field "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(f.Path(), []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := NewFile(f.Path()).Load(ctx)
			var ce *statefile.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Load error %v, want *statefile.CorruptError", err)
			}
			msg := err.Error()
			for _, want := range []string{`"` + f.Path() + `"`, `"` + f.BackupPath() + `"`, tt.msg, "will not overwrite"} {
				if !strings.Contains(msg, want) {
					t.Errorf("Load error %q does not contain %q", msg, want)
				}
			}
			if _, err := statefile.Decode(mustRead(t, f.BackupPath())); err != nil {
				t.Errorf("the backup does not load: %v", err)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileLockInProcess(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	g := NewFile(f.Path())
	created := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return created }

	u, err := f.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Lock(ctx, LockInfo{Operation: "plan"}, 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock error %v, want *LockedError", err)
	}
	h := le.Holder
	if h.PID != os.Getpid() || h.Operation != "apply" || !h.Created.Equal(created) || h.Path != f.Path() || h.ID == "" || !strings.Contains(h.Who, "@") {
		t.Errorf("holder = %+v, want this process running apply since %v", h, created)
	}
	for _, want := range []string{f.Path(), "pid", "\"apply\"", "2026-11-26T09:00:00Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("LockedError %q does not contain %q", err, want)
		}
	}

	if err := u.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := u.Unlock(); err != nil {
		t.Errorf("second Unlock: %v", err)
	}
	if _, err := os.Stat(f.LockPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file still there after Unlock (stat error %v)", err)
	}
	u2, err := g.Lock(ctx, LockInfo{Operation: "plan"}, 0)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	u2.Unlock()
}

func TestFileLockTimeout(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	u, err := f.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()

	g := NewFile(f.Path())
	g.pollInterval = 5 * time.Millisecond
	const timeout = 150 * time.Millisecond
	start := time.Now()
	_, err = g.Lock(ctx, LockInfo{Operation: "plan"}, timeout)
	if elapsed := time.Since(start); elapsed < timeout {
		t.Errorf("Lock gave up after %v, want at least %v", elapsed, timeout)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.Operation != "apply" {
		t.Fatalf("Lock error %v, want *LockedError naming the apply", err)
	}

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := g.Lock(cctx, LockInfo{}, time.Hour)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock with a cancelled context: error %v, want context.Canceled", err)
		}
	})

	t.Run("released while waiting", func(t *testing.T) {
		got := make(chan error, 1)
		go func() {
			u2, err := g.Lock(ctx, LockInfo{Operation: "plan"}, time.Minute)
			if err == nil {
				err = u2.Unlock()
			}
			got <- err
		}()
		if err := u.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
	})
}

func TestFileForceUnlock(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	u, err := f.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	g := NewFile(f.Path())
	if err := g.ForceUnlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.ForceUnlock(ctx); err != nil {
		t.Errorf("ForceUnlock without a lock file: %v", err)
	}
	u2, err := g.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	// The first holder's Unlock must not remove the new holder's lock file.
	if err := u.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.LockPath()); err != nil {
		t.Errorf("the new holder's lock file is gone after the old holder unlocked: %v", err)
	}
	u2.Unlock()
}

// TestLoadLostState: a state file that is gone while its backup is there is not "no state
// yet": planning from nothing would upload the whole delivery again (issue 15, case 4).
func TestLoadLostState(t *testing.T) {
	ctx := context.Background()
	f := NewFile(filepath.Join(t.TempDir(), "fiosync.state.json"))
	s := state.New(state.Target{ProjectID: "p"})
	for range 2 { // the second save keeps the first as the backup
		if err := f.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(f.Path()); err != nil {
		t.Fatal(err)
	}
	_, err := NewFile(f.Path()).Load(ctx)
	var lost *LostError
	if !errors.As(err, &lost) || errors.Is(err, ErrNoState) || lost.Backup != f.BackupPath() {
		t.Fatalf("Load of a lost state: %v, want a LostError naming the backup", err)
	}
	if err := os.Remove(f.BackupPath()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(f.Path()).Load(ctx); !errors.Is(err, ErrNoState) {
		t.Fatalf("Load with neither file: %v, want ErrNoState", err)
	}
}

// TestFileSymlinkSavesThrough: a state file given as a symlink (issue 15, case 6) is saved to
// the file it points to, even one that does not exist yet, and locked and backed up beside
// that file; the link stays a link. Before, a save renamed a regular file over the link and
// left the file it pointed to behind, stale, with the lock beside the link.
func TestFileSymlinkSavesThrough(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "states"), 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "states", "real.json")
	link := filepath.Join(dir, "link.state.json")
	hop := filepath.Join(dir, "states", "hop.json") // a chain: link -> hop -> real, relative
	if err := os.Symlink("real.json", hop); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("states/hop.json", link); err != nil {
		t.Fatal(err)
	}
	f := NewFile(link)
	if f.Target() != real || f.LockPath() != real+".lock" || f.BackupPath() != real+".backup" {
		t.Fatalf("Target, LockPath, BackupPath = %s, %s, %s; want them at %s", f.Target(), f.LockPath(), f.BackupPath(), real)
	}
	unlock, err := f.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(real + ".lock"); err != nil {
		t.Errorf("no lock beside the file the link points to: %v", err)
	}
	if _, err := os.Lstat(link + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a lock beside the link (stat error %v)", err)
	}
	// The same state reached by its real path is locked too.
	if _, err := NewFile(real).Lock(ctx, LockInfo{Operation: "plan"}, 0); !errors.As(err, new(*LockedError)) {
		t.Errorf("locking the real path while the link's lock is held: error %v, want *LockedError", err)
	}
	s := saveNew(t, f) // the link dangles until this save
	s.Folders["/More"] = "folder-9"
	if err := f.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := unlock.Unlock(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, hop} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink (%v, %v)", l, fi, err)
		}
	}
	got, err := NewFile(real).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 2 || got.Folders["/More"] != "folder-9" {
		t.Errorf("the file the link points to holds serial %d, folders %v; want the second save", got.Serial, got.Folders)
	}
	if back, err := NewFile(real + ".backup").Load(ctx); err != nil || back.Serial != 1 {
		t.Errorf("backup beside the real file: %v, %v; want serial 1", back, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "states" && e.Name() != "link.state.json" {
			t.Errorf("%s left beside the link", e.Name())
		}
	}
}
