package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/pgstate"
	"github.com/fiosync/fiosync/state/store"
)

// TestRunnersMoveOnce: a delivered folder is renamed on disk, so every file of it is a move,
// and three runners of a cooperative apply share the moves. A fourth runner, in the test,
// stopped in the middle of ten of them: it holds their claims while the others plan, then
// leaves (as a dead runner's leases lapse) having written three moves ahead and made their
// call, four written ahead only, and three only claimed. Each file must be moved once in
// Frame.io (the emulator counts every file a move call moves), into the one new folder, and
// recorded there settled; every runner succeeds; each move is reported done by one runner.
// Then the folder is renamed again and three runners move it with nobody in the way: once
// each again (before moves were claimed, every runner moved every file).
func TestRunnersMoveOnce(t *testing.T) {
	pgURL, env := runnersSetup(t, 5*time.Millisecond)
	ctx := context.Background()

	const n = 30
	dir := t.TempDir()
	for i := range n {
		writeFile(t, dir, fmt.Sprintf("media/day1/clip%02d.mov", i), strings.Repeat(fmt.Sprintf("clip %02d ", i), 50))
	}
	manifest := filepath.Join(dir, "fiosync.yaml")
	writeFile(t, dir, "fiosync.yaml", "version: 1\ntarget:\n  project: Sandbox\nprune: true\nuploads:\n  - local: media\n    to: /\n")
	startRunner(t, env, manifest, pgURL, "moves").wait(t, "the first apply")
	if err := os.Rename(filepath.Join(dir, "media/day1"), filepath.Join(dir, "media/day2")); err != nil {
		t.Fatal(err)
	}

	// The runner that stops: the new folder, and claims on both addresses of the first ten.
	b, err := pgstate.New(pgURL, "moves")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ghost, err := b.Join(ctx, store.LockInfo{Operation: "apply"}, store.JoinOptions{Lease: runnersLease}, 0)
	if err != nil {
		t.Fatal(err)
	}
	day2, err := env.Client.CreateFolder(ctx, env.Seed.AccountID, env.Seed.RootFolderID, "day2")
	if err != nil {
		t.Fatal(err)
	}
	if err := ghost.Append(ctx, st, []state.Change{state.PutFolders(map[string]string{"/day2": day2.ID})}); err != nil {
		t.Fatal(err)
	}
	from := func(i int) string { return fmt.Sprintf("/day1/clip%02d.mov", i) }
	to := func(i int) string { return fmt.Sprintf("/day2/clip%02d.mov", i) }
	for i := range 10 {
		for _, key := range []string{store.EntryKey(from(i)), store.EntryKey(to(i))} {
			if ok, _, err := ghost.Claim(ctx, key); err != nil || !ok {
				t.Fatalf("claim %s: %v, %v", key, ok, err)
			}
		}
	}

	procs := make([]*runnerProc, 3)
	for i := range procs {
		procs[i] = startRunner(t, env, manifest, pgURL, "moves", "--move-min-size", "1", "--lease", runnersLease.String())
	}
	for i, p := range procs { // each has planned its moves
		for deadline := time.Now().Add(30 * time.Second); p.count(apply.EventStart) == 0; time.Sleep(5 * time.Millisecond) {
			select {
			case <-p.done:
				t.Fatalf("runner %d ended before it started:\n%s", i, &p.stderr)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("runner %d did not start in 30s:\n%s", i, &p.stderr)
			}
		}
	}
	var ahead state.Change
	ahead.Entries = map[string]*state.Entry{}
	for i := range 7 {
		e := st.Entries[from(i)].Clone()
		rel := fmt.Sprintf("media/day2/clip%02d.mov", i)
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		src := source.OfFile(rel, fi)
		src.Hash = e.Source.Hash
		e.Source, e.ParentID, e.Followup = src, day2.ID, &state.Followup{Step: state.StepMove, FileID: e.FileID}
		ahead.Entries[from(i)], ahead.Entries[to(i)] = nil, e
	}
	if err := ghost.Append(ctx, st, []state.Change{ahead}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := env.Client.MoveFile(ctx, env.Seed.AccountID, st.Entries[from(i)].FileID, day2.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := ghost.Unlock(); err != nil {
		t.Fatal(err)
	}

	done := waitRunners(t, procs)
	if moved := env.Emu.Stats().FilesMoved; moved != n {
		t.Errorf("Frame.io moved %d files, want %d: each once", moved, n)
	}
	after, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Entries) != n {
		t.Errorf("state holds %d entries, want %d", len(after.Entries), n)
	}
	for i := range n {
		if done[to(i)] != 1 {
			t.Errorf("%s: reported moved %d times, want once", to(i), done[to(i)])
		}
		e, was := after.Entries[to(i)], st.Entries[from(i)]
		if e == nil || e.FileID != was.FileID || e.Followup != nil || e.Status != state.StatusComplete || e.ParentID != day2.ID {
			t.Errorf("%s: entry %+v, want the file %s settled in %s", to(i), e, was.FileID, day2.ID)
			continue
		}
		if info, ok := env.Emu.FileInfo(e.FileID); !ok || info.ParentID != day2.ID || info.Name != fmt.Sprintf("clip%02d.mov", i) {
			t.Errorf("%s: Frame.io holds %+v, want it in folder %s", to(i), info, day2.ID)
		}
	}
	if folders := foldersNamed(t, env, "day2"); folders != 1 {
		t.Errorf("Frame.io has %d folders day2, want 1", folders)
	}
	if claims, err := b.Claims(ctx); err != nil || len(claims) != 0 {
		t.Errorf("claims left after the runners finished: %+v, %v", claims, err)
	}

	// The folder renamed again, three runners and nobody in the way: still one move each.
	if err := os.Rename(filepath.Join(dir, "media/day2"), filepath.Join(dir, "media/day3")); err != nil {
		t.Fatal(err)
	}
	for i := range procs {
		procs[i] = startRunner(t, env, manifest, pgURL, "moves", "--move-min-size", "1", "--lease", runnersLease.String())
	}
	done = waitRunners(t, procs)
	if moved := env.Emu.Stats().FilesMoved; moved != 2*n {
		t.Errorf("Frame.io moved %d files the second time, want %d: each once", moved-n, n)
	}
	for i := range n {
		if addr := fmt.Sprintf("/day3/clip%02d.mov", i); done[addr] != 1 {
			t.Errorf("%s: reported moved %d times, want once", addr, done[addr])
		}
	}
}

// waitRunners waits for procs, each of which must succeed, and counts the file_done events of
// each address across them.
func waitRunners(t *testing.T, procs []*runnerProc) map[string]int {
	t.Helper()
	done := map[string]int{}
	for i, p := range procs {
		p.wait(t, fmt.Sprintf("runner %d", i))
		for _, e := range p.events {
			if e.Type == apply.EventFileDone {
				done[e.Address]++
			}
		}
		t.Logf("runner %d: %d moved, %d by other runners", i, p.count(apply.EventFileDone), p.count(apply.EventFileElsewhere))
	}
	return done
}
