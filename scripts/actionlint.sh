#!/usr/bin/env bash
# Lints the GitHub Actions example workflows with actionlint, checking each use of this
# repository's action against action.yml: the workflows are copied into a throwaway git
# project beside a copy of action.yml, with `uses: fiosync/fiosync@REF` pointed at it (./),
# which is how actionlint resolves a local action's inputs and outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
ACTIONLINT=${ACTIONLINT:-github.com/rhysd/actionlint/cmd/actionlint@v1.7.12}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows"
cp action.yml "$tmp/"
for wf in examples/github-actions/*.yml; do
	sed -E 's#uses: fiosync/fiosync@[^[:space:]]+#uses: ./#' "$wf" >"$tmp/.github/workflows/$(basename "$wf")"
done
git -C "$tmp" init -q
cd "$tmp"
$GO run "$ACTIONLINT" -no-color .github/workflows/*.yml
