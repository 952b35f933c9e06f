package statefile

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

// trickyState holds what the fast decoder has to get right besides the common case: escaped
// and non-ASCII strings, remote and pending entries, version stacks, previous ids, zero and
// fractional times, numbers at their limits.
func trickyState() *state.State {
	s := state.New(state.Target{AccountID: "a", WorkspaceID: "w", ProjectID: "p", RootFolderID: "r", Project: `Smith & Jones "Dailies" <2026>`,
		Account: "Acme \u00e9 \\ Post", Workspace: "Post\tHouse"})
	s.Serial = 1<<64 - 1
	s.Manifest = `../dé livery/"day 04".yaml`
	s.Folders["/Été/caf\u00e9"] = "f-1"
	s.Folders["/tab\there"] = "f-2"
	s.Folders["/line\u2028sep"] = "f-3"
	frac := time.Date(2024, 2, 29, 23, 59, 59, 100, time.UTC)
	s.Entries["/Été/café/クリップ 🎬.mov"] = &state.Entry{
		Source: source.Identity{Kind: source.Local, Path: `media/back\slash/"quoted".mov`, Size: 1<<63 - 1,
			ModTime: frac, Inode: 1<<64 - 1, Ctime: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Hash: source.Digest{0xff, 1}},
		FileID: "file-1", ParentID: "f-1", ViewURL: "https://next.frame.io/project/p/view/file-1?x=\u00e9&y=\"q\"", VersionStackID: "vs-1", Previous: []string{"old-1", "old-2"},
		Status: state.StatusComplete, CreatedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), UploadedAt: frac,
		Followup:   &state.Followup{Step: state.StepStack, FileID: "old-2"},
		VerifiedAt: frac, VerifiedFileID: "file-1", VerifiedSize: -1, VerifiedHash: source.Digest{0xfe},
		VerifyFailedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	}
	s.Entries["/remote.mp4"] = &state.Entry{
		Source: source.OfURL("https://cdn.example.com/a.mp4?X-Amz-Signature=secret"),
		FileID: "file-2", ParentID: "r", Status: state.StatusPending,
	}
	s.Entries["/empty.mov"] = &state.Entry{Source: source.Identity{Kind: source.Local, Path: "empty.mov"}, Status: state.StatusComplete}
	s.Entries["/moved/here.mov"] = &state.Entry{Source: source.Identity{Kind: source.Local, Path: "moved/here.mov", Size: 9},
		FileID: "file-3", ParentID: "f-2", Status: state.StatusComplete, Followup: &state.Followup{Step: state.StepMove, FileID: "file-3"}}
	return s
}

// TestDecodeFastMatchesJSON: every document Encode writes is read by the fast decoder, and
// to the same document the general decoder reads.
func TestDecodeFastMatchesJSON(t *testing.T) {
	golden, err := os.ReadFile("testdata/state.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile("testdata/state.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"golden": golden, "format 1": v1}
	for name, s := range map[string]*state.State{
		"empty":  state.New(state.Target{AccountID: "a"}),
		"big":    statetest.Big(200),
		"tricky": trickyState(),
	} {
		data, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = data
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			fast, ok := decodeFast(string(data), false)
			if !ok {
				t.Fatal("the fast decoder gave up on a document Encode wrote")
			}
			slow, err := decodeJSON(string(data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("fast and general decoders disagree (-general +fast):\n%s", cmp.Diff(slow, fast))
			}
		})
	}
}

