package mhl_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiosync/fiosync/mhl"
)

// The vectors of the reference implementation's tests/test_hasher.py for the 15 bytes
// "media-hash-list", and the C4 spec's published example for "alfa".
func TestHashVectors(t *testing.T) {
	in := []byte("media-hash-list")
	want := map[mhl.Format]string{
		mhl.MD5:    "9db0fc9f30f5ee70041a7538809e2858",
		mhl.SHA1:   "7b57673ac5633937a55b59009ad0c57ee08188b7",
		mhl.XXH64:  "584b2ea1974f2b7c",
		mhl.XXH3:   "6d4cbd75905c81aa",
		mhl.XXH128: "61a67c014f703a456ee7a776fd8c06bd",
		mhl.C4:     "c456LycWwpMMS7VDZEKvYv2L1uJS6s4qAFnaJdnQiy5JVbBFZMA8aLDS6SPaJjLqxXH4qZdnbuktopMt9frtC2qL1R",
	}
	for f, w := range want {
		if got := mhl.Sum(f, in); got != w {
			t.Errorf("%s = %s, want %s", f, got, w)
		}
	}
	// All at once, written in pieces, gives the same.
	h := mhl.NewHasher(mhl.Formats...)
	for i := range in {
		h.Write(in[i : i+1])
	}
	for f, w := range want {
		if got := h.Sum(f); got != w {
			t.Errorf("one pass: %s = %s, want %s", f, got, w)
		}
	}
	if got, w := mhl.Sum(mhl.C4, []byte("alfa")), "c43zYcLni5LF9rR4Lg4B8h3Jp8SBwjcnyyeh4bc6gTPHndKuKdjUWx1kJPYhZxYt3zV6tQXpDs2shPsPYjgG81wZM1"; got != w {
		t.Errorf("c4(alfa) = %s, want %s", got, w)
	}
	// A digest with leading zero digits pads with '1'.
	if got := mhl.Sum(mhl.C4, nil); len(got) != 90 || !strings.HasPrefix(got, "c4") {
		t.Errorf("c4 of nothing = %q, want 90 characters", got)
	}
	// Longer inputs take XXH3's other code paths; the two XXH3 sums come from one state.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	both := mhl.NewHasher(mhl.XXH3, mhl.XXH128)
	both.Write(big)
	if both.Sum(mhl.XXH3) != mhl.Sum(mhl.XXH3, big) || both.Sum(mhl.XXH128) != mhl.Sum(mhl.XXH128, big) {
		t.Error("xxh3 and xxh128 from one hasher differ from each alone")
	}
	if both.Sum(mhl.MD5) != "" {
		t.Error("a hasher answers a format it does not compute")
	}
}

func scenario(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "scenarios", name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLoadScenario01(t *testing.T) {
	root := filepath.Join(scenario(t, "scenario_01/travel_01"), "A002R2EC")
	h, err := mhl.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Generations) != 1 || h.Generations[0].Process != "in-place" {
		t.Fatalf("generations = %+v", h.Generations)
	}
	recs := h.Records()
	if len(recs) != 3 {
		t.Fatalf("records = %+v", recs)
	}
	for _, r := range recs {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(r.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Size != int64(len(data)) {
			t.Errorf("%s: size %d, file has %d", r.Path, r.Size, len(data))
		}
		if got := mhl.Sum(mhl.XXH64, data); got != r.Hashes[mhl.XXH64] {
			t.Errorf("%s: xxh64 %s, history has %s", r.Path, got, r.Hashes[mhl.XXH64])
		}
		if want := time.Date(2020, 1, 15, 13, 0, 0, 0, time.UTC); !r.ModTime.Equal(want) {
			t.Errorf("%s: mtime %v", r.Path, r.ModTime)
		}
	}
}

// A later generation that recorded a failed hash does not replace the original record.
func TestLoadFailedHashKeepsOriginal(t *testing.T) {
	root := filepath.Join(scenario(t, "scenario_04/file_server"), "A002R2EC")
	h, err := mhl.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := h.Lookup("Sidecar.txt")
	if !ok || r.Size != 58 || r.Hashes[mhl.XXH64] != "3ab5a4166b9bde44" || !strings.HasPrefix(r.From, "0001_") {
		t.Fatalf("Sidecar.txt = %+v, %v; want generation 1's record", r, ok)
	}
}

// A parent history does not list its nested histories' files; Finder picks the nearest.
func TestNested(t *testing.T) {
	reels := filepath.Join(scenario(t, "scenario_05/file_server"), "Reels")
	h, err := mhl.Load(reels)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Lookup("Summary.txt"); !ok {
		t.Error("Summary.txt not in the parent history")
	}
	if _, ok := h.Lookup("A002R2EC/Sidecar.txt"); ok {
		t.Error("a nested file is in the parent history")
	}
	f := mhl.NewFinder()
	for file, want := range map[string]string{
		"Summary.txt":                             reels,
		"A002R2EC/Sidecar.txt":                    filepath.Join(reels, "A002R2EC"),
		"A003R2EC/Clips/A003C011_141024_R2EC.mov": filepath.Join(reels, "A003R2EC"),
		"A003R2EC/ascmhl/ascmhl_chain.xml":        "",
	} {
		if got := f.Root(filepath.Join(reels, file)); got != want {
			t.Errorf("Root(%s) = %q, want %q", file, got, want)
		}
	}
	for _, card := range []string{"A002R2EC", "A003R2EC"} {
		ch, err := mhl.Load(filepath.Join(reels, card))
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Generations) != 2 {
			t.Errorf("%s: %d generations, want 2", card, len(ch.Generations))
		}
	}
}

