package verify_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/state/store"
	"github.com/fiosync/fiosync/verify"
)

func outcomes(rep *verify.Report) map[string]verify.Outcome {
	m := map[string]verify.Outcome{}
	for _, r := range rep.Results {
		m[r.Address] = r.Outcome
	}
	return m
}

// TestVerifyFreshDelivery: every file of a fresh delivery verifies, small ones from one GET
// and large ones in ranged parts, and the state records each result without changing what
// is delivered.
func TestVerifyFreshDelivery(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"a.mov": 1000, "b.mov": 300 << 10, "sub/c.mov": 1}, nil)
	before := d.state()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rep := d.verify(verify.Options{PartSize: 64 << 10, Now: func() time.Time { return now }})
	for _, r := range rep.Results {
		if r.Outcome != verify.OutcomeMatch || r.Err != nil {
			t.Errorf("%s: %s (%v), want a match", r.Address, r.Outcome, r.Err)
		}
	}
	if len(rep.Results) != 3 || rep.Bytes != 1000+300<<10+1 {
		t.Errorf("verified %d files, %d bytes", len(rep.Results), rep.Bytes)
	}
	after := d.state()
	if after.Serial == before.Serial {
		t.Error("verify saved nothing")
	}
	for a, e := range after.Entries {
		b := before.Entries[a]
		if e.FileID != b.FileID || e.Source != b.Source || e.Status != b.Status || !e.UploadedAt.Equal(b.UploadedAt) {
			t.Errorf("%s: verify changed the delivered entry", a)
		}
		if !e.Verified() || !e.VerifiedAt.Equal(now) || e.VerifiedHash != e.Source.Hash || e.VerifiedSize != e.Source.Size {
			t.Errorf("%s: recorded %+v", a, e)
		}
	}
	if len(after.Entries) != len(before.Entries) {
		t.Errorf("verify changed the delivered set: %d entries, was %d", len(after.Entries), len(before.Entries))
	}
}

// TestVerifyCorrupt: after the emulator flips one stored byte, verify names the file and
// both digests, records the failure, and keeps what the earlier verify confirmed.
func TestVerifyCorrupt(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"a.mov": 200 << 10, "b.mov": 5000}, nil)
	d.verify(verify.Options{})
	st := d.state()
	target := st.Entries["/Day/a.mov"]
	if _, err := d.env.Emu.Corrupt(target.FileID); err != nil {
		t.Fatal(err)
	}
	rep := d.verify(verify.Options{PartSize: 64 << 10})
	got := outcomes(rep)
	if got["/Day/a.mov"] != verify.OutcomeMismatch || got["/Day/b.mov"] != verify.OutcomeMatch {
		t.Fatalf("outcomes %v, want a.mov mismatch, b.mov match", got)
	}
	failed := rep.Failed()
	if len(failed) != 1 {
		t.Fatalf("failed = %+v", failed)
	}
	f := failed[0]
	info, _ := d.env.Emu.FileInfo(target.FileID)
	if f.Want != target.Source.Hash || f.Got.Hex() != info.BLAKE3 || f.Got == f.Want || f.GotSize != 200<<10 || f.WantSize != 200<<10 {
		t.Errorf("mismatch result %+v; want the state's hash and the emulator's %s", f, info.BLAKE3)
	}
	e := d.state().Entries["/Day/a.mov"]
	if e.VerifyFailedAt.IsZero() || e.Verified() || e.VerifiedHash != target.Source.Hash {
		t.Errorf("after the mismatch the entry records %+v", e)
	}
}

// TestVerifyResumesCutDownload: a download cut mid-way goes on with a Range request from
// the byte it reached, for a one-GET file and for a part of a large one.
func TestVerifyResumesCutDownload(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"small.mov": 10000, "large.mov": 256 << 10}, nil)
	st := d.state()
	d.env.Emu.SetFaults(emulator.Faults{DownloadResetRate: 1})
	rep := d.verify(verify.Options{PartSize: 128 << 10})
	d.env.Emu.SetFaults(emulator.Faults{})
	for _, r := range rep.Results {
		if r.Outcome != verify.OutcomeMatch || r.Resumed == 0 {
			t.Errorf("%s: %s (%v), resumed %d times; want a match after resuming", r.Address, r.Outcome, r.Err, r.Resumed)
		}
	}
	small := st.Entries["/Day/small.mov"].FileID
	var ranges []string
	for _, dl := range d.env.Emu.Downloads() {
		if dl.FileID == small {
			ranges = append(ranges, dl.Range)
		}
	}
	// Each answer is cut after half of its bytes: 5000 of 10000, then 2500 of the 5000 left.
	if len(ranges) < 3 || ranges[0] != "bytes=0-9999" || ranges[1] != "bytes=5000-9999" || ranges[2] != "bytes=7500-9999" {
		t.Errorf("downloads of the small file asked for %q; want bytes=0-9999, then bytes=5000-9999, bytes=7500-9999, ...", ranges)
	}
	large := st.Entries["/Day/large.mov"].FileID
	var sawPart bool
	for _, dl := range d.env.Emu.Downloads() {
		if dl.FileID == large && dl.Range == "bytes=196608-262143" { // half of the second part
			sawPart = true
		}
	}
	if !sawPart {
		t.Errorf("no resumed GET of the large file's second part from byte 196608: %+v", d.env.Emu.Downloads())
	}
}

