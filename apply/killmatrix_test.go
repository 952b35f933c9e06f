package apply_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
)

// The child of TestKillMatrix reads these besides the envChild* variables.
const envChildRemote = "FIOSYNC_APPLY_CHILD_REMOTE" // the remote source's URL

// matrixFiles is the second delivery of the kill matrix: a.mov changed (on_change replace),
// b.mov changed (version), c.mov dropped (prune), d.mov new (three parts), n.mov new (one
// part: its file id is only staged, see createFile), reel.mp4 new (remote), and three moves to /Moved: e.mov renamed to e2.mov and f.mov (one bulk move and
// a rename), and g.mov with its two versions (a stack move).
func matrixFiles(h *harness, remote string) []manifest.Desired {
	return h.desired(
		spec{local: "a.mov", to: "/Day", onChange: manifest.OnChangeReplace},
		spec{local: "b.mov", to: "/Day", onChange: manifest.OnChangeVersion},
		spec{local: "d.mov", to: "/Day"},
		spec{local: "n.mov", to: "/Day"},
		spec{url: remote, name: "reel.mp4", to: "/Reels"},
		spec{local: "moved/e2.mov", to: "/Moved"},
		spec{local: "moved/f.mov", to: "/Moved"},
		spec{local: "moved/g.mov", to: "/Moved"},
	)
}

// matrixMoves is what the kill matrix's plans move: every file, whatever its size.
var matrixMoves = plan.MovesFor(true, false, false, 1)

