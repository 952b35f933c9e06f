package plan

import (
	"context"
	"fmt"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state"
)

// DefaultParallel is the number of files Identify hashes at once when given 0.
const DefaultParallel = 4

// identifyLocal is state.Identify; tests wrap it to count the files that are read.
var identifyLocal = state.Identify

// Identify returns the identity of every desired file, that of files[i] at index i, reading
// as little as it can. A remote source is its URL without the query and the BLAKE3 of the
// whole URL. A local file carries its stat, and a hash only when the state tracks it as
// complete with the same size: a file whose stat matches the recorded one keeps the recorded
// hash without being read, and one whose stat changed is hashed (state.Identify). A file whose
// size changed is changed without a hash, and a new file is left for apply to hash while it
// uploads.
//
// At most parallel files are hashed at once (DefaultParallel when parallel is below 1).
func Identify(ctx context.Context, files []manifest.Desired, st *state.State, parallel int) ([]state.Source, error) {
	if parallel < 1 {
		parallel = DefaultParallel
	}
	out := make([]state.Source, len(files))
	var items []state.IdentifyItem
	var index []int // index[j] is the file of items[j]
	for i, d := range files {
		if d.Kind == manifest.Remote {
			out[i] = state.RemoteSource(d.URL)
			continue
		}
		var prev *state.Source
		if st != nil {
			if e := st.Entries[d.Address]; e != nil && e.Status == state.StatusComplete &&
				e.Source.Kind == state.KindLocal && (d.Info == nil || e.Source.Size == d.Info.Size()) {
				prev = &e.Source // read only, by Matches and state.Identify
			}
		}
		if src, ok := prev.Reuse(d.Info, d.RelPath); ok {
			// The usual case, settled here as state.Identify would, without an item for it
			// (a no-op plan over many files is mostly these).
			out[i] = src
			continue
		}
		items = append(items, state.IdentifyItem{Path: d.Path, Rel: d.RelPath, Info: d.Info, Prev: prev})
		index = append(index, i)
	}
	err := identifyLocal(ctx, items, state.IdentifyOptions{Parallel: parallel, SkipNew: true})
	if err != nil {
		return nil, fmt.Errorf("identify local files: %w", err)
	}
	for j, it := range items {
		out[index[j]] = it.Source
	}
	return out, nil
}
