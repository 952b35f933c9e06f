//go:build unix

package store

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

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// The tests in this file re-execute the test binary as a child process (see
// TestMain), so that locks are held and writes interrupted by a real, separate
// process, and killed with SIGKILL.

const childEnv = "FIOSYNC_STATE_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode, os.Getenv("FIOSYNC_STATE_TEST_PATH")))
	}
	os.Exit(m.Run())
}

// runChild is the child process. It reports on stdout, one line per event,
// and waits for stdin to close where it has to hold something.
func runChild(mode, path string) int {
	ctx := context.Background()
	f := NewFile(path)
	switch mode {
	case "save-and-hang":
		s, err := f.Load(ctx)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		s.Entries["/new"] = &state.Entry{Source: source.OfURL("https://x/y"), Status: state.StatusPending}
		f.beforeRename = func() {
			fmt.Println("ready")
			select {} // until killed
		}
		if err := f.Save(ctx, s); err != nil {
			fmt.Println("error", err)
		}
		return 1
	case "append-loop":
		// Appends one entry per record, forever, reporting each once Append returned.
		s, err := f.Load(ctx)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		base := &state.State{Version: s.Version, Serial: s.Serial, Lineage: s.Lineage, Target: s.Target}
		for i := 0; ; i++ {
			c := state.PutEntry(fmt.Sprintf("/k/%d.mov", i), &state.Entry{Source: source.OfURL(fmt.Sprintf("https://x/%d", i)), FileID: fmt.Sprint(i), Status: state.StatusComplete})
			if err := f.Append(ctx, base, []state.Change{c}); err != nil {
				fmt.Println("error", err)
				return 1
			}
			fmt.Println("synced", i)
		}
	case "compact-and-hang", "compact-hang-before-drop":
		s, err := f.Load(ctx)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		hang := func() {
			fmt.Println("ready")
			select {} // until killed
		}
		if mode == "compact-and-hang" {
			f.beforeRename = hang
		} else {
			f.beforeDrop = hang
		}
		if err := f.Save(ctx, s); err != nil {
			fmt.Println("error", err)
		}
		return 1
	case "lock":
		u, err := f.Lock(ctx, LockInfo{Operation: "apply"}, 0)
		var le *LockedError
		switch {
		case errors.As(err, &le):
			fmt.Println("busy", le.Holder.PID)
			return 0
		case err != nil:
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("locked", os.Getpid())
		io.Copy(io.Discard, os.Stdin)
		if err := u.Unlock(); err != nil {
			fmt.Println("error", err)
			return 1
		}
		return 0
	}
	fmt.Println("error unknown mode", mode)
	return 2
}

// child is a running child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

func startChild(t *testing.T, mode, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "FIOSYNC_STATE_TEST_PATH="+path)
	cmd.Stderr = os.Stderr
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
	c := &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return c
}

// next returns the child's next line, split into its event and argument.
func (c *child) next(t *testing.T) (string, string) {
	t.Helper()
	if !c.lines.Scan() {
		t.Fatalf("child %d ended without reporting: %v", c.cmd.Process.Pid, c.lines.Err())
	}
	event, arg, _ := strings.Cut(c.lines.Text(), " ")
	if event == "error" {
		t.Fatalf("child %d: %s", c.cmd.Process.Pid, arg)
	}
	return event, arg
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}

func TestKilledWriterLeavesOldState(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	want := saveNew(t, f)
	before := mustRead(t, f.Path())

	c := startChild(t, "save-and-hang", f.Path())
	if event, _ := c.next(t); event != "ready" {
		t.Fatalf("child reported %q, want ready", event)
	}
	// The child has written and synced the new state to a temporary file
	// and is about to rename it into place.
	c.kill(t)

	if diff := cmp.Diff(string(before), string(mustRead(t, f.Path()))); diff != "" {
		t.Errorf("state file changed by a killed writer (-want +got):\n%s", diff)
	}
	got, err := NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatalf("Load after a killed writer: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state after a killed writer (-want +got):\n%s", diff)
	}

	// The next lock holder clears the dead writer's temporary file and
	// saves normally.
	g := NewFile(f.Path())
	u, err := g.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	if err := g.Save(ctx, got); err != nil {
		t.Fatal(err)
	}
	names := dirNames(t, f.Path())
	if diff := cmp.Diff([]string{"fiosync.state.json", "fiosync.state.json.backup", "fiosync.state.json.lock"}, names); diff != "" {
		t.Errorf("files beside the state after recovery (-want +got):\n%s", diff)
	}
}

