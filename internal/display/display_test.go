package display

import (
	"math"
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{1024*1024 - 1, "1 MiB"},
		{880 << 20, "880 MiB"},
		{1288490189, "1.2 GiB"},
		{65712999219, "61.2 GiB"},
		{1 << 40, "1 TiB"},
		{-2048, "-2 KiB"},
		{math.MaxInt64, "8 EiB"},
		{math.MinInt64, "-8 EiB"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 files"}, {1, "1 file"}, {2, "2 files"}} {
		if got := Count(tt.n, "file", "files"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Count(1, "file is", "files are"); got != "1 file is" {
		t.Errorf("Count(1) = %q", got)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "100": 100, "8MiB": 8 << 20, "8 MiB": 8 << 20, "8M": 8 << 20, "8mb": 8 << 20,
		"512k": 512 << 10, "2G": 2 << 30, "1TiB": 1 << 40, "7B": 7} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "1.5M", "8 MiBs", "8X", "9999999999999T"} {
		if got, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", in, got)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {0, "0s"}, {40 * time.Millisecond, "0s"}, {60 * time.Millisecond, "0.1s"},
		{4200 * time.Millisecond, "4.2s"}, {2 * time.Second, "2s"}, {9960 * time.Millisecond, "10s"},
		{42 * time.Second, "42s"}, {59600 * time.Millisecond, "1m00s"}, {7*time.Minute + 5*time.Second, "7m05s"},
		{2*time.Hour + 3*time.Minute, "2h03m"}, {100 * time.Hour, "100h00m"},
	} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRate(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{{0, "", "0 B/s"}, {12.4 * (1 << 20), "", "12.4 MiB/s"}, {66, "", "66 B/s"}, {4.56, "files", "4.6 files/s"}, {0, "files", "0.0 files/s"}} {
		if got := Rate(tt.v, tt.unit); got != tt.want {
			t.Errorf("Rate(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
