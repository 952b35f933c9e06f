package display

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bytes formats a byte count with IEC units and at most one decimal: "512 B", "1.2 GiB",
// "880 MiB" (a ".0" is dropped). Every size fiosync prints goes through it, so sizes read the
// same everywhere.
func Bytes(n int64) string {
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

// Count returns n with the noun that fits it: Count(1, "file", "files") is "1 file",
// Count(3, "file", "files") is "3 files". Forms are given whole, so "file is" and "files
// are" work too.
func Count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Pick(n, one, many)
}

// Pick returns one when n is 1 and many otherwise.
func Pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ParseBytes reads a size as users type it: a whole number with an optional unit, "8MiB",
// "8 MiB", "8M", "512k", "2G", "100" (bytes). K, M, G and T (with or without "iB" or "B")
// are powers of 1024, as rclone reads them, and as Bytes prints them.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	shift := 0
	if unit != "" && unit != "b" {
		p := strings.IndexByte("kmgt", unit[0])
		rest := unit[1:]
		if p < 0 || (rest != "" && rest != "b" && rest != "ib") {
			return 0, strconv.ErrSyntax
		}
		shift = 10 * (p + 1)
	}
	if n > (1<<63-1)>>shift {
		return 0, strconv.ErrRange
	}
	return n << shift, nil
}

// Duration formats a span the way progress and summaries print it: tenths of a second below
// ten seconds ("4.2s"), whole seconds below a minute ("42s"), then minutes and seconds
// ("7m05s") and hours and minutes ("2h03m"). Negative spans print as "0s".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < 10*time.Second:
		return strconv.FormatFloat(roundTenth(d.Seconds()), 'f', -1, 64) + "s"
	case d < time.Minute-time.Second/2:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s"
	case d < time.Hour-time.Second/2:
		s := int(d.Round(time.Second) / time.Second)
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	m := int(d.Round(time.Minute) / time.Minute)
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}

// Rate formats a rate per second: bytes as "12.4 MiB/s", other things with one decimal, as
// "4.6 files/s".
func Rate(perSecond float64, unit string) string {
	if unit == "" {
		return Bytes(int64(perSecond+0.5)) + "/s"
	}
	return strconv.FormatFloat(roundTenth(perSecond), 'f', 1, 64) + " " + unit + "/s"
}
