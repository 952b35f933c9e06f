package statefile

import (
	"testing"

	"github.com/fiosync/fiosync/state/statetest"
)

// BenchmarkDecode10k decodes and verifies a state of 10,000 entries: every plan pays this.
// Its fast and json sub-benchmarks parse the same document with each decoder alone (no
// checksum, no validation), side by side.
func BenchmarkDecode10k(b *testing.B) {
	data, err := Encode(statetest.Big(10000))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		s := string(data)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeFast(s, false); !ok {
				b.Fatal("the fast decoder gave up")
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeJSON(string(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncode10k is the encoding share of a save.
func BenchmarkEncode10k(b *testing.B) {
	s := statetest.Big(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}
