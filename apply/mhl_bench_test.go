package apply_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/plan"
)

// The ASC MHL benchmarks upload mhlBenchFiles files of mhlBenchSize bytes (a card with its
// history) with apply, with and without the MHL check, and hash the same bytes alone, so
// scripts/bench.sh can hold apply's extra cost per byte to the hash's own:
//
//	go test -run '^$' -bench 'ApplyMHL|MHLHash' -benchtime 1x ./apply/
const (
	mhlBenchFiles = 2
	mhlBenchSize  = 128 << 20
)

// mhlBenchCard returns a card folder holding the benchmark's files and a history of them in
// format, written once per process and format.
func mhlBenchCard(b *testing.B, format mhl.Format) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "fiosync-mhl-bench-"+string(format))
	card := filepath.Join(dir, "CARD")
	if mhl.Exists(card) {
		// Read the files once, so no variant pays for a cold page cache.
		for i := range mhlBenchFiles {
			if f, err := os.Open(filepath.Join(card, fmt.Sprintf("Clips/C%03d.mov", i))); err == nil {
				f.WriteTo(mhl.NewHasher())
				f.Close()
			}
		}
		return dir
	}
	os.RemoveAll(dir)
	h := &harness{t: b, dir: dir}
	var rels []string
	for i := range mhlBenchFiles {
		rel := fmt.Sprintf("Clips/C%03d.mov", i)
		h.writeFile("CARD/"+rel, mhlBenchSize, uint64(i+1))
		rels = append(rels, rel)
	}
	tr := mhl.Transfer{Creator: mhl.Creator{Tool: "bench"}, Time: time.Now()}
	for _, rel := range rels {
		p := filepath.Join(card, filepath.FromSlash(rel))
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		hs := mhl.NewHasher(format)
		n, err := f.WriteTo(hs)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(p)
		tr.Files = append(tr.Files, mhl.FileHashes{Path: rel, Size: n, ModTime: fi.ModTime(), Hashes: hs.Sums()})
	}
	if _, err := mhl.WriteTransfer(card, tr); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkApplyMHL uploads the card with apply: check=none leaves mhl: out of the manifest,
// check=FORMAT checks every file against a history in that format.
func BenchmarkApplyMHL(b *testing.B) {
	for _, check := range []string{"none", string(mhl.XXH128), string(mhl.XXH64), string(mhl.MD5)} {
		b.Run("check="+check, func(b *testing.B) {
			format := mhl.Format(check)
			if check == "none" {
				format = mhl.XXH128
			}
			dir := mhlBenchCard(b, format)
			entry := "  - local: CARD/Clips\n    to: /Bench\n"
			if check != "none" {
				entry += "    mhl: CARD\n"
			}
			b.SetBytes(mhlBenchFiles * mhlBenchSize)
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				eo := benchEmulator(b)
				h := newHarness(b, eo)
				h.emuDataDir = eo.DataDir
				h.dir = dir
				h.statePath = filepath.Join(b.TempDir(), "state.json")
				m, err := manifest.Parse(filepath.Join(dir, "fiosync.yaml"), []byte("version: 1\ntarget:\n  project: "+h.seed.Project+"\nuploads:\n"+entry), nil)
				if err != nil {
					b.Fatal(err)
				}
				x, err := m.Expand()
				if err != nil {
					b.Fatal(err)
				}
				checked, err := plan.CheckMHL(m, x.Files)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := checked.Expect("/Bench/C000.mov"); ok != (check != "none") {
					b.Fatalf("check=%s: file checked = %v", check, ok)
				}
				p := h.planMHL(x.Files, checked)
				opts := benchOptions()
				opts.MHL = checked
				b.StartTimer()
				c0 := cpuTime()
				res, err := h.apply(context.Background(), p, x.Files, opts)
				cpu += cpuTime() - c0
				if err != nil {
					b.Fatal(err)
				}
				if res.Bytes != mhlBenchFiles*mhlBenchSize {
					b.Fatalf("sent %d bytes", res.Bytes)
				}
				b.StopTimer()
				h.env.Close()
				os.RemoveAll(h.emuDataDir)
				b.StartTimer()
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used: unlike wall time, the
// other work on a shared machine barely moves it. It counts the in-process emulator too, the
// same in every variant.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports cpu, spent over b.N rounds of mhlBenchFiles*mhlBenchSize bytes, as
// CPU milliseconds per MiB.
func reportCPU(b *testing.B, cpu time.Duration) {
	mib := float64(b.N) * mhlBenchFiles * mhlBenchSize / (1 << 20)
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/mib, "cpu-ms/MiB")
}

// BenchmarkMHLHash is the hash's own cost: the same number of bytes fed, in apply's part-sized
// buffers, to the MHL hasher alone.
func BenchmarkMHLHash(b *testing.B) {
	buf := make([]byte, 20<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for _, f := range []mhl.Format{mhl.XXH128, mhl.XXH64, mhl.MD5} {
		b.Run("format="+string(f), func(b *testing.B) {
			b.SetBytes(mhlBenchFiles * mhlBenchSize)
			c0 := cpuTime()
			defer func() { reportCPU(b, cpuTime()-c0) }()
			for b.Loop() {
				h := mhl.NewHasher(f)
				for n := 0; n < mhlBenchFiles*mhlBenchSize; n += len(buf) {
					h.Write(buf)
				}
				_ = h.Sum(f)
			}
		})
	}
}
