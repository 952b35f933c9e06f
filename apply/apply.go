package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// Defaults for the zero values of Options.
const (
	DefaultParallel        = 4
	DefaultPartBudget      = 128 << 20
	DefaultPartConcurrency = 8
	DefaultRemoteTimeout   = 30 * time.Minute
	DefaultPollInterval    = time.Second
	DefaultPartGrace       = 5 * time.Second
)

// confirmTimeout bounds how long a local upload whose parts are all in may take to show
// upload_complete. Frame.io flips the status as the last part lands; this is a grace period.
const confirmTimeout = time.Minute

// createAttempts bounds the tries of a create that failed in an ambiguous way (5xx, lost
// response). The frameio client already retries 429s and requests that never left.
const createAttempts = 5

// clockSkew is how far Frame.io's clock may be behind ours when apply looks for a file it may
// have created during this run: files created before the run started minus this are never
// touched.
const clockSkew = 2 * time.Minute

// Options configures Run.
type Options struct {
	// Client talks to Frame.io. Required.
	Client *frameio.Client
	// State is the single writer of the state; Run records every file as it becomes pending
	// and as it finishes, writing the intents of the next files to start ahead, several in
	// one record, and letting finished files share records (store.Writer.Commit). Required.
	State *store.Writer
	// Manifest is the manifest the plan was made from. A local change's source path is
	// relative to its directory, and a remote change's URL (which plans never hold whole)
	// comes from its entries. Required.
	Manifest *manifest.Manifest
	// Parallel is the number of files in flight (--parallel); 0 means DefaultParallel. A
	// file gives up its slot once it needs Frame.io no more, while its last record waits to
	// be durable.
	Parallel int
	// PartBudget is the bytes of part buffers in flight across all files; 0 means
	// DefaultPartBudget. A part larger than the budget still runs, alone.
	PartBudget int64
	// PartConcurrency is the number of parts of one file in flight; 0 means
	// DefaultPartConcurrency. PartBudget bounds the total across files.
	PartConcurrency int
	// Observer receives progress events; nil means none.
	Observer Observer
	// RemoteTimeout bounds how long a remote upload may take to complete; 0 means
	// DefaultRemoteTimeout.
	RemoteTimeout time.Duration
	// PollInterval is the pause between status polls (remote uploads, and local uploads
	// whose status lags); 0 means DefaultPollInterval.
	PollInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Parts is the part journal of this machine, in which each local upload in flight
	// records its part URLs and accepted parts, so an interrupted one resumes at the part.
	// nil means no journal: an interrupted upload starts again from its first byte.
	Parts *partjournal.Journal
	// PartGrace is how long the parts in flight may take to arrive once the run is
	// interrupted; 0 means DefaultPartGrace.
	PartGrace time.Duration
	// AllowDuplicates uploads a new address even when its destination folder already holds
	// a file of that name that the state does not track (apply --allow-duplicates). Without
	// it such a create fails with *ConflictError: after a lost state or a `state rm` it
	// would put a second copy of the delivery beside the first.
	AllowDuplicates bool

	// BwLimit paces the bytes of every part of the run, shared by all files (apply
	// --bwlimit); the zero Timetable sends as fast as it can.
	BwLimit Timetable
	// Sleep waits for the bandwidth limiter; nil means a timer. Tests pass a fake clock's.
	Sleep func(context.Context, time.Duration) error
	// MaxTransfer stops starting files once the bytes of the files started would pass it
	// (apply --max-transfer); the first file always starts, so every run makes progress.
	// MaxDuration stops starting files once the run has lasted that long on Now's clock
	// (apply --max-duration). Files in flight finish. 0 is no limit. Run then returns a
	// *LimitError when changes are left for the next run.
	MaxTransfer int64
	MaxDuration time.Duration
	// OrderBy orders the uploads that share a priority (apply --order-by); the zero OrderBy
	// keeps the plan's order, by address. Higher manifest priorities always go first.
	OrderBy OrderBy
	// MHL is the ASC MHL check of the manifest's files (plan.CheckMHL), or nil: each local
	// file a history covers is hashed, in the read that sends it, in a format the history
	// recorded, and one that does not match never completes (*MHLMismatchError).
	MHL *plan.MHL
	// Claims makes this run one of several runners of a cooperative apply (store.Claimer):
	// before working on an address or creating a folder the run claims it, skips (and comes
	// back to) what other runners hold, and finds done what they finished. Events name the
	// runner. nil means this run is the only one (the state is locked).
	Claims store.Runner
}

// ErrLimit matches (errors.Is) the *LimitError Run returns when it stopped at MaxTransfer or
// MaxDuration with changes left.
var ErrLimit = errors.New("stopped at a limit with changes left")

