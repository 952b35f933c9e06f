package apply_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// TestKill9WithJournal kills -9 an apply of many small files while it appends to the state
// journal (issue 18): every file it reported done is in the state the next process loads, the
// state file itself was never rewritten mid-run, the next locked run compacts the journal, and
// the next apply delivers the rest: every file exactly once.
func TestKill9WithJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	opts := testEmulatorOptions()
	opts.Latency = 2 * time.Millisecond
	h := newHarness(t, opts)
	const n, killAfter = 40, 12
	for i := range n {
		h.writeFile(fmt.Sprintf("frame%04d.mov", i), 2<<10, uint64(i+1))
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildURL+"="+h.env.URL, envChildToken+"="+h.seed.Token, envChildDir+"="+h.dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := map[string]string{} // address -> file id, as reported before the kill
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var e apply.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil || killed {
			continue
		}
		if e.Type == apply.EventFileDone {
			done[e.Address] = e.FileID
			if len(done) == killAfter {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-run
					t.Fatal(err)
				}
				killed = true
			}
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("the child finished before %d files were done", killAfter)
	}

	// The run was cut short with its changes in the journal, not in the state file.
	f := store.NewFile(h.statePath)
	if _, err := os.Stat(f.JournalPath()); err != nil {
		t.Fatalf("no journal after the kill: %v", err)
	}
	if data, err := os.ReadFile(h.statePath); err == nil {
		if raw, err := statefile.Decode(data); err != nil || len(raw.Entries) >= killAfter {
			t.Fatalf("the state file itself holds %d entries (error %v): the run saved the whole state mid-run", len(raw.Entries), err)
		}
	}
	st := h.loadState()
	for addr, id := range done {
		if e := st.Entries[addr]; e == nil || e.Status != "complete" || e.FileID != id {
			t.Errorf("%s was reported done as %s, but the loaded state has %+v", addr, id, e)
		}
	}
	if len(st.Entries) >= n {
		t.Fatalf("the killed run recorded all %d files; the kill came too late", n)
	}

	// The next locked run compacts the journal before anything else.
	u, err := f.Lock(context.Background(), store.LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.JournalPath()); !os.IsNotExist(err) {
		t.Errorf("journal still there after the next lock: %v", err)
	}
	compacted, err := statefile.Decode(mustReadFile(t, h.statePath))
	if err != nil || len(compacted.Entries) != len(st.Entries) {
		t.Fatalf("compacted state file: %v", err)
	}
	u.Unlock()

	files := h.desired(killSources(t, h.dir)...)
	p := h.plan(files, false)
	if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
		t.Fatalf("Run after kill: %v", err)
	}
	h.verify(files, nil)
	if got := h.live(); got != n {
		s := h.emu.Stats()
		t.Errorf("files in Frame.io = %d (created %d, deleted %d), want %d", got, s.FilesCreated, s.FilesDeleted, n)
	}
	if again := h.plan(files, false); len(again.Changes) != 0 {
		t.Errorf("plan after the second run has %d changes, want none", len(again.Changes))
	}
	if _, err := os.Stat(f.JournalPath()); !os.IsNotExist(err) {
		t.Errorf("journal left after a finished apply: %v", err)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
