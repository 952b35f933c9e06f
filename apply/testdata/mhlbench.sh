#!/bin/sh
# mhlbench.sh compares apply with an ASC MHL check against apply without one on the same card
# (2 x 128 MiB, in-process emulator), and both with the check's hash alone on the same bytes.
# Rounds alternate the variants (a shared 2-core machine drifts from minute to minute) and
# the medians are compared. The bar: the check may cost apply no more time per byte
# than the hash costs alone. Usage: apply/testdata/mhlbench.sh [rounds]   (from the repo root)
set -eu
rounds=${1:-3}
bin=$(mktemp -d)/apply.test
go test -c -o "$bin" ./apply/
i=0
set -- 'ApplyMHL/check=none$' 'ApplyMHL/check=xxh128$' 'ApplyMHL/check=xxh64$' 'ApplyMHL/check=md5$' 'MHLHash'
while [ "$i" -lt "$rounds" ]; do
	for b in "$@"; do
		"$bin" -test.run '^$' -test.bench "^Benchmark$b" -test.benchtime 1x | grep '^Benchmark'
	done
	# Each round starts with the next variant, so none is always the first (or last) to run.
	first=$1
	shift
	set -- "$@" "$first"
	i=$((i + 1))
done | awk '
	function med(list,    k, a, x, y, t) {
		k = split(substr(list, 2), a, " ")
		for (x = 1; x <= k; x++) for (y = x + 1; y <= k; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
		return a[int((k + 1) / 2)]
	}
	{
		print
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
		for (i = 2; i <= NF; i++) {
			if ($i == "MB/s") mbs[name] = mbs[name] " " $(i-1)
			if ($i == "cpu-ms/MiB") cpu[name] = cpu[name] " " $(i-1)
		}
	}
	END {
		base = med(mbs["ApplyMHL/check=none"]); basecpu = med(cpu["ApplyMHL/check=none"])
		split("xxh128 xxh64 md5", fs, " ")
		for (i = 1; i <= 3; i++) {
			f = fs[i]; with = med(mbs["ApplyMHL/check=" f]); withcpu = med(cpu["ApplyMHL/check=" f])
			alone = med(mbs["MHLHash/format=" f]); alonecpu = med(cpu["MHLHash/format=" f])
			if (base <= 0 || with <= 0 || alonecpu <= 0) continue
			printf "ratio mhl %s: apply %.0f MB/s with the check vs %.0f MB/s without = %.2fx; CPU %.2f vs %.2f ms/MiB, extra %.2f ms/MiB = %.2fx the hash alone (%.3f ms/MiB, %.0f MB/s)\n",
				f, with, base, with / base, withcpu, basecpu, withcpu - basecpu, (withcpu - basecpu) / alonecpu, alonecpu, alone
		}
	}'
