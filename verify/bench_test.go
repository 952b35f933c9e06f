package verify_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/state/store"
	"github.com/fiosync/fiosync/verify"
)

// BenchmarkVerifyVsDownload measures verify's throughput beside a plain loop of sequential
// ranged GETs (no hashing, no parallelism) over the same files on the same emulator, in one
// run: scripts/bench.sh prints the ratio of their MB/s. "verify" runs the defaults (4 files,
// 4 parts each at once), "verify-serial" one file and one part at a time, which isolates the
// cost of hashing and buffering from that of running many downloads on few cores.
func BenchmarkVerifyVsDownload(b *testing.B) {
	const files, size = 4, 32 << 20
	specs := map[string]int64{}
	for i := range files {
		specs[fmt.Sprintf("f%d.mov", i)] = size
	}
	d := deliver(b, testOptions(), specs, nil)
	st := d.state()
	addrs := verify.Select(st, nil)
	ctx := context.Background()

	for name, o := range map[string]verify.Options{"verify": {}, "verify-serial": {Parallel: 1, PartConcurrency: 1}} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(files * size)
			b.ReportAllocs()
			for b.Loop() {
				o.Client, o.State = d.env.Client, store.NewWriter(store.NewFile(d.statePath), d.state())
				rep, err := verify.Run(ctx, addrs, o)
				if err != nil || len(rep.Failed()) > 0 {
					b.Fatalf("verify: %v %+v", err, rep.Failed())
				}
			}
		})
	}
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(files * size)
		b.ReportAllocs()
		for b.Loop() {
			for _, a := range addrs {
				plainDownload(b, ctx, d.env.Client, st.Target.AccountID, st.Entries[a].FileID, size)
			}
		}
	})
}

// plainDownload fetches a file in sequential ranged GETs of verify's part size, discarding
// the bytes.
func plainDownload(b *testing.B, ctx context.Context, c *frameio.Client, account, id string, size int64) {
	f, err := c.FileWithMediaLinks(ctx, account, id)
	if err != nil {
		b.Fatal(err)
	}
	for off := int64(0); off < size; off += verify.DefaultPartSize {
		n := min(verify.DefaultPartSize, size-off)
		if _, err := c.Download(ctx, f.MediaLinks.Original.DownloadURL, off, n, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
