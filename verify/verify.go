package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/semaphore"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// Defaults of Options.
const (
	DefaultParallel        = 4
	DefaultPartSize        = 16 << 20
	DefaultPartConcurrency = 4
	DefaultBudget          = 128 << 20
)

// Options configure Run.
type Options struct {
	// Client reads files and their download URLs from Frame.io.
	Client *frameio.Client
	// State is the state to verify; Run records each result through it.
	State *store.Writer
	// Parallel is how many files are verified at once (DefaultParallel when 0).
	Parallel int
	// PartSize is the largest range fetched by one GET; larger files are fetched in parts
	// of this size (DefaultPartSize when 0).
	PartSize int64
	// PartConcurrency is how many parts of one file are fetched at once
	// (DefaultPartConcurrency when 0).
	PartConcurrency int
	// Budget bounds the bytes of part buffers held by all files together (DefaultBudget
	// when 0); a part larger than the budget is fetched alone.
	Budget int64
	// Now is the clock of the recorded verify times (time.Now when nil).
	Now func() time.Time
	// Observer, when set, receives progress events.
	Observer Observer
	// Tee, when set, returns a writer (hashes, for an ASC MHL transfer generation) to feed
	// with address's bytes, in file order and in the same pass as BLAKE3. It is called once
	// per file downloaded; what it was fed is the whole file when the Result is OK or a
	// mismatch.
	Tee func(address string) io.Writer
}

// Outcome is what the verify of one address found.
type Outcome string

// The outcomes of a Result.
const (
	// OutcomeMatch: Frame.io holds the expected bytes.
	OutcomeMatch Outcome = "match"
	// OutcomeRecorded: a remote entry verified for the first time; what was downloaded is
	// now the entry's expected content.
	OutcomeRecorded Outcome = "recorded"
	// OutcomeMismatch: the bytes Frame.io holds differ from what the state expects.
	OutcomeMismatch Outcome = "mismatch"
	// OutcomeMissing: Frame.io has no such file (deleted, or never there).
	OutcomeMissing Outcome = "missing"
	// OutcomeError: the file could not be verified (a network or API failure, an upload
	// that is not complete); Err says why.
	OutcomeError Outcome = "error"
)

// OutcomePresent: Check found the file in Frame.io and did not download it, having no
// content to compare with.
const OutcomePresent Outcome = "present"

// OK reports whether o is a success.
func (o Outcome) OK() bool { return o == OutcomeMatch || o == OutcomeRecorded || o == OutcomePresent }

// Result is the verify of one address.
type Result struct {
	Address string
	FileID  string
	Outcome Outcome
	// Want and WantSize are the content the state expects (zero for OutcomeRecorded).
	Want     source.Digest
	WantSize int64
	// Got and GotSize are what was downloaded (zero when nothing was).
	Got     source.Digest
	GotSize int64
	// RemoteSize is the file_size Frame.io reports.
	RemoteSize int64
	// Resumed counts GETs resumed from the byte a cut one reached.
	Resumed int
	// Err says why for OutcomeMissing and OutcomeError.
	Err error
}

// Report is the outcome of Run.
type Report struct {
	// Results are in the order of the addresses given to Run.
	Results []Result
	// Bytes counts the bytes downloaded.
	Bytes   int64
	Elapsed time.Duration
}

// Failed returns the results that are not a success.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Outcome.OK() {
			out = append(out, res)
		}
	}
	return out
}

// ErrNotDelivered is a Result's Err for an address whose upload is not complete in the
// state (pending, or no file id): there is nothing delivered to verify yet.
var ErrNotDelivered = errors.New("not delivered yet: the state records no complete upload")

// Item is one file to check: Frame.io's FileID at Address should hold WantSize bytes hashing
// to Want (when Known).
type Item struct {
	Address  string
	FileID   string
	Want     source.Digest
	WantSize int64
	// Known says Want and WantSize are known. Run downloads an unknown one to record it;
	// Check only looks that the file is there (OutcomePresent).
	Known bool
	// Delivered is false for an address whose upload is not complete (ErrNotDelivered).
	Delivered bool
}

