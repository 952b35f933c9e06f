package manifest

import (
	"fmt"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/source"
)

// Summary returns the one line `fiosync validate` prints for a good manifest,
// e.g. "fiosync.yaml: 3 uploads, 214 files, 61.2 GiB, 1 remote". Files and
// bytes count local files; remote sources are counted apart because their
// size is unknown until Frame.io fetches them.
func (e *Expansion) Summary(m *Manifest) string {
	var files, remote int
	var bytes int64
	for _, d := range e.Files {
		if d.Source.Kind == source.Remote {
			remote++
			continue
		}
		files++
		bytes += d.Source.Size
	}
	s := fmt.Sprintf("%s: %s, %s, %s", m.Path, display.Count(len(m.Uploads), "upload", "uploads"),
		display.Count(files, "file", "files"), display.Bytes(bytes))
	if remote > 0 {
		s += fmt.Sprintf(", %d remote", remote)
	}
	return s
}
