package source

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// hashTree writes the benchmark tree once per process: a few large files (as
// media are) and many small ones (sidecars, stills). It returns the paths and
// the total size.
func hashTree(b *testing.B) ([]string, int64) {
	b.Helper()
	dir := b.TempDir()
	rng := rand.NewChaCha8([32]byte{7})
	var paths []string
	var total int64
	write := func(name string, size int) {
		data := make([]byte, size)
		rng.Read(data)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, path)
		total += int64(size)
	}
	for i := range 24 {
		write(fmt.Sprintf("clip%02d.mov", i), 8<<20)
	}
	for i := range 500 {
		write(fmt.Sprintf("still%03d.jpg", i), 64<<10)
	}
	return paths, total
}

// BenchmarkHashTree hashes a tree of generated files (224 MiB in 524 files)
// with Identify and, when it is installed, with the reference b3sum, so the
// two can be compared in one run (testdata/bench-hash.sh). The files stay in
// the page cache, so this measures hashing, not the disk.
func BenchmarkHashTree(b *testing.B) {
	paths, total := hashTree(b)
	for _, par := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("identify/parallel=%d", par), func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				items := make([]Item, len(paths))
				for i, p := range paths {
					items[i] = Item{Path: p, Rel: filepath.Base(p)}
				}
				if err := Identify(context.Background(), items, IdentifyOptions{Parallel: par}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b3sum, err := exec.LookPath("b3sum")
	if err != nil {
		b.Log("b3sum not installed (apt-get install -y b3sum); skipping the comparison")
		return
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("b3sum/threads=%d", threads), func(b *testing.B) {
			b.SetBytes(total)
			args := append([]string{"--num-threads", fmt.Sprint(threads)}, paths...)
			for b.Loop() {
				if out, err := exec.Command(b3sum, args...).CombinedOutput(); err != nil {
					b.Fatalf("b3sum: %v\n%s", err, out)
				}
			}
		})
	}
}
