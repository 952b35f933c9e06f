package verify

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/zeebo/blake3"
)

// ParsePercent reads a sample size such as "5%" or "12.5%": a share of the addresses, more
// than 0 and at most 100 percent.
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	p, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
		return 0, fmt.Errorf("sample %q: want a percentage above 0 and at most 100, such as 5%%", s)
	}
	return p, nil
}

// Sample returns percent of addresses, at least one when there are any, chosen by seed: the
// same seed picks the same addresses from the same list, whatever the Go version or machine.
// Each address is ranked by the BLAKE3 of the seed and the address and the lowest ranks are
// taken, so adding addresses to a state never changes which of the old ones a seed ranks
// first. The result is sorted.
func Sample(addresses []string, percent float64, seed uint64) []string {
	if len(addresses) == 0 {
		return nil
	}
	k := int(math.Ceil(float64(len(addresses)) * percent / 100))
	k = min(max(k, 1), len(addresses))
	type ranked struct {
		rank [32]byte
		addr string
	}
	all := make([]ranked, len(addresses))
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], seed)
	for i, a := range addresses {
		h := blake3.New()
		h.Write(key[:])
		h.WriteString(a)
		h.Sum(all[i].rank[:0])
		all[i].addr = a
	}
	slices.SortFunc(all, func(x, y ranked) int { return strings.Compare(string(x.rank[:]), string(y.rank[:])) })
	out := make([]string, k)
	for i := range k {
		out[i] = all[i].addr
	}
	slices.Sort(out)
	return out
}