func TestTampered(t *testing.T) {
	gen := "ascmhl/0001_A002R2EC_2020-01-16_091500Z.mhl"
	cases := map[string]func(t *testing.T, root string){
		"generation edited": func(t *testing.T, root string) {
			p := filepath.Join(root, gen)
			b, _ := os.ReadFile(p)
			b = bytes.Replace(b, []byte("0ea03b369a463d9d"), []byte("0ea03b369a463d9e"), 1)
			os.WriteFile(p, b, 0o644)
		},
		"generation removed": func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, gen))
		},
		"chain removed": func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "ascmhl", mhl.ChainFile))
		},
		"generation added outside the chain": func(t *testing.T, root string) {
			b, _ := os.ReadFile(filepath.Join(root, gen))
			os.WriteFile(filepath.Join(root, "ascmhl/0002_A002R2EC_2020-01-17_000000Z.mhl"), b, 0o644)
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			root := filepath.Join(scenario(t, "scenario_01/travel_01"), "A002R2EC")
			tamper(t, root)
			_, err := mhl.Load(root)
			var te *mhl.TamperedError
			if !errors.As(err, &te) {
				t.Fatalf("Load = %v, want a TamperedError", err)
			}
		})
	}
}

// writeHistory writes a one-generation history whose generation is body, chained with its
// correct C4, so the checks after the chain's are reached.
func writeHistory(t *testing.T, body string) (string, string) {
	t.Helper()
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "ascmhl"), 0o755)
	name := "0001_x_2020-01-01_000000Z.mhl"
	os.WriteFile(filepath.Join(root, "ascmhl", name), []byte(body), 0o644)
	chain := `<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0"><hashlist sequencenr="1"><path>` + name +
		`</path><c4>` + mhl.Sum(mhl.C4, []byte(body)) + `</c4></hashlist></ascmhldirectory>`
	os.WriteFile(filepath.Join(root, "ascmhl", mhl.ChainFile), []byte(chain), 0o644)
	return root, name
}