// Run verifies the addresses of the state held by opts.State, several at once, and records
// each result in the state as it finishes; it closes opts.State at the end. An address the state does not have is an error.
// Run returns an error only for a cancelled ctx or a failed save; a file that does not verify
// is a Result.
func Run(ctx context.Context, addresses []string, opts Options) (*Report, error) {
	if opts.State == nil {
		return nil, errors.New("verify: no state writer")
	}
	snap := opts.State.Snapshot()
	items := make([]Item, len(addresses))
	for i, a := range addresses {
		e := snap.Entries[a]
		if e == nil {
			return nil, fmt.Errorf("verify %q: %w", a, state.ErrNoEntry)
		}
		want, size, known := e.Expected()
		items[i] = Item{Address: a, FileID: e.FileID, Want: want, WantSize: size, Known: known,
			Delivered: e.FileID != "" && e.Status == state.StatusComplete}
	}
	return check(ctx, snap.Target.AccountID, items, opts, true)
}

// Check verifies items of Frame.io account against what they say, as Run does, without a
// state: for `verify --receipt`. opts.State is not used. An item that does not know its
// content is only looked up (OutcomePresent).
func Check(ctx context.Context, account string, items []Item, opts Options) (*Report, error) {
	return check(ctx, account, items, opts, false)
}

