package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/internal/progress"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/receipt"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state/store"
	"github.com/fiosync/fiosync/verify"
)

type verifyCmd struct {
	APIFlags
	stateLocation

	Sample   string   `name:"sample" placeholder:"P" xor:"sample" help:"Verify a random sample of this share of the selected files, e.g. 5%; the seed is printed."`
	All      bool     `name:"all" xor:"sample" help:"Verify every selected file (the default)."`
	Seed     string   `name:"seed" placeholder:"N" help:"Seed of --sample, to repeat an earlier sample."`
	JSON     bool     `name:"json" help:"Print one JSON object with every result instead of text."`
	Parallel int      `default:"4" help:"Files downloaded at once."`
	Receipt  string   `name:"receipt" placeholder:"FILE" help:"Check a receipt written by fiosync receipt (JSON) against Frame.io instead of the state: its checksum, then each file's presence, id and size, and its content where the receipt has a BLAKE3."`
	MHLOut   string   `name:"mhl-out" type:"path" placeholder:"DIR" help:"Also write an ASC MHL transfer generation (xxh128, from the same download) of the files verified into DIR/ascmhl/, with its chain; earlier generations are never rewritten. Keep DIR out of the source tree."`
	Globs    []string `arg:"" optional:"" name:"ADDRESS_GLOB" help:"Verify only addresses matching these globs, or below a folder they match (as --target of plan)."`
}

func (c *verifyCmd) Help() string {
	return `Downloads what Frame.io holds for each address of the state (through the file's original
download URL), hashes it with BLAKE3 as it streams in, and compares digest and size with the
state. A remote entry, whose content fiosync never read, is recorded by its first verify and
compared by later ones. Results are recorded in the state (verified_at); the delivered files
are left alone. Exits 0 when every file matches, 1 on a mismatch, a missing file or an error.`
}

func (c *verifyCmd) Validate() error {
	if c.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1, got %d", c.Parallel)
	}
	if c.Sample != "" {
		if _, err := verify.ParsePercent(c.Sample); err != nil {
			return fmt.Errorf("--sample: %w", err)
		}
	}
	if c.MHLOut != "" && c.Receipt != "" {
		return errors.New("--mhl-out records a verify of the state; it does not go with --receipt")
	}
	if c.Seed != "" {
		if c.Sample == "" {
			return errors.New("--seed chooses the files of --sample; pass --sample too")
		}
		if _, err := strconv.ParseUint(c.Seed, 10, 64); err != nil {
			return fmt.Errorf("--seed %q: want a whole number such as 1234", c.Seed)
		}
	}
	for _, g := range c.Globs {
		if err := held.refuse("address glob", g); err != nil {
			return err
		}
	}
	if err := (plan.Selection{Targets: c.Globs}).Check(); err != nil {
		return fmt.Errorf("ADDRESS_GLOB: %w", err)
	}
	return nil
}

func (c *verifyCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	if c.Receipt != "" {
		return c.checkReceipt(ctx, io, g)
	}
	b, st, release, err := c.loadLocked(ctx, "verify")
	if err != nil {
		return err
	}
	defer release()
	sel := plan.Selection{Targets: c.Globs}
	addrs := verify.Select(st, sel.Includes)
	if len(c.Globs) > 0 && len(addrs) == 0 {
		return fmt.Errorf("no address of the state matches %s; 'fiosync state list' shows them", escape.Text(fmt.Sprint(c.Globs)))
	}
	addrs, sample := c.sample(addrs)
	client, err := g.client(ctx)
	if err != nil {
		return err
	}
	view := c.newView(io, sample)
	defer view.close()
	w := store.NewWriter(b, st)
	opts := verify.Options{
		Client:   client,
		State:    w,
		Parallel: c.Parallel,
		Observer: view,
	}
	var out *mhlOut
	if c.MHLOut != "" {
		out = newMHLOut(c.MHLOut)
		opts.Tee = out.tee
	}
	rep, err := verify.Run(ctx, addrs, opts)
	if err != nil {
		return err
	}
	ferr := c.finish(io, view, rep, sample)
	if out != nil {
		w := io.Out
		if c.JSON {
			w = io.Err // stdout holds the one JSON document
		}
		if err := out.write(w, rep, st.Target.Project); err != nil {
			return err
		}
	}
	return ferr
}