func generation(path string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">
  <creatorinfo><creationdate>2020-01-16T09:15:00+00:00</creationdate><hostname>h</hostname><tool>t</tool></creatorinfo>
  <processinfo><process>in-place</process></processinfo>
  <hashes>
    <hash>
      <path size="5">` + path + `</path>
      <xxh64 action="original">0ea03b369a463d9d</xxh64>
    </hash>
  </hashes>
</hashlist>
`
}

func TestHostile(t *testing.T) {
	for _, bad := range []string{"../outside.mov", "/etc/passwd", "Clips/../../x", `C:\x`, "a//b"} {
		root, name := writeHistory(t, generation(bad))
		_, err := mhl.Load(root)
		if err == nil || !strings.Contains(err.Error(), name+":6:") || !strings.Contains(err.Error(), "<hash><path>") {
			t.Errorf("path %q: Load = %v, want an error naming %s:6 (the hash element) and <hash><path>", bad, err, name)
		}
	}
	root, _ := writeHistory(t, generation("ok.mov"))
	chain := filepath.Join(root, "ascmhl", mhl.ChainFile)
	b, _ := os.ReadFile(chain)
	os.WriteFile(chain, bytes.Replace(b, []byte("<path>0001"), []byte("<path>../0001"), 1), 0o644)
	if _, err := mhl.Load(root); err == nil || !strings.Contains(err.Error(), "<path>") {
		t.Errorf("chain path out of the folder: Load = %v", err)
	}
	for name, body := range map[string]string{
		"wrong namespace": strings.Replace(generation("a"), "urn:ASC:MHL:v2.0", "urn:x", 1),
		"bad hash":        strings.Replace(generation("a"), "0ea03b369a463d9d", "zz", 1),
		"bad size":        strings.Replace(generation("a"), `size="5"`, `size="-5"`, 1),
		"not xml":         "<hashlist",
		"entity":          `<!DOCTYPE x [<!ENTITY e "e">]>` + strings.Replace(generation("a"), ">a<", ">&e;<", 1),
	} {
		root, _ := writeHistory(t, body)
		if _, err := mhl.Load(root); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
}

// xmllint validates file against the XSD in testdata; without xmllint the test is skipped,
// except in CI (.ci/run installs it).
func xmllint(t *testing.T, xsd, file string) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not installed (Debian libxml2-utils); .ci/run installs it")
		}
		t.Skip("xmllint not installed (apt-get install libxml2-utils): XSD validation skipped")
	}
	out, err := exec.Command(bin, "--noout", "--schema", filepath.Join("testdata", xsd), file).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint %s: %v\n%s", file, err, out)
	}
}

// The reference scenarios validate, so the check itself is sound.
func TestXSDAcceptsReference(t *testing.T) {
	root := filepath.Join("testdata", "scenarios", "scenario_05", "file_server", "Reels", "A002R2EC", "ascmhl")
	xmllint(t, "ASCMHL.xsd", filepath.Join(root, "0002_A002R2EC_2020-01-17_143000Z.mhl"))
	xmllint(t, "ASCMHLDirectory.xsd", filepath.Join(root, "ascmhl_chain.xml"))
}

func TestWriteTransfer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "DAY01")
	os.Mkdir(dir, 0o755)
	data := []byte("media-hash-list")
	hs := mhl.NewHasher(mhl.XXH128, mhl.MD5)
	hs.Write(data)
	start := time.Date(2025, 3, 2, 17, 40, 11, 0, time.UTC)
	tr := mhl.Transfer{
		Creator: mhl.Creator{Tool: "fiosync", ToolVersion: "test", Hostname: "ingest-02",
			Authors: []mhl.Author{{Name: "Sam <Doe>", Email: "dit@example.com", Role: "DIT"}},
			Comment: "verified by download from Frame.io & more"},
		Time: start,
		Files: []mhl.FileHashes{
			{Path: "Reports/notes.txt", Size: 15, ModTime: start.Add(-time.Hour), Hashes: hs.Sums()},
			{Path: "A.mov", Size: 15, Hashes: map[mhl.Format]string{mhl.XXH64: mhl.Sum(mhl.XXH64, data)}},
		},
	}
	w1, err := mhl.WriteTransfer(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	if w1.Generation != 1 || filepath.Base(w1.Path) != "0001_DAY01_2025-03-02_174011Z.mhl" || len(w1.Failed) != 0 {
		t.Fatalf("first write = %+v", w1)
	}
	xmllint(t, "ASCMHL.xsd", w1.Path)
	xmllint(t, "ASCMHLDirectory.xsd", filepath.Join(dir, "ascmhl", mhl.ChainFile))
	first, _ := os.ReadFile(w1.Path)
	if mhl.Sum(mhl.C4, first) != w1.C4 {
		t.Error("Written.C4 is not the C4 of the file")
	}

	h, err := mhl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := h.Lookup("Reports/notes.txt")
	if !ok || r.Size != 15 || r.Hashes[mhl.XXH128] != "61a67c014f703a456ee7a776fd8c06bd" || !r.ModTime.Equal(start.Add(-time.Hour)) {
		t.Fatalf("read back %+v", r)
	}
	if h.Generations[0].Process != "transfer" {
		t.Errorf("process %q", h.Generations[0].Process)
	}

	// The second write verifies notes.txt, fails A.mov, and leaves generation 1 alone.
	tr.Time = start.Add(24 * time.Hour)
	tr.Files[1].Hashes = map[mhl.Format]string{mhl.XXH64: mhl.Sum(mhl.XXH64, []byte("changed")), mhl.SHA1: mhl.Sum(mhl.SHA1, []byte("changed"))}
	w2, err := mhl.WriteTransfer(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	if w2.Generation != 2 || !strings.HasPrefix(filepath.Base(w2.Path), "0002_DAY01_2025-03-03_") || len(w2.Failed) != 1 || w2.Failed[0] != "A.mov" {
		t.Fatalf("second write = %+v", w2)
	}
	if again, _ := os.ReadFile(w1.Path); !bytes.Equal(again, first) {
		t.Error("generation 1 changed")
	}
	xmllint(t, "ASCMHL.xsd", w2.Path)
	xmllint(t, "ASCMHLDirectory.xsd", filepath.Join(dir, "ascmhl", mhl.ChainFile))
	second, _ := os.ReadFile(w2.Path)
	for _, want := range []string{`<xxh128 action="verified"`, `<xxh64 action="failed"`} {
		if !bytes.Contains(second, []byte(want)) {
			t.Errorf("generation 2 lacks %s:\n%s", want, second)
		}
	}
	if bytes.Contains(second, []byte("<sha1")) {
		t.Error("a new format of a failed file was recorded")
	}
	h, err = mhl.Load(dir)
	if err != nil || len(h.Generations) != 2 || h.Generations[1].C4 != w2.C4 {
		t.Fatalf("Load after two writes = %+v, %v", h, err)
	}

	// A tampered history is refused, and nothing is added to it.
	os.WriteFile(w1.Path, append(first, ' '), 0o644)
	if _, err := mhl.WriteTransfer(dir, tr); err == nil {
		t.Error("wrote onto a tampered history")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "ascmhl")); len(ents) != 3 {
		t.Errorf("ascmhl holds %d files after a refused write, want 3", len(ents))
	}
}

// An ascmhl folder with neither chain nor generation (a first write that failed early) is
// written into; one with a generation but no chain is refused.
func TestWriteTransferEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "ascmhl"), 0o755)
	tr := mhl.Transfer{Creator: mhl.Creator{Tool: "t"}, Files: []mhl.FileHashes{{Path: "a", Size: 1, Hashes: map[mhl.Format]string{mhl.MD5: mhl.Sum(mhl.MD5, []byte("a"))}}}}
	w, err := mhl.WriteTransfer(dir, tr)
	if err != nil || w.Generation != 1 {
		t.Fatalf("WriteTransfer into an empty ascmhl = %+v, %v", w, err)
	}
	os.Remove(filepath.Join(dir, "ascmhl", mhl.ChainFile))
	if _, err := mhl.WriteTransfer(dir, tr); err == nil {
		t.Error("wrote onto a history whose chain is gone")
	}
}

// Writers at once on one history each get their own generation, and the chain lists all.
func TestWriteTransferConcurrent(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 4, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for i := range writers {
		wg.Go(func() {
			for j := range each {
				tr := mhl.Transfer{Creator: mhl.Creator{Tool: "t"}, Time: time.Date(2026, 1, 1, 0, i, j, 0, time.UTC),
					Files: []mhl.FileHashes{{Path: "a", Size: 1, Hashes: map[mhl.Format]string{mhl.MD5: mhl.Sum(mhl.MD5, []byte("a"))}}}}
				if _, err := mhl.WriteTransfer(dir, tr); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h, err := mhl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Generations) != writers*each {
		t.Errorf("chain lists %d generations, want %d", len(h.Generations), writers*each)
	}
}

func TestWriteTransferRefuses(t *testing.T) {
	ok := mhl.FileHashes{Path: "a", Size: 1, Hashes: map[mhl.Format]string{mhl.MD5: mhl.Sum(mhl.MD5, []byte("a"))}}
	for name, tr := range map[string]mhl.Transfer{
		"no tool":   {Files: []mhl.FileHashes{ok}},
		"bad email": {Creator: mhl.Creator{Tool: "t", Authors: []mhl.Author{{Name: "x", Email: "nope"}}}, Files: []mhl.FileHashes{ok}},
		"dot dot":   {Creator: mhl.Creator{Tool: "t"}, Files: []mhl.FileHashes{{Path: "../a", Size: 1, Hashes: ok.Hashes}}},
		"bad hash":  {Creator: mhl.Creator{Tool: "t"}, Files: []mhl.FileHashes{{Path: "a", Size: 1, Hashes: map[mhl.Format]string{mhl.MD5: "xyz"}}}},
		"no files":  {Creator: mhl.Creator{Tool: "t"}},
	} {
		dir := t.TempDir()
		if _, err := mhl.WriteTransfer(dir, tr); err == nil {
			t.Errorf("%s: WriteTransfer succeeded", name)
		}
	}
}
