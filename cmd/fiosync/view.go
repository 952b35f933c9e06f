package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/sourcegraph/conc"
	"golang.org/x/term"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/internal/progress"
	"github.com/fiosync/fiosync/internal/sequence"
	"github.com/fiosync/fiosync/plan"
)

// applyView renders apply's events in one of three forms:
//   - --json: one JSON object per line (start, folder, file_start, file_done,
//     file_elsewhere, file_failed, file_skipped, delete, summary; progress events are left
//     out);
//   - a terminal: finished files listed as they end, above a live frame that is redrawn in
//     place: a line per large file in flight (at most maxBars) and a total line with files
//     and bytes done of planned, rates, elapsed time and ETA (see internal/progress);
//   - otherwise (CI logs, pipes): one plain line per finished file and the total line every
//     reportEvery, never redrawn.
//
// After an interruption the frame is erased and drawn once more, still, as it stood: no
// bar completes by itself, and the summary says what was done, failed, interrupted in flight
// and not started.
type applyView struct {
	mu   sync.Mutex
	out  io.Writer // the output: lines, the live frame, the summary
	json *json.Encoder
	now  func() time.Time

	// live is the frame on a terminal; nil otherwise.
	live *liveFrame
	// createRate is the client's create pace (frameio.Client.CreateRate), read as it is
	// learned; nil when unknown.
	createRate func() float64
	// uploads is the changes apply starts as files (each a create, or a finish's step), -1
	// when not known: the ETA's create term leaves deletes and adopts out.
	uploads int

	track       *progress.Tracker
	lastReport  time.Time
	spin        int
	interrupted int
	// run is the frames of one sequence finished in a row, held back to be one line.
	run seqRun

	stop chan struct{}
	wg   conc.WaitGroup
}

const (
	// reportEvery is the pause between total lines in the non-terminal form.
	reportEvery = 10 * time.Second
	// redrawEvery is the pause between redraws of the live frame.
	redrawEvery = 200 * time.Millisecond
	// largeFile is the size from which a file in flight gets its own bar: below it, a file
	// is over before a bar would say anything.
	largeFile = 64 << 20
	// maxBars bounds the per-file bars drawn at once.
	maxBars = 4
)

// newApplyView returns the view for io.Out and, but for --json, starts its clock: the live
// frame's redraws on a terminal, the periodic total line otherwise. finish stops it.
// createRate is the client's create pace (nil: measured from the run); uploads is the
// changes that upload (-1: not known).
func newApplyView(io *stdio, asJSON bool, createRate func() float64, uploads int) *applyView {
	v := &applyView{out: io.Out, now: time.Now, createRate: createRate, uploads: uploads}
	switch {
	case asJSON:
		v.json = json.NewEncoder(io.Out)
		return v
	case isTerminal(io.Out):
		v.live = newLiveFrame(io.Out)
	}
	every := time.Second
	if v.live != nil {
		every = redrawEvery
	}
	v.stop = make(chan struct{})
	v.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-v.stop:
				return
			case <-t.C:
				v.tick()
			}
		}
	})
	return v
}

