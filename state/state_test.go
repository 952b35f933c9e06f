package state_test

import (
	"errors"
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

func TestCheckManifest(t *testing.T) {
	s := statetest.Sample() // records fiosync.yaml
	if err := s.CheckManifest("fiosync.yaml"); err != nil {
		t.Errorf("the manifest the state records: %v", err)
	}
	err := s.CheckManifest("day04.yaml")
	var me *state.ManifestError
	if !errors.As(err, &me) || me.Recorded != "fiosync.yaml" || me.Manifest != "day04.yaml" {
		t.Errorf("another manifest: error %#v, want a *ManifestError naming both", err)
	}
	s.Manifest = "" // written before states recorded their manifest
	if err := s.CheckManifest("day04.yaml"); err != nil {
		t.Errorf("a state that records no manifest: %v", err)
	}
}
