package manifest

import "strings"

// synonyms maps keys that other tools use to the fiosync key that means the
// same thing, so "dest" gets a useful hint although it is far from "to".
var synonyms = map[string]string{
	"src":         "local",
	"source":      "local",
	"path":        "local",
	"file":        "local",
	"dir":         "local",
	"url":         "remote",
	"dest":        "to",
	"destination": "to",
	"folder":      "to",
	"filename":    "name",
	"ignore":      "exclude",
	"excludes":    "exclude",
	"onchange":    "on_change",
}

// suggest returns the candidate that the user most likely meant by word, or
// "" when none is close enough to be a helpful guess.
func suggest(word string, candidates []string) string {
	lower := strings.ToLower(word)
	if s, ok := synonyms[strings.ReplaceAll(lower, "-", "")]; ok {
		for _, c := range candidates {
			if c == s {
				return s
			}
		}
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		d := levenshtein(lower, c)
		// Allow one edit for short words and two for longer ones: enough for
		// "exlude" or "on-change", not enough to turn "foo" into "to".
		limit := 1
		if len(c) > 4 {
			limit = 2
		}
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein returns the edit distance between a and b, counted in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// SuggestName returns the name among candidates that the user most likely meant by want (a
// Frame.io workspace or project name written in target), ignoring case, or "" when none is
// close: at most one edit in three characters, so "Dailes" finds "Dailies" but "Post" does
// not find "Pre".
func SuggestName(want string, candidates []string) string {
	lower := strings.ToLower(want)
	best, bestDist := "", 0
	for _, c := range candidates {
		d := levenshtein(lower, strings.ToLower(c))
		if d == 0 {
			return c // differs in case only
		}
		if d <= max(1, len([]rune(c))/3) && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}
