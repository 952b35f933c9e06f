package pgstate

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// testLease is the claim lease of the tests here: short, so that a killed runner's claims
// lapse quickly.
const testLease = 600 * time.Millisecond

// join makes b a runner, leaving when t ends.
func join(t *testing.T, b *Backend) store.Runner {
	t.Helper()
	r, err := b.Join(context.Background(), store.LockInfo{Operation: "apply"}, store.JoinOptions{Lease: testLease}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Unlock() })
	return r
}

// TestRunnersShareTheState: two runners join at once; a claim is one runner's until it
// releases it; the other's Append to a claimed address is refused; the exclusive lock waits
// for both and names one; the serial moves on once, when the last leaves.
func TestRunnersShareTheState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "crew")
	s := state.New(target)
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	base := &state.State{Version: s.Version, Serial: s.Serial, Lineage: s.Lineage, Target: s.Target}
	ra, rb := join(t, b), join(t, reopen(t, b))

	key := store.EntryKey("/a.mov")
	if ok, _, err := ra.Claim(ctx, key); err != nil || !ok {
		t.Fatalf("first claim: %v, %v", ok, err)
	}
	ok, holder, err := rb.Claim(ctx, key)
	if err != nil || ok || holder.Runner != ra.Who() {
		t.Errorf("claim of a held key: %v, %+v, %v; want refused naming %v", ok, holder, err, ra.Who())
	}
	if err := rb.Append(ctx, base, []state.Change{state.PutEntry("/a.mov", entry("b"))}); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("Append to another runner's claim: %v, want ErrClaimed", err)
	}
	if err := ra.Append(ctx, base, []state.Change{state.PutEntry("/a.mov", entry("a"))}); err != nil {
		t.Errorf("Append to its own claim: %v", err)
	}
	claims, err := b.Claims(ctx)
	if err != nil || len(claims) != 1 || claims[0].Key != key || claims[0].Runner != ra.Who() {
		t.Errorf("Claims: %+v, %v", claims, err)
	}
	var le *store.LockedError
	if _, err := open(t, url, "crew").Lock(ctx, store.LockInfo{Operation: "state rm"}, 0); !errors.As(err, &le) || le.Holder.PID != os.Getpid() {
		t.Errorf("exclusive Lock while runners work: %v, want *LockedError naming a runner", err)
	}
	if err := ra.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := rb.Claim(ctx, key); err != nil || !ok {
		t.Errorf("claim after release: %v, %v", ok, err)
	}
	if e, err := rb.Entry(ctx, "/a.mov"); err != nil || e == nil || e.FileID != "a" {
		t.Errorf("Entry: %+v, %v; want what the first runner recorded", e, err)
	}

	if err := ra.Unlock(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Load(ctx); got.Serial != 1 {
		t.Errorf("serial %d after the first runner left, want 1: another runner still works", got.Serial)
	}
	if err := rb.Unlock(); err != nil {
		t.Fatal(err)
	}
	got, err := b.Load(ctx)
	if err != nil || got.Serial != 2 || got.Entries["/a.mov"] == nil {
		t.Errorf("after the last runner left: %+v, %v; want serial 2 with the entry", got, err)
	}
	if claims, _ := b.Claims(ctx); len(claims) != 0 {
		t.Errorf("claims left after both left: %+v", claims)
	}
}

// TestKilledRunnerLosesItsClaims: kill -9 a runner holding a claim; the claim holds for its
// lease (the runner might only be slow), then another runner takes it over.
func TestKilledRunnerLosesItsClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "dead")
	key := store.EntryKey("/a.mov")
	c := startHelper(t, helperCommand(t, "claim", url, "dead", keyEnv+"="+key), "claimed")
	r := join(t, b)
	if ok, holder, err := r.Claim(ctx, key); err != nil || ok || holder.Runner.PID != c.cmd.Process.Pid {
		t.Fatalf("claim held by a live runner: %v, %+v, %v", ok, holder, err)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	deadline := time.Now().Add(10 * testLease)
	for {
		ok, _, err := r.Claim(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed runner's claim did not lapse within %v", 10*testLease)
		}
		time.Sleep(testLease / 4)
	}
}

// TestFreshRunnersShareOneState: runners that each start a new state on an empty database
// (two first applies at once) end up writing one.
func TestFreshRunnersShareOneState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "fresh")
	ra, rb := join(t, b), join(t, reopen(t, b))
	sa, sb := state.New(target), state.New(target)
	if err := ra.Append(ctx, sa, []state.Change{state.PutEntry("/a.mov", entry("a"))}); err != nil {
		t.Fatal(err)
	}
	if err := rb.Append(ctx, sb, []state.Change{state.PutEntry("/b.mov", entry("b"))}); err != nil {
		t.Fatalf("second fresh runner: %v", err)
	}
	ra.Unlock()
	rb.Unlock()
	got, err := b.Load(ctx)
	if err != nil || len(got.Entries) != 2 || got.Serial != 1 {
		t.Errorf("loaded %+v, %v; want both entries at serial 1", got, err)
	}
	// A fresh state of another target is not the same state.
	other := state.New(state.Target{ProjectID: "other"})
	rc := join(t, b)
	if err := rc.Append(ctx, other, []state.Change{state.PutEntry("/c.mov", entry("c"))}); err == nil || !strings.Contains(err.Error(), "serial") && !errors.Is(err, store.ErrLineage) {
		t.Errorf("fresh state of another target: %v, want refused", err)
	}
}
