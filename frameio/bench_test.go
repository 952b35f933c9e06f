package frameio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/sourcegraph/conc/pool"

	"github.com/fiosync/fiosync/frameio"
)

// Both upload benchmarks move the same 1 GiB generated file into an emulator with rate limits
// off, with benchWorkers parts in flight, so their MB/s compare the client's part path with a
// bare net/http loop. Run them together:
//
//	go test -run='^$' -bench=Upload -benchtime=1x ./frameio/
const (
	benchSize    = 1 << 30
	benchWorkers = 4
)

func BenchmarkUploadClient(b *testing.B) {
	e := newEnv(b, noLimits(), frameio.WithoutPacing())
	src := newGenReader(benchSize, 3)
	ctx := b.Context()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f, err := upload(ctx, e.client, e.seed, fmt.Sprintf("bench-%d.mov", i), src, benchSize, benchWorkers)
		if err != nil {
			b.Fatalf("upload: %v", err)
		}
		b.StopTimer()
		checkAndDelete(b, e, f)
		b.StartTimer()
	}
}

func BenchmarkUploadRawPUT(b *testing.B) {
	e := newEnv(b, noLimits(), frameio.WithoutPacing())
	src := newGenReader(benchSize, 3)
	ctx := b.Context()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = benchWorkers
	raw := &http.Client{Transport: t}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f, err := e.client.CreateLocalUpload(ctx, e.seed.AccountID, e.seed.RootFolderID, fmt.Sprintf("bench-%d.mov", i), benchSize)
		if err != nil {
			b.Fatalf("CreateLocalUpload: %v", err)
		}
		p := pool.New().WithContext(ctx).WithMaxGoroutines(benchWorkers).WithCancelOnError().WithFirstError()
		var off int64
		for _, part := range f.UploadURLs {
			start := off
			off += part.Size
			p.Go(func(ctx context.Context) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, part.URL, io.NewSectionReader(src, start, part.Size))
				if err != nil {
					return err
				}
				req.ContentLength = part.Size
				req.Header.Set("x-amz-acl", "private")
				req.Header.Set("Content-Type", f.MediaType)
				resp, err := raw.Do(req)
				if err != nil {
					return fmt.Errorf("put part %s: %w", frameio.Redact(part.URL), errors.Unwrap(err))
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("put part: status %d", resp.StatusCode)
				}
				return nil
			})
		}
		if err := p.Wait(); err != nil {
			b.Fatalf("raw upload: %v", err)
		}
		b.StopTimer()
		checkAndDelete(b, e, f)
		b.StartTimer()
	}
}

// checkAndDelete confirms the emulator holds the whole file, then deletes it to free the disk.
func checkAndDelete(b *testing.B, e *env, f *frameio.File) {
	b.Helper()
	if info := fileInfo(b, e, f.ID); info.Status != frameio.StatusUploaded || info.Size != benchSize {
		b.Fatalf("emulator holds %+v, want the whole file uploaded", info)
	}
	if err := e.client.DeleteFile(b.Context(), e.seed.AccountID, f.ID); err != nil {
		b.Fatalf("DeleteFile: %v", err)
	}
}