// Event implements apply.Observer. Addresses, notes and errors carry names from the
// manifest, the disk and Frame.io, so the text forms escape them (escape.Text): one event is
// one line, and no name reaches the terminal as a control sequence. JSON needs no escaping.
func (v *applyView) Event(e apply.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json != nil {
		if e.Type != apply.EventProgress {
			v.json.Encode(e)
		}
		return
	}
	now := v.now()
	addr := escape.Text(e.Address)
	by := "" // the runner, in a cooperative apply
	if e.Runner != nil {
		by = "  [" + escape.Text(e.Runner.String()) + "]"
	}
	switch e.Type {
	case apply.EventStart:
		v.track = progress.New(now, e.Files, e.Total)
		if v.uploads >= 0 {
			v.track.SetCreates(v.uploads)
		}
		v.lastReport = now
		v.println(fmt.Sprintf("Applying %s (%s to upload).", display.Count(e.Files, "change", "changes"), display.Bytes(e.Total)))
	case apply.EventFileStart:
		v.tracker(now).Start(now, e.Address, e.Total)
	case apply.EventProgress:
		v.tracker(now).Progress(now, e.Address, e.Bytes)
	case apply.EventFileDone:
		v.tracker(now).End(now, e.Address, progress.Done)
		if e.Action == plan.Move {
			v.println(fmt.Sprintf("  moved   %s%s%s", addr, noteSuffix(e.Note), by))
			break
		}
		line := fmt.Sprintf("  done    %s  %s%s%s", addr, display.Bytes(e.Bytes), noteSuffix(e.Note), by)
		if e.Note == "" {
			if ended, held := v.run.add(e.Address, e.Bytes, by, line); held {
				for _, l := range ended {
					v.print(l)
				}
				break // held: a frame of the sequence being finished
			}
		}
		v.println(line)
	case apply.EventFileFailed:
		v.tracker(now).End(now, e.Address, progress.Failed)
		v.println(fmt.Sprintf("  FAILED  %s: %s%s", addr, escape.Text(e.Error), by))
	case apply.EventFileSkipped:
		if e.Note != "" { // not started: a limit was reached
			v.println(fmt.Sprintf("  left    %s (%s; the next apply sends it)%s", addr, escape.Text(e.Error), by))
			break
		}
		v.interrupted++
		v.tracker(now).End(now, e.Address, progress.Interrupted)
		v.println(fmt.Sprintf("  interrupted %s  (in flight; the next apply resumes it)%s", addr, by))
	case apply.EventFileElsewhere:
		v.tracker(now).End(now, e.Address, progress.Done)
		v.println(fmt.Sprintf("  elsewhere %s  (applied by another runner)%s", addr, by))
	case apply.EventDelete:
		if e.Action == plan.Delete {
			// A prune is a change of its own; the old file of a replace is part of an update.
			v.tracker(now).End(now, e.Address, progress.Done)
		}
		v.println(fmt.Sprintf("  deleted %s%s%s", addr, noteSuffix(e.Note), by))
	case apply.EventFolder:
		v.println(fmt.Sprintf("  folder  %s%s", addr, by))
	}
	// A terminal's frame is redrawn by the clock alone: a redraw per part or per frame of a
	// sequence would be thousands of writes, under the lock that every upload waits on.
	if v.live == nil && e.Type != apply.EventSummary {
		v.report(now)
	}
}

// tracker returns the run's tracker, made on the spot for events without a start (which
// apply always sends first).
func (v *applyView) tracker(now time.Time) *progress.Tracker {
	if v.track == nil {
		v.track = progress.New(now, 0, 0)
		v.lastReport = now
	}
	return v.track
}

// tick is the view's clock: a redraw on a terminal, a due total line otherwise.
func (v *applyView) tick() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.spin++
	v.report(v.now())
}

// println writes one line above the live frame, or as is, after the sequence run held
// back (so lines keep their order).
func (v *applyView) println(line string) {
	v.flushRun()
	v.print(line)
}

// flushRun prints the held run of frames: one line when it is a sequence, else its lines.
func (v *applyView) flushRun() {
	for _, l := range v.run.take() {
		v.print(l)
	}
}

func (v *applyView) print(line string) {
	if v.live != nil {
		v.live.above(line)
		return
	}
	fmt.Fprintln(v.out, line)
}