func check(ctx context.Context, account string, items []Item, opts Options, record bool) (*Report, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	v := &verifier{opts: opts, account: account, budget: semaphore.NewWeighted(opts.Budget), recordUnknown: record}
	start := opts.Now()
	var total int64
	for _, it := range items {
		total += it.WantSize
	}
	v.emit(Event{Type: EventStart, Files: len(items), Total: total})
	rep := &Report{Results: make([]Result, len(items))}
	p := pool.New().WithMaxGoroutines(opts.Parallel)
	rec := &recorder{v: v, last: time.Now()}
	for i, it := range items {
		p.Go(func() {
			if ctx.Err() != nil {
				rep.Results[i] = Result{Address: it.Address, FileID: it.FileID, Outcome: OutcomeError, Err: ctx.Err()}
				return
			}
			res := v.file(ctx, it)
			rep.Results[i] = res
			if record {
				rec.add(ctx, res)
			}
			v.emit(Event{Type: EventFileDone, Address: it.Address, Result: &rep.Results[i]})
		})
	}
	p.Wait()
	saveErr := rec.flush(ctx)
	if record && saveErr == nil {
		// The results become one saved state (a journaling backend compacts here), as at the
		// end of apply.
		saveErr = opts.State.Close(context.WithoutCancel(ctx))
	}
	for _, r := range rep.Results {
		rep.Bytes += r.GotSize
	}
	rep.Elapsed = opts.Now().Sub(start)
	if saveErr != nil {
		return rep, fmt.Errorf("save state: %w", saveErr)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

func (o *Options) normalize() error {
	switch {
	case o.Client == nil:
		return errors.New("verify: no frameio client")
	case o.Parallel < 0 || o.PartConcurrency < 0 || o.PartSize < 0 || o.Budget < 0:
		return errors.New("verify: parallel, part size, part concurrency and budget must not be negative")
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.PartConcurrency == 0 {
		o.PartConcurrency = DefaultPartConcurrency
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

type verifier struct {
	opts    Options
	account string
	budget  *semaphore.Weighted
	bufs    sync.Pool // of *[]byte with capacity PartSize
	// recordUnknown downloads an item whose content is unknown, to record it (Run); without
	// it such an item is only looked up (Check).
	recordUnknown bool
}

func (v *verifier) emit(e Event) {
	if v.opts.Observer != nil {
		v.opts.Observer.Event(e)
	}
}

// file verifies one item.
func (v *verifier) file(ctx context.Context, it Item) Result {
	address, want, wantSize, known := it.Address, it.Want, it.WantSize, it.Known
	res := Result{Address: address, FileID: it.FileID}
	if known {
		res.Want, res.WantSize = want, wantSize
	}
	if !it.Delivered || it.FileID == "" {
		res.Outcome, res.Err = OutcomeError, ErrNotDelivered
		return res
	}
	link := &link{client: v.opts.Client, account: v.account, fileID: it.FileID}
	f, err := link.refresh(ctx)
	switch {
	case frameio.IsNotFound(err):
		res.Outcome, res.Err = OutcomeMissing, fmt.Errorf("file %s is not in Frame.io (deleted?)", it.FileID)
		return res
	case err != nil:
		res.Outcome, res.Err = OutcomeError, err
		return res
	}
	res.RemoteSize = f.FileSize
	if !known && !v.recordUnknown {
		res.Outcome = OutcomePresent
		return res
	}
	v.emit(Event{Type: EventFileStart, Address: address, Total: f.FileSize})

	h := source.NewHasher()
	writers := []io.Writer{h}
	if v.opts.Tee != nil {
		if t := v.opts.Tee(address); t != nil {
			writers = append(writers, t)
		}
	}
	prog := &progress{v: v, address: address, total: f.FileSize}
	writers = append(writers, prog)
	w := io.MultiWriter(writers...)
	if f.FileSize <= v.opts.PartSize {
		res.Resumed, err = link.fetch(ctx, 0, f.FileSize, w)
	} else {
		res.Resumed, err = v.parts(ctx, link, f.FileSize, w)
	}
	res.Got, res.GotSize = h.Digest(), h.Size()
	switch {
	case err != nil:
		res.Outcome, res.Err = OutcomeError, err
	case !known:
		res.Outcome = OutcomeRecorded
	case res.Got == want && res.GotSize == wantSize:
		res.Outcome = OutcomeMatch
	default:
		res.Outcome = OutcomeMismatch
	}
	return res
}

// saveEvery is how long verify results may wait in memory before they are saved: a result
// lost to a crash costs only its download again, so results are saved in batches rather
// than with a durable write (an fsync) per file, which on a busy disk took longer than the
// download of a small file.
const saveEvery = 10 * time.Second

// recorder batches results into state saves.
type recorder struct {
	v *verifier

	mu      sync.Mutex // guards pending, last and err; held across a save
	pending []recorded
	last    time.Time
	err     error
}

type recorded struct {
	res Result
	at  time.Time
}

// add queues res and saves the queue once saveEvery has passed since the last save.
func (r *recorder) add(ctx context.Context, res Result) {
	if res.Outcome == OutcomeError {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, recorded{res, r.v.opts.Now().UTC()})
	if time.Since(r.last) >= saveEvery {
		r.saveLocked(ctx)
	}
}

// flush saves what is queued and returns the first save error.
func (r *recorder) flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saveLocked(ctx)
	return r.err
}

// saveLocked records the queued results in their entries, each only if its entry still
// names the file that was verified. A success sets the Verified fields and clears
// VerifyFailedAt; a mismatch or a missing file sets VerifyFailedAt and keeps what an earlier
// verify confirmed. It saves even while ctx is cancelled: what was verified is kept.
func (r *recorder) saveLocked(ctx context.Context) {
	r.last = time.Now()
	if len(r.pending) == 0 {
		return
	}
	batch := r.pending
	r.pending = nil
	err := r.v.opts.State.Update(context.WithoutCancel(ctx), func(s *state.State) state.Change {
		c := state.Change{Entries: map[string]*state.Entry{}}
		for _, p := range batch {
			res := p.res
			e := c.Entries[res.Address]
			if e == nil {
				e = s.Entries[res.Address]
			}
			if e == nil || e.FileID != res.FileID {
				continue
			}
			e = e.Clone()
			if res.Outcome.OK() {
				e.VerifiedAt, e.VerifiedFileID, e.VerifiedSize, e.VerifiedHash = p.at, res.FileID, res.GotSize, res.Got
				e.VerifyFailedAt = time.Time{}
			} else {
				e.VerifyFailedAt = p.at
			}
			c.Entries[res.Address] = e
		}
		return c
	})
	r.err = cmp.Or(r.err, err)
}

// Select returns the addresses of st that include accepts (all when include is nil), sorted.
func Select(st *state.State, include func(address string) bool) []string {
	var out []string
	for _, a := range st.Addresses() {
		if include == nil || include(a) {
			out = append(out, a)
		}
	}
	return slices.Clip(out)
}
