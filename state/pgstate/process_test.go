package pgstate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// The tests here re-execute the test binary as a helper process (see TestMain), so that
// locks are held by other processes, as two CI jobs would hold them.
const (
	helperEnv = "FIOSYNC_PGSTATE_HELPER" // the helper's mode: hold or increment
	urlEnv    = "FIOSYNC_PGSTATE_URL"
	nameEnv   = "FIOSYNC_PGSTATE_NAME"
	roundsEnv = "FIOSYNC_PGSTATE_ROUNDS"
	keyEnv    = "FIOSYNC_PGSTATE_KEY"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := helper(mode); err != nil {
			fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helper is the helper process:
//
//	hold       take the lock as "apply", print "locked", and unlock when stdin closes
//	increment  ROUNDS times: lock (waiting), load, add an entry, save, unlock
//	claim      join as a runner with a lease of testLease, claim KEY, print "claimed", and
//	           leave when stdin closes
func helper(mode string) error {
	ctx := context.Background()
	b, err := New(os.Getenv(urlEnv), os.Getenv(nameEnv))
	if err != nil {
		return err
	}
	defer b.Close()
	switch mode {
	case "hold":
		u, err := b.Lock(ctx, store.LockInfo{Operation: "apply"}, 0)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		return u.Unlock()
	case "claim":
		r, err := b.Join(ctx, store.LockInfo{Operation: "apply"}, store.JoinOptions{Lease: testLease}, 0)
		if err != nil {
			return err
		}
		if ok, _, err := r.Claim(ctx, os.Getenv(keyEnv)); err != nil || !ok {
			return fmt.Errorf("claim: %v, %v", ok, err)
		}
		fmt.Println("claimed")
		io.Copy(io.Discard, os.Stdin)
		return r.Unlock()
	case "increment":
		rounds, err := strconv.Atoi(os.Getenv(roundsEnv))
		if err != nil {
			return err
		}
		for i := range rounds {
			if err := incrementOnce(ctx, b, i); err != nil {
				return fmt.Errorf("round %d: %w", i, err)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// incrementOnce is one apply: lock, load, record one file, save, unlock.
func incrementOnce(ctx context.Context, b *Backend, i int) error {
	u, err := b.Lock(ctx, store.LockInfo{Operation: "apply"}, time.Minute)
	if err != nil {
		return err
	}
	defer u.Unlock()
	s, err := b.Load(ctx)
	if errors.Is(err, store.ErrNoState) {
		s, err = state.New(target), nil
	}
	if err != nil {
		return err
	}
	s.Entries[fmt.Sprintf("/pid%d/%d.mov", os.Getpid(), i)] = entry(fmt.Sprint(i))
	return b.Save(ctx, s)
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHolder starts a helper that holds the lock on name at url, and returns once it has it.
func startHolder(t *testing.T, url, name string) *child {
	t.Helper()
	return startHelper(t, helperCommand(t, "hold", url, name), "locked")
}

// startHelper starts cmd and returns once it printed ready.
func startHelper(t *testing.T, cmd *exec.Cmd, ready string) *child {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != ready {
		c.cmd.Process.Kill()
		t.Fatalf("helper did not lock: %q, %v (stderr: %s)", line, err, cmd.Stderr)
	}
	return c
}

func helperCommand(t *testing.T, mode, url, name string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	// Under -race a process sleeps a second at exit unless told otherwise.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, urlEnv+"="+url, nameEnv+"="+name, "GORACE="+gorace)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = new(strings.Builder)
	return cmd
}

// TestLockHeldByAnotherProcess: a second locker fails at once naming the holder, and one
// that waits gets the lock when the holder lets go.
func TestLockHeldByAnotherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "shared")
	holder := startHolder(t, url, "shared")

	_, err := b.Lock(ctx, store.LockInfo{Operation: "plan"}, 0)
	var le *store.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it: error %v, want *LockedError", err)
	}
	if le.Holder.PID != holder.cmd.Process.Pid || le.Holder.Operation != "apply" || le.Holder.Who == "" || le.Holder.Created.IsZero() {
		t.Errorf("holder %+v, want pid %d running apply", le.Holder, holder.cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", holder.cmd.Process.Pid)) {
		t.Errorf("message %q does not name the holder's pid", err)
	}

	got := make(chan error, 1)
	go func() {
		u, err := b.Lock(ctx, store.LockInfo{Operation: "plan"}, time.Minute)
		if err == nil {
			err = u.Unlock()
		}
		got <- err
	}()
	holder.stdin.Close() // the holder unlocks and exits
	if err := holder.cmd.Wait(); err != nil {
		t.Fatalf("holder: %v (stderr: %s)", err, holder.cmd.Stderr)
	}
	if err := <-got; err != nil {
		t.Errorf("waiting Lock: %v", err)
	}
}

// TestKilledHolderReleasesLock: kill -9 the holder, and the lock is free at once, with no
// timeout and no ForceUnlock.
func TestKilledHolderReleasesLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "killed")
	holder := startHolder(t, url, "killed")
	if _, err := b.Lock(ctx, store.LockInfo{}, 0); err == nil {
		t.Fatal("Lock succeeded while the helper holds it")
	}

	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	holder.cmd.Wait()
	start := time.Now()
	// The server notices the closed connection within milliseconds; the timeout only bounds
	// a broken server.
	u, err := b.Lock(ctx, store.LockInfo{Operation: "apply"}, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	t.Logf("lock free %v after the holder was reaped", time.Since(start))
	u.Unlock()
}

// TestForceUnlockOtherProcess: ForceUnlock ends another process's session, and the lock is
// free when it returns.
func TestForceUnlockOtherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	b := open(t, url, "stuck")
	holder := startHolder(t, url, "stuck")
	if err := b.ForceUnlock(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := b.Lock(ctx, store.LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	defer u.Unlock()
	// The holder's Unlock finds its session gone, which is no error: the lock went with it.
	holder.stdin.Close()
	if err := holder.cmd.Wait(); err != nil {
		t.Errorf("holder after ForceUnlock: %v (stderr: %s)", err, holder.cmd.Stderr)
	}
}

// TestTwoProcessesLoseNothing runs two processes that each apply several times to one state,
// taking the lock and waiting for each other: every entry of both is in the final state.
func TestTwoProcessesLoseNothing(t *testing.T) {
	t.Parallel()
	const rounds = 8
	url := pgtest.URL(t)
	var cmds []*exec.Cmd
	for range 2 {
		cmd := helperCommand(t, "increment", url, "busy", roundsEnv+"="+strconv.Itoa(rounds))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v (stderr: %s)", err, cmd.Stderr)
		}
	}
	s, err := open(t, url, "busy").Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Entries); got != 2*rounds {
		t.Errorf("%d entries, want %d: %v", got, 2*rounds, s.Addresses())
	}
	if s.Serial != 2*rounds {
		t.Errorf("serial %d, want %d", s.Serial, 2*rounds)
	}
}
