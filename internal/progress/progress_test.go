package progress

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// delivery describes a simulated apply: files of the given sizes go up with parallel in
// flight, sharing bandwidth bytes/s, each waiting for a create that Frame.io allows creates
// times a second, sending its bytes in parts, and paying overhead (the calls around the
// parts) before it is done.
type delivery struct {
	sizes     []int64
	parallel  int
	bandwidth float64
	creates   float64
	part      int64
	overhead  time.Duration
}

// event is what apply would report, at a simulated instant.
type event struct {
	at      time.Duration
	kind    string // start, progress, done
	address string
	size    int64 // start: the size; progress: bytes sent so far
}

// simulate runs d on a fake clock in steps of 10 ms and returns apply's events and the time
// the delivery took.
func simulate(d delivery) ([]event, time.Duration) {
	const step = 10 * time.Millisecond
	type flight struct {
		address          string
		size, sent       int64
		reported         int64
		finishAt         time.Duration
		sending, waiting bool
	}
	var evs []event
	var inflight []*flight
	next := 0
	tokens := 1.0
	for now := time.Duration(0); ; now += step {
		tokens = math.Min(1, tokens+d.creates*step.Seconds())
		for len(inflight) < d.parallel && next < len(d.sizes) {
			f := &flight{address: fmt.Sprintf("/f%05d", next), size: d.sizes[next], waiting: true}
			next++
			inflight = append(inflight, f)
			evs = append(evs, event{at: now, kind: "start", address: f.address, size: f.size})
		}
		// Creates, first come first served, as the pacer allows.
		for _, f := range inflight {
			if f.waiting && tokens >= 1 {
				tokens--
				f.waiting, f.sending = false, true
			}
		}
		var sending []*flight
		for _, f := range inflight {
			if f.sending {
				sending = append(sending, f)
			}
		}
		if len(sending) > 0 {
			share := int64(d.bandwidth * step.Seconds() / float64(len(sending)))
			for _, f := range sending {
				f.sent = min(f.size, f.sent+share)
				for f.reported+d.part <= f.sent || (f.sent == f.size && f.reported < f.size) {
					f.reported = min(f.size, f.reported+d.part)
					evs = append(evs, event{at: now, kind: "progress", address: f.address, size: f.reported})
				}
				if f.sent == f.size {
					f.sending, f.finishAt = false, now+d.overhead
				}
			}
		}
		kept := inflight[:0]
		for _, f := range inflight {
			if !f.waiting && !f.sending && now >= f.finishAt {
				evs = append(evs, event{at: now, kind: "done", address: f.address})
				continue
			}
			kept = append(kept, f)
		}
		inflight = kept
		if next == len(d.sizes) && len(inflight) == 0 {
			return evs, now
		}
	}
}

