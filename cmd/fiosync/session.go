package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/pgstate"
	"github.com/fiosync/fiosync/state/store"
)

// stateFlags locate the state and say how long to wait for its lock.
type stateFlags struct {
	State       string        `name:"state" env:"FIOSYNC_STATE" placeholder:"PATH|URL" help:"State file (default: beside the manifest, named after it: day04.yaml keeps day04.state.json, fiosync.yaml fiosync.state.json), or a postgres:// URL to keep the state in PostgreSQL (${env})."`
	StateName   string        `name:"state-name" placeholder:"NAME" help:"The state's name in PostgreSQL (default: the manifest's target and path, e.g. Sandbox:fiosync.yaml)."`
	LockTimeout time.Duration `name:"lock-timeout" default:"0s" help:"How long to wait for another fiosync holding the state lock (0: fail at once)."`
}

// backend opens the state named by the flags; by default the state file beside the manifest.
func (f *stateFlags) backend(manifestPath string) (store.Backend, error) {
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
		path = defaultStatePath(manifestPath)
	}
	if err := held.refuse("state path", path); err != nil {
		return nil, err
	}
	return store.NewFile(path), nil
}

// session is a manifest, its expansion and its locked state: what plan and apply start from.
type session struct {
	m       *manifest.Manifest
	files   []manifest.Desired
	backend store.Backend
	unlock  store.Unlocker
	// runner is this process's part in a cooperative apply (store.Claimer), or nil when the
	// state is locked exclusively.
	runner store.Runner
	st     *state.State // nil when no state was saved yet
	// policy is what the top-level exclude and the default excludes left out of files.
	policy []manifest.PolicyHit
	// manifestName is how the state records the manifest (state.State's Manifest).
	manifestName string
	// mhl is the ASC MHL check of files, set by plan; apply hashes against it.
	mhl *plan.MHL
	// collector is the garbage collector's pause for the session (pauseCollector).
	collector *collector
}

// openSession parses the manifest, locks the state (joins it as a runner, when join is not
// nil and the backend is a store.Claimer), then expands the manifest and loads the
// state at the same time (plan.Read). planFile is the plan file the command writes or reads
// ("" for none), which the expansion leaves out as it does the state's own files. The caller
// must call close.
func openSession(ctx context.Context, mf *manifestFlag, sf *stateFlags, op, planFile string, join *store.JoinOptions, errw io.Writer) (*session, error) {
	if pgstate.IsURL(sf.State) {
		held.addConnString("the state URL", sf.State) // before the manifest may expand it
	}
	m, err := loadManifest(mf.File)
	if err != nil {
		return nil, manifestError(errw, err)
	}
	if sf.State == "" {
		if err := checkMoved(ctx, m.Path, errw); err != nil {
			return nil, err
		}
	}
	b, err := sf.backend(m.Path)
	if err != nil {
		return nil, err
	}
	var (
		unlock store.Unlocker
		runner store.Runner
	)
	if c, ok := b.(store.Claimer); ok && join != nil {
		// A backend on which applies cooperate: join the others instead of locking them out.
		runner, err = c.Join(ctx, store.LockInfo{Operation: op}, *join, sf.LockTimeout)
		unlock = runner
	} else {
		unlock, err = b.Lock(ctx, store.LockInfo{Operation: op}, sf.LockTimeout)
	}
	if err != nil {
		closeBackend(b)
		return nil, err
	}
	m.Ignore = ignoredFiles(b, planFile)
	s := &session{m: m, backend: b, unlock: unlock, runner: runner, manifestName: manifestName(b, m.Path), collector: pauseCollector()}
	exp, st, err := plan.Read(ctx, m, b)
	if err != nil {
		s.close()
		return nil, manifestError(errw, err)
	}
	s.collector.read()
	if st != nil {
		if err := checkOwner(st, b, s.manifestName, errw); err != nil {
			s.close()
			return nil, err
		}
	}
	if err := refuseSecrets(m, exp.Files); err != nil {
		s.close()
		return nil, manifestError(errw, err)
	}
	for _, warn := range exp.Warnings {
		fmt.Fprintf(errw, "warning: %v\n", warn)
	}
	s.files, s.st, s.policy = withoutPlanFiles(exp.Files, st), st, exp.Policy
	return s, nil
}

func (s *session) close() {
	s.resumeCollector()
	if s.unlock != nil {
		s.unlock.Unlock()
		s.unlock = nil
	}
	closeBackend(s.backend)
}

// stateFor returns the state to record deliveries to target t in: the loaded one, with t
// filled in when it does not know its project yet, or a new one when none was saved. Either
// way it records this session's manifest as the one that writes it.
func (s *session) stateFor(t state.Target) *state.State {
	st := s.st
	if st == nil {
		st = state.New(t)
	}
	if st.Target.ProjectID == "" {
		st.Target = t
	}
	st.Manifest = s.manifestName
	return st
}

