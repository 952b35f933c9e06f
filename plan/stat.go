package plan

import (
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state"
)

// statSource returns the local source of d from the stat taken during the manifest walk,
// without a hash.
func statSource(d manifest.Desired) state.Source {
	if d.Info == nil {
		return state.Source{Kind: state.KindLocal, Path: d.RelPath}
	}
	return state.LocalSource(d.RelPath, d.Info, state.Digest{})
}
