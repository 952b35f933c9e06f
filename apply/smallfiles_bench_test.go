//go:build linux

package apply_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// BenchmarkApplySmallFiles applies a delivery of many small files (10,000 of 1 KiB, or
// FIOSYNC_BENCH_SMALL_FILES) with the emulator's rate limits scaled up 1000x, four times in
// one run:
//   - whole-state-saves: what fiosync did before the journal (issue 18): the state saved
//     whole for every batch (a wrapper that hides the file backend's Append), and every
//     intent and finished file waiting for a write of its own in its slot
//     (SetPerFileRecords);
//   - whole-state-shared: the same saves with today's apply, whose intents are written ahead
//     and whose finished files share writes: what that sharing alone does;
//   - journal: today's fiosync;
//   - journal-discarded: the journal's appends discarded (nothing durable but the final
//     save), the baseline of a third measure of the journal's CPU: the difference of
//     cpu-us/file between journal and journal-discarded, over journal's (scripts/bench.sh
//     prints it). That one counts the journal's cost wherever in the process it lands.
//
// Besides files/s it reports the share of the process's CPU time spent in the state backend
// (state-cpu-%, measured on the calling thread around every Save and Append; the in-process
// emulator's CPU counts in the whole, so the share of fiosync alone is somewhat higher) and
// the share of the run's wall time (state-wall-%, fsync waits included). cpu-us/file is the
// process's CPU per file and, for the journal, state-cpu-us/append the state backend's CPU per
// Append (the final compaction included): the share is their ratio over files per append, so
// these two say whether a change moved the numerator or the denominator. The thread rusage
// also counts what runs on the thread but not on the goroutine's stack: the runtime handing
// the locked thread its processor back after each blocking fdatasync, and (this VM's kernel
// has no IRQ time accounting) interrupt and softirq work charged to whichever thread runs.
// A pprof profile of the apply alone (FIOSYNC_BENCH_CPUPROFILE) sees only the stack, so the
// two measures differ: by 0.1 to 0.3 ms per Append of a few changes, by about 1.5 ms per
// Append of a hundred, whose fdatasync runs that much longer (see profileApply). Neither
// isolates the backend exactly; cpu-us/file, the whole process, says whether a change saved
// CPU.
//
//	go test -run '^$' -bench '^BenchmarkApplySmallFiles$' -benchtime 1x ./apply/
func BenchmarkApplySmallFiles(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("FIOSYNC_BENCH_SMALL_FILES")); err == nil && v > 0 {
		n = v
	}
	dir := smallFilesDir(b, n)
	for _, mode := range []string{"whole-state-saves", "whole-state-shared", "journal", "journal-discarded"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "whole-state-saves" {
				defer apply.SetPerFileRecords(true)()
			}
			b.StopTimer()
			for range b.N {
				opts := benchEmulator(b) // part bytes in memory: Frame.io's disk is not this machine's
				opts.PartSize = 64 << 10
				opts.RateLimitScale = 1000
				h := newHarness(b, opts)
				h.dir = dir
				h.statePath = filepath.Join(b.TempDir(), "fiosync.state.json")
				tb := &timedBackend{Backend: store.NewFile(h.statePath)}
				h.backend = tb
				switch mode {
				case "journal":
					h.backend = &timedAppender{timedBackend: tb}
				case "journal-discarded":
					h.backend = &timedAppender{timedBackend: tb, discard: true}
				}
				var srcs []spec
				for i := range n {
					srcs = append(srcs, spec{local: smallFile(i), to: fmt.Sprintf("/Bench/s%02d", i%20)})
				}
				files := h.desired(srcs...)
				p := h.plan(files, false)
				stopProfile := profileApply(b, mode)
				cpu0, wall0 := processCPU(), time.Now()
				b.StartTimer()
				res, err := h.apply(context.Background(), p, files, apply.Options{Parallel: 16})
				b.StopTimer()
				stopProfile()
				cpu, wall := processCPU()-cpu0, time.Since(wall0)
				if err != nil {
					b.Fatal(err)
				}
				if res.Done != n {
					b.Fatalf("delivered %d files, want %d", res.Done, n)
				}
				b.ReportMetric(float64(n)/wall.Seconds(), "files/s")
				b.ReportMetric(100*float64(tb.cpu.Load())/float64(cpu), "state-cpu-%")
				b.ReportMetric(float64(cpu)/1e3/float64(n), "cpu-us/file")
				b.ReportMetric(100*float64(tb.wall.Load())/float64(wall), "state-wall-%")
				if ta, ok := h.backend.(*timedAppender); ok {
					b.ReportMetric(float64(ta.changes.Load())/float64(ta.appends.Load()), "changes/append")
					b.ReportMetric(float64(tb.cpu.Load())/1e3/float64(ta.appends.Load()), "state-cpu-us/append")
				}
				h.env.Close()
			}
		})
	}
}

// profileApply starts a CPU profile of the apply alone, without the set-up around it, when
// FIOSYNC_BENCH_CPUPROFILE names a directory: <dir>/<mode>.prof, to check state-cpu-% with
// `go tool pprof -top -focus 'timedBackend|timedAppender' apply.test <dir>/journal.prof` (the
// share of the samples under the state backend). It returns the function that stops it.
func profileApply(b *testing.B, mode string) func() {
	dir := os.Getenv("FIOSYNC_BENCH_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, mode+".prof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// smallFile is the path of the ith small file, in 20 shot folders.
func smallFile(i int) string { return fmt.Sprintf("s%02d/f%06d.exr", i%20, i) }

// smallFilesDir returns a directory of n small files, written once per machine.
func smallFilesDir(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("fiosync-apply-small-%d", n))
	if _, err := os.Stat(filepath.Join(dir, smallFile(n-1))); err == nil {
		return dir
	}
	h := &harness{t: b, dir: dir}
	for i := range n {
		h.writeFile(smallFile(i), 1<<10, uint64(i+1))
	}
	return dir
}

// timedBackend measures the time its Save calls take: CPU on the calling thread, and wall.
// It does not implement store.Appender, so a Writer over it saves the whole state.
type timedBackend struct {
	store.Backend
	cpu, wall atomic.Int64
}

func (t *timedBackend) Save(ctx context.Context, s *state.State) error {
	return t.timed(func() error { return t.Backend.Save(ctx, s) })
}

func (t *timedBackend) timed(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, wall0 := threadCPU(), time.Now()
	err := fn()
	t.cpu.Add(int64(threadCPU() - cpu0))
	t.wall.Add(int64(time.Since(wall0)))
	return err
}

// timedAppender is timedBackend with the file backend's journal. With discard it writes
// nothing (and the apply is not durable): the CPU it saves against the journal is the
// journal's whole cost, wherever in the process it lands.
type timedAppender struct {
	*timedBackend
	discard          bool
	appends, changes atomic.Int64
}

func (t *timedAppender) Append(ctx context.Context, base *state.State, changes []state.Change) error {
	t.appends.Add(1)
	t.changes.Add(int64(len(changes)))
	if t.discard {
		return nil
	}
	return t.timed(func() error { return t.Backend.(store.Appender).Append(ctx, base, changes) })
}

func threadCPU() time.Duration { return rusage(unix.RUSAGE_THREAD) }

func processCPU() time.Duration { return rusage(unix.RUSAGE_SELF) }

func rusage(who int) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
