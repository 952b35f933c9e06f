package statefile

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

// TestEncodeMatchesEncodingJSON: Encode writes with json/v2 for speed, but the bytes must be
// those of encoding/json's MarshalIndent, the form the format was defined in, including its
// escapes of <, >, & and U+2028.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range []*state.State{statetest.Sample(), statetest.Big(50)} {
		s.Entries["/x<&>\u2028é"] = &state.Entry{Source: source.Identity{Kind: source.Remote, URL: "https://a/b?c<d"}, Status: state.StatusComplete, Previous: []string{"a"}}
		c, err := normalize(s, state.FormatVersion)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := decodeDocument(string(got), false)
		if err != nil {
			t.Fatal(err)
		}
		prefix, ok := bytes.CutSuffix(got, checksumTail(doc.Checksum))
		if !ok {
			t.Fatalf("Encode output has no checksum tail:\n%s", got)
		}
		if !bytes.Equal(append(prefix, "\n}"...), want) {
			t.Errorf("Encode differs from encoding/json.MarshalIndent:\n got %q\nwant %q", prefix, want)
		}
	}
}