// sample applies --sample to addrs.
func (c *verifyCmd) sample(addrs []string) ([]string, *sampleInfo) {
	if c.Sample == "" {
		return addrs, nil
	}
	sample := &sampleInfo{of: len(addrs)}
	sample.percent, _ = verify.ParsePercent(c.Sample)
	if c.Seed != "" {
		sample.seed, _ = strconv.ParseUint(c.Seed, 10, 64)
	} else {
		var b [8]byte
		rand.Read(b[:])
		sample.seed = binary.BigEndian.Uint64(b[:]) >> 11 // 53 bits: exact in JSON numbers
	}
	return verify.Sample(addrs, sample.percent, sample.seed), sample
}

// newView returns the progress view, having printed the sample's seed.
func (c *verifyCmd) newView(io *stdio, sample *sampleInfo) *verifyView {
	if !c.JSON && sample != nil {
		fmt.Fprintf(io.Out, "Sample: %g%% of %s, seed %d (repeat it with --sample %s --seed %d).\n",
			sample.percent, display.Count(sample.of, "file", "files"), sample.seed, c.Sample, sample.seed)
	}
	return newVerifyView(io, c.JSON)
}

// checkReceipt is verify --receipt: the receipt's checksum, then its files against Frame.io.
func (c *verifyCmd) checkReceipt(ctx context.Context, io *stdio, g *Globals) error {
	data, err := os.ReadFile(c.Receipt)
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	r, err := receipt.Decode(data)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Receipt, err)
	}
	byAddr := map[string]verify.Item{}
	var addrs []string
	sel := plan.Selection{Targets: c.Globs}
	for _, f := range r.Files {
		it := verify.Item{Address: f.Address, FileID: f.FileID, WantSize: f.Size, Delivered: true}
		if f.BLAKE3 != "" {
			if it.Want, err = source.ParseDigest(f.BLAKE3); err != nil {
				return fmt.Errorf("%s: %s: %w", c.Receipt, escape.Text(f.Address), err)
			}
			it.Known = true
		}
		if _, dup := byAddr[f.Address]; dup {
			return fmt.Errorf("%s: address %s listed twice", c.Receipt, escape.Text(f.Address))
		}
		byAddr[f.Address] = it
		if sel.Includes(f.Address) {
			addrs = append(addrs, f.Address)
		}
	}
	slices.Sort(addrs)
	addrs, sample := c.sample(addrs)
	items := make([]verify.Item, len(addrs))
	for i, a := range addrs {
		items[i] = byAddr[a]
	}
	client, err := g.client(ctx)
	if err != nil {
		return err
	}
	if !c.JSON {
		fmt.Fprintf(io.Out, "Receipt %s: checksum OK (state lineage %s, serial %d, %s).\n", escape.Text(c.Receipt),
			escape.Text(r.State.Lineage), r.State.Serial, display.Count(len(r.Files), "file", "files"))
	}
	view := c.newView(io, sample)
	defer view.close()
	rep, err := verify.Check(ctx, r.Target.AccountID, items, verify.Options{Client: client, Parallel: c.Parallel, Observer: view})
	if err != nil {
		return err
	}
	return c.finish(io, view, rep, sample)
}

// finish prints the summary (or the JSON document) and chooses the exit code.
func (c *verifyCmd) finish(io *stdio, view *verifyView, rep *verify.Report, sample *sampleInfo) error {
	if c.JSON {
		if err := writeVerifyJSON(io.Out, rep, sample); err != nil {
			return err
		}
	} else {
		view.summary(rep)
	}
	if n := len(rep.Failed()); n > 0 {
		return &codedError{code: exitError, err: fmt.Errorf("verify: %d of %s did not verify", n, display.Count(len(rep.Results), "file", "files"))}
	}
	return nil
}