// TestVerifyRemoteEntry: a remote entry has no content hash in the state; the first verify
// records what it downloaded, the next compares with it and notices damage.
func TestVerifyRemoteEntry(t *testing.T) {
	d := deliver(t, testOptions(), nil, map[string]string{"reel.mp4": strings.Repeat("reel ", 2000)})
	st := d.state()
	e := st.Entries["/Reels/reel.mp4"]
	if _, _, ok := e.Expected(); ok || !e.Source.Hash.IsZero() {
		t.Fatalf("a remote entry expects content before any verify: %+v", e)
	}
	rep := d.verify(verify.Options{})
	if r := rep.Results[0]; r.Outcome != verify.OutcomeRecorded || r.GotSize != 10000 {
		t.Fatalf("first verify: %+v, want recorded 10000 bytes", r)
	}
	e = d.state().Entries["/Reels/reel.mp4"]
	want, size, ok := e.Expected()
	if !ok || size != 10000 || want != rep.Results[0].Got || !e.Verified() {
		t.Fatalf("after the first verify the entry expects %v %d %v: %+v", want, size, ok, e)
	}
	if r := d.verify(verify.Options{}).Results[0]; r.Outcome != verify.OutcomeMatch || r.Want != want {
		t.Fatalf("second verify: %+v, want a match against the recorded hash", r)
	}
	if _, err := d.env.Emu.Corrupt(e.FileID); err != nil {
		t.Fatal(err)
	}
	if r := d.verify(verify.Options{}).Results[0]; r.Outcome != verify.OutcomeMismatch || r.Want != want {
		t.Fatalf("verify after corruption: %+v, want a mismatch against the recorded hash", r)
	}
	// The damaged bytes never become the reference.
	if r := d.verify(verify.Options{}).Results[0]; r.Outcome != verify.OutcomeMismatch {
		t.Fatalf("second verify after corruption: %+v, want a mismatch still", r)
	}
}

// TestVerifyMissing: a file deleted from Frame.io is reported missing.
func TestVerifyMissing(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"a.mov": 100, "b.mov": 100}, nil)
	st := d.state()
	if err := d.env.Client.DeleteFile(t.Context(), st.Target.AccountID, st.Entries["/Day/a.mov"].FileID); err != nil {
		t.Fatal(err)
	}
	got := outcomes(d.verify(verify.Options{}))
	if got["/Day/a.mov"] != verify.OutcomeMissing || got["/Day/b.mov"] != verify.OutcomeMatch {
		t.Fatalf("outcomes %v", got)
	}
}

// TestVerifyTee: the hashes Tee returns are fed the file's bytes in order, in parts too.
func TestVerifyTee(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"a.mov": 300 << 10}, nil)
	tees := map[string]hash.Hash{}
	rep := d.verify(verify.Options{PartSize: 64 << 10, Tee: func(addr string) io.Writer {
		tees[addr] = sha256.New()
		return tees[addr]
	}})
	r := rep.Results[0]
	data := readFile(t, d.dir+"/media/a.mov")
	want := sha256.Sum256(data)
	if h := tees[r.Address]; len(tees) != 1 || h == nil || string(h.Sum(nil)) != string(want[:]) {
		t.Errorf("the tee'd SHA-256 is not that of the file")
	}
}

// TestVerifyTightBudget: with a buffer budget of one part (or less) and several files at
// once, every file still verifies: parts wait for the budget, and a part larger than the
// budget runs alone, so no file waits for a buffer that its own later part holds.
func TestVerifyTightBudget(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"a.mov": 300 << 10, "b.mov": 260 << 10, "c.mov": 200 << 10}, nil)
	for _, budget := range []int64{64 << 10, 1000} {
		rep := d.verify(verify.Options{PartSize: 64 << 10, PartConcurrency: 4, Parallel: 3, Budget: budget})
		if failed := rep.Failed(); len(failed) > 0 {
			t.Errorf("budget %d: %+v", budget, failed)
		}
	}
}

// TestVerifyInterruptKeepsResults: a verify interrupted after some files saves what it
// verified before returning, and names the rest as not checked.
func TestVerifyInterruptKeepsResults(t *testing.T) {
	d := deliver(t, testOptions(), map[string]int64{"a.mov": 100, "b.mov": 100, "c.mov": 100}, nil)
	st := d.state()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := verify.Options{Client: d.env.Client, State: store.NewWriter(store.NewFile(d.statePath), st), Parallel: 1,
		Observer: verify.ObserverFunc(func(e verify.Event) {
			if e.Type == verify.EventFileDone {
				cancel()
			}
		})}
	rep, err := verify.Run(ctx, verify.Select(st, nil), opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if got := outcomes(rep); got["/Day/a.mov"] != verify.OutcomeMatch || got["/Day/c.mov"] != verify.OutcomeError {
		t.Fatalf("outcomes %v", got)
	}
	after := d.state()
	if !after.Entries["/Day/a.mov"].Verified() || after.Entries["/Day/c.mov"].Verified() {
		t.Errorf("after the interrupt: a verified %v, c verified %v; want true, false",
			after.Entries["/Day/a.mov"].Verified(), after.Entries["/Day/c.mov"].Verified())
	}
}
