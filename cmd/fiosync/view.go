package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
)

// applyView renders apply's events in one of three forms:
//   - --json: one JSON object per line (start, folder, file_start, file_done, file_elsewhere, file_failed,
//     file_skipped, delete, summary; progress events are left out);
//   - a terminal: a live display with a bar per file in flight and a total bar with rate and
//     ETA, finished files listed above it;
//   - otherwise (CI logs, pipes): one plain line per finished file and a progress line every
//     summaryEvery.
type applyView struct {
	mu   sync.Mutex
	out  io.Writer // where lines go: the terminal's progress container, or the output itself
	json *json.Encoder

	live    *mpb.Progress
	total   *mpb.Bar
	planned int64 // the total bar's total: bytes planned, less what failed files did not send
	bars    map[string]*fileBar

	done, failed, files int
	start, lastReport   time.Time
	final               io.Writer // the output itself, for the closing summary
}

// fileBar is one file's bar, its size and the bytes it has counted into the total.
type fileBar struct {
	bar        *mpb.Bar
	size, sent int64
}

const summaryEvery = 10 * time.Second

func newApplyView(io *stdio, g *Globals, asJSON bool) *applyView {
	v := &applyView{out: io.Out, final: io.Out, start: time.Now(), bars: map[string]*fileBar{}}
	v.lastReport = v.start
	switch {
	case asJSON:
		v.json = json.NewEncoder(io.Out)
	case isTerminal(io.Out):
		// The display writes through the scrubber, and draws as on the terminal beneath it.
		cw := cupwriter.New(io.Out, false)
		if sw, ok := io.Out.(*scrubWriter); ok && sw.file() != nil {
			cw.SetTermFd(int(sw.file().Fd()))
		}
		v.live = mpb.New(mpb.WithOutput(io.Out), mpb.WithConsoleWriter(cw), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
		v.out = v.live
	}
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
	addr := escape.Text(e.Address)
	by := "" // the runner, in a cooperative apply
	if e.Runner != nil {
		by = "  [" + escape.Text(e.Runner.String()) + "]"
	}
	switch e.Type {
	case apply.EventStart:
		v.files = e.Files
		fmt.Fprintf(v.out, "Applying %s (%s to upload).\n", display.Count(e.Files, "change", "changes"), display.Bytes(e.Total))
		if v.live != nil {
			v.planned = e.Total
			// Built with total 0 and sized afterwards, the bar does not complete by
			// itself when the bytes are in: the container must stay up for the last
			// "done" lines, until finish.
			v.total = v.live.AddBar(0, mpb.BarPriority(1<<30),
				mpb.PrependDecorators(decor.Name("total ", decor.WCSyncWidth), decor.CountersKibiByte("% .1f / % .1f")),
				mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
			v.total.SetTotal(e.Total, false)
		}
	case apply.EventFileStart:
		if v.live != nil && e.Total > 0 {
			v.bars[e.Address] = &fileBar{size: e.Total, bar: v.live.AddBar(e.Total, mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Name(shorten(addr, 40)+" ", decor.WCSyncWidth), decor.CountersKibiByte("% .1f / % .1f")),
				mpb.AppendDecorators(decor.Percentage()))}
		}
	case apply.EventProgress:
		if fb := v.bars[e.Address]; fb != nil {
			fb.bar.SetCurrent(e.Bytes)
			v.total.IncrInt64(e.Bytes - fb.sent)
			fb.sent = e.Bytes
		}
	case apply.EventFileDone:
		v.done++
		v.endBar(e.Address, true)
		fmt.Fprintf(v.out, "  done    %s  %s%s%s\n", addr, display.Bytes(e.Bytes), noteSuffix(e.Note), by)
	case apply.EventFileFailed:
		v.failed++
		v.endBar(e.Address, false)
		fmt.Fprintf(v.out, "  FAILED  %s: %s%s\n", addr, escape.Text(e.Error), by)
	case apply.EventFileSkipped:
		v.endBar(e.Address, false)
		fmt.Fprintf(v.out, "  stopped %s (interrupted; the next apply resumes it)%s\n", addr, by)
	case apply.EventFileElsewhere:
		v.done++
		fmt.Fprintf(v.out, "  elsewhere %s  (applied by another runner)%s\n", addr, by)
	case apply.EventDelete:
		fmt.Fprintf(v.out, "  deleted %s%s%s\n", addr, noteSuffix(e.Note), by)
	case apply.EventFolder:
		fmt.Fprintf(v.out, "  folder  %s%s\n", addr, by)
	}
	if now := time.Now(); v.live == nil && e.Type != apply.EventSummary && now.Sub(v.lastReport) >= summaryEvery {
		v.lastReport = now
		fmt.Fprintf(v.out, "  ... %d of %d files done, %d failed, %s elapsed\n", v.done, v.files, v.failed, now.Sub(v.start).Round(time.Second))
	}
}

// endBar removes a file's bar. A failed file's bytes leave the total, so the ETA stays honest.
func (v *applyView) endBar(address string, ok bool) {
	fb := v.bars[address]
	if fb == nil {
		return
	}
	delete(v.bars, address)
	if ok {
		fb.bar.SetTotal(-1, true)
		return
	}
	fb.bar.Abort(true)
	v.planned -= fb.size - fb.sent
	v.total.SetTotal(v.planned, false)
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

// finish closes the live display and prints the closing summary (the JSON stream already
// carried it), naming only the counts that are not zero.
func (v *applyView) finish(res *apply.Result) {
	v.close()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json != nil || res == nil {
		return
	}
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{res.Done - res.Deleted, "uploaded"}, {res.Adopted, "adopted"}, {res.Deleted, "deleted"}, {res.Elsewhere, "by other runners"}, {res.Failed, "failed"}, {res.Skipped, "skipped"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing done")
	}
	rate := ""
	if secs := res.Elapsed.Seconds(); secs > 0 && res.Bytes > 0 {
		rate = fmt.Sprintf(", %s/s", display.Bytes(int64(float64(res.Bytes)/secs)))
	}
	verdict := "complete"
	if res.Failed > 0 || res.Skipped > 0 {
		verdict = "incomplete"
	}
	fmt.Fprintf(v.final, "Apply %s: %s. %s sent in %s%s.\n", verdict, strings.Join(parts, ", "),
		display.Bytes(res.Bytes), res.Elapsed.Round(10*time.Millisecond), rate)
}

// close stops the live display, whatever state its bars are in.
func (v *applyView) close() {
	v.mu.Lock()
	live := v.live
	v.live = nil
	if live != nil {
		for _, fb := range v.bars {
			fb.bar.Abort(true)
		}
		v.bars = map[string]*fileBar{}
		if v.total != nil {
			v.total.SetTotal(-1, true)
		}
		v.out = v.final
	}
	v.mu.Unlock()
	if live != nil {
		live.Wait()
	}
}
