package escape

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every character a terminal line must not carry written as a visible
// escape (see the package documentation), and every backslash doubled.
func Text(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			writeHex(&b, uint32(s[i]), 2)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf && !unicode.IsPrint(r):
			b.WriteString(`\x`)
			writeHex(&b, uint32(r), 2)
		case !unicode.IsPrint(r):
			if r > 0xFFFF {
				b.WriteString(`\U`)
				writeHex(&b, uint32(r), 8)
			} else {
				b.WriteString(`\u`)
				writeHex(&b, uint32(r), 4)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// plain reports whether Text leaves s as it is: printable, valid UTF-8, no backslash.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return plainUnicode(s[i:])
		}
		if c < ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func plainUnicode(s string) bool {
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func writeHex(b *strings.Builder, v uint32, digits int) {
	h := strconv.FormatUint(uint64(v), 16)
	for range digits - len(h) {
		b.WriteByte('0')
	}
	b.WriteString(h)
}

// Markdown returns s as an inline code span for a markdown table cell: Text's escapes, a
// fence of more backticks than any run inside, and the cell's pipes escaped.
func Markdown(s string) string {
	s = Text(s)
	if s == "" {
		return "` `"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
