package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/state"
)

// durableIntents checks, at every local create the emulator is asked for, that the state on
// disk already holds the file's intent (a pending entry without a file id), and counts the
// intents on disk of files not created yet.
type durableIntents struct {
	base    http.RoundTripper
	h       *harness
	folder  string
	mu      sync.Mutex
	created map[string]bool
	missing []string // creates whose intent was not on disk
	ahead   int      // the most intents on disk, at one create, of files not asked for yet
}

func (d *durableIntents) RoundTrip(r *http.Request) (*http.Response, error) {
	name, ok, err := localCreate(r)
	if err != nil {
		return nil, err
	}
	if ok {
		st := d.h.loadState()
		d.mu.Lock()
		d.created[name] = true
		addr := path.Join(d.folder, name)
		if e := st.Entries[addr]; e == nil || e.Status != state.StatusPending || e.FileID != "" {
			d.missing = append(d.missing, addr)
		}
		n := 0
		for a, e := range st.Entries {
			if e.Status == state.StatusPending && e.FileID == "" && !d.created[path.Base(a)] {
				n++
			}
		}
		d.ahead = max(d.ahead, n)
		d.mu.Unlock()
	}
	return d.base.RoundTrip(r)
}

// TestIntentsAhead: the intents of the next files to start are written ahead, several in one
// record, and each is on disk before its file's create is sent; the run ends with every file
// delivered once and no intent left.
func TestIntentsAhead(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	const n = 12
	var srcs []spec
	for i := range n {
		name := fmt.Sprintf("f%02d.mov", i)
		h.writeFile(name, 4<<10, uint64(i+1))
		srcs = append(srcs, spec{local: name, to: "/Ahead"})
	}
	files := h.desired(srcs...)
	p := h.plan(files, false)
	rec := &durableIntents{base: emutest.Bearer{Token: h.seed.Token}, h: h, folder: "/Ahead", created: map[string]bool{}}
	h.client = emutest.NewClientWith(t, h.env.URL, &http.Client{Transport: rec}, testRetry)
	res, err := h.apply(context.Background(), p, files, apply.Options{Parallel: 2})
	if err != nil || res.Done != n {
		t.Fatalf("apply: %v, %d done, want %d", err, res.Done, n)
	}
	if len(rec.missing) > 0 {
		t.Errorf("creates sent before their intent was durable: %v", rec.missing)
	}
	if rec.ahead < 2 {
		t.Errorf("at most %d intents on disk ahead of their creates, want several written ahead", rec.ahead)
	}
	h.verify(files, nil)
	if got := h.live(); got != n {
		t.Errorf("%d files in Frame.io, want %d", got, n)
	}
}

