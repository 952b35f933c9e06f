package apply

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bandwidth is a transfer rate in bytes per second; 0 means no limit.
type Bandwidth int64

// Timetable is a bandwidth limit that changes with the time of day (apply --bwlimit), as
// rclone's: "08:00,10M 19:00,off" limits to 10 MiB/s from 08:00 and lifts the limit from
// 19:00, each day, in the clock's time zone. A plain rate ("20M") is a table of one slot that
// holds all day. The zero Timetable limits nothing.
type Timetable struct {
	slots []slot // sorted by start
}

type slot struct {
	start time.Duration // since midnight
	rate  Bandwidth
}

// IsZero reports whether t limits nothing at any time.
func (t Timetable) IsZero() bool {
	return !slices.ContainsFunc(t.slots, func(s slot) bool { return s.rate > 0 })
}

// At returns the limit in force at now: that of the latest slot started today, or, before
// the first slot of the day, that of the last slot (still in force since yesterday).
func (t Timetable) At(now time.Time) Bandwidth {
	if len(t.slots) == 0 {
		return 0
	}
	y, m, d := now.Date()
	since := now.Sub(time.Date(y, m, d, 0, 0, 0, 0, now.Location()))
	rate := t.slots[len(t.slots)-1].rate
	for _, s := range t.slots {
		if s.start > since {
			break
		}
		rate = s.rate
	}
	return rate
}

// ParseTimetable reads an --bwlimit value: a rate ("20M", "512K", "off"), or space-separated
// "HH:MM,RATE" slots. A rate is a number with an optional binary suffix B, K, M, G or T
// (bytes, KiB, MiB, GiB, TiB per second); without a suffix it is KiB/s, as rclone reads it.
func ParseTimetable(s string) (Timetable, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return Timetable{}, fmt.Errorf("bandwidth limit %q: empty; give a rate such as 20M, or slots such as \"08:00,10M 19:00,off\"", s)
	}
	if len(fields) == 1 && !strings.Contains(fields[0], ",") {
		r, err := parseRate(fields[0])
		if err != nil {
			return Timetable{}, fmt.Errorf("bandwidth limit %q: %w", s, err)
		}
		return Timetable{slots: []slot{{rate: r}}}, nil
	}
	var t Timetable
	for _, f := range fields {
		at, rate, ok := strings.Cut(f, ",")
		if !ok {
			return Timetable{}, fmt.Errorf("bandwidth limit %q: slot %q is not HH:MM,RATE", s, f)
		}
		start, err := time.Parse("15:04", at)
		if err != nil {
			return Timetable{}, fmt.Errorf("bandwidth limit %q: slot %q: the time is not HH:MM (00:00 to 23:59)", s, f)
		}
		r, err := parseRate(rate)
		if err != nil {
			return Timetable{}, fmt.Errorf("bandwidth limit %q: slot %q: %w", s, f, err)
		}
		sl := slot{start: time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute, rate: r}
		if slices.ContainsFunc(t.slots, func(o slot) bool { return o.start == sl.start }) {
			return Timetable{}, fmt.Errorf("bandwidth limit %q: two slots start at %s", s, at)
		}
		t.slots = append(t.slots, sl)
	}
	slices.SortFunc(t.slots, func(a, b slot) int { return int(a.start - b.start) })
	return t, nil
}

// parseRate reads "off" or a size per second (ParseSize, KiB without a suffix).
func parseRate(s string) (Bandwidth, error) {
	if s == "off" {
		return 0, nil
	}
	n, err := parseBytes(s, 1<<10)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("rate %q: 0 would send nothing; write off for no limit", s)
	}
	return Bandwidth(n), nil
}

// ParseSize reads a size such as "500M" or "1.5T": a number with an optional binary suffix
// B, K, M, G or T; without one it is bytes.
func ParseSize(s string) (int64, error) { return parseBytes(s, 1) }

// parseBytes reads a number with an optional binary suffix (K, M, G, T, each also as KiB
// or KB; B for bytes); unit is what a bare number counts.
func parseBytes(s string, unit int64) (int64, error) {
	num, suffix := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }); i >= 0 {
		num, suffix = s[:i], s[i:]
	}
	switch u := strings.ToUpper(suffix); strings.TrimSuffix(strings.TrimSuffix(u, "B"), "I") {
	case "":
		if u == "B" {
			unit = 1
		}
	case "K":
		unit = 1 << 10
	case "M":
		unit = 1 << 20
	case "G":
		unit = 1 << 30
	case "T":
		unit = 1 << 40
	default:
		return 0, fmt.Errorf("size %q: unknown unit; use B, K, M, G or T", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: not a size such as 500M or 1.5G", s)
	}
	if v*float64(unit) > 1<<62 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(v * float64(unit)), nil
}

// limiter paces the bytes of every part of a run to its Timetable: one token bucket, shared
// by all files and parts, filled at the rate in force, holding at most one second of
// it. A read that finds the bucket short takes its bytes anyway (the bucket goes into debt)
// and sleeps the debt off, so concurrent readers are served in turn and the total stays at
// the rate. Timetable changes take effect on the next read.
type limiter struct {
	table Timetable
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64 // bytes; negative is debt
	last   time.Time
	rate   float64 // the rate at last; 0 (off) earns no tokens
}

// limiterChunk is the most bytes one wait takes at once, so a slow rate never makes a reader
// sleep for long when the timetable is about to lift the limit.
const limiterChunk = 32 << 10

// newLimiter returns the limiter of t on the clock now; wait sleeps with wait (nil: a timer).
func newLimiter(t Timetable, now func() time.Time, wait func(context.Context, time.Duration) error) *limiter {
	if wait == nil {
		wait = sleep
	}
	return &limiter{table: t, now: now, sleep: wait}
}

// wait blocks until n bytes may be sent at the rate in force, or ctx ends.
func (l *limiter) wait(ctx context.Context, n int) error {
	for n > 0 {
		chunk := min(n, limiterChunk)
		n -= chunk
		if d := l.reserve(chunk); d > 0 {
			if err := l.sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// reserve takes n bytes from the bucket and returns how long to wait before sending them.
func (l *limiter) reserve(n int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	rate := float64(l.table.At(now))
	if rate <= 0 {
		l.tokens, l.last, l.rate = 0, now, 0
		return 0
	}
	burst := max(rate, limiterChunk)
	if !l.last.IsZero() {
		// Time spent without a limit earns nothing: the limit starts with an empty bucket.
		l.tokens += min(rate, l.rate) * now.Sub(l.last).Seconds()
	}
	l.tokens = min(l.tokens, burst)
	l.last, l.rate = now, rate
	l.tokens -= float64(n)
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / rate * float64(time.Second))
}

// limitedReaderAt paces the reads of a part's body, which the HTTP client makes as it sends
// (again on each retry: those bytes go over the wire too).
// partBody is what a part PUT reads buf through: paced by --bwlimit when it is set.
func (r *run) partBody(ctx context.Context, buf []byte) io.ReaderAt {
	var body io.ReaderAt = bytes.NewReader(buf)
	if r.limiter != nil {
		body = limitedReaderAt{ctx: ctx, r: body, l: r.limiter}
	}
	return body
}

type limitedReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
	l   *limiter
}

func (r limitedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := r.l.wait(r.ctx, len(p)); err != nil {
		return 0, err
	}
	return r.r.ReadAt(p, off)
}
