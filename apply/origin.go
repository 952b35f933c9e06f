package apply

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
)

// origin is what apply reads for a change: a local file, or the URL Frame.io fetches.
type origin struct {
	// path is the local file to open: the change's source path below the manifest's
	// directory.
	path string
	// rel is the source path as the plan and the state record it, for messages.
	rel string
	// url is the remote source, query string included (it is never in a plan).
	url string
}

// originOf resolves what ch reads. A local change carries its source path relative to the
// manifest's directory; a remote change carries only the URL without its query, so the URL
// itself comes from the manifest's entry for the address and must hash to what the plan
// recorded. A saved plan is held to the manifest's current expansion before it is applied
// (plan.CheckStale), so the path is one the manifest produces for the address.
func originOf(m *manifest.Manifest, ch plan.Change) (origin, error) {
	switch ch.Kind {
	case source.Local:
		rel := ch.Source.Path
		if rel == "" || strings.Contains(rel, "\x00") {
			return origin{}, fmt.Errorf("locate source of %q: the plan gives no source path", ch.Address)
		}
		path := filepath.FromSlash(rel)
		if !filepath.IsAbs(path) { // only a source outside the manifest's directory is absolute
			path = filepath.Join(m.Dir, path)
		}
		return origin{path: path, rel: rel}, nil
	case source.Remote:
		u, ok := m.RemoteURL(ch.Address)
		if !ok {
			return origin{}, fmt.Errorf("locate source of %q: the manifest has no remote entry for it; run fiosync plan again", ch.Address)
		}
		if !ch.Source.URLHash.IsZero() && source.HashURL(u) != ch.Source.URLHash {
			return origin{}, fmt.Errorf("check source %s: the URL changed since the plan was made; run fiosync plan again", source.StripQuery(u))
		}
		return origin{url: u}, nil
	}
	return origin{}, fmt.Errorf("upload %q: unknown kind %q", ch.Address, ch.Kind)
}