func dirNames(t *testing.T, statePath string) []string {
	t.Helper()
	entries, err := os.ReadDir(statePath[:strings.LastIndex(statePath, "/")])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLockRaceBetweenProcesses(t *testing.T) {
	f := newFile(t)
	a := startChild(t, "lock", f.Path())
	b := startChild(t, "lock", f.Path())
	results := map[string]string{}
	pids := map[string]int{}
	for _, c := range []*child{a, b} {
		event, arg := c.next(t)
		results[event] = arg
		pids[event] = c.cmd.Process.Pid
	}
	if len(results) != 2 || results["locked"] == "" || results["busy"] == "" {
		t.Fatalf("children reported %v, want one locked and one busy", results)
	}
	winner := strconv.Itoa(pids["locked"])
	if results["locked"] != winner || results["busy"] != winner {
		t.Errorf("winner is pid %s, loser reports holder %s, want %s", results["locked"], results["busy"], winner)
	}
	a.stdin.Close()
	b.stdin.Close()
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	c := startChild(t, "lock", f.Path())
	if event, _ := c.next(t); event != "locked" {
		t.Fatalf("child reported %q, want locked", event)
	}
	_, err := f.Lock(ctx, LockInfo{Operation: "plan"}, 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock error %v, want *LockedError", err)
	}
	if le.Holder.PID != c.cmd.Process.Pid || le.Holder.Operation != "apply" {
		t.Errorf("holder %+v, want pid %d running apply", le.Holder, c.cmd.Process.Pid)
	}
	if want := fmt.Sprintf("locked by pid %d", c.cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}

	// When the holder finishes, a waiting Lock gets the lock.
	got := make(chan error, 1)
	go func() {
		u, err := f.Lock(ctx, LockInfo{Operation: "plan"}, 30e9)
		if err == nil {
			err = u.Unlock()
		}
		got <- err
	}()
	c.stdin.Close()
	if err := <-got; err != nil {
		t.Errorf("Lock after the holder finished: %v", err)
	}
}

func TestStaleLockRecovery(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	c := startChild(t, "lock", f.Path())
	if event, _ := c.next(t); event != "locked" {
		t.Fatalf("child reported %q, want locked", event)
	}
	c.kill(t)
	// The lock file and its stale holder record are still there...
	if _, err := os.Stat(f.LockPath()); err != nil {
		t.Fatalf("lock file gone after kill -9: %v", err)
	}
	// ...but the flock died with the process: no wait, no unlock command.
	u, err := f.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer u.Unlock()
	holder := NewFile(f.Path()).readHolder()
	if holder.PID != os.Getpid() {
		t.Errorf("lock file names pid %d, want this process %d", holder.PID, os.Getpid())
	}
}

// killedAppender runs a child appending to f's journal and kills it -9 after it reported
// at least n synced records; it returns the last record it reported synced.
func killedAppender(t *testing.T, f *File, n int) int {
	t.Helper()
	c := startChild(t, "append-loop", f.Path())
	last := -1
	for last < n {
		event, arg := c.next(t)
		if event != "synced" {
			t.Fatalf("child reported %q", event)
		}
		last, _ = strconv.Atoi(arg)
	}
	c.kill(t)
	return last
}

// TestKill9DuringAppends: a writer killed -9 while appending loses no record it reported
// synced, and the state loads.
func TestKill9DuringAppends(t *testing.T) {
	ctx := context.Background()
	for round := range 3 {
		f := newFile(t)
		saveNew(t, f)
		last := killedAppender(t, f, 20+round*17)
		s, err := NewFile(f.Path()).Load(ctx)
		if err != nil {
			t.Fatalf("Load after kill -9 during appends: %v", err)
		}
		for i := 0; i <= last; i++ {
			if s.Entries[fmt.Sprintf("/k/%d.mov", i)] == nil {
				t.Fatalf("record %d was reported synced, but the state after the kill lacks it", i)
			}
		}
		t.Logf("round %d: %d records reported, %d loaded", round, last+1, len(s.Entries)-2)
	}
}

// TestKill9DuringCompaction: a save killed -9 before its rename leaves the old state and the
// journal (both load, with every record); killed after it and before the journal is removed,
// it leaves the new state and a journal it holds (loaded once). Either way the next lock
// finishes the compaction.
func TestKill9DuringCompaction(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"compact-and-hang", "compact-hang-before-drop"} {
		t.Run(mode, func(t *testing.T) {
			f := newFile(t)
			saveNew(t, f)
			last := killedAppender(t, f, 10)
			want, err := NewFile(f.Path()).Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c := startChild(t, mode, f.Path())
			if event, _ := c.next(t); event != "ready" {
				t.Fatalf("child reported %q, want ready", event)
			}
			c.kill(t)
			got, err := NewFile(f.Path()).Load(ctx)
			if err != nil {
				t.Fatalf("Load after a compaction killed -9: %v", err)
			}
			wantSerial := want.Serial
			if mode == "compact-hang-before-drop" {
				wantSerial++
			}
			if got.Serial != wantSerial {
				t.Errorf("serial %d, want %d", got.Serial, wantSerial)
			}
			got.Serial = want.Serial
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("state after the killed compaction (-want +got):\n%s", diff)
			}
			for i := 0; i <= last; i++ {
				if got.Entries[fmt.Sprintf("/k/%d.mov", i)] == nil {
					t.Fatalf("record %d lost", i)
				}
			}
			g := NewFile(f.Path())
			u, err := g.Lock(ctx, LockInfo{Operation: "apply"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Unlock()
			if _, err := os.Stat(f.JournalPath()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal after the next lock: stat error %v", err)
			}
			after, err := NewFile(f.Path()).Load(ctx)
			if err != nil || len(after.Entries) != len(want.Entries) {
				t.Fatalf("after the next lock: %v", err)
			}
		})
	}
}
