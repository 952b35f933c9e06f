package state

import (
	"reflect"
	"testing"

	"github.com/fiosync/fiosync/source"
)

func TestApplyChange(t *testing.T) {
	s := New(Target{})
	s.Apply(PutFolders(map[string]string{"/A": "a", "/B": "b"}))
	e := &Entry{Source: source.OfURL("https://example.com/x"), FileID: "f1", Status: StatusComplete}
	c := PutEntry("/A/x.mov", e)
	e.FileID = "changed after PutEntry"
	s.Apply(c)
	c.Entries["/A/x.mov"].FileID = "changed after Apply"
	if got := s.Entries["/A/x.mov"].FileID; got != "f1" {
		t.Errorf("entry file id %q, want f1: a Change must hold and apply copies", got)
	}
	s.Apply(Change{Entries: map[string]*Entry{"/A/x.mov": nil}, Folders: map[string]string{"/B": ""}})
	if _, ok := s.Entries["/A/x.mov"]; ok {
		t.Error("a nil entry did not remove the address")
	}
	if _, ok := s.Folders["/B"]; ok || s.Folders["/A"] != "a" {
		t.Errorf("folders %v, want only /A", s.Folders)
	}
	if !(Change{}).Empty() || RemoveEntry("/x").Empty() {
		t.Error("Empty is wrong")
	}
}

// TestMerge: applying the merge of changes leaves the state that applying them in order
// leaves, a removal and a put of one address included, in either order.
func TestMerge(t *testing.T) {
	entry := func(id string) *Entry {
		return &Entry{Source: source.OfURL("https://example.com/" + id), FileID: id, Status: StatusComplete}
	}
	changes := []Change{
		PutFolders(map[string]string{"/A": "a", "/B": "b"}),
		PutEntry("/A/x.mov", entry("x1")),
		PutEntry("/A/y.mov", entry("y1")),
		{Entries: map[string]*Entry{"/A/x.mov": nil}, Folders: map[string]string{"/B": ""}},
		PutEntry("/A/x.mov", entry("x2")),
		RemoveEntry("/A/y.mov"),
		PutEntry("/A/z.mov", entry("z1")),
	}
	start := func() *State {
		s := New(Target{})
		s.Apply(PutEntry("/A/y.mov", entry("y0")))
		s.Apply(PutFolders(map[string]string{"/C": "c"}))
		return s
	}
	inOrder, merged := start(), start()
	merged.Lineage = inOrder.Lineage
	for _, c := range changes {
		inOrder.Apply(c)
	}
	m := Merge(changes...)
	merged.Apply(m)
	if !reflect.DeepEqual(inOrder, merged) {
		t.Errorf("merged %+v, in order %+v", merged, inOrder)
	}
	if len(m.Entries) != 3 || len(m.Folders) != 2 {
		t.Errorf("merge names %d addresses and %d folders, want 3 and 2", len(m.Entries), len(m.Folders))
	}
}
