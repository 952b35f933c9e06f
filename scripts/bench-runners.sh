#!/usr/bin/env bash
# Part of make bench (scripts/bench.sh runs it through scripts/with-pg.sh): one delivery of
# 300 small files by one `fiosync apply` and by three cooperating ones on one PostgreSQL
# state, each with --parallel 4, against one emulator process with a fixed latency and the
# rate limits scaled up (latency-bound, not bytes-bound). Rounds alternate and the ratio of
# the total wall times is printed: issue 18's goal is three runners in at most 0.5x the time
# of one.
#
#   scripts/with-pg.sh scripts/bench-runners.sh BIN RESULTS
set -euo pipefail
bin=$1
results=$2
: "${FIOSYNC_TEST_PG_URL:?run through scripts/with-pg.sh}"
work=$(mktemp -d "${TMPDIR:-/tmp}/fiosync-runners.XXXXXX")
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$bin" emulator --data "$work/emu" --latency 20ms --rate-limit-scale 100 >"$work/ready.json" 2>"$work/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
export FRAMEIO_API_URL=$(field api_url) FRAMEIO_TOKEN=$(field token) NO_COLOR=1

mkdir -p "$work/p/media"
for d in 1 2 3; do
	mkdir -p "$work/p/media/day$d"
	for i in $(seq -w 1 100); do head -c 8192 /dev/urandom >"$work/p/media/day$d/clip$i.mov"; done
done

# deliver N ROUND: N runners deliver the tree to /ROUND with the state named ROUND; prints
# the wall time in milliseconds.
deliver() {
	printf 'version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /%s\n' "$2" >"$work/p/$2.yaml"
	local s e pids=()
	s=$(date +%s%N)
	for r in $(seq "$1"); do
		XDG_STATE_HOME="$work/journal-$2-$r" "$bin" apply -f "$work/p/$2.yaml" --state "$FIOSYNC_TEST_PG_URL" \
			--state-name "$2" --auto-approve --parallel 4 >"$work/$2-$r.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || { cat "$work/$2"-*.log >&2; exit 1; }; done
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

one=0 three=0
for round in 1 2; do
	a=$(deliver 1 "one$round")
	b=$(deliver 3 "three$round")
	echo "round $round: one runner ${a} ms, three runners ${b} ms"
	one=$((one + a)) three=$((three + b))
done
line="three runners vs one, 300 files of 8 KiB, --parallel 4 each, 20 ms latency: $three ms vs $one ms = $(awk -v a="$three" -v b="$one" 'BEGIN { printf "%.2f", a / b }')x (goal <= 0.5)"
echo "$line"
echo "$line" >>"$results"
