package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/pgstate"
)

// stateFlags locate the state and say how long to wait for its lock.
type stateFlags struct {
	State       string        `name:"state" env:"FIOSYNC_STATE" placeholder:"PATH|URL" help:"State file (default: fiosync.state.json beside the manifest), or a postgres:// URL to keep the state in PostgreSQL (${env})."`
	StateName   string        `name:"state-name" placeholder:"NAME" help:"The state's name in PostgreSQL (default: the manifest's target and path, e.g. Sandbox:fiosync.yaml)."`
	LockTimeout time.Duration `name:"lock-timeout" default:"0s" help:"How long to wait for another fiosync holding the state lock (0: fail at once)."`
}

// backend opens the state named by the flags; by default the state file beside the manifest.
func (f *stateFlags) backend(manifestPath string) (state.Backend, error) {
	path := f.State
	if pgstate.IsURL(path) {
		held.addConnString("the state URL", path)
		if err := held.refuse("state URL", pgstate.Redact(path)); err != nil {
			return nil, err
		}
		name := f.StateName
		if name == "" {
			var err error
			if name, err = defaultStateName(manifestPath); err != nil {
				return nil, err
			}
		}
		if err := held.refuse("state name", name); err != nil {
			return nil, err
		}
		return pgstate.New(path, name)
	}
	if strings.Contains(path, "://") {
		return nil, fmt.Errorf("state %q: --state takes a file path or a postgres:// URL", pgstate.Redact(path))
	}
	if f.StateName != "" {
		return nil, fmt.Errorf("--state-name names a state in PostgreSQL; pass a postgres:// URL with --state too (a state file is named by its path)")
	}
	if path == "" {
		path = filepath.Join(filepath.Dir(manifestPath), "fiosync.state.json")
	}
	if err := held.refuse("state path", path); err != nil {
		return nil, err
	}
	return state.NewFile(path), nil
}

// session is a manifest, its expansion and its locked state: what plan and apply start from.
type session struct {
	m       *manifest.Manifest
	files   []manifest.Desired
	backend state.Backend
	unlock  state.Unlocker
	st      *state.State // nil when no state was saved yet
	// releaseGC turns the garbage collector back on (see holdGC).
	releaseGC func()
}

// openSession parses the manifest, locks the state, then expands the manifest and loads the
// state at the same time (plan.Read). The caller must call close.
func openSession(ctx context.Context, mf *manifestFlag, sf *stateFlags, op string, errw io.Writer) (*session, error) {
	if pgstate.IsURL(sf.State) {
		held.addConnString("the state URL", sf.State) // before the manifest may expand it
	}
	m, err := loadManifest(mf.File)
	if err != nil {
		return nil, manifestError(errw, err)
	}
	b, err := sf.backend(m.Path)
	if err != nil {
		return nil, err
	}
	unlock, err := b.Lock(ctx, state.LockInfo{Operation: op}, sf.LockTimeout)
	if err != nil {
		closeBackend(b)
		return nil, err
	}
	s := &session{m: m, backend: b, unlock: unlock, releaseGC: holdGC()}
	exp, st, err := plan.Read(ctx, m, b)
	boundGC()
	if err != nil {
		s.close()
		return nil, manifestError(errw, err)
	}
	if err := refuseSecrets(m, exp.Files); err != nil {
		s.close()
		return nil, manifestError(errw, err)
	}
	for _, warn := range exp.Warnings {
		fmt.Fprintf(errw, "warning: %v\n", warn)
	}
	s.files, s.st = exp.Files, st
	return s, nil
}

func (s *session) close() {
	s.releaseGC()
	if s.unlock != nil {
		s.unlock.Unlock()
		s.unlock = nil
	}
	closeBackend(s.backend)
}

