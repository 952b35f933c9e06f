package state

import (
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