// report redraws the live frame, or prints the total line when reportEvery has passed.
func (v *applyView) report(now time.Time) {
	if v.track == nil || (v.live == nil && now.Sub(v.lastReport) < reportEvery) {
		return
	}
	if v.createRate != nil {
		v.track.SetCreateLimit(v.createRate())
	}
	s := v.track.Snapshot(now)
	if v.live != nil {
		v.live.draw(frameLines(s, spinner[v.spin%len(spinner)]+" "))
		return
	}
	v.lastReport = now
	fmt.Fprintf(v.out, "  ... %s\n", totalText(s, true))
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// frameLines is the live frame: a bar per large file in flight, oldest first, then the total.
func frameLines(s progress.Snapshot, lead string) []string {
	var lines []string
	n := 0
	for _, f := range s.Active {
		if f.Size < largeFile {
			continue
		}
		if n == maxBars {
			break
		}
		n++
		lines = append(lines, fmt.Sprintf("  %s %s  %s / %s", bar(float64(f.Sent)/float64(f.Size), 20),
			shorten(escape.Text(f.Address), 40), display.Bytes(f.Sent), display.Bytes(f.Size)))
	}
	return append(lines, lead+totalText(s, true))
}

// totalText is the total line: files and bytes done of planned, the rates, the elapsed time
// and the ETA (when asked for and known). The files count is of changes, so a delivery of
// frames shows its progress though its bytes are all in.
func totalText(s progress.Snapshot, eta bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d files", s.Done, s.Files)
	if s.Failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", s.Failed)
	}
	fmt.Fprintf(&b, ", %s / %s", display.Bytes(s.BytesDone), display.Bytes(s.Bytes))
	if s.ByteRate > 0 || s.FileRate > 0 {
		fmt.Fprintf(&b, ", %s, %s", display.Rate(s.FileRate, "files"), display.Rate(s.ByteRate, ""))
	}
	fmt.Fprintf(&b, ", %s elapsed", display.Duration(s.Elapsed))
	if eta {
		if s.ETAKnown {
			fmt.Fprintf(&b, ", ETA %s", display.Duration(s.ETA))
		} else {
			b.WriteString(", ETA --")
		}
	}
	return b.String()
}

// bar draws fraction f of width cells.
func bar(f float64, width int) string {
	n := int(max(0, min(1, f)) * float64(width))
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

// noteSuffix is an event's note as it ends a line: "  (note)", or nothing.
func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return "  (" + escape.Text(note) + ")"
}

// shorten keeps the last n-1 characters of an (escaped) address, which name the file.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// finish stops the view's clock, draws the live frame a last time as it stands (an
// interrupted delivery does not jump to 100%) and prints the closing summary (the JSON stream
// already carried it), naming only the counts that are not zero. err is Run's error.
func (v *applyView) finish(res *apply.Result, err error) {
	if v.stop != nil {
		close(v.stop)
		v.wg.Wait()
		v.stop = nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json != nil {
		return
	}
	v.flushRun()
	var s progress.Snapshot
	if v.track != nil {
		s = v.track.Snapshot(v.now())
	}
	if v.live != nil {
		v.live.draw(nil)
		if v.track != nil {
			fmt.Fprintln(v.out, "  "+totalText(s, false))
		}
		v.live = nil
	}
	if res == nil {
		return
	}
	notStarted := max(0, res.Skipped-v.interrupted)
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{res.Done - res.Deleted - res.Moved, "uploaded"}, {res.Moved, "moved"}, {res.Adopted, "adopted"}, {res.Deleted, "deleted"}, {res.Elsewhere, "by other runners"}, {res.Failed, "failed"},
		{v.interrupted, "interrupted"}, {notStarted, "not started"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing done")
	}
	// The speed is over the time files were in flight, not the whole run: folders,
	// deletes and the final save are not transfer.
	rate := ""
	if busy := s.Busy; busy > 0 && res.Bytes > 0 {
		rate = fmt.Sprintf(" (%s)", display.Rate(float64(res.Bytes)/busy.Seconds(), ""))
	}
	verdict := "complete"
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		verdict = "interrupted"
	case res.Failed > 0:
		verdict = "incomplete"
	case res.Skipped > 0 && res.Limit != "":
		verdict = "stopped at --" + res.Limit
	case res.Skipped > 0:
		verdict = "incomplete"
	}
	fmt.Fprintf(v.out, "Apply %s: %s. %s sent in %s%s.\n", verdict, strings.Join(parts, ", "),
		display.Bytes(res.Bytes), display.Duration(res.Elapsed), rate)
}

