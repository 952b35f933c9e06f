package apply

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when a limiter sleeps: a sleep of d wakes at the time
// it was asked at plus d, so readers sleeping side by side do not add up their waits.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) sleepFrom(at time.Time, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wake := at.Add(d); wake.After(c.now) {
		c.now = wake
	}
}

// limiterOn returns a limiter on c: each wait sleeps on c from the time it reserved.
func limiterOn(c *fakeClock, t Timetable) *limiter {
	l := newLimiter(t, c.Now, nil)
	l.sleep = func(_ context.Context, d time.Duration) error {
		c.sleepFrom(l.lastReserve(), d)
		return nil
	}
	return l
}

func (l *limiter) lastReserve() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func mustTable(t *testing.T, s string) Timetable {
	t.Helper()
	tt, err := ParseTimetable(s)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// TestLimiterRate: bytes through the limiter take size/rate on the clock, whether one reader
// or four share it (the limit is the run's, not each part's).
func TestLimiterRate(t *testing.T) {
	for _, readers := range []int{1, 4} {
		c := &fakeClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
		start := c.Now()
		l := limiterOn(c, mustTable(t, "20M"))
		const total = 200 << 20 // 10 s at 20 MiB/s
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				for sent := 0; sent < total/readers; sent += 64 << 10 {
					if err := l.wait(context.Background(), 64<<10); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		got := c.Now().Sub(start)
		// The bucket starts empty and may hold a tenth of a second: within 2% of 10 s.
		if got < 9800*time.Millisecond || got > 10200*time.Millisecond {
			t.Errorf("%d readers: 200 MiB at 20M took %s on the clock, want 10 s", readers, got)
		}
	}
}

// TestLimiterTimetable: the limit follows the time of day and switches while bytes flow.
func TestLimiterTimetable(t *testing.T) {
	tt := mustTable(t, "19:00,off 08:00,1M")
	day := func(h, m, s int) time.Time { return time.Date(2026, 12, 1, h, m, s, 0, time.UTC) }
	for _, c := range []struct {
		at   time.Time
		want Bandwidth
	}{
		{day(0, 0, 0), 0}, {day(7, 59, 59), 0}, {day(8, 0, 0), 1 << 20}, {day(18, 59, 59), 1 << 20}, {day(19, 0, 0), 0}, {day(23, 59, 0), 0},
	} {
		if got := tt.At(c.at); got != c.want {
			t.Errorf("At(%s) = %d, want %d", c.at.Format("15:04:05"), got, c.want)
		}
	}

	// 10 MiB from 18:59:58: two seconds at 1 MiB/s, then the limit lifts at 19:00.
	c := &fakeClock{now: day(18, 59, 58)}
	l := limiterOn(c, tt)
	for sent := 0; sent < 10<<20; sent += 32 << 10 {
		if err := l.wait(context.Background(), 32<<10); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Now(); got.Before(day(19, 0, 0)) || got.After(day(19, 0, 0).Add(100*time.Millisecond)) {
		t.Errorf("10 MiB from 18:59:58 done at %s, want 19:00:00 (2 MiB paced, the rest free)", got.Format("15:04:05.000"))
	}

	// And from 07:59:59 a limit starts at 08:00: 1 MiB free, 3 MiB at 1 MiB/s after.
	c = &fakeClock{now: day(7, 59, 59)}
	l = limiterOn(c, tt)
	for sent := 0; sent < 4<<20; sent += 32 << 10 {
		if err := l.wait(context.Background(), 32<<10); err != nil {
			t.Fatal(err)
		}
		if sent == 1<<20 {
			c.sleepFrom(c.Now(), time.Second) // a pause crossing 08:00
		}
	}
	if got := c.Now().Sub(day(8, 0, 0)); got < 2800*time.Millisecond || got > 3100*time.Millisecond {
		t.Errorf("3 MiB after 08:00 took %s on the clock, want 3 s", got)
	}
}

func TestParseTimetable(t *testing.T) {
	for _, s := range []string{"", "fast", "08:00", "25:00,1M", "08:00,1M 08:00,off", "0", "10X", "08:00,-1M"} {
		if _, err := ParseTimetable(s); err == nil {
			t.Errorf("ParseTimetable(%q) accepted", s)
		}
	}
	for s, want := range map[string]Bandwidth{"20M": 20 << 20, "512": 512 << 10, "512K": 512 << 10, "1.5MiB": 3 << 19, "100B": 100, "1G": 1 << 30, "off": 0} {
		tt, err := ParseTimetable(s)
		if err != nil || tt.At(time.Now()) != want {
			t.Errorf("ParseTimetable(%q) = %v, %v; want %d all day", s, tt.At(time.Now()), err, want)
		}
	}
	for s, want := range map[string]int64{"500M": 500 << 20, "1.5T": 3 << 39, "100": 100, "2g": 2 << 30} {
		if n, err := ParseSize(s); err != nil || n != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, n, err, want)
		}
	}
}
