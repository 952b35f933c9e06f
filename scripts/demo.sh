#!/usr/bin/env bash
# make demo: plan and apply examples/dailies against a local Frame.io emulator, then show that
# a second plan has nothing left to do. Needs only Go (to build) and a POSIX shell.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${FIOSYNC:-bin/fiosync}
work=$(mktemp -d "${TMPDIR:-/tmp}/fiosync-demo.XXXXXX")
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cp -R examples/dailies "$work/dailies"
"$bin" emulator --data "$work/emulator" >"$work/ready.json" 2>"$work/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do
	[ -s "$work/ready.json" ] && break
	sleep 0.1
done
[ -s "$work/ready.json" ] || { echo "demo: the emulator did not start:" >&2; cat "$work/emulator.log" >&2; exit 1; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
export FRAMEIO_API_URL=$(field api_url) FRAMEIO_TOKEN=$(field token)
export NO_COLOR=${NO_COLOR:-}

if [ -t 1 ] && [ -z "$NO_COLOR" ]; then
	say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
	say() { printf '\n$ %s\n' "$*"; }
fi
m="$work/dailies/fiosync.yaml"
echo "Frame.io emulator at $FRAMEIO_API_URL (project Sandbox)"
say fiosync validate -f dailies/fiosync.yaml
"$bin" validate -f "$m"
say fiosync plan -f dailies/fiosync.yaml
"$bin" plan -f "$m"
say fiosync apply -f dailies/fiosync.yaml --auto-approve
"$bin" apply -f "$m" --auto-approve
say fiosync plan -f dailies/fiosync.yaml --detailed-exitcode
if "$bin" plan -f "$m" --detailed-exitcode; then
	echo
	echo "Demo complete: everything is delivered and a second plan has no changes."
else
	echo "demo: the second plan still has changes (exit $?)" >&2
	exit 1
fi
