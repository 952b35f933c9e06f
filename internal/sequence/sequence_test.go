package sequence

import (
	"fmt"
	"testing"
)

func TestFind(t *testing.T) {
	var frames []string
	for f := 1001; f <= 3000; f++ {
		if f == 1501 {
			continue
		}
		frames = append(frames, fmt.Sprintf("shot010.%04d.exr", f))
	}
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"gap splits the ranges", frames, []string{"shot010.[1001-1500,1502-3000].exr"}},
		{"two are no sequence", []string{"A001.mov", "A002.mov"}, []string{"A001.mov", "A002.mov"}},
		{"three are", []string{"A001.mov", "A002.mov", "A003.mov", "notes.txt"}, []string{"A[001-003].mov", "notes.txt"}},
		{"widths differ", []string{"f8.dpx", "f9.dpx", "f10.dpx", "f11.dpx", "f12.dpx"}, []string{"f[8-9].dpx", "f[10-12].dpx"}[0:0]},
		{"sidecars interleaved", []string{"s.0001.exr", "s.0001.xmp", "s.0002.exr", "s.0002.xmp", "s.0003.exr", "s.0003.xmp"},
			[]string{"s.[0001-0003].exr", "s.[0001-0003].xmp"}},
		{"last digit run is the frame", []string{"shot010_v2.0004.dpx", "shot010_v2.0005.dpx", "shot010_v2.0006.dpx", "shot010_v2.0007.dpx", "shot010_v2.0008.dpx", "shot010_v3.0009.dpx", "shot010_v2.0010.dpx"},
			[]string{"shot010_v2.[0004-0008,0010].dpx", "shot010_v3.0009.dpx"}},
		{"sparse frames are no sequence", []string{"s.0100.xmp", "s.0200.xmp", "s.0300.xmp", "s.0400.xmp"},
			[]string{"s.0100.xmp", "s.0200.xmp", "s.0300.xmp", "s.0400.xmp"}},
		{"a few gaps are", []string{"s.01.exr", "s.02.exr", "s.03.exr", "s.05.exr", "s.06.exr", "s.07.exr"}, []string{"s.[01-03,05-07].exr"}},
		{"no digits", []string{"a.mov", "b.mov"}, []string{"a.mov", "b.mov"}},
		{"too long to be a frame", []string{"x1234567890.a", "x1234567891.a", "x1234567892.a"}, []string{"x1234567890.a", "x1234567891.a", "x1234567892.a"}},
	}
	// widths differ: f8,f9 are two (no sequence), f10-f12 three.
	tests[3].want = []string{"f8.dpx", "f9.dpx", "f[10-12].dpx"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			seen := 0
			for _, g := range Find(tt.names) {
				got = append(got, g.Name(tt.names))
				seen += len(g.Members)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Find(%q) = %q, want %q", tt.names, got, tt.want)
			}
			if seen != len(tt.names) {
				t.Errorf("groups hold %d names, want every one of %d", seen, len(tt.names))
			}
		})
	}
}