// planOptions are the knobs of computing a plan.
type planOptions struct {
	refresh   bool
	maxDelete int
	parallel  int
	adopt     bool // plan --adopt: match untracked addresses to files already in Frame.io
	sel       plan.Selection
	// moves says what the plan moves, given the manifest's prune (nil: nothing).
	moves func(prune bool) plan.Moves
}

// moveFlags are --moves, --no-moves and --move-min-size of plan and apply.
type moveFlags struct {
	Moves       bool     `help:"Move tracked files whose content now sits at a new address even without prune: true (the old place loses the file)."`
	NoMoves     bool     `name:"no-moves" help:"Never move files in Frame.io: upload them again at their new address."`
	MoveMinSize byteSize `name:"move-min-size" default:"8MiB" placeholder:"SIZE" help:"Move only files at least this big (or with versions); smaller ones upload again."`
}

// movesOf is the plan's moves for the manifest's prune.
func (f *moveFlags) movesOf(prune bool) plan.Moves {
	return plan.MovesFor(prune, f.Moves, f.NoMoves, int64(f.MoveMinSize))
}

// check refuses --moves with --no-moves.
func (f *moveFlags) check() error {
	if f.Moves && f.NoMoves {
		return errors.New("--moves and --no-moves contradict each other; choose one")
	}
	if f.MoveMinSize < 1 {
		return errors.New("--move-min-size must be at least 1 byte")
	}
	return nil
}

// byteSize is a flag that reads sizes such as 8MiB (display.ParseBytes).
type byteSize int64

// UnmarshalText implements encoding.TextUnmarshaler, which kong uses for flags.
func (b *byteSize) UnmarshalText(text []byte) error {
	n, err := display.ParseBytes(string(text))
	if err != nil {
		return fmt.Errorf("size %q: want a whole number of bytes with an optional unit, such as 8MiB or 512K", text)
	}
	*b = byteSize(n)
	return nil
}

// selectFlags are --target, --exclude and --replace of plan and apply.
type selectFlags struct {
	Target  []string `name:"target" sep:"none" placeholder:"ADDRESS_GLOB" help:"Plan only addresses matching this glob, or below a folder it matches (repeatable); the rest is left as it is."`
	Exclude []string `name:"exclude" sep:"none" placeholder:"ADDRESS_GLOB" help:"Leave out addresses matching this glob, or below a folder it matches (repeatable)."`
	Replace []string `name:"replace" sep:"none" placeholder:"ADDRESS_GLOB" help:"Upload the delivered files matching this glob again even when unchanged, following their on_change (version stacks a fresh copy; repeatable)."`
}

func (f *selectFlags) selection() plan.Selection {
	return plan.Selection{Targets: f.Target, Excludes: f.Exclude, Replaces: f.Replace}
}

// check refuses a malformed glob or one holding a secret.
func (f *selectFlags) check() error {
	for _, p := range f.Target {
		if err := held.refuse("--target", p); err != nil {
			return err
		}
	}
	for _, p := range f.Exclude {
		if err := held.refuse("--exclude", p); err != nil {
			return err
		}
	}
	for _, p := range f.Replace {
		if err := held.refuse("--replace", p); err != nil {
			return err
		}
	}
	if err := f.selection().Check(); err != nil {
		return fmt.Errorf("--target, --exclude, --replace: %w", err)
	}
	return nil
}