// TestIntentsAheadPutBack: the intents written ahead of files that then do not start (a
// limit, an interruption) are put back, so the state holds no interrupted create that never
// was, and the next plan shows plain creates.
func TestIntentsAheadPutBack(t *testing.T) {
	const n = 12
	setup := func(t *testing.T) (*harness, []spec) {
		h := newHarness(t, testEmulatorOptions())
		var srcs []spec
		for i := range n {
			name := fmt.Sprintf("f%02d.mov", i)
			h.writeFile(name, 100<<10, uint64(i+1))
			srcs = append(srcs, spec{local: name, to: "/Ahead"})
		}
		return h, srcs
	}
	// pendingNotStarted returns the entries on disk that are pending but whose file never
	// started.
	pendingNotStarted := func(h *harness, started map[string]bool) []string {
		var out []string
		for a, e := range h.loadState().Entries {
			if e.Status == state.StatusPending && !started[a] {
				out = append(out, a)
			}
		}
		return out
	}

	t.Run("max-duration", func(t *testing.T) {
		h, srcs := setup(t)
		files := h.desired(srcs...)
		clock := &clock{now: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)}
		obs := &recorder{on: func(e apply.Event) {
			if e.Type == apply.EventFileStart {
				clock.Add(time.Hour) // the intents of the next files are written by now
			}
		}}
		opts := apply.Options{Parallel: 2, MaxDuration: 90 * time.Minute, Now: clock.Now, Observer: obs}
		res, err := h.apply(context.Background(), h.plan(files, false), files, opts)
		if !errors.Is(err, apply.ErrLimit) || res.Done != 2 {
			t.Fatalf("apply: %v, %d done; want a max-duration stop after 2", err, res.Done)
		}
		st := h.loadState()
		if len(st.Entries) != 2 {
			t.Errorf("the state holds %d entries after 2 files, want 2: %v", len(st.Entries), pendingNotStarted(h, nil))
		}
		again := h.plan(files, false)
		for _, ch := range again.Changes {
			if ch.Prior != nil {
				t.Errorf("%s is planned over a prior entry (%s), want a plain create", ch.Address, ch.Prior.Status)
			}
		}
		if len(again.Changes) != n-2 {
			t.Errorf("next plan has %d changes, want %d", len(again.Changes), n-2)
		}
	})

	t.Run("max-transfer", func(t *testing.T) {
		// Two files fit in the limit: no intent is written for a file past it.
		h, srcs := setup(t)
		files := h.desired(srcs...)
		p := h.plan(files, false)
		rec := &durableIntents{base: emutest.Bearer{Token: h.seed.Token}, h: h, folder: "/Ahead", created: map[string]bool{}}
		h.client = emutest.NewClientWith(t, h.env.URL, &http.Client{Transport: rec}, testRetry)
		res, err := h.apply(context.Background(), p, files, apply.Options{Parallel: 2, MaxTransfer: 250 << 10})
		if !errors.Is(err, apply.ErrLimit) || res.Done != 2 {
			t.Fatalf("apply: %v, %d done; want a max-transfer stop after 2", err, res.Done)
		}
		if rec.ahead > 1 {
			t.Errorf("%d intents on disk ahead of one create, want at most the other file in the limit", rec.ahead)
		}
		if len(rec.missing) > 0 {
			t.Errorf("creates sent before their intent was durable: %v", rec.missing)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		h, srcs := setup(t)
		files := h.desired(srcs...)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		started := map[string]bool{}
		obs := &recorder{on: func(e apply.Event) {
			switch e.Type {
			case apply.EventFileStart:
				mu.Lock()
				started[e.Address] = true
				mu.Unlock()
				cancel() // the first file is under way, the intents of the next ones written
			}
		}}
		res, err := h.apply(ctx, h.plan(files, false), files, apply.Options{Parallel: 2, Observer: obs})
		if !errors.Is(err, context.Canceled) || res.Done == n {
			t.Fatalf("apply: %v, %d done; want an interruption", err, res.Done)
		}
		mu.Lock()
		defer mu.Unlock()
		if left := pendingNotStarted(h, started); len(left) > 0 {
			t.Errorf("intents left of files that never started: %v", left)
		}
		if _, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{Parallel: 2}); err != nil {
			t.Fatal(err)
		}
		h.verify(files, nil)
		if got := h.live(); got != n {
			t.Errorf("%d files in Frame.io, want %d", got, n)
		}
	})
}

// folderListings counts the requests that list the files of one folder.
type folderListings struct {
	base   http.RoundTripper
	folder string // id
	n      atomic.Int64
}

func (c *folderListings) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/folders/"+c.folder+"/files") {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}

// TestLeftIntentsOneListing: the intents a crash left (creates journaled whose answers never
// reached the state; with intents written ahead, up to 4 per slot) are reconciled with one
// listing of their folder, not one each, and the one whose create did happen is still found:
// its file is removed and uploaded again, once.
func TestLeftIntentsOneListing(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	const n = 8
	srcs := []spec{{local: "seed.mov", to: "/Left"}}
	h.writeFile("seed.mov", 4<<10, 99)
	for i := range n {
		name := fmt.Sprintf("f%02d.mov", i)
		h.writeFile(name, 4<<10, uint64(i+1))
		srcs = append(srcs, spec{local: name, to: "/Left"})
	}
	files := h.desired(srcs...)
	ctx := context.Background()
	if _, err := h.apply(ctx, h.plan(files[:1], false), files[:1], apply.Options{}); err != nil {
		t.Fatal(err)
	}
	st := h.loadState()
	folder := st.Entries["/Left/seed.mov"].ParentID
	// The crash: n intents durable; the first file's create reached Frame.io.
	created := time.Now().UTC()
	if _, err := h.client.CreateLocalUpload(ctx, h.seed.AccountID, folder, files[1].Name, 4<<10); err != nil {
		t.Fatal(err)
	}
	w := newWriter(h, st)
	if err := w.Update(ctx, func(*state.State) state.Change {
		c := state.Change{Entries: map[string]*state.Entry{}}
		for _, d := range files[1:] {
			c.Entries[d.Address] = &state.Entry{Source: d.Source, ParentID: folder, Status: state.StatusPending, CreatedAt: created}
		}
		return c
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	p := h.plan(files, false)
	lists := &folderListings{base: emutest.Bearer{Token: h.seed.Token}, folder: folder}
	h.client = emutest.NewClientWith(t, h.env.URL, &http.Client{Transport: lists}, testRetry)
	if _, err := h.apply(ctx, p, files, apply.Options{Parallel: 4}); err != nil {
		t.Fatal(err)
	}
	if got := lists.n.Load(); got != 1 {
		t.Errorf("the folder was listed %d times to reconcile %d left intents, want once", got, n)
	}
	h.verify(files, nil)
	if got := h.live(); got != n+1 {
		t.Errorf("%d files in Frame.io, want %d: the stray of the create that happened is removed", got, n+1)
	}
}
