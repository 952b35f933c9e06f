package apply_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
)

// The child process of TestKill9 reads its setup from these variables.
const (
	envChildURL   = "FIOSYNC_APPLY_CHILD_URL"
	envChildToken = "FIOSYNC_APPLY_CHILD_TOKEN"
	envChildDir   = "FIOSYNC_APPLY_CHILD_DIR"
	envChildParts = "FIOSYNC_APPLY_CHILD_PARTS" // the part journal's directory, if any
	envChildMHL   = "FIOSYNC_APPLY_CHILD_MHL"   // "1": check the files against dir's ASC MHL history
)

// killSources lists the files of a kill test's manifest directory.
func killSources(t testing.TB, dir string) []spec {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.mov"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var srcs []spec
	for _, n := range names {
		srcs = append(srcs, spec{local: filepath.Base(n), to: "/Kill"})
	}
	return srcs
}

// TestApplyChild is the body of the child process of TestKill9: it plans and applies the
// manifest directory it is given against the parent's emulator, printing each event as a JSON
// line, until the parent kills it.
func TestApplyChild(t *testing.T) {
	url := os.Getenv(envChildURL)
	if url == "" {
		t.Skip("runs only as the child of TestKill9")
	}
	h := &harness{t: t, dir: os.Getenv(envChildDir), client: emutest.NewClient(t, url, os.Getenv(envChildToken), testRetry)}
	h.seed.Project = "Sandbox"
	h.statePath = filepath.Join(h.dir, "fiosync.state.json")
	files := h.desired(killSources(t, h.dir)...)
	enc := json.NewEncoder(os.Stdout)
	obs := apply.ObserverFunc(func(e apply.Event) { enc.Encode(e) })
	opts := apply.Options{Observer: &lockedObserver{o: obs}, Parallel: 2}
	if dir := os.Getenv(envChildParts); dir != "" {
		opts.Parts = partjournal.Open(dir)
	}
	if os.Getenv(envChildMHL) == "1" {
		opts.MHL = killMHL(t, h.dir, files)
	}
	if _, err := h.apply(context.Background(), h.plan(files, false), files, opts); err != nil {
		t.Fatal(err)
	}
}

// killMHL is the ASC MHL check of a kill test's files against the history in dir.
func killMHL(t testing.TB, dir string, files []manifest.Desired) *plan.MHL {
	t.Helper()
	m := &manifest.Manifest{Dir: dir, Uploads: []manifest.Upload{{Local: ".", To: "/Kill", MHL: manifest.MHLAuto}}}
	check, err := plan.CheckMHL(m, files)
	if err != nil {
		t.Fatal(err)
	}
	return check
}

// lockedObserver serialises events for an observer that is not safe for concurrent use.
type lockedObserver struct {
	mu sync.Mutex
	o  apply.Observer
}

func (l *lockedObserver) Event(e apply.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.o.Event(e)
}

