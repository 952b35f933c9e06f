package emulator

import (
	"errors"
	"net/http"
	"testing"
)

func TestCorrupt(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 1000 })
	src := randomBytes(3500, 7)
	id := e.upload(e.seed.RootFolderID, "a.mov", src)
	download, _ := e.originalLinks(id)["download_url"].(string)

	r := e.mustStatus(e.call("POST", "/_emulator/files/"+id+"/corrupt", nil), http.StatusOK)
	if got := r.json(t)["offset"]; got != float64(1750) {
		t.Errorf("offset = %v, want 1750", got)
	}
	body := e.mustStatus(e.get(download), http.StatusOK).body
	if len(body) != len(src) {
		t.Fatalf("download has %d bytes, want %d", len(body), len(src))
	}
	for i := range body {
		if want := src[i]; i == 1750 {
			want ^= 0xff
			if body[i] != want {
				t.Errorf("byte %d = %#x, want %#x", i, body[i], want)
			}
		} else if body[i] != want {
			t.Fatalf("byte %d changed", i)
		}
	}
	info, _ := e.emu.FileInfo(id)
	if info.BLAKE3 != blake3Hex(body) || info.Size != 3500 || info.Status != statusUploaded {
		t.Errorf("FileInfo = %+v, want the damaged bytes' hash, size 3500, uploaded", info)
	}

	if _, err := e.emu.Corrupt("no-such-file"); !errors.Is(err, ErrNotCorruptible) {
		t.Errorf("Corrupt(unknown) = %v, want ErrNotCorruptible", err)
	}
	e.mustStatus(e.call("POST", "/_emulator/files/no-such-file/corrupt", nil), http.StatusNotFound)
}