// sampleInfo is what --sample chose, for the output.
type sampleInfo struct {
	percent float64
	seed    uint64
	of      int
}

// verifyView prints verify's progress: one line per finished file (a mismatch with both
// digests and sizes); on a terminal above the live frame apply draws (a bar per large file
// being downloaded and the total line), otherwise with the total line every reportEvery.
// Under --json it prints nothing until the end.
type verifyView struct {
	mu         sync.Mutex
	out        io.Writer
	json       bool
	now        func() time.Time
	live       *liveFrame // nil but on a terminal
	track      *progress.Tracker
	lastReport time.Time
	lastDraw   time.Time
	spin       int
}

func newVerifyView(io *stdio, asJSON bool) *verifyView {
	v := &verifyView{out: io.Out, json: asJSON, now: time.Now}
	if !asJSON && isTerminal(io.Out) {
		v.live = newLiveFrame(io.Out)
	}
	return v
}

// Event implements verify.Observer. Addresses and errors carry names from the state and
// Frame.io, so they are escaped.
func (v *verifyView) Event(e verify.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json {
		return
	}
	now := v.now()
	if v.track == nil {
		v.track = progress.New(now, 0, 0)
		v.lastReport = now
	}
	switch e.Type {
	case verify.EventStart:
		v.track = progress.New(now, e.Files, e.Total)
		v.track.SetCreates(0) // downloads are bound by bytes, not by creates
		v.lastReport = now
		v.println(fmt.Sprintf("Verifying %s (%s) against Frame.io.", display.Count(e.Files, "file", "files"), display.Bytes(e.Total)))
	case verify.EventFileStart:
		v.track.Start(now, e.Address, e.Total)
	case verify.EventProgress:
		v.track.Progress(now, e.Address, e.Bytes)
	case verify.EventFileDone:
		r := e.Result
		addr := escape.Text(r.Address)
		outcome := progress.Done
		switch r.Outcome {
		case verify.OutcomeMatch:
			v.println(fmt.Sprintf("  ok        %s  %s", addr, display.Bytes(r.GotSize)))
		case verify.OutcomePresent:
			v.println(fmt.Sprintf("  present   %s  (in Frame.io, %s; no BLAKE3 to compare)", addr, display.Bytes(r.RemoteSize)))
		case verify.OutcomeRecorded:
			v.println(fmt.Sprintf("  recorded  %s  %s  (first verify of a remote source: %s recorded)", addr, display.Bytes(r.GotSize), r.Got))
		case verify.OutcomeMismatch:
			outcome = progress.Failed
			v.println(fmt.Sprintf("  MISMATCH  %s", addr))
			v.println(fmt.Sprintf("            expected %s  %d bytes", r.Want, r.WantSize))
			v.println(fmt.Sprintf("            got      %s  %d bytes", r.Got, r.GotSize))
		case verify.OutcomeMissing:
			outcome = progress.Failed
			v.println(fmt.Sprintf("  MISSING   %s: %s", addr, escape.Text(r.Err.Error())))
		default:
			outcome = progress.Failed
			v.println(fmt.Sprintf("  FAILED    %s: %s", addr, escape.Text(r.Err.Error())))
		}
		v.track.End(now, r.Address, outcome)
	}
	switch {
	case v.live != nil && now.Sub(v.lastDraw) >= redrawEvery:
		v.lastDraw = now
		v.spin++
		v.live.draw(frameLines(v.track.Snapshot(now), spinner[v.spin%len(spinner)]+" "))
	case v.live == nil && now.Sub(v.lastReport) >= reportEvery:
		v.lastReport = now
		fmt.Fprintf(v.out, "  ... %s\n", totalText(v.track.Snapshot(now), true))
	}
}

