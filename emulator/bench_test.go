package emulator

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
)

// BenchmarkPartPUT measures raw part uploads: a 64 MiB file in 8 MiB parts, four PUTs in
// flight, through plain net/http (no client retries or pacing), parts stored and hashed.
func BenchmarkPartPUT(b *testing.B) {
	const size, partSize = 64 << 20, 8 << 20
	e := newEnv(b, func(o *Options) { o.PartSize = partSize })
	src := randomBytes(size, 11)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f := e.createFile(e.seed.RootFolderID, "bench.mov", size)
		urls := uploadURLs(b, f)
		work := make(chan int)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for i := range work {
					off := int64(i) * partSize
					req, _ := http.NewRequest(http.MethodPut, urls[i].URL, bytes.NewReader(src[off:off+urls[i].Size]))
					req.Header.Set("Content-Type", "video/quicktime")
					req.Header.Set("x-amz-acl", "private")
					res, err := e.srv.Client().Do(req)
					if err != nil || res.StatusCode != http.StatusOK {
						b.Errorf("part %d: %v %v", i, err, res)
					}
					if res != nil {
						res.Body.Close()
					}
				}
			})
		}
		for i := range urls {
			work <- i
		}
		close(work)
		wg.Wait()
		if info, _ := e.emu.FileInfo(f["id"].(string)); info.Status != "uploaded" {
			b.Fatalf("file not uploaded: %+v", info)
		}
		e.mustStatus(e.call("DELETE", e.acct()+"/files/"+f["id"].(string), nil), http.StatusNoContent)
	}
}
