package sequence

import (
	"slices"
	"strconv"
	"strings"
)

// Key is what the members of one sequence share: the text around the frame number and the
// frame number's width in digits.
type Key struct {
	Prefix, Suffix string
	Width          int
}

// MaxWidth bounds the frame number's digits: longer runs of digits are ids or dates, not
// frames, and would not fit an int.
const MaxWidth = 9

// Split finds the frame number of name: its last run of digits. ok is false when name has
// no digits or more than MaxWidth of them in that run.
func Split(name string) (k Key, frame int, ok bool) {
	end := strings.LastIndexFunc(name, isDigit) + 1
	if end == 0 {
		return Key{}, 0, false
	}
	start := end
	for start > 0 && isDigit(rune(name[start-1])) {
		start--
	}
	if end-start > MaxWidth {
		return Key{}, 0, false
	}
	n, err := strconv.Atoi(name[start:end])
	if err != nil {
		return Key{}, 0, false
	}
	return Key{Prefix: name[:start], Suffix: name[end:], Width: end - start}, n, true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// Range is a run of consecutive frames, First to Last inclusive.
type Range struct{ First, Last int }

// Ranges sorts frames and folds them into runs of consecutive numbers; duplicates count
// once.
func Ranges(frames []int) []Range {
	fs := slices.Clone(frames)
	slices.Sort(fs)
	fs = slices.Compact(fs)
	var out []Range
	for _, f := range fs {
		if n := len(out); n > 0 && out[n-1].Last+1 == f {
			out[n-1].Last = f
			continue
		}
		out = append(out, Range{f, f})
	}
	return out
}

// Format writes the sequence k with the frames of rs: "shot010.[1001-1500,1502-3000].exr".
// Frames are zero-padded to k.Width; a range of one frame is written as that frame.
func Format(k Key, rs []Range) string {
	var b strings.Builder
	b.WriteString(k.Prefix)
	b.WriteByte('[')
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pad(r.First, k.Width))
		if r.Last != r.First {
			b.WriteByte('-')
			b.WriteString(pad(r.Last, k.Width))
		}
	}
	b.WriteByte(']')
	b.WriteString(k.Suffix)
	return b.String()
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// MinRun is the fewest names that make a sequence: two numbered files are just two files
// (A001.mov, A002.mov), three in a row start to read better as one line. The ranges of a
// sequence must also be MinRun frames long on average: every 100th frame's sidecar
// (shot.[1100,1200,1300,...].xmp) would be a longer line than the names themselves.
const MinRun = 3

// Group is one line of output: a sequence of names, or a single name.
type Group struct {
	// Members are the indexes, into the names given to Find, of the names in the group, in
	// the order given.
	Members []int
	// Key and Ranges describe a sequence; Ranges is nil for a single name.
	Key    Key
	Ranges []Range
}

// Name is how the group is written: the sequence pattern or the single name.
func (g Group) Name(names []string) string {
	if g.Ranges == nil {
		return names[g.Members[0]]
	}
	return Format(g.Key, g.Ranges)
}

// Find groups names (already split by the caller into what may share a line) into
// sequences of at least MinRun names and single names. Groups come in the order of their
// first member, so sorted names give sorted output; a sequence takes the place of its first
// frame, however the sort interleaves sidecars (shot.1001.exr, shot.1001.exr.xmp, ...).
func Find(names []string) []Group {
	type acc struct {
		members []int
		frames  []int
		ranges  []Range
	}
	byKey := map[Key]*acc{}
	keys := make([]Key, len(names))
	seq := make([]bool, len(names))
	for i, n := range names {
		k, f, ok := Split(n)
		if !ok {
			continue
		}
		a := byKey[k]
		if a == nil {
			a = &acc{}
			byKey[k] = a
		}
		a.members = append(a.members, i)
		a.frames = append(a.frames, f)
		keys[i], seq[i] = k, true
	}
	var out []Group
	done := map[Key]bool{}
	for i := range names {
		if seq[i] {
			a := byKey[keys[i]]
			if a.ranges == nil && len(a.members) >= MinRun {
				a.ranges = Ranges(a.frames)
			}
			if len(a.members) >= MinRun && len(a.ranges)*MinRun <= len(a.members) {
				if !done[keys[i]] {
					done[keys[i]] = true
					out = append(out, Group{Members: a.members, Key: keys[i], Ranges: a.ranges})
				}
				continue
			}
		}
		out = append(out, Group{Members: []int{i}})
	}
	return out
}
