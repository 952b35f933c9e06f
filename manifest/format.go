package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatBytes formats a byte count with IEC units and at most one decimal:
// "512 B", "1.2 GiB", "880 MiB" (a ".0" is dropped). The plan output uses it
// too, so sizes read the same everywhere.
func FormatBytes(n int64) string {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign = "-"
		u = uint64(-(n + 1)) + 1 // safe for math.MinInt64
	}
	const units = "KMGTPE"
	if u < 1024 {
		return sign + strconv.FormatUint(u, 10) + " B"
	}
	v := float64(u) / 1024
	i := 0
	// Round first, so 1023.97 KiB prints as "1 MiB", not "1024 KiB".
	for i < len(units)-1 && roundTenth(v) >= 1024 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(roundTenth(v), 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return sign + s + " " + units[i:i+1] + "iB"
}

func roundTenth(v float64) float64 {
	return float64(int64(v*10+0.5)) / 10
}

// Summary returns the one line `fiosync validate` prints for a good manifest,
// e.g. "fiosync.yaml: 3 uploads, 214 files, 61.2 GiB, 1 remote". Files and
// bytes count local files; remote sources are counted apart because their
// size is unknown until Frame.io fetches them.
func (e *Expansion) Summary(m *Manifest) string {
	var files, remote int
	var bytes int64
	for _, d := range e.Files {
		if d.Kind == Remote {
			remote++
			continue
		}
		files++
		if d.Info != nil {
			bytes += d.Info.Size()
		}
	}
	s := fmt.Sprintf("%s: %s, %s, %s", m.Path, plural(len(m.Uploads), "upload"), plural(files, "file"), FormatBytes(bytes))
	if remote > 0 {
		s += fmt.Sprintf(", %d remote", remote)
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