// liveFrame is the last lines of a terminal, redrawn in place: each draw erases the lines
// drawn before (and the "^C" a terminal echoes below them) and writes the new ones, so a line
// written above it never mixes with it.
type liveFrame struct {
	w     io.Writer
	fd    int // the terminal, for its width; -1 when unknown
	lines []string
}

func newLiveFrame(w io.Writer) *liveFrame {
	f := &liveFrame{w: w, fd: -1}
	if sw, ok := w.(*scrubWriter); ok && sw.file() != nil {
		f.fd = int(sw.file().Fd())
	}
	return f
}

// width is the terminal's width, less one column so no line wraps (a wrapped line would
// throw off the count of lines to move up over).
func (f *liveFrame) width() int {
	if f.fd >= 0 {
		if w, _, err := term.GetSize(f.fd); err == nil && w > 1 {
			return w - 1
		}
	}
	return 79
}

// draw replaces the frame with lines (nil: erases it).
func (f *liveFrame) draw(lines []string) {
	if len(f.lines) == 0 && len(lines) == 0 {
		return
	}
	var b strings.Builder
	f.erase(&b)
	w := f.width()
	f.lines = f.lines[:0]
	for _, l := range lines {
		l = runewidth.Truncate(l, w, "…")
		f.lines = append(f.lines, l)
		b.WriteString(l)
		b.WriteString("\n")
	}
	io.WriteString(f.w, b.String())
}

// above writes line above the frame, which is drawn again beneath it.
func (f *liveFrame) above(line string) {
	lines := f.lines
	var b strings.Builder
	f.erase(&b)
	b.WriteString(line)
	b.WriteString("\n")
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\n")
	}
	io.WriteString(f.w, b.String())
}

// erase writes what clears the cursor's line (where a terminal echoes "^C") and each line of
// the frame above it, bottom up, leaving the cursor at the frame's first column. It clears
// line by line rather than to the end of the screen: some terminals (tmux among them) push
// the screen into the scrollback when it is cleared from its first line.
func (f *liveFrame) erase(b *strings.Builder) {
	b.WriteString("\r\x1b[2K")
	for range f.lines {
		b.WriteString("\x1b[1A\x1b[2K")
	}
}

// seqRun gathers the frames of one image sequence that finish one after another, so that
// apply's log gives them one line, as the plan does: "done    /VFX/shot010.[1001-3000].exr
// 2000 files  3.9 MiB". Only files of one folder and one sequence key (sequence.Split), with
// no note and the same runner, join a run; anything else ends it. A run shorter than
// sequence.MinRun prints its files' own lines.
type seqRun struct {
	folder string
	key    sequence.Key
	by     string
	frames []int
	bytes  int64
	lines  []string
}

// add holds the finished file address (bytes sent, runner by, its own line) when it is a
// frame: it joins the run, or starts a new one and returns the lines of the run it ended, to
// print first. It reports false, holding nothing, for a file that is no frame; the caller
// prints it (println ends the run first).
func (r *seqRun) add(address string, bytes int64, by, line string) (ended []string, held bool) {
	folder, name := path.Split(address)
	k, frame, ok := sequence.Split(name)
	if !ok {
		return nil, false
	}
	if len(r.lines) > 0 && (folder != r.folder || k != r.key || by != r.by) {
		ended = r.take()
	}
	r.folder, r.key, r.by = folder, k, by
	r.frames = append(r.frames, frame)
	r.bytes += bytes
	r.lines = append(r.lines, line)
	return ended, true
}

// take returns the lines that print the run, and empties it.
func (r *seqRun) take() []string {
	defer func() { *r = seqRun{} }()
	if len(r.lines) < sequence.MinRun {
		return r.lines
	}
	ranges := sequence.Ranges(r.frames)
	if len(r.frames) < sequence.MinRun*len(ranges) {
		return r.lines // scattered frames (every 100th): the names read better
	}
	return []string{fmt.Sprintf("  done    %s  %s  %s%s", escape.Text(r.folder+sequence.Format(r.key, ranges)),
		display.Count(len(r.frames), "file", "files"), display.Bytes(r.bytes), r.by)}
}
