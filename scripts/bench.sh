#!/usr/bin/env bash
# make bench: every performance claim of fiosync measured beside its reference in one run,
# printed as ratios (absolute numbers move with the machine; ratios measured side by side do
# not). Generates its own data, installs what it needs (Debian's b3sum and time when missing),
# and takes a few minutes on 2 cores, plus the 10,000-file apply with whole-state saves (3 to 30
# minutes, by how busy the machine is).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

need() { # need CMD PACKAGE: install a Debian package when its command is missing
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get install -y "$2" || { apt-get update && apt-get install -y "$2"; }; } >/dev/null 2>&1 || true
	fi
	command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is missing (apt-get install $2); that comparison is skipped" >&2; return 1; }
}
have_b3sum=yes; need b3sum b3sum || have_b3sum=
have_time=yes; [ -x /usr/bin/time ] || need /usr/bin/time time || have_time=

work=$(mktemp -d "${TMPDIR:-/tmp}/fiosync-bench.XXXXXX")
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
results="$work/results"
: >"$results"
say() { echo "$*"; echo "$*" >>"$results"; }

make -s build
bin=$PWD/bin/fiosync

# mbs BENCH-OUTPUT NAME-REGEX: the MB/s column of the matching benchmark line.
mbs() { awk -v re="$2" '$1 ~ re { for (i = 1; i < NF; i++) if ($(i+1) == "MB/s") { print $i; exit } }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== hashing: Identify (BLAKE3, streamed) vs b3sum on the same 224 MiB tree"
go test -run '^$' -bench '^BenchmarkHashTree$' -benchtime 5x ./source/ | tee "$work/hash.txt" | grep '^Benchmark' || true
if [ -n "$have_b3sum" ]; then
	for n in 1 2; do
		f=$(mbs "$work/hash.txt" "identify/parallel=$n")
		r=$(mbs "$work/hash.txt" "b3sum/threads=$n")
		say "hashing ($n thread(s)): fiosync $f MB/s vs b3sum $r MB/s = $(ratio "$f" "$r")x"
	done
fi

echo "== no-op plan of 10,000 tracked files vs git status on the same tree"
go test -run '^$' -bench '^BenchmarkNoopPlan10k$' -benchtime 20x -v ./plan/ | tee "$work/noop.txt" | grep -E '^Benchmark' || true
line=$(grep -o 'no-op plan of 10,000 files: .*' "$work/noop.txt" || true)
[ -n "$line" ] && say "$line"

echo "== 10,000 small files applied with the emulator's limits scaled up 1000x: whole-state saves vs the journal"
go test -run '^$' -bench '^BenchmarkApplySmallFiles$' -benchtime 1x -timeout 60m ./apply/ | tee "$work/small10k.txt" | grep '^Benchmark' || true
# metric BENCH-OUTPUT NAME-REGEX UNIT: the value before UNIT on the matching benchmark line.
metric() { awk -v re="$2" -v u="$3" '$1 ~ re { for (i = 1; i < NF; i++) if ($(i+1) == u) { print $i; exit } }' "$1"; }
before=$(metric "$work/small10k.txt" 'whole-state-saves' files/s)
after=$(metric "$work/small10k.txt" '/journal-[0-9]+$' files/s)
if [ -n "$before" ] && [ -n "$after" ]; then
	say "10,000-file apply: journal $after files/s vs whole-state saves $before files/s = $(ratio "$after" "$before")x (goal >= 5)"
	say "  with today's apply over whole-state saves (its records shared): $(metric "$work/small10k.txt" 'whole-state-shared' files/s) files/s"
	say "  share of CPU in the state backend: journal $(metric "$work/small10k.txt" '/journal-[0-9]+$' state-cpu-%)% (goal < 10), whole-state saves $(metric "$work/small10k.txt" 'whole-state-saves' state-cpu-%)%"
	say "  the journal's CPU by difference with appends discarded: $(awk -v j="$(metric "$work/small10k.txt" '/journal-[0-9]+$' cpu-us/file)" -v d="$(metric "$work/small10k.txt" '/journal-discarded-[0-9]+$' cpu-us/file)" 'BEGIN { if (j > 0 && d != "") printf "%.1f", 100 * (j - d) / j }')% of the process's CPU ($(metric "$work/small10k.txt" '/journal-[0-9]+$' cpu-us/file) vs $(metric "$work/small10k.txt" '/journal-discarded-[0-9]+$' cpu-us/file) us/file)"
fi

echo "== apply throughput vs a raw concurrent PUT loop (2 GiB, same emulator, alternating rounds)"
apply/testdata/bench.sh 3 | tee "$work/apply.txt"
grep -E '^ratio' "$work/apply.txt" | sed 's/^ratio apply\/raw:/apply throughput vs raw PUT loop:/' >>"$results" || true

echo "== verify throughput vs a plain sequential ranged GET loop (128 MiB in 4 files, same emulator)"
go test -run '^$' -bench '^BenchmarkVerifyVsDownload$' -benchtime 5x ./verify/ | tee "$work/verify.txt" | grep '^Benchmark' || true
p=$(mbs "$work/verify.txt" 'VerifyVsDownload/plain-[0-9]+$')
for v in verify verify-serial; do
	m=$(mbs "$work/verify.txt" "VerifyVsDownload/$v-[0-9]+$")
	say "$v throughput vs plain download: $m MB/s vs $p MB/s = $(ratio "$m" "$p")x"
done

echo "== apply with an ASC MHL check vs without, and the hash alone (2 x 128 MiB, alternating rounds)"
apply/testdata/mhlbench.sh 3 | tee "$work/mhl.txt"
grep -E '^ratio mhl' "$work/mhl.txt" | sed 's/^ratio mhl \([a-z0-9]*\):/apply with a \1 MHL check:/' >>"$results" || true

# The CLI against a separate emulator process: small-file rate under the real rate limits,
# and the peak RSS of fiosync apply alone.
start_emulator() {
	[ -n "$emu_pid" ] && { kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; }
	"$bin" emulator --data "$work/emu-data" "$@" >"$work/ready.json" 2>"$work/emulator.log" &
	emu_pid=$!
	for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
	field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
	export FRAMEIO_API_URL=$(field api_url) FRAMEIO_TOKEN=$(field token)
}
manifest() { printf 'version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /%s\n' "$2" >"$1/fiosync.yaml"; }

echo "== small files: 100 files of 4 KiB under the documented rate limits (5 creates/s)"
mkdir -p "$work/small/media"
for i in $(seq -w 1 100); do head -c 4096 /dev/urandom >"$work/small/media/still_$i.jpg"; done
manifest "$work/small" Stills
start_emulator
s=$(date +%s.%N)
(cd "$work/small" && "$bin" apply --auto-approve --parallel 8 >/dev/null)
e=$(date +%s.%N)
rate=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", 100 / (e - s) }')
say "small-file apply: $rate files/s vs the API's 5 files/s = $(ratio "$rate" 5)x"

if [ -n "$have_time" ]; then
	echo "== peak RSS of fiosync apply (2 GiB in 4 files, rate limits off, separate emulator process)"
	mkdir -p "$work/large/media"
	for i in 1 2 3 4; do head -c $((512 << 20)) /dev/urandom >"$work/large/media/A00${i}C001.mov"; done
	manifest "$work/large" Large
	start_emulator --rate-limit-scale 0
	(cd "$work/large" && /usr/bin/time -v "$bin" apply --auto-approve >/dev/null 2>"$work/time.txt") || { cat "$work/time.txt" >&2; exit 1; }
	kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/time.txt")
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/time.txt")
	say "apply peak RSS: $((kb / 1024)) MiB for 2 GiB in 4 files (goal < 300 MiB); $(awk -v s="$secs" 'BEGIN { printf "%.0f", 2048 / s }') MiB/s through the CLI"
fi

echo "== --bwlimit 20M: the measured rate of a 10 s transfer (200 MiB, rate limits off)"
mkdir -p "$work/bw/media"
head -c $((200 << 20)) /dev/urandom >"$work/bw/media/B001C001.mov"
manifest "$work/bw" Bw
start_emulator --rate-limit-scale 0
s=$(date +%s.%N)
(cd "$work/bw" && "$bin" apply --auto-approve --bwlimit 20M >"$work/bw.out")
e=$(date +%s.%N)
rate=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", 200 / (e - s) }')
# The summary's rate is over the time the file was in flight: the transfer the limit paces,
# without the plan's hashing of the 200 MiB and the process start.
sent=$(sed -n 's/^Apply complete: .* sent in .* (\([0-9.]*\) MiB\/s)\.$/\1/p' "$work/bw.out")
say "apply --bwlimit 20M: ${sent:-?} MiB/s in flight = $(ratio "${sent:-0}" 20)x the limit (goal 0.90 to 1.10); $rate MiB/s over the whole $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }') s run"

echo "== the CLI: fiosync plan --refresh=false vs git status, as processes, on 10,000 delivered files"
mkdir -p "$work/tree/media"
(cd "$work/tree/media" && for d in $(seq -w 1 50); do
	mkdir "day$d"
	for f in $(seq -w 1 200); do printf '%s/%s' "$d" "$f" >"day$d/C$f.mov"; done
done)
manifest "$work/tree" Tree
# A large scale, not 0: without rate-limit headers the client keeps Frame.io's documented limits
# (5 creates/s); with them it learns the emulator's and delivers the tree in a minute or two.
start_emulator --rate-limit-scale 1000
(cd "$work/tree" && "$bin" apply --auto-approve --parallel 64 >/dev/null)
(cd "$work/tree" && git init -q && git add -A && git -c user.email=b@b -c user.name=b commit -qm tree && git status --porcelain >/dev/null)
# Plan and git status run alternately, 40 times each, and their medians are compared: the
# machine's speed drifts within a minute, and means of runs one after the other would take
# the drift for a difference.
cd "$work/tree"
: >"$work/cli-times"
for _ in $(seq 40); do
	for cmd in plan git; do
		s=$(date +%s%N)
		if [ "$cmd" = plan ]; then "$bin" plan --refresh=false --detailed-exitcode >/dev/null; else git status >/dev/null; fi
		e=$(date +%s%N)
		echo "$cmd $(((e - s) / 1000))" >>"$work/cli-times"
	done
done
cd - >/dev/null
median() { awk -v c="$1" '$1 == c { print $2 }' "$work/cli-times" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }
pm=$(median plan)
gm=$(median git)
say "CLI no-op plan of 10,000 files: $pm ms vs git status $gm ms (medians of 40 alternate runs) = $(ratio "$pm" "$gm")x (goal <= 3)"

echo "== the CLI: fiosync plan --refresh=false vs git status, as processes, on 100,000 tracked files"
# The tree and a state tracking every file are written directly (TestMakeBenchTree): delivering
# 100,000 files through the emulator first would take most of the bench's time.
FIOSYNC_BENCH_TREE="$work/tree100k" go test -count=1 -run '^TestMakeBenchTree$' ./plan/ >/dev/null
(cd "$work/tree100k" && git init -q && git add -A && git -c user.email=b@b -c user.name=b commit -qm tree && git status --porcelain >/dev/null)
cd "$work/tree100k"
: >"$work/cli-times"
: >"$work/rss"
# Both are timed the same way, as plain processes; the plan's peak RSS is taken in runs of
# its own after (under /usr/bin/time, whose fork and exec would add to the plan's time).
for _ in $(seq 11); do
	for cmd in plan git; do
		s=$(date +%s%N)
		if [ "$cmd" = plan ]; then
			"$bin" plan --refresh=false --detailed-exitcode >/dev/null
		else
			git status >/dev/null
		fi
		e=$(date +%s%N)
		echo "$cmd $(((e - s) / 1000))" >>"$work/cli-times"
	done
done
if [ -n "$have_time" ]; then
	for _ in 1 2 3; do
		/usr/bin/time -f '%M' -o "$work/rss.one" "$bin" plan --refresh=false --detailed-exitcode >/dev/null
		cat "$work/rss.one" >>"$work/rss"
	done
fi
cd - >/dev/null
pm=$(median plan)
gm=$(median git)
say "CLI no-op plan of 100,000 files: $pm ms vs git status $gm ms (medians of 11 alternate runs) = $(ratio "$pm" "$gm")x (goal <= 2)"
if [ -s "$work/rss" ]; then
	say "  peak RSS of that plan: $(($(sort -n "$work/rss" | tail -1) / 1024)) MiB (goal < 500 MiB)"
fi

echo "== several runners: three fiosync apply on one PostgreSQL state vs one (300 files)"
./scripts/with-pg.sh scripts/bench-runners.sh "$bin" "$results"

echo
echo "== summary"
cat "$results"
