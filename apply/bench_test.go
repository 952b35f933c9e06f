package apply_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sourcegraph/conc/pool"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
)

// The 2 GiB benchmarks upload benchFiles files of benchFileSize bytes each, with rate limits
// off and the emulator's default 20 MiB parts, so apply and a raw PUT loop are compared on the
// same data in the same run:
//
//	go test -run '^$' -bench '2GiB' -benchtime 1x ./apply/
const (
	benchFiles    = 4
	benchFileSize = 512 << 20
)

// benchPartsInFlight is the concurrency of the raw loop: the parts apply's default budget
// lets fly at once.
var benchPartsInFlight = int(apply.DefaultPartBudget / (20 << 20))

// benchDir returns a directory holding the benchmark's files, written once per process.
func benchDir(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "fiosync-apply-bench")
	for i := range benchFiles {
		p := filepath.Join(dir, fmt.Sprintf("big%d.mov", i))
		if fi, err := os.Stat(p); err == nil && fi.Size() == benchFileSize {
			continue
		}
		h := &harness{t: b, dir: dir}
		h.writeFile(filepath.Base(p), benchFileSize, uint64(i+1))
	}
	return dir
}

// benchEmulator returns emulator options for the benchmarks. The emulator keeps part bytes in
// memory-backed /dev/shm when there is one: on a small VM, writing 2 GiB per run to disk makes
// dirty-page writeback, not the upload path, the thing measured.
func benchEmulator(b *testing.B) emulator.Options {
	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	o.FaultSeed = 1
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "fiosync-emulator-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		o.DataDir = dir
	}
	return o
}

// benchOptions reads FIOSYNC_BENCH_BUDGET and FIOSYNC_BENCH_PARTS (parts per file) to
// explore the knobs; the defaults are what the CLI uses.
func benchOptions() apply.Options {
	var o apply.Options
	if v, err := strconv.ParseInt(os.Getenv("FIOSYNC_BENCH_BUDGET"), 10, 64); err == nil {
		o.PartBudget = v
	}
	if v, err := strconv.Atoi(os.Getenv("FIOSYNC_BENCH_PARTS")); err == nil {
		o.PartConcurrency = v
	}
	return o
}

func BenchmarkApply2GiB(b *testing.B) {
	dir := benchDir(b)
	b.SetBytes(benchFiles * benchFileSize)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		eo := benchEmulator(b)
		h := newHarness(b, eo)
		h.emuDataDir = eo.DataDir
		h.dir = dir
		h.statePath = filepath.Join(b.TempDir(), "state.json")
		var srcs []spec
		for i := range benchFiles {
			srcs = append(srcs, spec{local: fmt.Sprintf("big%d.mov", i), to: "/Bench"})
		}
		files := h.desired(srcs...)
		p := h.plan(files, false)
		b.StartTimer()
		res, err := h.apply(context.Background(), p, files, benchOptions())
		if err != nil {
			b.Fatal(err)
		}
		if res.Bytes != benchFiles*benchFileSize {
			b.Fatalf("sent %d bytes, want %d", res.Bytes, benchFiles*benchFileSize)
		}
		b.StopTimer()
		h.env.Close()
		os.RemoveAll(h.emuDataDir)
		b.StartTimer()
	}
}

// BenchmarkRawPUT2GiB is the ceiling: the same files PUT to the same emulator's presigned URLs
// by a plain concurrent net/http loop, with no hashing, no state and no client.
func BenchmarkRawPUT2GiB(b *testing.B) {
	dir := benchDir(b)
	b.SetBytes(benchFiles * benchFileSize)
	b.ReportAllocs()
	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchPartsInFlight}}
	for b.Loop() {
		b.StopTimer()
		eo := benchEmulator(b)
		h := newHarness(b, eo)
		h.emuDataDir = eo.DataDir
		type job struct {
			file      *os.File
			off, size int64
			url, mt   string
		}
		var jobs []job
		for i := range benchFiles {
			f, err := os.Open(filepath.Join(dir, fmt.Sprintf("big%d.mov", i)))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			rf, err := h.client.CreateLocalUpload(ctx, h.seed.AccountID, h.seed.RootFolderID, filepath.Base(f.Name()), benchFileSize)
			if err != nil {
				b.Fatal(err)
			}
			offs, err := frameio.PartOffsets(rf.UploadURLs, rf.FileSize)
			if err != nil {
				b.Fatal(err)
			}
			for j, u := range rf.UploadURLs {
				jobs = append(jobs, job{file: f, off: offs[j], size: u.Size, url: u.URL, mt: rf.MediaType})
			}
		}
		b.StartTimer()
		puts := pool.New().WithErrors().WithMaxGoroutines(benchPartsInFlight)
		for _, j := range jobs {
			puts.Go(func() error {
				req, err := http.NewRequest(http.MethodPut, j.url, io.NewSectionReader(j.file, j.off, j.size))
				if err != nil {
					return err
				}
				req.ContentLength = j.size
				req.Header.Set("x-amz-acl", "private")
				req.Header.Set("Content-Type", j.mt)
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("PUT part: %s", strconv.Itoa(resp.StatusCode))
				}
				return nil
			})
		}
		if err := puts.Wait(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		h.env.Close()
		os.RemoveAll(h.emuDataDir)
		b.StartTimer()
	}
}
