#!/bin/sh
# Compare fiosync's hashing (Identify over a generated tree) with the
# reference b3sum on the same files, in one benchmark run. Installs Debian's
# b3sum package when it is missing and apt-get is available.
#
#   state/testdata/bench-hash.sh [extra go test flags, e.g. -benchtime 10x]
set -eu

if ! command -v b3sum >/dev/null 2>&1; then
	if command -v apt-get >/dev/null 2>&1; then
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get install -y b3sum >/dev/null || echo "could not install b3sum; its half of the comparison is skipped" >&2
	else
		echo "b3sum not found and no apt-get; its half of the comparison is skipped" >&2
	fi
fi
command -v b3sum >/dev/null 2>&1 && b3sum --version

cd "$(dirname "$0")/.."
exec go test -run '^$' -bench '^BenchmarkHashTree$' -benchtime 5x "$@" .
