package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sourcegraph/conc"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/plan"
)

// stepView shows the long, otherwise silent steps of making a plan (hashing local files,
// reading Frame.io) on stderr, so stdout keeps only the plan: on a terminal a spinner line
// with the counts, once a step has lasted stepQuiet, erased when the plan is made; otherwise
// a line with the counts every reportEvery. A step shorter than that shows nothing.
type stepView struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	live  *liveFrame // nil without a terminal
	step  plan.Step
	since time.Time // when the step began
	last  time.Time // when its last line was printed (no terminal)
	spin  int

	clock *ticker // nil once stopped
}

// stepQuiet is how long a step runs before a terminal shows it: a spinner that flashes for a
// moment says nothing.
const stepQuiet = time.Second

// newStepView returns the view for w and starts its clock; finish stops it.
func newStepView(w io.Writer) *stepView {
	v := &stepView{w: w, now: time.Now}
	every := time.Second
	if isTerminal(w) {
		v.live = newLiveFrame(w)
		every = redrawEvery
	}
	v.clock = startTicker(every, v.tick)
	return v
}

// report is a plan.StepFunc.
func (v *stepView) report(s plan.Step) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s.Name != v.step.Name {
		v.since = v.now()
		v.last = v.since
	}
	v.step = s
}

// tick redraws the spinner, or prints the line when it is due.
func (v *stepView) tick() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.step.Name == "" {
		return
	}
	now := v.now()
	v.spin++
	if v.live != nil {
		if now.Sub(v.since) >= stepQuiet {
			v.live.draw([]string{spinner[v.spin%len(spinner)] + " " + stepText(v.step, now.Sub(v.since))})
		}
		return
	}
	if now.Sub(v.last) >= reportEvery {
		v.last = now
		fmt.Fprintf(v.w, "... %s\n", stepText(v.step, now.Sub(v.since)))
	}
}

// stepText says how far step has got after elapsed.
func stepText(s plan.Step, elapsed time.Duration) string {
	switch s.Name {
	case plan.StepHash:
		return fmt.Sprintf("hashing local files: %d/%d files, %s / %s, %s elapsed",
			s.Done, s.Total, display.Bytes(s.Bytes), display.Bytes(s.TotalBytes), display.Duration(elapsed))
	default:
		return fmt.Sprintf("reading Frame.io: %s answered, %s elapsed",
			display.Count(s.Done, "listing or lookup", "listings and lookups"), display.Duration(elapsed))
	}
}

// finish stops the clock and erases the spinner line. Calling it again does nothing.
func (v *stepView) finish() {
	if v.clock != nil {
		v.clock.stop()
		v.clock = nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.live != nil {
		v.live.draw(nil)
		v.live = nil
	}
	v.step = plan.Step{}
}

// ticker calls a function every interval on a goroutine of its own, until stopped: the clock
// of the live views (redraws on a terminal, periodic lines otherwise).
type ticker struct {
	done chan struct{}
	wg   conc.WaitGroup
}

func startTicker(every time.Duration, tick func()) *ticker {
	t := &ticker{done: make(chan struct{})}
	t.wg.Go(func() {
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-t.done:
				return
			case <-tk.C:
				tick()
			}
		}
	})
	return t
}

// stop ends the ticks and returns once the last one is over.
func (t *ticker) stop() {
	close(t.done)
	t.wg.Wait()
}