// LimitError says Run stopped starting files at a limit (Limit is "max-transfer" or
// "max-duration") and left Left changes, deletes included, for the next run.
type LimitError struct {
	Limit string
	Left  int
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("apply stopped at its %s limit with %d changes left for the next apply", e.Limit, e.Left)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// ConflictError is the failure of a create or a move whose destination folder already holds
// a file of the same name that the state does not track.
type ConflictError struct {
	Address string
	// FileID is the file already there.
	FileID string
	// Move says the change was a move (of a tracked file), not a create.
	Move bool
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("Frame.io already has a file at %s (id %s) that the state does not track; delivering it there would put a second copy beside it", e.Address, e.FileID)
}

// Outcome is what happened to one change.
type Outcome string

// The outcomes of a change.
const (
	// Done: the change is applied and recorded in the state.
	Done Outcome = "done"
	// Adopted: a file already in Frame.io was recorded without uploading: an adopt change
	// (plan --adopt), or an interrupted upload that turned out complete.
	Adopted Outcome = "adopted"
	// Failed: the change could not be applied; the state still describes the old situation
	// or a pending upload that the next run reconciles.
	Failed Outcome = "failed"
	// Skipped: the change was not attempted (interrupted, or a delete held back because an
	// upload failed).
	Skipped Outcome = "skipped"
	// Elsewhere: another runner of a cooperative apply (Options.Claims) applied the change.
	Elsewhere Outcome = "elsewhere"
)

// FileResult is the outcome of one change.
type FileResult struct {
	Address string      `json:"address"`
	Action  plan.Action `json:"action"`
	Kind    source.Kind `json:"kind"`
	Outcome Outcome     `json:"outcome"`
	// FileID is the Frame.io file delivered (or deleted).
	FileID string `json:"file_id,omitempty"`
	// ViewURL is the Frame.io page of the file delivered, when the API gave one.
	ViewURL string `json:"view_url,omitempty"`
	// Bytes is the bytes sent for this change.
	Bytes int64 `json:"bytes,omitempty"`
	// Note qualifies the outcome ("version stacked", "replaced", "adopted").
	Note string `json:"note,omitempty"`
	// Err says why the change failed or was skipped.
	Err error `json:"-"`
}

// Result is what Run did.
type Result struct {
	// Files holds one result per change of the plan, sorted by address.
	Files []FileResult `json:"files"`
	// FoldersCreated counts the folders created.
	FoldersCreated int `json:"folders_created"`
	// Counts of Files by outcome; Deleted counts the deletes among Done.
	Done    int `json:"done"`
	Adopted int `json:"adopted"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Deleted int `json:"deleted"`
	// Moved counts the moves among Done: files moved (and renamed) in Frame.io, not uploaded.
	Moved int `json:"moved,omitempty"`
	// Elsewhere counts the changes other runners applied (Options.Claims).
	Elsewhere int `json:"elsewhere,omitempty"`
	// Bytes is the bytes sent to Frame.io.
	Bytes int64 `json:"bytes"`
	// Restated counts the unchanged files whose new stat was recorded (Plan.Restat).
	Restated int `json:"restated,omitempty"`
	// Elapsed is the run's duration.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Limit is the limit ("max-transfer", "max-duration") that stopped the run from
	// starting the changes it skipped, or "".
	Limit string `json:"limit,omitempty"`
}

// ErrFailed matches (errors.Is) the error Run returns when some changes failed.
var ErrFailed = errors.New("changes failed")

// run is the shared context of one Run.
type run struct {
	opts    Options
	client  *frameio.Client
	account string
	plan    *plan.Plan
	budget  *budget
	buffers *bufferPool
	limiter *limiter // nil without a bandwidth limit
	start   time.Time
	sent    atomic.Int64

	// Folder ids are resolved by ensureFolders before any file starts, and only read after.
	folderIDs  map[string]string // path -> id
	folderErrs map[string]error  // path -> why it could not be resolved
	created    int
	made       map[string]bool // ids of the folders this run created: they hold nothing else

	// known holds the file ids the state knew when the run started; names holds, per folder
	// id, what the folder held when the run first listed it (listing: conflictAt, and the
	// intents earlier runs left).
	known   map[string]bool
	namesMu sync.Mutex
	names   map[string]*folderListing

	// lastDone is closed once the file whose record was committed last (record) has ended.
	doneMu   sync.Mutex
	lastDone chan struct{}

	// ahead holds the intents written ahead (writeAhead) that no create took yet.
	aheadMu sync.Mutex
	ahead   map[string]*state.Entry
}

// Run executes p: it creates the missing folders, uploads every create and update with
// Options.Parallel files in flight, applies each update's on_change, records every adopt
// without uploading, and, when every upload and adopt succeeded, runs the deletes. The state
// is updated as each file becomes pending and as it completes, so an interruption at any
// moment loses nothing.
//
// A failed file does not stop the others. Run returns the Result in every case, and an error
// wrapping ErrFailed when some change failed, or wrapping the context's error when ctx was
// cancelled (context.Canceled for Ctrl-C).
func Run(ctx context.Context, p *plan.Plan, opts Options) (*Result, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("apply: no plan")
	}
	r := &run{
		opts:       opts,
		client:     opts.Client,
		account:    p.Target.AccountID,
		plan:       p,
		budget:     newBudget(opts.PartBudget),
		buffers:    newBufferPool(opts.PartBudget),
		start:      opts.Now(),
		folderIDs:  map[string]string{"/": p.Target.RootFolderID},
		folderErrs: map[string]error{},
		made:       map[string]bool{},
		known:      opts.State.Snapshot().FileIDs(),
		names:      map[string]*folderListing{},
	}
	if !opts.BwLimit.IsZero() {
		r.limiter = newLimiter(opts.BwLimit, opts.Now, opts.Sleep)
	}
	restated, err := r.restat(ctx)
	if err != nil {
		return nil, err
	}
	res, err := r.execute(ctx)
	if res != nil {
		res.Restated = restated
	}
	// The run's changes become one saved state (a journaling backend compacts here), even
	// when the run was interrupted: what happened in Frame.io must reach the state.
	if cerr := opts.State.Close(context.WithoutCancel(ctx)); cerr != nil {
		err = errors.Join(err, fmt.Errorf("save state: %w", cerr))
	}
	return res, err
}

// restat records, in one save, the new stat of the files the plan found unchanged under a
// moved stat (Plan.Restat), so later plans trust the stat cache again. An entry that changed
// since the plan (another content, no longer complete) is left alone.
func (r *run) restat(ctx context.Context) (int, error) {
	if len(r.plan.Restat) == 0 {
		return 0, nil
	}
	n := 0
	err := r.save(ctx, func(s *state.State) state.Change {
		c := state.Change{Entries: map[string]*state.Entry{}}
		for _, rs := range r.plan.Restat {
			e := s.Entries[rs.Address]
			if e == nil || e.Status != state.StatusComplete || e.Source.Kind != source.Local || !source.SameContent(e.Source, rs.Source) {
				continue
			}
			e = e.Clone()
			e.Source = rs.Source
			c.Entries[rs.Address] = e
			n++
		}
		return c
	})
	return n, err
}

func (o *Options) normalize() error {
	switch {
	case o.Client == nil:
		return errors.New("apply: no frameio client")
	case o.State == nil:
		return errors.New("apply: no state writer")
	case o.Manifest == nil:
		return errors.New("apply: no manifest")
	case o.Parallel < 0:
		return fmt.Errorf("apply: parallel must be at least 1, got %d", o.Parallel)
	case o.PartBudget < 0:
		return fmt.Errorf("apply: part budget must be positive, got %d", o.PartBudget)
	case o.PartConcurrency < 0:
		return fmt.Errorf("apply: part concurrency must be at least 1, got %d", o.PartConcurrency)
	case o.MaxTransfer < 0 || o.MaxDuration < 0:
		return errors.New("apply: limits must not be negative")
	}
	if err := o.OrderBy.check(); err != nil {
		return err
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.PartBudget == 0 {
		o.PartBudget = DefaultPartBudget
	}
	if o.PartConcurrency == 0 {
		o.PartConcurrency = DefaultPartConcurrency
	}
	if o.RemoteTimeout <= 0 {
		o.RemoteTimeout = DefaultRemoteTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PartGrace <= 0 {
		o.PartGrace = DefaultPartGrace
	}
	return nil
}

func (r *run) emit(e Event) {
	if r.opts.Observer == nil {
		return
	}
	e.Time = r.opts.Now()
	if r.opts.Claims != nil {
		who := r.opts.Claims.Who()
		e.Runner = &who
	}
	r.opts.Observer.Event(e)
}

// again reports whether a runner should go round again for work, the changes other runners
// held: after a pause, when there are any. An interruption during the pause ends them.
func (r *run) again(ctx context.Context, work []int, results []FileResult) bool {
	if len(work) == 0 {
		return false
	}
	if err := sleep(ctx, claimRetry); err != nil {
		for _, i := range work {
			results[i].Err = err
		}
		return false
	}
	return true
}

// save applies change to the state and persists it. It ignores ctx's cancellation on purpose:
// what happened in Frame.io must reach the state even while the run is being interrupted.
func (r *run) save(ctx context.Context, change func(*state.State) state.Change) error {
	if err := r.opts.State.Update(context.WithoutCancel(ctx), change); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// saveEntry records a copy of e as address's entry (see save).
func (r *run) saveEntry(ctx context.Context, address string, e *state.Entry) error {
	return r.save(ctx, func(*state.State) state.Change { return state.PutEntry(address, e) })
}

// record is saveEntry for a file's last record, and then emits done, its file_done. It gives
// up the file's slot (release) and then waits for the record to be durable, so the next file
// starts meanwhile and the records of the files that finish within the state's commit
// interval share one write (store.Writer.Commit) instead of one write each. done is emitted
// once the record is durable and after the file_done of every file whose record was
// committed before, so the lines of the files that owe no on_change step keep the order
// the files finished in.
func (r *run) record(ctx context.Context, address string, e *state.Entry, release func(), done Event) error {
	if perFileRecords {
		if err := r.saveEntry(ctx, address, e); err != nil {
			return err
		}
		r.emit(done)
		return nil
	}
	r.doneMu.Lock()
	p := r.opts.State.Commit(func(*state.State) state.Change { return state.PutEntry(address, e) })
	before, mine := r.lastDone, make(chan struct{})
	r.lastDone = mine
	r.doneMu.Unlock()
	defer close(mine)

	release()
	err := p.Wait(context.WithoutCancel(ctx))
	if before != nil {
		<-before // durable too: durability is in commit order
	}
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	r.emit(done)
	return nil
}

func (r *run) execute(ctx context.Context) (*Result, error) {
	var uploads, adopts, deletes, moves []int
	var total int64
	for i, ch := range r.plan.Changes {
		switch ch.Action {
		case plan.Create, plan.Update, plan.Finish:
			uploads = append(uploads, i)
			total += ch.Size
		case plan.Adopt:
			adopts = append(adopts, i)
		case plan.Delete:
			deletes = append(deletes, i)
		case plan.Move:
			moves = append(moves, i)
		}
	}
	r.emit(Event{Type: EventStart, Files: len(r.plan.Changes), Total: total})

	results := make([]FileResult, len(r.plan.Changes))
	for i, ch := range r.plan.Changes {
		results[i] = FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
		if !slices.Contains([]plan.Action{plan.Create, plan.Update, plan.Finish, plan.Delete, plan.Adopt, plan.Move}, ch.Action) {
			results[i].Outcome = Failed
			results[i].Err = fmt.Errorf("apply %q: unknown action %q", ch.Address, ch.Action)
		}
	}

	if len(uploads) > 0 || len(adopts) > 0 || len(moves) > 0 {
		r.ensureFolders(ctx)
	}

	// Moves first: a few calls each, and they free the old addresses before anything else.
	// A runner comes back after the uploads to the moves other runners held.
	heldMoves := r.moveAll(ctx, moves, results)

	// Files: a bounded pool; each task writes only its own slot of results. Adopts share it:
	// each hashes one local file. Uploads go by priority, then OrderBy. A file takes one of
	// Parallel slots before the limits are judged, so they are judged when it can start, not
	// when it is queued. A runner (Options.Claims) goes round again for the changes other
	// runners held, until each is done by one of them.
	r.order(uploads)
	work := slices.Concat(uploads, adopts)
	if r.opts.Claims != nil && len(work) > 0 {
		// Runners that start together begin at different places of the same plan, so they
		// meet each other's claims (and finished files) only where their shares join.
		k := rand.IntN(len(work))
		work = slices.Concat(work[k:], work[:k])
	}
	var limit string  // the limit reached: no file starts after it
	var started int64 // bytes of the files started
	n := 0            // files started
	for len(work) > 0 {
		if work = r.settle(ctx, work, results); len(work) == 0 {
			break
		}
		var (
			busyMu sync.Mutex
			busy   []int
		)
		slots := make(chan struct{}, r.opts.Parallel)
		files := pool.New()
		ahead := 0 // the positions of work whose intents writeAhead considered
		for k, i := range work {
			ch := r.plan.Changes[i]
			if ctx.Err() != nil {
				results[i].Err = ctx.Err()
				continue
			}
			if limit == "" {
				slots <- struct{}{}
				if limit = r.limitReached(ch, n, started); limit != "" {
					<-slots
				}
			}
			if limit != "" {
				results[i].Err = fmt.Errorf("not started: the %s limit was reached", limit)
				results[i].Note = "left for the next apply"
				r.emit(Event{Type: EventFileSkipped, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Note: "left for the next apply", Error: limit + " reached"})
				continue
			}
			n++
			started += uploadSize(ch)
			if k >= ahead {
				ahead = k + r.writeAhead(ctx, work[k:], started)
			}
			do := r.applyFile
			if ch.Action == plan.Adopt {
				do = r.adoptFile
			}
			files.Go(func() {
				release := sync.OnceFunc(func() { <-slots })
				defer release()
				res, held := r.claimed(ctx, ch, func(ch plan.Change) FileResult { return do(ctx, ch, release) })
				if held {
					busyMu.Lock()
					busy = append(busy, i)
					busyMu.Unlock()
					return
				}
				results[i] = res
			})
		}
		files.Wait()
		if work = busy; !r.again(ctx, work, results) {
			break
		}
	}
	r.dropAhead(ctx)
	for work := heldMoves; r.again(ctx, work, results); {
		work = r.moveAll(ctx, work, results)
	}

	uploadsOK := true
	for _, i := range slices.Concat(uploads, adopts, moves) {
		if results[i].Outcome != Done && results[i].Outcome != Adopted && results[i].Outcome != Elsewhere {
			uploadsOK = false
		}
	}
	for work := deletes; len(work) > 0; {
		var busy []int
		for _, i := range work {
			switch {
			case ctx.Err() != nil:
				results[i].Err = ctx.Err()
			case limit != "":
				results[i].Err = fmt.Errorf("held back: the %s limit left uploads for the next apply, and deletes run only after every upload succeeded", limit)
			case !uploadsOK:
				results[i].Err = errors.New("held back: an upload failed, and deletes run only after every upload succeeded")
			default:
				res, held := r.claimed(ctx, r.plan.Changes[i], func(ch plan.Change) FileResult { return r.deleteFile(ctx, ch) })
				if held {
					busy = append(busy, i)
					continue
				}
				results[i] = res
			}
		}
		if work = busy; !r.again(ctx, work, results) {
			break
		}
	}

	// Every change was saved as it happened; this retries a save that failed on the way.
	if err := r.opts.State.Flush(context.WithoutCancel(ctx)); err != nil {
		for i := range results {
			if results[i].Outcome == Done || results[i].Outcome == Adopted {
				results[i].Outcome, results[i].Err = Failed, fmt.Errorf("save state: %w", err)
			}
		}
	}

	res := &Result{Files: results, FoldersCreated: r.created, Bytes: r.sent.Load(), Elapsed: r.opts.Now().Sub(r.start), Limit: limit}
	slices.SortStableFunc(res.Files, func(a, b FileResult) int { return cmp.Compare(a.Address, b.Address) })
	var errs []error
	for _, f := range res.Files {
		switch f.Outcome {
		case Done:
			res.Done++
			switch f.Action {
			case plan.Delete:
				res.Deleted++
			case plan.Move:
				res.Moved++
			}
		case Adopted:
			res.Adopted++
		case Failed:
			res.Failed++
			errs = append(errs, fmt.Errorf("%s: %w", f.Address, f.Err))
		case Skipped:
			res.Skipped++
		case Elsewhere:
			res.Elsewhere++
		}
	}
	r.emit(Event{Type: EventSummary, Files: len(res.Files), Done: res.Done + res.Adopted, Failed: res.Failed,
		Skipped: res.Skipped, Deleted: res.Deleted, Bytes: res.Bytes, Total: total, Elapsed: res.Elapsed})

	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("apply interrupted after %d of %d changes: %w", res.Done+res.Adopted, len(res.Files), err)
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("apply: %d of %d %w:\n%w", res.Failed, len(res.Files), ErrFailed, errors.Join(errs...))
	}
	if limit != "" && res.Skipped > 0 {
		return res, &LimitError{Limit: limit, Left: res.Skipped}
	}
	return res, nil
}

// limitReached returns the limit ("max-transfer", "max-duration") that keeps ch, the n-th
// file to start, from starting when started bytes are under way already, or "".
func (r *run) limitReached(ch plan.Change, n int, started int64) string {
	switch {
	case r.opts.MaxTransfer > 0 && n > 0 && started+uploadSize(ch) > r.opts.MaxTransfer:
		return "max-transfer"
	case r.opts.MaxDuration > 0 && r.opts.Now().Sub(r.start) >= r.opts.MaxDuration:
		return "max-duration"
	}
	return ""
}

// uploadSize is the bytes apply sends for ch: a local create's or update's size.
func uploadSize(ch plan.Change) int64 {
	if ch.Kind == source.Local && (ch.Action == plan.Create || ch.Action == plan.Update) {
		return ch.Size
	}
	return 0
}