// println writes one line above the live frame, or as is.
func (v *verifyView) println(line string) {
	if v.live != nil {
		v.live.above(line)
		return
	}
	fmt.Fprintln(v.out, line)
}

// close erases the live frame, leaving the total line as it stood.
func (v *verifyView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.live == nil {
		return
	}
	v.live.draw(nil)
	if v.track != nil {
		fmt.Fprintln(v.out, "  "+totalText(v.track.Snapshot(v.now()), false))
	}
	v.live = nil
}

// summary closes the live display and prints the closing line, naming only the counts
// that are not zero.
func (v *verifyView) summary(rep *verify.Report) {
	v.close()
	v.mu.Lock()
	defer v.mu.Unlock()
	counts := countOutcomes(rep)
	var parts []string
	for _, c := range []struct {
		o    verify.Outcome
		what string
	}{{verify.OutcomeMatch, "matched"}, {verify.OutcomeRecorded, "recorded"}, {verify.OutcomePresent, "present"}, {verify.OutcomeMismatch, "mismatched"}, {verify.OutcomeMissing, "missing"}, {verify.OutcomeError, "failed"}} {
		if n := counts[c.o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to verify")
	}
	verdict := "OK"
	if len(rep.Failed()) > 0 {
		verdict = "FAILED"
	}
	fmt.Fprintf(v.out, "Verify %s: %s. %s downloaded.\n", verdict, strings.Join(parts, ", "), display.Bytes(rep.Bytes))
}

func countOutcomes(rep *verify.Report) map[verify.Outcome]int {
	m := map[verify.Outcome]int{}
	for _, r := range rep.Results {
		m[r.Outcome]++
	}
	return m
}

// verifyJSON is the document verify --json prints.
type verifyJSON struct {
	FormatVersion string           `json:"format_version"`
	Sample        *verifySampleDoc `json:"sample,omitempty"`
	Files         []verifyFileJSON `json:"files"`
	Summary       map[string]int64 `json:"summary"`
}

type verifySampleDoc struct {
	Percent float64 `json:"percent"`
	Seed    uint64  `json:"seed"`
	Of      int     `json:"of"`
}

type verifyFileJSON struct {
	Address  string       `json:"address"`
	FileID   string       `json:"file_id"`
	Outcome  string       `json:"outcome"`
	Expected *contentJSON `json:"expected,omitempty"`
	Got      *contentJSON `json:"got,omitempty"`
	Error    string       `json:"error,omitempty"`
	Resumed  int          `json:"resumed,omitempty"`
}

type contentJSON struct {
	BLAKE3 string `json:"blake3"`
	Size   int64  `json:"size"`
}

func writeVerifyJSON(w io.Writer, rep *verify.Report, sample *sampleInfo) error {
	doc := verifyJSON{FormatVersion: "1", Files: []verifyFileJSON{}}
	if sample != nil {
		doc.Sample = &verifySampleDoc{Percent: sample.percent, Seed: sample.seed, Of: sample.of}
	}
	for _, r := range rep.Results {
		f := verifyFileJSON{Address: r.Address, FileID: r.FileID, Outcome: string(r.Outcome), Resumed: r.Resumed}
		if !r.Want.IsZero() {
			f.Expected = &contentJSON{BLAKE3: r.Want.String(), Size: r.WantSize}
		}
		if r.Outcome != verify.OutcomeMissing && r.Outcome != verify.OutcomeError {
			f.Got = &contentJSON{BLAKE3: r.Got.String(), Size: r.GotSize}
		}
		if r.Err != nil {
			f.Error = r.Err.Error()
		}
		doc.Files = append(doc.Files, f)
	}
	counts := countOutcomes(rep)
	doc.Summary = map[string]int64{"files": int64(len(rep.Results)), "bytes": rep.Bytes}
	for o, n := range counts {
		doc.Summary[string(o)] = int64(n)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
