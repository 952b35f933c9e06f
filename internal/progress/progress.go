package progress

import (
	"time"
)

// Window is how far back the rates look: long enough to smooth the steps of parts and the
// bursts of small files, short enough to follow a change of pace within a minute.
const Window = 20 * time.Second

// sampleEvery is the finest step of the samples the rates are measured from: a fast delivery
// reports thousands of events a second, and the window needs no more than this.
const sampleEvery = 100 * time.Millisecond

// minSpan is the shortest span a rate is measured over; before it, rates and the ETA are
// unknown rather than wild.
const minSpan = time.Second

// Outcome is how a file's part of a delivery ended.
type Outcome int

// The outcomes of End.
const (
	// Done: delivered (or recorded) and saved.
	Done Outcome = iota
	// Failed: it could not be delivered; the bytes it did not send leave the planned total.
	Failed
	// Interrupted: stopped in flight by an interruption; the next run resumes it. Its bytes
	// stay in the planned total, so the total does not pretend to be complete.
	Interrupted
)

// File is a file in flight.
type File struct {
	Address    string
	Size, Sent int64
}

// Tracker follows one delivery. It is not safe for concurrent use; its owner serialises the
// calls (the view holds a lock around each event).
type Tracker struct {
	start time.Time
	files int
	bytes int64

	started, done, failed, interrupted int
	uploads                            int   // files that started an upload
	sent                               int64 // bytes done: sent, or counted when a file is done
	inflight                           map[string]*File
	order                              []string // addresses in flight, oldest first

	busy      time.Duration // time with at least one file in flight
	busySince time.Time

	createLimit float64
	creates     int // uploads planned; -1: every file is one
	samples     []sample
}

// sample is the counters at one instant, for the windowed rates.
type sample struct {
	at      time.Time
	sent    int64
	started int
	ended   int // done or failed: what the file rate counts
}

// New starts tracking a delivery of files changes and bytes planned bytes at start.
func New(start time.Time, files int, bytes int64) *Tracker {
	t := &Tracker{start: start, files: files, bytes: bytes, inflight: map[string]*File{}, creates: -1}
	t.samples = []sample{{at: start}}
	return t
}

// SetCreateLimit sets the creates per second that Frame.io allows the client (its pacer's
// rate, from the rate-limit headers); 0 means unknown, and the create rate is then measured.
func (t *Tracker) SetCreateLimit(perSecond float64) { t.createLimit = max(0, perSecond) }

// SetCreates says that n of the files planned are uploads, each a create; the others
// (deletes, adopts) are not paced by the create rate. Without it every file counts as one.
func (t *Tracker) SetCreates(n int) { t.creates = max(0, n) }

// Start records that a file's upload begins: its create is issued.
func (t *Tracker) Start(now time.Time, address string, size int64) {
	if _, ok := t.inflight[address]; ok {
		return
	}
	if len(t.inflight) == 0 {
		t.busySince = now
	}
	t.inflight[address] = &File{Address: address, Size: size}
	t.order = append(t.order, address)
	t.started++
	t.uploads++
	t.record(now)
}

// Progress records that sent bytes of address are in.
func (t *Tracker) Progress(now time.Time, address string, sent int64) {
	f := t.inflight[address]
	if f == nil || sent <= f.Sent {
		return
	}
	t.sent += sent - f.Sent
	f.Sent = sent
	t.record(now)
}

// End records how address ended. A file that never started (a delete, an adopt, a file whose
// folder failed) counts as started and ended at once. A done file counts its whole size as
// done, whatever an earlier run sent of it.
func (t *Tracker) End(now time.Time, address string, o Outcome) {
	f := t.inflight[address]
	if f == nil {
		t.started++
		f = &File{Address: address}
	} else {
		delete(t.inflight, address)
		for i, a := range t.order {
			if a == address {
				t.order = append(t.order[:i], t.order[i+1:]...)
				break
			}
		}
		if len(t.inflight) == 0 {
			t.busy += now.Sub(t.busySince)
		}
	}
	switch o {
	case Done:
		t.done++
		if f.Size > f.Sent {
			t.sent += f.Size - f.Sent
		}
	case Failed:
		t.failed++
		t.bytes -= max(0, f.Size-f.Sent)
	case Interrupted:
		t.interrupted++
	}
	t.record(now)
}

// record adds a sample at now (or updates the last one, when it is less than sampleEvery old
// and not the opening one) and drops those the window no longer needs: it keeps the newest
// sample older than the window, so a rate always spans the whole window.
func (t *Tracker) record(now time.Time) {
	s := sample{at: now, sent: t.sent, started: t.started, ended: t.done + t.failed}
	if n := len(t.samples); n > 1 && now.Sub(t.samples[n-1].at) < sampleEvery {
		s.at = t.samples[n-1].at // one sample per sampleEvery: the window holds at most 200
		t.samples[n-1] = s
	} else {
		t.samples = append(t.samples, s)
	}
	edge := now.Add(-Window)
	i := 0
	for i+1 < len(t.samples) && !t.samples[i+1].at.After(edge) {
		i++
	}
	t.samples = t.samples[i:]
}

// Snapshot is the delivery at one instant, for display.
type Snapshot struct {
	// Files planned, and how they stand.
	Files, Done, Failed, Interrupted, InFlight int
	// NotStarted is the files not yet begun.
	NotStarted int
	// Bytes planned (less what failed files will not send), and bytes done.
	Bytes, BytesDone int64
	Elapsed          time.Duration
	// Busy is the time at least one file was in flight: the transfer time.
	Busy time.Duration
	// ByteRate (bytes/s) and FileRate (files done or failed a second) over the last
	// Window; 0 while unknown.
	ByteRate, FileRate float64
	// ETA is the time the rest should take; ETAKnown is false until there is a rate to
	// base it on.
	ETA      time.Duration
	ETAKnown bool
	// Active holds the files in flight, oldest first.
	Active []File
}

// Snapshot returns the delivery as of now.
func (t *Tracker) Snapshot(now time.Time) Snapshot {
	s := Snapshot{
		Files: t.files, Done: t.done, Failed: t.failed, Interrupted: t.interrupted, InFlight: len(t.inflight),
		NotStarted: max(0, t.files-t.started),
		Bytes:      t.bytes, BytesDone: t.sent,
		Elapsed: now.Sub(t.start), Busy: t.busy,
	}
	if len(t.inflight) > 0 {
		s.Busy += now.Sub(t.busySince)
	}
	for _, a := range t.order {
		s.Active = append(s.Active, *t.inflight[a])
	}
	base := t.samples[0]
	span := now.Sub(base.at)
	if span < minSpan {
		return s
	}
	secs := span.Seconds()
	s.ByteRate = float64(t.sent-base.sent) / secs
	s.FileRate = float64(t.done+t.failed-base.ended) / secs
	createRate := t.createLimit
	if createRate == 0 {
		createRate = float64(t.started-base.started) / secs
	}

	var eta float64
	known := true
	if rem := t.bytes - t.sent; rem > 0 {
		if s.ByteRate > 0 {
			eta = float64(rem) / s.ByteRate
		} else {
			known = false
		}
	}
	creates := s.NotStarted
	if t.creates >= 0 {
		creates = max(0, t.creates-t.uploads)
	}
	if creates > 0 {
		if createRate > 0 {
			eta = max(eta, float64(creates)/createRate)
		} else {
			known = false
		}
	}
	if known {
		s.ETA, s.ETAKnown = time.Duration(eta*float64(time.Second)), true
	}
	return s
}
