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
	"github.com/fiosync/fiosync/plan"
)

// applyView renders apply's events in one of three forms:
//   - --json: one JSON object per line (start, folder, file_start, file_done, file_failed,
//     file_skipped, delete, summary; progress events are left out);
//   - a terminal: a live display with a bar per file in flight and a total bar with rate and
//     ETA, finished files listed above it;
//   - otherwise (CI logs, pipes): one plain line per finished file and a progress line every
//     summaryEvery.
type applyView struct {
	liveView
	json *json.Encoder

	planned int64 // the total bar's total: bytes planned, less what failed files did not send

	done, failed, files int
	start, lastReport   time.Time
}

// liveView is what apply's and verify's views share: where lines go and, on a terminal, the
// live display with its bars. Its mu guards the embedding view too.
type liveView struct {
	mu    sync.Mutex
	out   io.Writer // where lines go: the terminal's progress container, or the output itself
	final io.Writer // the output itself, for the closing summary
	live  *mpb.Progress
	total *mpb.Bar
	bars  map[string]*fileBar
}

// fileBar is one file's bar, its size and the bytes it has counted into the total.
type fileBar struct {
	bar        *mpb.Bar
	size, sent int64
}

const summaryEvery = 10 * time.Second

func newApplyView(io *stdio, g *Globals, asJSON bool) *applyView {
	v := &applyView{liveView: liveView{out: io.Out, final: io.Out, bars: map[string]*fileBar{}}, start: time.Now()}
	v.lastReport = v.start
	switch {
	case asJSON:
		v.json = json.NewEncoder(io.Out)
	case isTerminal(io.Out):
		v.live = newLive(io.Out)
		v.out = v.live
	}
	return v
}

// newLive returns the live display apply and verify draw on a terminal. It writes through
// the scrubber, and draws as on the terminal beneath it.
func newLive(out io.Writer) *mpb.Progress {
	cw := cupwriter.New(out, false)
	if sw, ok := out.(*scrubWriter); ok && sw.file() != nil {
		cw.SetTermFd(int(sw.file().Fd()))
	}
	return mpb.New(mpb.WithOutput(out), mpb.WithConsoleWriter(cw), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
}

// addTotalBar adds the total bar of total bytes, with rate and ETA. Built with total 0 and
// sized afterwards, the bar does not complete by itself when the bytes are in: the container
// must stay up for the last lines, until the view closes.
func addTotalBar(live *mpb.Progress, total int64) *mpb.Bar {
	bar := live.AddBar(0, mpb.BarPriority(1<<30),
		mpb.PrependDecorators(decor.Name("total ", decor.WCSyncWidth), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	bar.SetTotal(total, false)
	return bar
}

// addFileBar adds the bar of one file of size bytes, named by its escaped address.
func addFileBar(live *mpb.Progress, addr string, size int64) *fileBar {
	return &fileBar{size: size, bar: live.AddBar(size, mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(shorten(addr, 40)+" ", decor.WCSyncWidth), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage()))}
}

// advance moves a file's bar to bytes and the total bar with it.
func advance(total *mpb.Bar, fb *fileBar, bytes int64) {
	fb.bar.SetCurrent(bytes)
	total.IncrInt64(bytes - fb.sent)
	fb.sent = bytes
}

// stopBars aborts the bars of files still in flight and completes the total bar, so that
// the live display can end whatever state its bars are in.
func stopBars(total *mpb.Bar, bars map[string]*fileBar) {
	for _, fb := range bars {
		fb.bar.Abort(true)
	}
	if total != nil {
		total.SetTotal(-1, true)
	}
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
	switch e.Type {
	case apply.EventStart:
		v.files = e.Files
		fmt.Fprintf(v.out, "Applying %s (%s to upload).\n", display.Count(e.Files, "change", "changes"), display.Bytes(e.Total))
		if v.live != nil {
			v.planned = e.Total
			v.total = addTotalBar(v.live, e.Total)
		}
	case apply.EventFileStart:
		if v.live != nil && e.Total > 0 {
			v.bars[e.Address] = addFileBar(v.live, addr, e.Total)
		}
	case apply.EventProgress:
		if fb := v.bars[e.Address]; fb != nil {
			advance(v.total, fb, e.Bytes)
		}
	case apply.EventFileDone:
		v.done++
		v.endBar(e.Address, true)
		if e.Action == plan.Move {
			fmt.Fprintf(v.out, "  moved   %s%s\n", addr, noteSuffix(e.Note))
			break
		}
		fmt.Fprintf(v.out, "  done    %s  %s%s\n", addr, display.Bytes(e.Bytes), noteSuffix(e.Note))
	case apply.EventFileFailed:
		v.failed++
		v.endBar(e.Address, false)
		fmt.Fprintf(v.out, "  FAILED  %s: %s\n", addr, escape.Text(e.Error))
	case apply.EventFileSkipped:
		v.endBar(e.Address, false)
		if e.Note != "" { // not started: a limit was reached
			fmt.Fprintf(v.out, "  left    %s (%s; the next apply sends it)\n", addr, escape.Text(e.Error))
			break
		}
		fmt.Fprintf(v.out, "  stopped %s (interrupted; the next apply resumes it)\n", addr)
	case apply.EventDelete:
		fmt.Fprintf(v.out, "  deleted %s%s\n", addr, noteSuffix(e.Note))
	case apply.EventFolder:
		fmt.Fprintf(v.out, "  folder  %s\n", addr)
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
	}{{res.Done - res.Deleted - res.Moved, "uploaded"}, {res.Moved, "moved"}, {res.Adopted, "adopted"}, {res.Deleted, "deleted"}, {res.Failed, "failed"}, {res.Skipped, "skipped"}} {
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
	switch {
	case res.Failed > 0:
		verdict = "incomplete"
	case res.Skipped > 0 && res.Limit != "":
		verdict = "stopped at --" + res.Limit
	case res.Skipped > 0:
		verdict = "incomplete"
	}
	fmt.Fprintf(v.final, "Apply %s: %s. %s sent in %s%s.\n", verdict, strings.Join(parts, ", "),
		display.Bytes(res.Bytes), res.Elapsed.Round(10*time.Millisecond), rate)
}

// close stops the live display, whatever state its bars are in.
func (v *liveView) close() {
	v.mu.Lock()
	live := v.live
	v.live = nil
	if live != nil {
		stopBars(v.total, v.bars)
		v.bars = map[string]*fileBar{}
		v.out = v.final
	}
	v.mu.Unlock()
	if live != nil {
		live.Wait()
	}
}
