package verify_test

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/fiosync/fiosync/verify"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSample: a seed picks the same sample every time, another seed another sample, and
// the size is the percentage rounded up.
func TestSample(t *testing.T) {
	var addrs []string
	for i := range 1000 {
		addrs = append(addrs, fmt.Sprintf("/Day/%04d.mov", i))
	}
	a := verify.Sample(addrs, 5, 42)
	if len(a) != 50 || !slices.IsSorted(a) {
		t.Fatalf("5%% of 1000 = %d addresses (sorted %v)", len(a), slices.IsSorted(a))
	}
	if b := verify.Sample(slices.Clone(addrs), 5, 42); !slices.Equal(a, b) {
		t.Error("the same seed picked another sample")
	}
	if c := verify.Sample(addrs, 5, 43); slices.Equal(a, c) {
		t.Error("another seed picked the same sample")
	}
	if got := verify.Sample(addrs[:3], 1, 1); len(got) != 1 {
		t.Errorf("1%% of 3 = %d, want 1 (at least one)", len(got))
	}
	if got := verify.Sample(addrs, 100, 7); !slices.Equal(got, addrs) {
		t.Error("100% is not every address")
	}
	// The seed's first picks stay picked when addresses are added.
	more := append(slices.Clone(addrs), "/Day/new.mov")
	got := verify.Sample(more, 0.1, 9)
	for _, a := range verify.Sample(addrs, 0.1, 9) {
		if !slices.Contains(got, a) {
			t.Errorf("an added address dropped %s from the sample: %v", a, got)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]float64{"5%": 5, "12.5%": 12.5, "100%": 100} {
		if got, err := verify.ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"5", "0%", "-1%", "101%", "x%", "NaN%", ""} {
		if _, err := verify.ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) accepted", in)
		}
	}
}
