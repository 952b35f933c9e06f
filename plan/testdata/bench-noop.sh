#!/bin/sh
# Times a no-op `fiosync plan --refresh=false` over 10,000 tracked, unchanged files beside
# `git status` on the same tree (a git repository the benchmark makes), and prints the ratio
# (goal: at most 3). Run from anywhere: plan/testdata/bench-noop.sh [benchtime]
set -eu
cd "$(dirname "$0")/../.."
go test -run='^$' -bench='^BenchmarkNoopPlan10k$' -benchtime="${1:-20x}" -v ./plan/ |
	grep -E '^(Benchmark|    noop_test.go)|ratio'