// holdGC turns the garbage collector off until the returned function is called; a session
// holds it off while the plan is made. Planning allocates mostly what it keeps (the decoded
// state and the expanded manifest, about 3 KB per file), so collecting during it is work
// without return: GOGC=off made a no-op plan over 10,000 files 14% faster (median of 40
// interleaved runs: 41.9 -> 36.1 ms). Memory stays within what GOGC=100 allows: plan.Read
// makes its result and little garbage, and after it boundGC caps the heap at twice its size,
// past which the collector works again. A GOGC or GOMEMLIMIT set by the user wins.
//
// Holds nest (tests run sessions side by side in one process): the first turns the collector
// off, the last release restores the settings. The returned function may be called more than
// once.
func holdGC() (release func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gcHold.Lock()
	defer gcHold.Unlock()
	if gcHold.holders == 0 {
		gcHold.percent = debug.SetGCPercent(-1)
		gcHold.limit = debug.SetMemoryLimit(-1)
	}
	gcHold.holders++
	return sync.OnceFunc(func() {
		gcHold.Lock()
		defer gcHold.Unlock()
		if gcHold.holders--; gcHold.holders == 0 {
			debug.SetGCPercent(gcHold.percent)
			debug.SetMemoryLimit(gcHold.limit)
		}
	})
}

// boundGC limits the memory of a held collector to twice the heap in use now, plus 64 MiB:
// what the plan allocates from here on (hashing, the refresh, the plan itself) is collected
// once it passes that, as GOGC=100 would. The limit only grows while holds nest.
func boundGC() {
	gcHold.Lock()
	defer gcHold.Unlock()
	if gcHold.holders == 0 {
		return
	}
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(heap)
	limit := 2*int64(heap[0].Value.Uint64()) + 64<<20
	if current := debug.SetMemoryLimit(-1); current == gcHold.limit || current < limit {
		debug.SetMemoryLimit(limit)
	}
}

// gcHold is the state of holdGC: how many hold the collector off, and the settings to restore.
var gcHold struct {
	sync.Mutex
	holders int
	percent int
	limit   int64
}

// stateFor returns the state to record deliveries to target t in: the loaded one, with t
// filled in when it does not know its project yet, or a new one when none was saved.
func (s *session) stateFor(t state.Target) *state.State {
	st := s.st
	if st == nil {
		st = state.New(t)
	}
	if st.Target.ProjectID == "" {
		st.Target = t
	}
	return st
}

// planOptions are the knobs of computing a plan.
type planOptions struct {
	refresh   bool
	maxDelete int
	parallel  int
	adopt     bool // plan --adopt: match untracked addresses to files already in Frame.io
}

// plan computes the plan from the session: local facts, then (unless refresh is off) the
// remote side, then the pure diff.
func (s *session) plan(ctx context.Context, g *Globals, opts planOptions, errw io.Writer) (*plan.Plan, error) {
	sources, err := plan.Identify(ctx, s.files, s.st, opts.parallel)
	if err != nil {
		return nil, err
	}
	in := plan.Inputs{
		Files:     s.files,
		Target:    s.m.Target,
		Prune:     s.m.Prune,
		Sources:   sources,
		State:     s.st,
		MaxDelete: opts.maxDelete,
		Adopt:     opts.adopt,
	}
	if opts.maxDelete == 0 {
		// --max-delete 0 allows no deletes, but plan.Inputs reads 0 as "the default": build
		// without a bound and check here.
		in.MaxDelete = plan.NoDeleteLimit
	}
	if opts.refresh {
		c, err := g.client(ctx)
		if err != nil {
			return nil, err
		}
		snap, err := plan.Refresh(ctx, c, s.m, s.files, s.st, plan.RefreshOptions{Adopt: opts.adopt})
		if err != nil {
			return nil, err
		}
		in.Remote = snap
	}
	p, err := plan.Build(in)
	if err != nil {
		return nil, err
	}
	if n := p.Summary().Delete; opts.maxDelete == 0 && n > 0 {
		return nil, fmt.Errorf("plan would delete %d files, and --max-delete 0 allows none; check the manifest, or raise --max-delete if that is intended: %w", n, plan.ErrTooManyDeletes)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(errw, "warning: %s\n", escape.Text(w)) // they name Frame.io folders and ids
	}
	return p, nil
}
