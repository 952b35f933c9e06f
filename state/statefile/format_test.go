package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestEncodeGolden(t *testing.T) {
	got, err := Encode(statetest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "state.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Encode mismatch (-want +got):\n%s", diff)
	}
	if bytes.Contains(got, []byte("secret")) || bytes.Contains(got, []byte("Signature")) {
		t.Errorf("encoded state contains the URL's query string:\n%s", got)
	}
	again, err := Encode(statetest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("two encodings of the same state differ")
	}
}

func TestRoundTrip(t *testing.T) {
	in := statetest.Sample()
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	// cmp compares time.Time with Equal, so the zone change does not count.
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("Decode(Encode(s)) mismatch (-want +got):\n%s", diff)
	}
	if loc := got.Entries["/Dailies/A-Cam/A001.mov"].CreatedAt.Location(); loc != time.UTC {
		t.Errorf("decoded time in %v, want UTC", loc)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, err := Encode(statetest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	badStatus := statetest.Sample()
	badStatus.Entries["/Reels/reel.mp4"].Status = "uploading"
	badStatusData, err := Encode(badStatus)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("golden encoding lacks %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name string
		data []byte
		is   error
		msg  string
	}{
		{"checksum mismatch", replace(`"file_id": "file-1"`, `"file_id": "file-9"`), ErrCorrupt, "checksum mismatch"},
		{"truncated", good[:len(good)/2], ErrCorrupt, "parse JSON"},
		{"empty", nil, ErrCorrupt, "parse JSON"},
		{"not JSON", []byte("version = 1\n"), ErrCorrupt, "parse JSON"},
		{"newer version", replace(`"version": 3,`, `"version": 4,`), ErrNewerFormat, "written by a newer fiosync (format 4, this fiosync reads up to 3); upgrade fiosync"},
		{"version zero", replace(`"version": 3,`, `"version": 0,`), ErrCorrupt, "unknown format version 0"},
		{"no version", replace(`"version": 3,`, ``), ErrCorrupt, `no "version" field`},
		{"unknown top-level field", replace(`"serial": 0,`, `"serial": 0, "owner": "x",`), ErrCorrupt, `unknown field "owner"`},
		{"unknown entry field", replace(`"file_id": "file-1",`, `"file_id": "file-1", "token": "t",`), ErrCorrupt, `unknown field "token"`},
		{"no checksum", replace(`"checksum"`, `"checksun"`), ErrCorrupt, `unknown field "checksun"`},
		{"trailing data", append(bytes.Clone(good), "{}\n"...), ErrCorrupt, "parse JSON"},
		{"unknown status", badStatusData, ErrCorrupt, `unknown status "uploading"`},
		{"re-indented", bytes.ReplaceAll(good, []byte("\n  "), []byte("\n\t")), ErrCorrupt, "edited by hand"},
		{"checksum moved", moveChecksumFirst(t, good), ErrCorrupt, "the checksum is not the last field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Decode(tt.data)
			if err == nil {
				t.Fatalf("Decode succeeded with serial %d, want an error", s.Serial)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("Decode error %q does not match %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Decode error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// TestUpgradeFormat1: a state written before states recorded their manifest (format 1)
// loads as the same state without a manifest, and is written back as the current format;
// a damaged format 1 document is refused as damaged, not upgraded.
func TestUpgradeFormat1(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "state.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(v1, []byte("{\n  \"version\": 1,\n")) {
		t.Fatalf("testdata/state.v1.json is not a format 1 state:\n%s", v1)
	}
	got, err := Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	want := statetest.Sample()
	want.Manifest = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("format 1 decoded (-want +got):\n%s", diff)
	}
	again, err := Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(again, []byte("{\n  \"version\": 3,\n")) {
		t.Errorf("an upgraded state is written as:\n%s", again)
	}
	for name, bad := range map[string][]byte{
		"checksum mismatch": bytes.Replace(v1, []byte(`"file-1"`), []byte(`"file-9"`), 1),
		"manifest member":   bytes.Replace(v1, []byte(`"serial": 0,`), []byte(`"serial": 0, "manifest": "x.yaml",`), 1),
	} {
		if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode error %v, want ErrCorrupt", name, err)
		}
	}
}

// TestUpgradeFormat2: a state written before verify recorded its results (format 2) loads as
// the same state with nothing verified and is written back as format 3; a format 2 document
// holding verify results, or damaged, is refused as damaged.
func TestUpgradeFormat2(t *testing.T) {
	v2, err := os.ReadFile(filepath.Join("testdata", "state.v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(v2, []byte("{\n  \"version\": 2,\n")) {
		t.Fatalf("testdata/state.v2.json is not a format 2 state:\n%s", v2)
	}
	got, err := Decode(v2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(statetest.Sample(), got); diff != "" {
		t.Errorf("format 2 decoded (-want +got):\n%s", diff)
	}
	again, err := Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(again, []byte("{\n  \"version\": 3,\n")) {
		t.Errorf("an upgraded state is written as:\n%s", again)
	}
	for name, bad := range map[string][]byte{
		"checksum mismatch": bytes.Replace(v2, []byte(`"file-1"`), []byte(`"file-9"`), 1),
		"verify member":     bytes.Replace(v2, []byte(`"file_id": "file-1",`), []byte(`"file_id": "file-1", "verified_at": "2026-12-01T00:00:00Z",`), 1),
	} {
		if !bytes.Contains(v2, []byte(`"file_id": "file-1",`)) {
			t.Fatal("testdata/state.v2.json has no file-1")
		}
		if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode error %v, want ErrCorrupt", name, err)
		}
	}
}

func TestUpgrade(t *testing.T) {
	raw := []byte(`{"version":1}`)
	got, err := upgrade(raw, state.FormatVersion)
	if err != nil || !bytes.Equal(got, raw) {
		t.Errorf("upgrade at the current version = %q, %v; want the input unchanged", got, err)
	}
	if _, err := upgrade(raw, -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("upgrade from -1: error %v, want ErrCorrupt", err)
	}
}

// moveChecksumFirst returns data with its checksum member moved to the front: the same
// JSON object, laid out differently from what Encode writes.
func moveChecksumFirst(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(data, []byte(",\n  \"checksum\""))
	if i < 0 {
		t.Fatalf("no checksum member in %s", data)
	}
	member := bytes.TrimSuffix(data[i+len(",\n"):], []byte("\n}\n"))
	out := append([]byte("{\n"), member...)
	out = append(out, ',')
	out = append(out, data[len("{"):i]...)
	return append(out, "\n}\n"...)
}

func TestEntryJSON(t *testing.T) {
	s := statetest.Sample()
	data, err := EntryJSON(s, "/Reels/reel.mp4")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "address": "/Reels/reel.mp4",
  "source": {
    "kind": "remote",
    "url": "https://cdn.example.com/reel.mp4",
    "url_hash": "blake3:6a727a24fd2d9eabbc830e11a8a8cc663024eedd6f6af93a414b459bc3d5b481"
  },
  "file_id": "file-2",
  "parent_id": "folder-3",
  "status": "pending",
  "created_at": "2026-11-26T12:00:00Z"
}
`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("EntryJSON mismatch (-want +got):\n%s", diff)
	}
	local, err := EntryJSON(s, "/Dailies/A-Cam/A001.mov")
	if err != nil {
		t.Fatal(err)
	}
	var back state.Entry
	if err := json.Unmarshal(local, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Entries["/Dailies/A-Cam/A001.mov"], &back); diff != "" {
		t.Errorf("EntryJSON does not round-trip (-want +got):\n%s", diff)
	}
	if _, err := EntryJSON(s, "/nope"); !errors.Is(err, state.ErrNoEntry) {
		t.Errorf("EntryJSON of a missing address: error %v, want ErrNoEntry", err)
	}
}
