package plan

import (
	"context"
	"errors"

	"github.com/sourcegraph/conc"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// Read gathers the two inputs every plan starts from: the manifest's expansion and the state
// stored in b (nil when none was saved yet). It does both at once: each grows with the
// number of files (a walk of the tree, a decode of every entry), they are independent, and
// together they are most of a no-op plan. The caller holds b's lock.
func Read(ctx context.Context, m *manifest.Manifest, b store.Backend) (*manifest.Expansion, *state.State, error) {
	var (
		wg              conc.WaitGroup
		exp             *manifest.Expansion
		st              *state.State
		expErr, loadErr error
	)
	wg.Go(func() { exp, expErr = m.Expand() })
	wg.Go(func() { st, loadErr = b.Load(ctx) })
	wg.Wait()
	switch {
	case expErr != nil:
		return nil, nil, expErr
	case errors.Is(loadErr, store.ErrNoState):
		return exp, nil, nil
	case loadErr != nil:
		return nil, nil, loadErr
	}
	return exp, st, nil
}
