package state

import (
	"testing"
	"time"

	"github.com/fiosync/fiosync/source"
)

func TestEntryEqual(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	e := &Entry{Source: source.Identity{Kind: source.Local, Path: "a", Size: 1, ModTime: at}, FileID: "f",
		Status: StatusComplete, Previous: []string{"p"}, Followup: &Followup{Step: StepStack, FileID: "p"}, UploadedAt: at}
	o := e.Clone()
	o.Source.ModTime = at.In(time.FixedZone("x", 3600))
	o.UploadedAt = at.In(time.FixedZone("y", -3600))
	if !e.Equal(o) || !(*Entry)(nil).Equal(nil) || e.Equal(nil) {
		t.Error("equal entries differ")
	}
	for _, change := range []func(*Entry){
		func(c *Entry) { c.FileID = "g" },
		func(c *Entry) { c.Previous = nil },
		func(c *Entry) { c.Followup = nil },
		func(c *Entry) { c.Followup.FileID = "q" },
		func(c *Entry) { c.Source.Size = 2 },
		func(c *Entry) { c.Status = StatusPending },
		func(c *Entry) { c.UploadedAt = at.Add(1) },
	} {
		c := e.Clone()
		change(c)
		if e.Equal(c) {
			t.Errorf("entries that differ are equal: %+v", c)
		}
	}
}
