package escape

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/Day 01/A001.mov", "/Day 01/A001.mov"},
		{"/Überspielung/Tōkyō.mov", "/Überspielung/Tōkyō.mov"},
		{"x.mov  local  1 B\n  - NDA.pdf  prune\nPlan: 0 to upload, 1 to delete, 0 unchanged.", `x.mov  local  1 B\n  - NDA.pdf  prune\nPlan: 0 to upload, 1 to delete, 0 unchanged.`},
		{"\x1b]0;pwned\x07\x1b[2J", `\x1b]0;pwned\x07\x1b[2J`},
		{"invoice\u202egpj.exe", `invoice\u202egpj.exe`},
		{"a\u2066b\u2069c\u200e\u200f\u061c\u200b\ufeff", `a\u2066b\u2069c\u200e\u200f\u061c\u200b\ufeff`},
		{"tab\there\rcr\x7fdel\u0085nel\u2028ls", `tab\there\rcr\x7fdel\u0085nel\u2028ls`},
		{`back\slash \x1b`, `back\\slash \\x1b`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
		{"\U000e0041tag", `\U000e0041tag`},
		{"", ""},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/a.mov", "`/a.mov`"},
		{"a|b", "`a\\|b`"},
		{"a`b", "``a`b``"},
		{"`x`", "`` `x` ``"},
		{"<img src=x onerror=alert(1)>", "`<img src=x onerror=alert(1)>`"},
		{"a\n| x | y |", "`a\\n\\| x \\| y \\|`"},
		{"", "` `"},
	} {
		if got := Markdown(tt.in); got != tt.want {
			t.Errorf("Markdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzText: whatever the input, the output is one line of valid UTF-8 with nothing that does
// not print, and inputs that differ give outputs that differ.
func FuzzText(f *testing.F) {
	for _, s := range []string{"a\nb", "\x1b[2J", "\u202e", `\`, "\xff", "\\x41", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q: not UTF-8", s, out)
		}
		if i := strings.IndexFunc(out, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
			t.Fatalf("Text(%q) = %q: raw %q at %d", s, out, out[i:], i)
		}
		if Text(s+"x") == Text(s+`\x78`) {
			t.Fatalf("Text cannot tell %q from %q", s+"x", s+`\x78`)
		}
		md := Markdown(s)
		if strings.ContainsAny(md, "\n\r") || strings.Count(md, "|") != strings.Count(md, `\|`) {
			t.Fatalf("Markdown(%q) = %q breaks a table row", s, md)
		}
	})
}