// TestDecodeFastGivesUp: on what it is not sure of, the fast decoder leaves the decision (and
// the error message) to the general decoder.
func TestDecodeFastGivesUp(t *testing.T) {
	valid := `{"version": 1, "serial": 2, "lineage": "l", "target": {"account_id": "a"}, "folders": {}, ` +
		`"entries": {"/a": {"source": {"kind": "local", "size": 5, "mtime": "2026-11-26T09:00:00.5Z"}, "status": "complete"}}}`
	if _, ok := decodeFast(valid, false); !ok {
		t.Fatalf("the fast decoder gave up on the base document %s", valid)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"null", `"lineage": "l"`, `"lineage": null`},
		{"unknown member", `"serial": 2`, `"serial": 2, "extra": 1`},
		{"repeated member", `"serial": 2`, `"serial": 2, "serial": 3`},
		{"repeated folder", `"folders": {}`, `"folders": {"/x": "1", "/x": "2"}`},
		{"repeated entry", `"entries": {`, `"entries": {"/a": {}, `},
		{"case of a name", `"serial": 2`, `"Serial": 2`},
		{"fraction", `"serial": 2`, `"serial": 2.0`},
		{"exponent", `"serial": 2`, `"serial": 2e0`},
		{"leading zero", `"serial": 2`, `"serial": 02`},
		{"negative zero", `"size": 5`, `"size": -0`},
		{"space after the sign", `"size": 5`, `"size": - 5`},
		{"newline after the sign", `"size": 5`, "\"size\": -\n5"},
		{"negative unsigned", `"serial": 2`, `"serial": -2`},
		{"overflow", `"serial": 2`, `"serial": 18446744073709551616`},
		{"int overflow", `"size": 5`, `"size": 9223372036854775808`},
		{"offset", `09:00:00.5Z`, `09:00:00.5+00:00`},
		{"lower-case z", `09:00:00.5Z`, `09:00:00.5z`},
		{"no such day", `2026-11-26`, `2026-11-31`},
		{"not a leap year", `2026-11-26`, `2026-02-29`},
		{"hour 24", `T09:`, `T24:`},
		{"ten fractional digits", `.5Z`, `.5000000000Z`},
		{"empty fraction", `.5Z`, `.Z`},
		{"year zero", `2026-11-26`, `0000-11-26`},
		{"short digest", `"lineage": "l"`, `"lineage": "l", "checksum": "blake3:00"`},
		{"control character", `"lineage": "l"`, "\"lineage\": \"l\x01\""},
		{"invalid UTF-8", `"lineage": "l"`, "\"lineage\": \"l\xff\""},
		{"unterminated", `"lineage": "l"`, `"lineage": "l`},
		{"trailing comma", `"folders": {}`, `"folders": {"/x": "1",}`},
		{"trailing data", `}}}`, `}}} {}`},
		{"array for object", `"folders": {}`, `"folders": []`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.old) {
				t.Fatalf("the base document has no %q", tc.old)
			}
			data := strings.Replace(valid, tc.old, tc.new, 1)
			if doc, ok := decodeFast(data, false); ok {
				t.Errorf("the fast decoder accepted %s as %+v", data, doc)
			}
		})
	}
}

// FuzzDecodeFast: whatever the fast decoder accepts, the general decoder accepts too, with the
// same result.
func FuzzDecodeFast(f *testing.F) {
	golden, err := os.ReadFile("testdata/state.golden.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	tricky, err := Encode(trickyState())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tricky)
	f.Add([]byte(`{"version": 1, "entries": {"/a": {"source": {"size": -12, "mtime": "2024-02-29T00:00:00.000000001Z"}, "previous": []}}}`))
	f.Add([]byte(`{"serial": 18446744073709551615, "folders": {"/\u00e9": "x"}}`))
	f.Add([]byte(`{"version": -1, "entries": {"/a": {"source": {"size": -9223372036854775808}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeFast(string(data), false)
		if !ok {
			return
		}
		slow, err := decodeJSON(string(data))
		if err != nil {
			t.Fatalf("the fast decoder accepted what the general one refuses (%v):\n%q", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("fast and general decoders disagree on %q (-general +fast):\n%s", data, cmp.Diff(slow, fast))
		}
	})
}

// TestTrickyStateHasEveryMember: the fast decoder names the members of each type by hand, and
// TestDecodeFastMatchesJSON can only catch a name it forgot, or one renamed since, in a
// document that holds it. trickyState's must hold every member of every type.
func TestTrickyStateHasEveryMember(t *testing.T) {
	data, err := Encode(trickyState())
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[document](), reflect.TypeFor[state.State](), reflect.TypeFor[state.Target](), reflect.TypeFor[state.Entry](), reflect.TypeFor[state.Followup](), reflect.TypeFor[source.Identity]()} {
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || name == "-" {
				continue
			}
			if !strings.Contains(string(data), `"`+name+`": `) {
				t.Errorf("trickyState's encoding has no member %q (%s.%s): set it, so that the fast decoder is tested on it", name, typ.Name(), f.Name)
			}
		}
	}
}

// TestPlainRun holds plainRun, which tests eight bytes at a time, to the plain table: every
// byte value at every position of a word, and in the tail after the words.
func TestPlainRun(t *testing.T) {
	for c := range 256 {
		for at := range 19 {
			b := []byte(strings.Repeat("a", 19))
			b[at] = byte(c)
			if got, want := plainRun(string(b)), plain[c]; got != want {
				t.Errorf("byte %#02x at %d of %d: plainRun %v, want %v", c, at, len(b), got, want)
			}
		}
	}
}

// TestDecodeLent: a state decoded from a lent document keeps nothing of it: scribbled over
// afterwards (as an unmapped or reused buffer would be), the state is still the one a copy
// of the document decodes to.
func TestDecodeLent(t *testing.T) {
	s := statetest.Big(300)
	s.Folders["/Dailies"] = "folder-1"
	s.Entries["/Dailies/day01/escaped \"name\".mov"] = s.Entries["/Dailies/day01/A-Cam/A001C001.mov"].Clone()
	data, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	want, wantSum, err := DecodeString(string(data))
	if err != nil {
		t.Fatal(err)
	}
	lent := bytes.Clone(data)
	got, gotSum, err := DecodeLent(unsafe.String(&lent[0], len(lent)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range lent {
		lent[i] = '#'
	}
	if gotSum != wantSum {
		t.Errorf("checksum %s, want %s", gotSum, wantSum)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the lent document's state changed with the document (-want +got):\n%s", diff)
	}
}
