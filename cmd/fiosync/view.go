package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fiosync/fiosync/apply"
)

// applyView renders apply's events: one JSON object per line with --json, otherwise one
// plain line per finished file and a progress line every summaryEvery.
type applyView struct {
	mu   sync.Mutex
	out  io.Writer
	json *json.Encoder

	planned           int64
	done, failed      int
	files             int
	start, lastReport time.Time
}

const summaryEvery = 10 * time.Second

func newApplyView(io *stdio, g *Globals, asJSON bool) *applyView {
	v := &applyView{out: io.Out, start: time.Now()}
	v.lastReport = v.start
	if asJSON {
		v.json = json.NewEncoder(io.Out)
	}
	return v
}

// Event implements apply.Observer.
func (v *applyView) Event(e apply.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json != nil {
		if e.Type != apply.EventProgress {
			v.json.Encode(e)
		}
		return
	}
	switch e.Type {
	case apply.EventStart:
		v.files, v.planned = e.Files, e.Total
		fmt.Fprintf(v.out, "Applying %d changes (%s to upload).\n", e.Files, formatBytes(e.Total))
	case apply.EventFileDone:
		v.done++
		note := ""
		if e.Note != "" {
			note = "  (" + e.Note + ")"
		}
		fmt.Fprintf(v.out, "  done    %s  %s%s\n", e.Address, formatBytes(e.Bytes), note)
	case apply.EventFileFailed:
		v.failed++
		fmt.Fprintf(v.out, "  FAILED  %s: %s\n", e.Address, e.Error)
	case apply.EventDelete:
		fmt.Fprintf(v.out, "  deleted %s%s\n", e.Address, map[bool]string{true: "  (" + e.Note + ")", false: ""}[e.Note != ""])
	case apply.EventFolder:
		fmt.Fprintf(v.out, "  folder  %s\n", e.Address)
	}
	if now := time.Now(); e.Type != apply.EventSummary && now.Sub(v.lastReport) >= summaryEvery {
		v.lastReport = now
		fmt.Fprintf(v.out, "  ... %d of %d files done, %d failed, %s elapsed\n", v.done, v.files, v.failed, now.Sub(v.start).Round(time.Second))
	}
}

// finish prints the closing summary (the JSON stream already carried it), naming only the
// counts that are not zero.
func (v *applyView) finish(res *apply.Result) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json != nil {
		return
	}
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{res.Done, "uploaded"}, {res.Adopted, "adopted"}, {res.Deleted, "deleted"}, {res.Failed, "failed"}, {res.Skipped, "skipped"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing done")
	}
	rate := ""
	if secs := res.Elapsed.Seconds(); secs > 0 && res.Bytes > 0 {
		rate = fmt.Sprintf(", %s/s", formatBytes(int64(float64(res.Bytes)/secs)))
	}
	verdict := "complete"
	if res.Failed > 0 || res.Skipped > 0 {
		verdict = "incomplete"
	}
	fmt.Fprintf(v.out, "Apply %s: %s. %s sent in %s%s.\n", verdict, strings.Join(parts, ", "),
		formatBytes(res.Bytes), res.Elapsed.Round(10*time.Millisecond), rate)
}