// plan computes the plan from the session: local facts, then (unless refresh is off) the
// remote side, then the pure diff.
func (s *session) plan(ctx context.Context, g *Globals, opts planOptions, errw io.Writer) (*plan.Plan, error) {
	defer s.resumeCollector() // what was read is compared and planned from: then it may go
	// The ASC MHL histories first: a file that contradicts its history stops the plan before
	// any request is made.
	check, err := plan.CheckMHL(s.m, s.files)
	if err != nil {
		return nil, err
	}
	s.mhl = check
	steps := newStepView(errw)
	defer steps.finish()
	tracked := make([]*state.Entry, len(s.files)) // the state's entries, looked up once for Build too
	if err := plan.IdentifyWith(ctx, s.files, s.st, plan.IdentifyOptions{Parallel: opts.parallel, Progress: steps.report, Tracked: tracked}); err != nil {
		return nil, err
	}
	var moves plan.Moves
	if opts.moves != nil {
		moves = opts.moves(s.m.Prune)
	}
	if err := plan.IdentifyMoves(ctx, s.files, s.st, opts.sel, moves, opts.parallel); err != nil {
		return nil, err
	}
	now := time.Now()
	in := plan.Inputs{
		Now:       now,
		Parts:     plan.Resumable(partJournal(io.Discard), s.files, s.st, now),
		Manifest:  filepath.Base(s.m.Path),
		Files:     s.files,
		Target:    s.m.Target,
		Prune:     s.m.Prune,
		Lists:     s.m.Lists,
		State:     s.st,
		Tracked:   tracked,
		MaxDelete: opts.maxDelete,
		Adopt:     opts.adopt,
		Select:    opts.sel,
		Moves:     moves,
		Policy:    s.policy,
		MHL:       check,
	}
	if opts.maxDelete == 0 {
		in.MaxDelete = plan.NoDeletes // --max-delete 0; plan.Inputs reads 0 as the default
	}
	if opts.refresh {
		// Waiting on Frame.io, the collector costs nothing, and a listing of many files is
		// mostly garbage once decoded.
		s.resumeCollector()
		c, err := g.client(ctx)
		if err != nil {
			return nil, err
		}
		snap, err := plan.RefreshWith(ctx, c, s.m, s.files, s.st, plan.RefreshOptions{Progress: steps.report})
		if err != nil {
			return nil, err
		}
		in.Remote = snap
	}
	steps.finish() // before the warnings, and the plan on stdout
	p, err := plan.Build(in)
	var le *plan.DeleteLimitError
	if errors.As(err, &le) {
		// The refusal shows what it held back, sequences folded and bounded, so the user can
		// tell a mistake (a renamed folder) from an intended cleanup.
		list := "\n  " + strings.Join(plan.ListAddresses(le.Deletes, 10, 20), "\n  ")
		return nil, fmt.Errorf("%w (--max-delete %d); check the manifest, or raise --max-delete if that is intended. It would delete:%s", err, opts.maxDelete, list)
	}
	if err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(errw, "warning: %s\n", escape.Text(w)) // they name Frame.io folders and ids
	}
	return p, nil
}

// claimed names, by address, the runners of a cooperative apply working on each address now;
// nil when the state is not shared by runners.
func (s *session) claimed(ctx context.Context) (map[string]string, error) {
	c, ok := s.backend.(store.Claimer)
	if !ok || s.runner == nil {
		return nil, nil
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, cl := range claims {
		if addr, ok := store.EntryAddress(cl.Key); ok {
			m[addr] = cl.Runner.String()
		}
	}
	return m, nil
}

// pauseCollector pauses the garbage collector while a session reads the manifest and the
// state and makes its plan; collector.resume gives it back (the process's GOGC and
// GOMEMLIMIT, whatever they were). What the read allocates (the state's text and entries,
// the files found) is nearly all alive until the plan is made, so a collection meanwhile
// frees little, and it costs: at 100,000 files three collections ran during the read,
// scanning the growing heap and slowing the walk's copies with write barriers, and once the
// collector was back after the read, one more marked what was read while the plan compared
// the files with the state (that pass took 25 ms instead of 10). A memory limit stands in for
// the collector meanwhile (the user's GOMEMLIMIT if lower): 1 GiB during the read, then
// (collector.read) a little above what the read left in use.
func pauseCollector() *collector {
	c := &collector{limit: debug.SetMemoryLimit(-1)}
	debug.SetMemoryLimit(min(c.limit, pausedLimit))
	c.gc = debug.SetGCPercent(-1)
	return c
}

// pausedLimit bounds the memory of a session's read while the collector is paused.
const pausedLimit = 1 << 30

// afterRead is the room a session's plan has, once the read is done, above what the read left
// in use, before the collector runs although paused: what the plan allocates then (a hasher
// and an open file for every file it hashes, say) is garbage, and a first plan of 100,000 new
// files would otherwise fill the 1 GiB the read may use.
const afterRead = 128 << 20

// collector is the garbage collector's pause for a session.
type collector struct {
	gc    int   // the GOGC to give back
	limit int64 // the memory limit to give back
	once  sync.Once
}

// read lowers the memory limit, after the session's read, to afterRead above what is in use.
func (c *collector) read() {
	debug.SetMemoryLimit(min(c.limit, pausedLimit, memoryInUse()+afterRead))
}

// memoryInUse is the process's Go memory as the memory limit counts it: all the runtime has
// mapped, less what it gave back to the system.
func memoryInUse() int64 {
	m := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(m)
	return int64(m[0].Value.Uint64() - m[1].Value.Uint64())
}

// resume gives the collector back; later calls do nothing.
func (c *collector) resume() {
	c.once.Do(func() {
		debug.SetGCPercent(c.gc)
		debug.SetMemoryLimit(c.limit)
	})
}

// resumeCollector gives the garbage collector back once the session has made its plan (or
// when it closes, or when its command makes none).
func (s *session) resumeCollector() { s.collector.resume() }
