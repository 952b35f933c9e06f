package statefile

import (
	"errors"
	"testing"
	"time"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

func TestEntryRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	e := &state.Entry{Source: source.Identity{Kind: source.Local, Path: "a.mov", Size: 3, ModTime: at},
		FileID: "f", ParentID: "p", Previous: []string{"o"}, Status: state.StatusPending,
		Followup: &state.Followup{Step: state.StepDelete, FileID: "o"}, CreatedAt: at}
	data, err := EncodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEntry("/a.mov", data)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(e) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("decoded %+v, want %+v in UTC", got, e)
	}
	for _, bad := range []string{`{`, `{"status":"lost","source":{"kind":"local"}}`, `{"status":"complete","source":{"kind":"local"},"extra":1}`,
		`{"status":"complete","source":{"kind":"local"},"followup":{"step":"stack"}}`} {
		if _, err := DecodeEntry("/a.mov", []byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeEntry(%s): %v, want ErrCorrupt", bad, err)
		}
	}
}
