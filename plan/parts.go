package plan

import (
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// PartProgress is how far an interrupted upload got: parts Frame.io accepted, of all.
type PartProgress struct {
	Sent, Total int
}

// Resumable returns, by address, the progress of the interrupted local uploads of files that
// j, this machine's part journal, can resume at now (partjournal.Upload.Usable): the same
// file, by its identity in files, and part URLs still valid. It reads one journal file per
// pending entry, and nothing when st has none.
func Resumable(j *partjournal.Journal, files []manifest.Desired, st *state.State, now time.Time) map[string]PartProgress {
	if j == nil || st == nil || j.Empty() {
		return nil
	}
	var out map[string]PartProgress
	for i := range files {
		d := &files[i]
		e := st.Entries[d.Address]
		if e == nil || e.Status != state.StatusPending || e.FileID == "" || d.Source.Kind != source.Local {
			continue
		}
		up, done, err := j.Load(e.FileID)
		if err != nil || !up.Usable(now, d.Source) {
			continue
		}
		p := PartProgress{Total: len(done)}
		for _, ok := range done {
			if ok {
				p.Sent++
			}
		}
		if out == nil {
			out = map[string]PartProgress{}
		}
		out[d.Address] = p
	}
	return out
}
