package plan

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// DefaultParallel is the number of files Identify hashes at once when given 0.
const DefaultParallel = 4

// identifyLocal is source.Identify; tests wrap it to count the files that are read.
var identifyLocal = source.Identify

// Identify completes the identity of every desired file in place, reading as little as it
// can. A remote source's identity is complete from the manifest. A local file carries the
// stat of the walk, and Identify gives it a hash only when the state tracks it as complete
// with the same size: a file that source.Unchanged says is unchanged keeps the recorded hash
// without being read, and one it cannot vouch for is hashed. A file whose size changed is
// changed without a hash, and a new file is left for apply to hash while it uploads.
//
// At most parallel files are hashed at once (DefaultParallel when parallel is below 1).
func Identify(ctx context.Context, files []manifest.Desired, st *state.State, parallel int) error {
	return IdentifyWith(ctx, files, st, IdentifyOptions{Parallel: parallel})
}

// IdentifyOptions tune IdentifyWith.
type IdentifyOptions struct {
	// Parallel is the files hashed at once; below 1 it means DefaultParallel.
	Parallel int
	// Progress, when set, is told when hashing begins and of each file hashed (StepHash).
	Progress StepFunc
	// Tracked, when it has one slot per file, is filled with each file's state entry (nil
	// for none) as IdentifyWith looks them up, for Inputs.Tracked: Build then looks none of
	// them up again (at 100,000 files, a lookup that misses the cache per file).
	Tracked []*state.Entry
}

// IdentifyWith is Identify with options: a progress report besides the parallelism.
func IdentifyWith(ctx context.Context, files []manifest.Desired, st *state.State, opts IdentifyOptions) error {
	parallel := opts.Parallel
	if parallel < 1 {
		parallel = DefaultParallel
	}
	items, index := settle(files, st, opts.Tracked)
	sopts := source.IdentifyOptions{Parallel: parallel}
	if opts.Progress != nil {
		sopts.Progress = func(done, total int, bytes, totalBytes int64) {
			opts.Progress(Step{Name: StepHash, Done: done, Total: total, Bytes: bytes, TotalBytes: totalBytes})
		}
	}
	if err := identifyLocal(ctx, items, sopts); err != nil {
		return fmt.Errorf("identify local files: %w", err)
	}
	for j, it := range items {
		files[index[j]].Source = it.Identity
	}
	return nil
}

// settleChunk is the fewest files settle gives a goroutine of its own.
const settleChunk = 16384

// settle looks each local file up in st and settles by its stat those the stat cache vouches
// for, as source.Identify would; it returns the rest as items to identify, with index[j] the
// file of items[j], and fills tracked (when it has one slot per file) with the entries found.
// Each lookup is likely a cache miss, so at 100,000 files the files are split over the cores.
func settle(files []manifest.Desired, st *state.State, tracked []*state.Entry) (items []source.Item, index []int) {
	if st == nil {
		return nil, nil
	}
	track := len(tracked) == len(files)
	workers := max(1, min(runtime.GOMAXPROCS(0), len(files)/settleChunk))
	per := (len(files) + workers - 1) / workers
	type part struct {
		items []source.Item
		index []int
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(files))
		wg.Go(func() {
			p := &parts[w]
			for i := lo; i < hi; i++ {
				d := &files[i]
				e := st.Entries[d.Address]
				if track {
					tracked[i] = e
				}
				if d.Source.Kind != source.Local || e == nil || e.Status != state.StatusComplete || e.Source.Kind != source.Local || e.Source.Size != d.Source.Size {
					continue
				}
				prev := &e.Source // read only
				if source.Reuse(d.StatRule, prev, &d.Source) {
					// The usual case, settled here as source.Identify would, without an item for
					// it (a no-op plan over many files is mostly these).
					continue
				}
				p.items = append(p.items, source.Item{Path: d.Path, Identity: d.Source, Prev: prev, Rule: d.StatRule})
				p.index = append(p.index, i)
			}
		})
	}
	wg.Wait()
	for _, p := range parts {
		items, index = append(items, p.items...), append(index, p.index...)
	}
	return items, index
}
