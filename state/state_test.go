package state

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleState returns a state with one local and one remote entry and fixed
// values throughout, so its encoding is stable. Times are in a non-UTC zone
// to check that they are written in UTC.
func sampleState() *State {
	zone := time.FixedZone("CET", 3600)
	s := New(Target{AccountID: "acc", WorkspaceID: "ws", ProjectID: "proj", RootFolderID: "root", Project: "Sandbox"})
	s.Lineage = "5f0c6b1e-8d2a-4c1b-9e3f-2a7d4b6c8e01"
	s.Folders["/Dailies"] = "folder-1"
	s.Folders["/Dailies/A-Cam"] = "folder-2"
	s.Entries["/Dailies/A-Cam/A001.mov"] = &Entry{
		Source: Source{
			Kind:    KindLocal,
			Path:    "media/A001.mov",
			Size:    1234567,
			ModTime: time.Date(2026, 11, 26, 10, 0, 0, 123456789, zone),
			Inode:   4242,
			Ctime:   time.Date(2026, 11, 26, 10, 0, 1, 0, zone),
			Hash:    HashURL("pretend content"),
		},
		FileID:     "file-1",
		ParentID:   "folder-2",
		Previous:   []string{"file-0"},
		Status:     StatusComplete,
		CreatedAt:  time.Date(2026, 11, 26, 11, 0, 0, 0, zone),
		UploadedAt: time.Date(2026, 11, 26, 11, 5, 0, 0, zone),
	}
	s.Entries["/Reels/reel.mp4"] = &Entry{
		Source:    RemoteSource("https://cdn.example.com/reel.mp4?X-Amz-Signature=secret"),
		FileID:    "file-2",
		ParentID:  "folder-3",
		Status:    StatusPending,
		CreatedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
	}
	return s
}

func TestEncodeGolden(t *testing.T) {
	got, err := Encode(sampleState())
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
	again, err := Encode(sampleState())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("two encodings of the same state differ")
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleState()
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
	good, err := Encode(sampleState())
	if err != nil {
		t.Fatal(err)
	}
	badStatus := sampleState()
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
		{"newer version", replace(`"version": 1,`, `"version": 2,`), ErrNewerFormat, "written by a newer fiosync (format 2, this fiosync reads up to 1); upgrade fiosync"},
		{"version zero", replace(`"version": 1,`, `"version": 0,`), ErrCorrupt, "unknown format version 0"},
		{"no version", replace(`"version": 1,`, ``), ErrCorrupt, `no "version" field`},
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

func TestUpgrade(t *testing.T) {
	raw := []byte(`{"version":1}`)
	got, err := upgrade(raw, FormatVersion)
	if err != nil || !bytes.Equal(got, raw) {
		t.Errorf("upgrade at the current version = %q, %v; want the input unchanged", got, err)
	}
	if _, err := upgrade(raw, -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("upgrade from -1: error %v, want ErrCorrupt", err)
	}
}

func TestNew(t *testing.T) {
	a, b := New(Target{ProjectID: "p"}), New(Target{ProjectID: "p"})
	if a.Lineage == b.Lineage || len(a.Lineage) != 36 {
		t.Errorf("lineages %q and %q: want two different UUIDs", a.Lineage, b.Lineage)
	}
	if a.Serial != 0 || a.Version != FormatVersion || a.Folders == nil || a.Entries == nil {
		t.Errorf("New = %+v, want serial 0, current version, empty maps", a)
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := sampleState()
	c := s.Clone()
	c.Folders["/New"] = "x"
	c.Entries["/Dailies/A-Cam/A001.mov"].Previous[0] = "changed"
	c.Entries["/Dailies/A-Cam/A001.mov"].FileID = "changed"
	if diff := cmp.Diff(sampleState(), s); diff != "" {
		t.Errorf("changing a clone changed the original (-want +got):\n%s", diff)
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