// TestKillMatrixChild is the body of the child process of TestKillMatrix: it plans and
// applies the matrix's second delivery, with the part journal, and stops on SIGINT as the CLI
// does.
func TestKillMatrixChild(t *testing.T) {
	url := os.Getenv(envChildURL)
	if url == "" || os.Getenv(envChildRemote) == "" {
		t.Skip("runs only as the child of TestKillMatrix")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	h := &harness{t: t, dir: os.Getenv(envChildDir), client: emutest.NewClient(t, url, os.Getenv(envChildToken), testRetry)}
	h.seed.Project = "Sandbox"
	h.statePath = filepath.Join(h.dir, "fiosync.state.json")
	h.parts = partjournal.Open(os.Getenv(envChildParts))
	h.moves = matrixMoves
	files := matrixFiles(h, os.Getenv(envChildRemote))
	h.apply(ctx, h.plan(files, true), files, apply.Options{Parts: h.parts, Parallel: 2, PollInterval: 5 * time.Millisecond})
}

// killer wraps the emulator and kills the child at its nth request: before the request is
// handled (it never arrives) or after (it took effect, the answer is lost).
type killer struct {
	h     http.Handler
	n     int64 // 0: never
	after bool
	sig   os.Signal
	seen  atomic.Int64
	mu    sync.Mutex
	proc  *os.Process
	fired atomic.Bool
}

func (k *killer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := k.seen.Add(1)
	if i != k.n {
		k.h.ServeHTTP(w, r)
		return
	}
	if k.after {
		rec := httptest.NewRecorder()
		k.h.ServeHTTP(rec, r)
	}
	k.mu.Lock()
	if k.proc != nil {
		k.proc.Signal(k.sig)
		k.fired.Store(true)
	}
	k.mu.Unlock()
	if k.sig == os.Kill || !k.after {
		http.Error(w, "the client is gone", http.StatusServiceUnavailable)
		return
	}
	k.h.ServeHTTP(w, r) // SIGINT after: answer, the child winds down on its own
}

// TestKillMatrix interrupts an apply that updates (replace and version), creates, prunes and
// fetches a remote file, at every request it makes, with SIGKILL before and after the request
// takes effect and with SIGINT, and checks after the next apply that each address is in
// Frame.io exactly once with the right content, the old versions are stacked or deleted as
// on_change says, no placeholder is left, and a new plan has nothing to do (issue 15).
func TestKillMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per kill point")
	}
	reel := randomBytes(100<<10, 7)
	remote := serveBytes(t, reel).URL + "/reel.mp4?X-Amz-Signature=secret"

	// setup delivers the first version and writes the second, and returns the server the
	// child will talk to, wrapping the emulator in k.
	setup := func(t *testing.T, k *killer) (*harness, *httptest.Server) {
		opts := testEmulatorOptions()
		emu, err := emulator.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		k.h = emu
		srv := httptest.NewServer(k)
		t.Cleanup(func() { srv.Close(); emu.Close() })
		h := &harness{t: t, emu: emu, seed: emu.Seed(), dir: t.TempDir()}
		h.client = emutest.NewClient(t, srv.URL, h.seed.Token, testRetry)
		h.statePath = filepath.Join(h.dir, "fiosync.state.json")
		h.writeFile("a.mov", 2*64<<10, 1)
		h.writeFile("b.mov", 2*64<<10, 2)
		h.writeFile("c.mov", 64<<10, 3)
		h.writeFile("e.mov", 64<<10, 4)
		h.writeFile("f.mov", 64<<10, 5)
		h.writeFile("g.mov", 64<<10, 6)
		h.moves = matrixMoves
		first := func() []manifest.Desired {
			return h.desired(spec{local: "a.mov", to: "/Day", onChange: manifest.OnChangeReplace},
				spec{local: "b.mov", to: "/Day", onChange: manifest.OnChangeVersion}, spec{local: "c.mov", to: "/Day"},
				spec{local: "e.mov", to: "/Day"}, spec{local: "f.mov", to: "/Day"}, spec{local: "g.mov", to: "/Day"})
		}
		if _, err := h.apply(context.Background(), h.plan(first(), true), first(), apply.Options{}); err != nil {
			t.Fatal(err)
		}
		h.writeFile("g.mov", 64<<10+1, 16) // g.mov gets a second version before it moves
		if _, err := h.apply(context.Background(), h.plan(first(), true), first(), apply.Options{}); err != nil {
			t.Fatal(err)
		}
		h.before = h.loadState()
		for from, to := range map[string]string{"e.mov": "moved/e2.mov", "f.mov": "moved/f.mov", "g.mov": "moved/g.mov"} {
			if err := os.MkdirAll(filepath.Join(h.dir, "moved"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(h.dir, from), filepath.Join(h.dir, to)); err != nil {
				t.Fatal(err)
			}
		}
		h.writeFile("a.mov", 3*64<<10, 11)
		h.writeFile("b.mov", 3*64<<10, 12)
		h.writeFile("d.mov", 3*64<<10, 13)
		h.writeFile("n.mov", 32<<10, 14)
		os.Remove(filepath.Join(h.dir, "c.mov"))
		k.seen.Store(0)
		return h, srv
	}
	child := func(t *testing.T, h *harness, srv *httptest.Server, k *killer, parts string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillMatrixChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildURL+"="+srv.URL, envChildToken+"="+h.seed.Token,
			envChildDir+"="+h.dir, envChildParts+"="+parts, envChildRemote+"="+remote)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		k.mu.Lock()
		k.proc = cmd.Process
		k.mu.Unlock()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
		}
		cmd.Wait()
		k.mu.Lock()
		k.proc = nil
		k.mu.Unlock()
	}

	// A run without a kill counts the requests: one kill point each.
	k := &killer{}
	h, srv := setup(t, k)
	child(t, h, srv, k, t.TempDir())
	total := int(k.seen.Load())
	if total < 10 {
		t.Fatalf("the apply made %d requests; the matrix needs the whole run", total)
	}

	modes := []struct {
		name  string
		sig   os.Signal
		after bool
		every int // kill at every nth request: SIGINT winds down like SIGKILL, only slower
	}{
		{"SIGKILL before", os.Kill, false, 1},
		{"SIGKILL after", os.Kill, true, 1},
		{"SIGINT", syscall.SIGINT, false, 2},
	}
	var rounds, points atomic.Int64
	for _, m := range modes {
		for n := 1; n <= total; n += m.every {
			points.Add(1)
			t.Run(fmt.Sprintf("%s request %d", m.name, n), func(t *testing.T) {
				k := &killer{n: int64(n), after: m.after, sig: m.sig}
				h, srv := setup(t, k)
				parts := t.TempDir()
				child(t, h, srv, k, parts)
				if !k.fired.Load() {
					// Status polls make the count of requests vary a little between runs.
					t.Skipf("this run ended before its request %d", n)
				}
				rounds.Add(1)
				// The next apply, in process, finishes the job.
				h.parts = partjournal.Open(parts)
				files := matrixFiles(h, remote)
				for try := range 2 {
					p := h.plan(files, true)
					if len(p.Changes) == 0 {
						break
					}
					if _, err := h.apply(context.Background(), p, files, apply.Options{Parts: h.parts, PollInterval: 5 * time.Millisecond}); err != nil && try == 1 {
						t.Fatalf("apply after the kill: %v", err)
					}
				}
				h.verify(files, map[string][]byte{remote: reel})
				st := h.loadState()
				if got := h.live(); got != 10 { // a, b and its old version, d, n, reel, e2, f, g and its old version
					s := h.emu.Stats()
					t.Errorf("files in Frame.io = %d (created %d, deleted %d), want 10", got, s.FilesCreated, s.FilesDeleted)
				}
				moved := st.Folders["/Moved"]
				for from, to := range map[string]string{"/Day/e.mov": "/Moved/e2.mov", "/Day/f.mov": "/Moved/f.mov", "/Day/g.mov": "/Moved/g.mov"} {
					was, e := h.before.Entries[from], st.Entries[to]
					if e == nil || e.FileID != was.FileID || e.VersionStackID != was.VersionStackID {
						t.Errorf("%s -> %s: entry %+v, want file %s moved", from, to, e, was.FileID)
						continue
					}
					info, _ := h.emu.FileInfo(e.FileID)
					parent := info.ParentID
					if e.VersionStackID != "" {
						parent = h.stackParentVia(srv.URL, e.VersionStackID)
					}
					if info.Name != path.Base(to) || parent != moved {
						t.Errorf("%s -> %s: Frame.io has %q in %s, want %q in %s", from, to, info.Name, parent, path.Base(to), moved)
					}
				}
				b := st.Entries["/Day/b.mov"]
				if info, _ := h.emu.FileInfo(b.FileID); b.VersionStackID == "" || info.ParentID != b.VersionStackID || len(b.Previous) != 1 {
					t.Errorf("b.mov %+v: want its new version stacked on the old one", b)
				}
				if a := st.Entries["/Day/a.mov"]; len(a.Previous) != 0 || a.Followup != nil {
					t.Errorf("a.mov %+v: want the replaced file gone", a)
				}
				if _, ok := st.Entries["/Day/c.mov"]; ok {
					t.Error("c.mov is still tracked after the prune")
				}
				for addr, e := range st.Entries {
					if e.Status != state.StatusComplete || e.Followup != nil {
						t.Errorf("%s: %+v, want complete with nothing owed", addr, e)
					}
				}
				if again := h.plan(files, true); len(again.Changes) != 0 {
					t.Errorf("plan after the recovery has changes: %+v", again.Changes)
				}
			})
		}
	}
	t.Logf("%d requests in the counted run; %d kill points over %d modes, %d of which interrupted a run",
		total, points.Load(), len(modes), rounds.Load())
	if rounds.Load() < points.Load()*8/10 {
		t.Errorf("only %d of %d kill points interrupted a run", rounds.Load(), points.Load())
	}
}
