package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchTree returns a directory holding media/ with n empty files, 100 per
// directory, in n/1000 day directories of 10 camera directories each. It
// lives in the system temporary directory and is kept between runs, since
// creating 100,000 files takes longer than walking them.
func benchTree(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("fiosync-bench-expand-%d", n))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	const perDir = 100
	for i := range n / 1000 {
		for j := range 10 {
			d := filepath.Join(dir, "media", fmt.Sprintf("day%03d", i), fmt.Sprintf("cam%02d", j))
			if err := os.MkdirAll(d, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range perDir {
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("C%04d.mov", k)), nil, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte(head+"  - local: media\n    to: /Dailies\n    exclude: [\"**/.DS_Store\"]\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkExpand100k expands a directory of 100,000 files. The goal is
// well under one second per 10,000 files, i.e. well under 100 µs per file;
// ns/file reports where we are.
func BenchmarkExpand100k(b *testing.B) { benchmarkExpand(b, 100_000) }

// BenchmarkExpand10k expands 10,000 files laid out as plan's
// BenchmarkNoopPlan10k lays them out (100 directories of 100), the walk of
// a no-op plan measured without the rest of the plan.
func BenchmarkExpand10k(b *testing.B) { benchmarkExpand(b, 10_000) }

func benchmarkExpand(b *testing.B, n int) {
	dir := benchTree(b, n)
	m, err := Load(filepath.Join(dir, DefaultFile))
	if err != nil {
		b.Fatal(err)
	}
	// What the CLI leaves out: its state's files by path, every state file by name.
	state := filepath.Join(dir, "fiosync.state.json")
	m.Ignore = Ignore{Paths: []string{state, state + ".backup", state + ".lock"}, Names: []string{"*.state.json*"}}
	b.ReportAllocs()
	for b.Loop() {
		x, err := m.Expand()
		if err != nil {
			b.Fatal(err)
		}
		if len(x.Files) != n {
			b.Fatalf("expanded %d files, want %d", len(x.Files), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/file")
}
