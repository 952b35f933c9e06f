#!/bin/sh
# bench.sh compares apply's upload throughput with a raw concurrent PUT loop over the same
# emulator, and measures apply's peak RSS. Rounds alternate the two benchmarks, because on a
# shared 2-core machine other work shifts the numbers from minute to minute; compare the
# medians. Usage: apply/testdata/bench.sh [rounds]   (from the repository root)
set -eu
rounds=${1:-3}
bin=$(mktemp -d)/apply.test
go test -c -o "$bin" ./apply/
i=0
while [ "$i" -lt "$rounds" ]; do
	for b in Apply2GiB RawPUT2GiB; do
		"$bin" -test.run '^$' -test.bench "^Benchmark$b\$" -test.benchtime 1x | grep '^Benchmark'
	done
	i=$((i + 1))
done | awk '
	{ mbs = $(NF-5); name = $1; sub(/-[0-9]+$/, "", name); print; v[name] = v[name] " " mbs }
	END {
		for (n in v) {
			k = split(substr(v[n], 2), a, " ")
			for (x = 1; x <= k; x++) for (y = x + 1; y <= k; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
			med[n] = a[int((k + 1) / 2)]
			printf "median %s: %s MB/s\n", n, med[n]
		}
		if (med["BenchmarkRawPUT2GiB"] > 0)
			printf "ratio apply/raw: %.0f%%\n", 100 * med["BenchmarkApply2GiB"] / med["BenchmarkRawPUT2GiB"]
	}'
# Peak RSS of a process that runs apply (and, in the same process, the emulator it talks to).
/usr/bin/time -v "$bin" -test.run '^$' -test.bench '^BenchmarkApply2GiB$' -test.benchtime 1x 2>&1 |
	grep -E 'Maximum resident set size'
