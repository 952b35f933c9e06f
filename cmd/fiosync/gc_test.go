package main

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's GOGC percentage (the runtime has no getter).
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestHoldGC: holds nest, boundGC caps the heap at twice its size while held, the last
// release restores the settings, and a GOGC set by the user is left alone.
func TestHoldGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before, limit := gcPercent(), debug.SetMemoryLimit(-1)

	first, second := holdGC(), holdGC()
	if p := gcPercent(); p != -1 {
		t.Fatalf("GC percent while held: %d, want -1 (off)", p)
	}
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Errorf("memory limit while held: %d, want it unchanged (%d) until boundGC", l, limit)
	}
	boundGC()
	bounded := debug.SetMemoryLimit(-1)
	if bounded < 64<<20 || bounded >= limit {
		t.Errorf("memory limit after boundGC: %d, want twice the heap plus 64 MiB", bounded)
	}
	keep := make([]byte, 256<<20) // a larger heap raises the limit, never lowers it
	boundGC()
	if l, want := debug.SetMemoryLimit(-1), max(bounded, 2*int64(len(keep))+64<<20); l < want {
		t.Errorf("memory limit after boundGC with 256 MiB more heap: %d, want at least %d", l, want)
	}
	keep[0] = 1
	first()
	first() // a second call does nothing
	if p := gcPercent(); p != -1 {
		t.Fatalf("GC percent after one of two releases: %d, want still off", p)
	}
	second()
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != before || l != limit {
		t.Errorf("after the last release: GC percent %d, memory limit %d; want %d and %d", p, l, before, limit)
	}

	t.Setenv("GOGC", "200")
	release := holdGC()
	if p := gcPercent(); p != before {
		t.Errorf("with GOGC set, holdGC changed the GC percent to %d", p)
	}
	release()
}