func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	tests := []struct {
		name string
		// killAt says when to kill: after the nth event of this type.
		killAt string
		nth    int
		// mhl checks the files against an ASC MHL history; corrupt then changes one file's
		// bytes (same size and mtime) between the kill and the next run.
		mhl, corrupt bool
	}{
		{name: "while creating", killAt: apply.EventFileStart, nth: 3},
		{name: "mid parts", killAt: apply.EventProgress, nth: 12},
		{name: "mid parts with an MHL check", killAt: apply.EventProgress, nth: 12, mhl: true},
		{name: "mid parts, then a file corrupted", killAt: apply.EventProgress, nth: 12, mhl: true, corrupt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testEmulatorOptions()
			opts.PartSize = 256 << 10
			opts.Latency = 5 * time.Millisecond
			h := newHarness(t, opts)
			const n = 4
			for i := range n {
				h.writeFile(fmt.Sprintf("clip%d.mov", i), 4<<20, uint64(i+1))
			}
			if tt.mhl {
				var rels []string
				for i := range n {
					rels = append(rels, fmt.Sprintf("clip%d.mov", i))
				}
				dit(t, h.dir, mhl.XXH128, rels...)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^TestApplyChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envChildURL+"="+h.env.URL, envChildToken+"="+h.seed.Token, envChildDir+"="+h.dir)
			if tt.mhl {
				cmd.Env = append(cmd.Env, envChildMHL+"=1")
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			seen, killed := 0, false
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var e apply.Event
				if json.Unmarshal(sc.Bytes(), &e) != nil {
					continue // the test framework's own lines
				}
				if e.Type == tt.killAt {
					seen++
				}
				if seen == tt.nth && !killed {
					if err := cmd.Process.Kill(); err != nil { // SIGKILL
						t.Fatal(err)
					}
					killed = true
				}
			}
			cmd.Wait()
			if !killed {
				t.Fatalf("the child finished before %d %s events", tt.nth, tt.killAt)
			}

			// The kill must have cut the run short, or the second run has nothing to
			// reconcile. It may land just after a file_start and before that file's pending
			// record is saved, so "incomplete" is the condition, not "left a pending entry".
			complete, pending := 0, 0
			if st := h.loadState(); st != nil {
				for _, e := range st.Entries {
					switch e.Status {
					case "complete":
						complete++
					case "pending":
						pending++
					}
				}
			}
			if complete == n {
				t.Fatalf("the killed run completed all %d files; the kill came too late to test anything", n)
			}
			t.Logf("killed with %d complete and %d pending entries", complete, pending)

			// The next run, in process, reconciles what the killed one left.
			if tt.corrupt {
				// Every file the killed run did not complete gets other bytes of the same
				// size and mtime: none of them may end up complete in Frame.io.
				st := h.loadState()
				for i := range n {
					rel := fmt.Sprintf("clip%d.mov", i)
					if e := st.Entries["/Kill/"+rel]; e != nil && e.Status == "complete" {
						continue
					}
					p := filepath.Join(h.dir, rel)
					fi, _ := os.Stat(p)
					h.writeFile(rel, fi.Size(), uint64(100+i))
					os.Chtimes(p, fi.ModTime(), fi.ModTime())
				}
				files := h.desired(killSources(t, h.dir)...)
				res, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{MHL: killMHL(t, h.dir, files)})
				if !errors.Is(err, apply.ErrFailed) || res.Failed != n-complete {
					t.Fatalf("Run after kill and corruption = %v, %d failed; want the %d incomplete files refused", err, res.Failed, n-complete)
				}
				if got := h.live(); got != complete {
					s := h.emu.Stats()
					t.Errorf("files in Frame.io = %d (created %d, deleted %d), want only the %d completed before the kill", got, s.FilesCreated, s.FilesDeleted, complete)
				}
				return
			}
			files := h.desired(killSources(t, h.dir)...)
			aopts := apply.Options{}
			if tt.mhl {
				aopts.MHL = killMHL(t, h.dir, files)
			}
			p := h.plan(files, false)
			if _, err := h.apply(context.Background(), p, files, aopts); err != nil {
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
		})
	}
}

// TestKill9ResumesAtThePart kills -9 an apply of one large file at about 60% and checks that
// the next apply, with the part journal the killed one kept, sends at most 45% of the file plus
// the parts that were in flight, and that the file's BLAKE3 is right (issue 15, case 7).
func TestKill9ResumesAtThePart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process and uploads 256 MiB")
	}
	const (
		partSize = 1 << 20
		size     = 256 << 20
		inFlight = apply.DefaultPartConcurrency
	)
	opts := testEmulatorOptions()
	opts.PartSize = partSize
	opts.Latency = 2 * time.Millisecond
	h := newHarness(t, opts)
	h.writeFile("A001C001.mov", size, 9)
	parts := filepath.Join(t.TempDir(), "parts")

	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildURL+"="+h.env.URL, envChildToken+"="+h.seed.Token, envChildDir+"="+h.dir, envChildParts+"="+parts)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var e apply.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Type == apply.EventProgress && e.Bytes >= size*6/10 && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the child finished before 60% of the file was sent")
	}
	first := h.emu.Stats().BytesReceived

	h.parts = partjournal.Open(parts)
	files := h.desired(killSources(t, h.dir)...)
	p := h.plan(files, false)
	if len(p.Changes) != 1 || !strings.HasPrefix(p.Changes[0].Reason, "resume upload (") {
		t.Fatalf("plan after the kill = %+v, want one resume at the part", p.Changes)
	}
	t.Logf("plan after the kill says %q", p.Changes[0].Reason)
	if _, err := h.apply(context.Background(), p, files, apply.Options{Parts: h.parts}); err != nil {
		t.Fatalf("apply after the kill: %v", err)
	}
	second := h.emu.Stats().BytesReceived - first
	h.verify(files, nil) // the BLAKE3 Frame.io holds is the file's
	if got := h.live(); got != 1 {
		t.Errorf("files in Frame.io = %d, want 1", got)
	}
	limit := int64(size*45/100 + inFlight*partSize)
	t.Logf("killed after %d of %d bytes arrived; the next apply sent %d (limit %d)", first, size, second, limit)
	if second > limit {
		t.Errorf("the apply after the kill sent %d bytes, want at most %d (45%% of the file plus %d parts in flight)", second, limit, inFlight)
	}
	if again := h.plan(files, false); len(again.Changes) != 0 {
		t.Errorf("plan after the resume has changes: %+v", again.Changes)
	}
}
