package plan

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state"
)

// makeTree writes n small files under dir/media (100 per folder) and a manifest that
// uploads them, and returns the manifest's path.
func makeTree(tb testing.TB, dir string, n int) string {
	tb.Helper()
	for i := range n {
		sub := filepath.Join(dir, "media", fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		name := filepath.Join(sub, fmt.Sprintf("clip%05d.mov", i))
		if err := os.WriteFile(name, fmt.Appendf(nil, "clip %d content\n", i), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	mpath := filepath.Join(dir, "fiosync.yaml")
	yaml := "version: 1\ntarget:\n  project: Dailies\nuploads:\n  - local: media\n    to: /Media\n"
	if err := os.WriteFile(mpath, []byte(yaml), 0o644); err != nil {
		tb.Fatal(err)
	}
	return mpath
}

func expand(tb testing.TB, mpath string) (*manifest.Manifest, []manifest.Desired) {
	tb.Helper()
	m, err := manifest.Load(mpath)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := m.Expand()
	if err != nil {
		tb.Fatal(err)
	}
	return m, x.Files
}

// trackAll returns a state in which every file is delivered and complete, as after apply.
func trackAll(tb testing.TB, files []manifest.Desired) *state.State {
	tb.Helper()
	st := state.New(testTarget)
	items := make([]state.IdentifyItem, len(files))
	for i, d := range files {
		items[i] = state.IdentifyItem{Path: d.Path, Rel: d.RelPath, Info: d.Info}
	}
	if err := state.Identify(context.Background(), items, state.IdentifyOptions{}); err != nil {
		tb.Fatal(err)
	}
	for i, d := range files {
		st.Entries[d.Address] = &state.Entry{Source: items[i].Source, FileID: fmt.Sprintf("f%d", i), Status: state.StatusComplete}
	}
	return st
}

// countReads makes Identify count the files it reads until the test ends.
func countReads(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	orig := identifyLocal
	identifyLocal = func(ctx context.Context, items []state.IdentifyItem, opts state.IdentifyOptions) error {
		err := orig(ctx, items, opts)
		for _, it := range items {
			if it.Hashed {
				n.Add(1)
			}
		}
		return err
	}
	t.Cleanup(func() { identifyLocal = orig })
	return &n
}

// TestNoopPlanReadsNothing plans 10,000 tracked, unchanged files without refresh: nothing is
// read, nothing changes. Touching one file makes exactly that one file read.
func TestNoopPlanReadsNothing(t *testing.T) {
	mpath := makeTree(t, t.TempDir(), 10_000)
	m, files := expand(t, mpath)
	st := trackAll(t, files)
	reads := countReads(t)

	plan := func() *Plan {
		t.Helper()
		sources, err := Identify(t.Context(), files, st, 4)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(Inputs{Files: files, Target: m.Target, Sources: sources, State: st})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := plan()
	if !p.Empty() || p.Unchanged != 10_000 {
		t.Fatalf("no-op plan: %d changes, %d unchanged; want 0 and 10000", len(p.Changes), p.Unchanged)
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("no-op plan read %d files, want 0", n)
	}

	touched := files[1234].Path
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(touched, later, later); err != nil {
		t.Fatal(err)
	}
	_, files = expand(t, mpath)
	p = plan()
	if !p.Empty() {
		t.Errorf("touching a file planned %v", actions(p))
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("plan after touching one file read %d files, want 1", n)
	}
}

// BenchmarkNoopPlan10k times `fiosync plan --refresh=false` over 10,000 tracked, unchanged
// files (load the manifest, then expand it while the state loads, as the CLI does; identify,
// build, render) and, in the
// same run, `git status` over the same tree committed to a fresh repository. The goal is a
// plan at most 3 times slower than git status; the ratio is logged.
//
//	go test -run='^$' -bench=NoopPlan10k -benchtime=20x ./plan/
func BenchmarkNoopPlan10k(b *testing.B) {
	dir := b.TempDir()
	mpath := makeTree(b, dir, 10_000)
	_, files := expand(b, mpath)
	st := trackAll(b, files)
	backend := state.NewFile(filepath.Join(dir, "fiosync.state.json"))
	if err := backend.Save(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	var planNs, gitNs float64

	b.Run("fiosync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := manifest.Load(mpath)
			if err != nil {
				b.Fatal(err)
			}
			exp, st, err := Read(context.Background(), m, backend)
			if err != nil {
				b.Fatal(err)
			}
			files := exp.Files
			sources, err := Identify(context.Background(), files, st, 4)
			if err != nil {
				b.Fatal(err)
			}
			p, err := Build(Inputs{Files: files, Target: m.Target, Sources: sources, State: st})
			if err != nil {
				b.Fatal(err)
			}
			if !p.Empty() {
				b.Fatal("the no-op plan has changes")
			}
			if err := WriteText(io.Discard, p, Style{}); err != nil {
				b.Fatal(err)
			}
		}
		planNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})

	// The shares of the other packages, to see where the time goes.
	b.Run("expand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			expand(b, mpath)
		}
	})
	b.Run("state-load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := backend.Load(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})

	// The plan package's own share: Identify and Build over an expanded manifest and a
	// loaded state.
	b.Run("identify+build", func(b *testing.B) {
		b.ReportAllocs()
		m, files := expand(b, mpath)
		for b.Loop() {
			sources, err := Identify(context.Background(), files, st, 4)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Build(Inputs{Files: files, Target: m.Target, Sources: sources, State: st}); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("git-status", func(b *testing.B) {
		if _, err := exec.LookPath("git"); err != nil {
			b.Skip("git is not installed")
		}
		git := func(args ...string) {
			cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=bench", "-c", "user.email=bench@example.com",
				"-c", "gc.auto=0", "-c", "maintenance.auto=false"}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		git("init", "-q")
		git("add", "-A")
		git("commit", "-q", "-m", "tree")
		git("status", "--porcelain") // warm the index's stat cache, as a user's repository is
		for b.Loop() {
			git("status", "--porcelain")
		}
		gitNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})

	if planNs > 0 && gitNs > 0 {
		b.Logf("no-op plan of 10,000 files: %.1f ms; git status: %.1f ms; ratio %.2f (goal <= 3)",
			planNs/1e6, gitNs/1e6, planNs/gitNs)
	}
}