func sizes(n int, size int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// TestETA replays simulated deliveries into a Tracker and checks, at several points, that
// the ETA is within 20% of the time the delivery actually still took.
func TestETA(t *testing.T) {
	const MiB = 1 << 20
	tests := []struct {
		name  string
		d     delivery
		limit float64 // the create limit told to the tracker; 0: unknown
	}{
		{"create-bound frames, limit measured", delivery{sizes: sizes(2000, 2<<10), parallel: 4, bandwidth: 100 * MiB, creates: 4.5, part: 20 * MiB, overhead: 200 * time.Millisecond}, 0},
		{"create-bound frames, limit known", delivery{sizes: sizes(2000, 2<<10), parallel: 4, bandwidth: 100 * MiB, creates: 4.5, part: 20 * MiB, overhead: 200 * time.Millisecond}, 4.5},
		{"byte-bound camera files", delivery{sizes: sizes(24, 300*MiB), parallel: 4, bandwidth: 100 * MiB, creates: 4.5, part: 20 * MiB, overhead: 200 * time.Millisecond}, 4.5},
		{"byte-bound camera files, limit measured", delivery{sizes: sizes(24, 300*MiB), parallel: 4, bandwidth: 100 * MiB, creates: 4.5, part: 20 * MiB, overhead: 200 * time.Millisecond}, 0},
		// The shoot day: camera files, then frames. Bytes are nearly all in after the
		// camera files, and the frames still take minutes.
		{"camera files then frames", delivery{sizes: append(sizes(8, 400*MiB), sizes(1650, 2<<10)...), parallel: 4, bandwidth: 100 * MiB, creates: 4.5, part: 20 * MiB, overhead: 200 * time.Millisecond}, 4.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, took := simulate(tc.d)
			var total int64
			for _, s := range tc.d.sizes {
				total += s
			}
			start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			tr := New(start, len(tc.d.sizes), total)
			tr.SetCreateLimit(tc.limit)
			checks := []float64{0.1, 0.25, 0.5, 0.75, 0.9}
			i := 0
			for _, frac := range checks {
				at := time.Duration(frac * float64(took))
				for ; i < len(evs) && evs[i].at <= at; i++ {
					feed(tr, start, evs[i])
				}
				s := tr.Snapshot(start.Add(at))
				want := took - at
				if !s.ETAKnown {
					t.Errorf("at %v of %v: no ETA", at, took)
					continue
				}
				if off := math.Abs(float64(s.ETA-want)) / float64(want); off > 0.2 {
					t.Errorf("at %v of %v: ETA %v, want %v (off by %.0f%%; %d/%d files, %d/%d bytes)",
						at.Round(time.Second), took.Round(time.Second), s.ETA.Round(time.Second), want.Round(time.Second), off*100, s.Done, s.Files, s.BytesDone, s.Bytes)
				}
			}
			for ; i < len(evs); i++ {
				feed(tr, start, evs[i])
			}
			s := tr.Snapshot(start.Add(took))
			if s.Done != len(tc.d.sizes) || s.BytesDone != total || s.InFlight != 0 || s.NotStarted != 0 {
				t.Errorf("at the end: %+v", s)
			}
		})
	}
}

func feed(tr *Tracker, start time.Time, e event) {
	now := start.Add(e.at)
	switch e.kind {
	case "start":
		tr.Start(now, e.address, e.size)
	case "progress":
		tr.Progress(now, e.address, e.size)
	case "done":
		tr.End(now, e.address, Done)
	}
}

// TestETACountsCreatesOnly holds that the files which are no upload (the deletes of a prune)
// do not weigh on the create term: ten camera files and 500 deletes are as long as the bytes.
func TestETACountsCreatesOnly(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const MiB = 1 << 20
	tr := New(start, 510, 10*100*MiB)
	tr.SetCreates(10)
	tr.SetCreateLimit(4.5)
	for i := range 10 {
		tr.Start(start, fmt.Sprintf("/A%03d.mov", i), 100*MiB)
	}
	for i := range 10 {
		tr.Progress(start.Add(10*time.Second), fmt.Sprintf("/A%03d.mov", i), 20*MiB)
	}
	s := tr.Snapshot(start.Add(10 * time.Second))
	if want := 40 * time.Second; !s.ETAKnown || s.ETA != want || s.NotStarted != 500 {
		t.Errorf("ETA %v (known %v), %d not started; want %v, 500", s.ETA, s.ETAKnown, s.NotStarted, want)
	}
}

// TestSamplesBounded holds that a flood of events keeps the window's samples few.
func TestSamplesBounded(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tr := New(start, 1, 1<<40)
	tr.Start(start, "/big", 1<<40)
	for i := 1; i <= 600_000; i++ {
		tr.Progress(start.Add(time.Duration(i)*100*time.Microsecond), "/big", int64(i)<<20)
	}
	if n := len(tr.samples); n > int(Window/sampleEvery)+2 {
		t.Errorf("%d samples held after a minute of 10,000 events a second", n)
	}
	s := tr.Snapshot(start.Add(time.Minute))
	if want := float64(10_000 << 20); math.Abs(s.ByteRate-want)/want > 0.01 {
		t.Errorf("byte rate %v, want %v", s.ByteRate, want)
	}
}
