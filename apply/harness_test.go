package apply_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// harness is one emulator, a client for it, a manifest directory and a state file.
type harness struct {
	t         testing.TB
	env       *emutest.Env // nil in the child of TestKill9
	emu       *emulator.Emulator
	client    *frameio.Client
	seed      emulator.Seed
	dir       string
	statePath string
	// emuDataDir is the emulator's data directory when the test chose one.
	emuDataDir string
	// parts is the part journal plans consult for resumable uploads (plan.Resumable); nil
	// for none.
	parts *partjournal.Journal
	// now is the clock plans use for it; nil means time.Now.
	now func() time.Time
	// moves is what plans move (plan.MovesFor); the zero value moves nothing.
	moves plan.Moves
	// before is a state a test keeps to compare with.
	before *state.State
	// backend, when set, is the state backend apply writes to instead of the state file.
	backend store.Backend
}

// testEmulatorOptions are fast defaults for tests: small parts, no rate limits, a fixed seed.
func testEmulatorOptions() emulator.Options {
	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	o.PartSize = 64 << 10
	o.FaultSeed = 1
	return o
}

// testRetry keeps retries quick while still exercising backoff.
var testRetry = frameio.WithRetry(frameio.RetryPolicy{
	MaxAttempts: 8, BaseDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxWait: 30 * time.Second,
})

func newHarness(t testing.TB, opts emulator.Options) *harness {
	t.Helper()
	e := emutest.Start(t, opts, testRetry)
	h := &harness{t: t, env: e, emu: e.Emu, client: e.Client, seed: e.Seed, dir: t.TempDir()}
	h.statePath = filepath.Join(h.dir, "fiosync.state.json")
	return h
}

// writeFile writes size pseudo-random bytes (from seed) at rel under the manifest directory.
func (h *harness) writeFile(rel string, size int64, seed uint64) {
	h.t.Helper()
	p := filepath.Join(h.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	if _, err := io.CopyN(f, rng, size); err != nil {
		h.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		h.t.Fatal(err)
	}
}

// spec is one desired file for desired(): a local path relative to the manifest
// directory, or a URL with a name.
type spec struct {
	local    string
	url      string
	to       string
	name     string
	onChange manifest.OnChange
}

// desired expands sources the way manifest.Expand does, for the fields apply and plan read.
func (h *harness) desired(srcs ...spec) []manifest.Desired {
	h.t.Helper()
	var out []manifest.Desired
	for _, s := range srcs {
		d := manifest.Desired{Folder: s.to, OnChange: s.onChange}
		if d.OnChange == "" {
			d.OnChange = manifest.OnChangeVersion
		}
		if s.url != "" {
			d.Source = source.OfURL(s.url)
			d.URL = s.url
			d.Name = s.name
		} else {
			d.Name = path.Base(s.local)
			d.Path = filepath.Join(h.dir, filepath.FromSlash(s.local))
			fi, err := os.Stat(d.Path)
			if err != nil {
				h.t.Fatal(err)
			}
			d.Source = source.OfFile(s.local, fi)
		}
		d.Address = path.Join(d.Folder, d.Name)
		out = append(out, d)
	}
	return out
}

// loadState returns the saved state, or nil when there is none yet.
func (h *harness) loadState() *state.State {
	h.t.Helper()
	st, err := store.NewFile(h.statePath).Load(context.Background())
	if errors.Is(err, store.ErrNoState) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// plan refreshes against the emulator and builds the plan for files, as `fiosync plan` does.
func (h *harness) plan(files []manifest.Desired, prune bool) *plan.Plan {
	h.t.Helper()
	return h.buildPlan(files, prune, false)
}

// buildPlan is plan, and with adopt `fiosync plan --adopt`: the refresh lists the folders of
// untracked addresses and Build adopts what fits.
func (h *harness) buildPlan(files []manifest.Desired, prune, adopt bool) *plan.Plan {
	h.t.Helper()
	return h.planWith(files, func(in *plan.Inputs) { in.Prune, in.Adopt = prune, adopt })
}

// planWith is plan with the inputs that set changes (prune, adopt, the selection).
func (h *harness) planWith(files []manifest.Desired, set func(*plan.Inputs)) *plan.Plan {
	h.t.Helper()
	ctx := context.Background()
	st := h.loadState()
	if err := plan.Identify(ctx, files, st, 2); err != nil {
		h.t.Fatal(err)
	}
	if err := plan.IdentifyMoves(ctx, files, st, plan.Selection{}, h.moves, 2); err != nil {
		h.t.Fatal(err)
	}
	now := time.Now
	if h.now != nil {
		now = h.now
	}
	in := plan.Inputs{Files: files, State: st, Moves: h.moves, Parts: plan.Resumable(h.parts, files, st, now())}
	set(&in)
	m := &manifest.Manifest{Target: manifest.Target{Project: h.seed.Project}, Prune: in.Prune}
	remote, err := plan.Refresh(ctx, h.client, m, files, st)
	if err != nil {
		h.t.Fatal(err)
	}
	in.Target, in.Remote = m.Target, remote
	p, err := plan.Build(in)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// apply runs p with the state file as its writer, against a manifest in the harness's
// directory whose remote entries are those of files. opts may set anything but Client, State
// and Manifest.
func (h *harness) apply(ctx context.Context, p *plan.Plan, files []manifest.Desired, opts apply.Options) (*apply.Result, error) {
	h.t.Helper()
	st := h.loadState()
	if st == nil {
		st = state.New(p.Target)
	}
	opts.Client = h.client
	var b store.Backend = store.NewFile(h.statePath)
	if h.backend != nil {
		b = h.backend
	}
	opts.State = store.NewWriter(b, st)
	m := &manifest.Manifest{Dir: h.dir}
	for _, d := range files {
		if d.Source.Kind == source.Remote {
			m.Uploads = append(m.Uploads, manifest.Upload{Index: len(m.Uploads), Remote: d.URL, To: d.Folder, Name: d.Name})
		}
	}
	opts.Manifest = m
	if opts.PollInterval == 0 {
		opts.PollInterval = 5 * time.Millisecond
	}
	return apply.Run(ctx, p, opts)
}

// recorder collects events; safe for concurrent use.
type recorder struct {
	mu     sync.Mutex
	events []apply.Event
	on     func(apply.Event)
}

func (r *recorder) Event(e apply.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.on != nil {
		r.on(e)
	}
}

func (r *recorder) count(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}
