#!/usr/bin/env bash
# Installs fiosync for the GitHub Action: the released binary of the action's ref when that ref
# is a release tag with an archive for this runner (checked against the release's
# checksums.txt), else built with Go from the action's own checkout, which is that same ref.
# The binary's directory goes on GITHUB_PATH for the later steps.
set -euo pipefail

bin="${RUNNER_TEMP:-/tmp}/fiosync-bin"
mkdir -p "$bin"
ref=${GITHUB_ACTION_REF:-}
repo=${GITHUB_ACTION_REPOSITORY:-fiosync/fiosync}
server=${GITHUB_SERVER_URL:-https://github.com}
exe=fiosync
[ "${RUNNER_OS:-}" = Windows ] && exe=fiosync.exe

sha256() {
	if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

# release downloads and unpacks the archive GoReleaser made for this runner.
release() {
	local os arch ext archive tmp want
	case "${RUNNER_OS:-Linux}" in
	Linux) os=linux ;; macOS) os=darwin ;; Windows) os=windows ;; *) return 1 ;;
	esac
	case "${RUNNER_ARCH:-X64}" in
	X64) arch=amd64 ;; ARM64) arch=arm64 ;; *) return 1 ;;
	esac
	ext=tar.gz
	[ "$os" = windows ] && ext=zip
	archive="fiosync_${ref#v}_${os}_${arch}.$ext"
	tmp=$(mktemp -d)
	curl -fsSL -o "$tmp/checksums.txt" "$server/$repo/releases/download/$ref/checksums.txt" || return 1
	curl -fsSL -o "$tmp/$archive" "$server/$repo/releases/download/$ref/$archive" || return 1
	want=$(awk -v a="$archive" '$2 == a { print $1 }' "$tmp/checksums.txt")
	if [ -z "$want" ] || [ "$want" != "$(sha256 "$tmp/$archive")" ]; then
		echo "::error::fiosync $ref: $archive does not match the release's checksums.txt"
		exit 1
	fi
	if [ "$ext" = zip ]; then
		unzip -q -o "$tmp/$archive" "$exe" -d "$bin"
	else
		tar -xzf "$tmp/$archive" -C "$bin" "$exe"
	fi
}

if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]] && release; then
	echo "Installed the released fiosync $ref."
else
	if ! command -v go >/dev/null; then
		echo "::error::fiosync: no released binary for ${ref:-this ref}, and no Go to build one (leave setup-go at true)"
		exit 1
	fi
	(cd "$GITHUB_ACTION_PATH" && go build -ldflags "-X main.version=${ref:-dev}" -o "$bin/$exe" ./cmd/fiosync)
	echo "Built fiosync from the action's checkout${ref:+ at $ref}."
fi
echo "$bin" >>"${GITHUB_PATH:-/dev/null}"
"$bin/$exe" version
