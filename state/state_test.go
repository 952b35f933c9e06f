package state_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

func TestNew(t *testing.T) {
	a, b := state.New(state.Target{ProjectID: "p"}), state.New(state.Target{ProjectID: "p"})
	if a.Lineage == b.Lineage || len(a.Lineage) != 36 {
		t.Errorf("lineages %q and %q: want two different UUIDs", a.Lineage, b.Lineage)
	}
	if a.Serial != 0 || a.Version != state.FormatVersion || a.Folders == nil || a.Entries == nil {
		t.Errorf("New = %+v, want serial 0, current version, empty maps", a)
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := statetest.Sample()
	c := s.Clone()
	c.Folders["/New"] = "x"
	c.Entries["/Dailies/A-Cam/A001.mov"].Previous[0] = "changed"
	c.Entries["/Dailies/A-Cam/A001.mov"].FileID = "changed"
	if diff := cmp.Diff(statetest.Sample(), s); diff != "" {
		t.Errorf("changing a clone changed the original (-want +got):\n%s", diff)
	}
}
