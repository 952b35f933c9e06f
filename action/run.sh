#!/usr/bin/env bash
# The main step of the fiosync GitHub Action (action.yml): fiosync plan or apply, the step
# summary, and one pull-request comment per manifest, created on the first run and updated on
# every later one (found by a hidden marker).
#
# Inputs arrive as INPUT_* variables that action.yml sets, so no input is ever spliced into
# this script. Secrets come from the environment only: FRAMEIO_* and FIOSYNC_STATE for fiosync,
# GITHUB_TOKEN for the comment. Nothing here prints them: there is no `set -x`, and the token
# reaches curl on its standard input, never on a command line.
set -uo pipefail

command=${INPUT_COMMAND:-plan}
manifest=${INPUT_MANIFEST:-fiosync.yaml}
state=${INPUT_STATE:-}
comment=${INPUT_COMMENT:-true}
api=${GITHUB_API_URL:-https://api.github.com}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
output=${GITHUB_OUTPUT:-/dev/null}
work=$(mktemp -d "${RUNNER_TEMP:-/tmp}/fiosync.XXXXXX")

case "$command" in
plan | apply) ;;
*)
	echo "::error::fiosync action: command must be plan or apply, not \"$command\""
	exit 1
	;;
esac

# key names the manifest in the marker and the plan file: only characters that can neither
# end an HTML comment nor leave a file name.
key=$(printf '%s' "$manifest" | tr -c 'A-Za-z0-9._/' '_' | tr '/' '_')
marker="<!-- fiosync:$command:$key -->"
plan_path="$work/$key.plan"

# code_block prints standard input as a markdown code block that nothing in it can close.
code_block() {
	echo
	sed 's/^/    /'
	echo
}

# The event: a pull request's number, and whether it comes from a fork.
pr="" fork="" base_repo=""
if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -r "$GITHUB_EVENT_PATH" ]; then
	pr=$(jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH")
	head_repo=$(jq -r '.pull_request.head.repo.full_name // empty' "$GITHUB_EVENT_PATH")
	base_repo=$(jq -r '.pull_request.base.repo.full_name // empty' "$GITHUB_EVENT_PATH")
	if [ -n "$pr" ] && [ "$head_repo" != "$base_repo" ] && [ "${GITHUB_EVENT_NAME:-}" != "pull_request_target" ]; then
		fork=$head_repo
	fi
fi
repo=${base_repo:-${GITHUB_REPOSITORY:-}}

has_credentials() {
	[ -n "${FRAMEIO_TOKEN:-}" ] || { [ -n "${FRAMEIO_CLIENT_ID:-}" ] && [ -n "${FRAMEIO_CLIENT_SECRET:-}" ]; }
}

args=(-f "$manifest")
if [ -n "$state" ]; then
	args+=(--state "$state")
fi

out="$work/out" err="$work/err"
shown=${manifest//\`/\'} # the manifest's name in a code span that it cannot close
title="fiosync $command \`$shown\`"
note=""
has_changes=""
if [ -n "$fork" ] && ! has_credentials; then
	# GitHub gives a fork's pull request no secrets, so nothing can reach Frame.io: check the
	# manifest offline instead of failing on a missing credential.
	title="fiosync validate \`$shown\`"
	fiosync validate "${args[@]}" >"$out" 2>"$err"
	code=$?
	note="This pull request comes from the fork $fork, which GitHub gives no secrets, so fiosync checked the manifest offline instead of planning."
elif [ "$command" = plan ]; then
	fiosync plan "${args[@]}" --detailed-exitcode --format markdown --out "$plan_path" >"$out" 2>"$err"
	code=$?
	case $code in
	0) has_changes=false ;;
	2) has_changes=true code=0 ;;
	esac
else
	fiosync apply "${args[@]}" --auto-approve >"$out" 2>"$err"
	code=$?
fi
cat "$err" >&2

# The report: the markdown plan as it is, anything else as a code block; errors after it.
report="$work/report.md"
{
	echo "### $title"
	echo
	if [ "$code" -ne 0 ]; then
		echo "**Failed** (exit $code):"
		code_block <"$err"
	fi
	if [ "$command" = plan ] && [ -z "$note" ]; then
		sed '1{/^### fiosync plan$/d;}' "$out" # the title above names the manifest too
	elif [ -s "$out" ]; then
		code_block <"$out"
	fi
	if [ -n "$note" ]; then
		echo
		echo "$note"
	fi
} >"$report"

{
	echo "has_changes=$has_changes"
	if [ -f "$plan_path" ]; then
		echo "plan_path=$plan_path"
	else
		echo "plan_path="
	fi
} >>"$output"

# github calls the REST API: github METHOD PATH [BODY_FILE]; the answer goes to $work/answer
# and the status to standard output. The token goes to curl through its standard input.
github() {
	local data=()
	if [ $# -ge 3 ]; then
		data=(--data-binary "@$3" -H "Content-Type: application/json")
	fi
	printf 'header = "Authorization: Bearer %s"\n' "$GITHUB_TOKEN" |
		curl -sS -K - -X "$1" -o "$work/answer" -w '%{http_code}' \
			-H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28" \
			${data[@]+"${data[@]}"} "$api$2"
}

# comment creates or updates this manifest's comment; it prints why it did not, if it did not.
comment() {
	if [ "$comment" != true ]; then
		return
	fi
	if [ -z "$pr" ]; then
		return # not a pull request: nothing to comment on
	fi
	if [ -n "$fork" ]; then
		echo "fiosync did not comment: GitHub gives pull requests from forks ($fork) a read-only GITHUB_TOKEN, so this summary is the only report."
		return
	fi
	if [ -z "${GITHUB_TOKEN:-}" ] || [ -z "$repo" ]; then
		echo "fiosync did not comment: no GITHUB_TOKEN (pass github-token) or no repository."
		return
	fi
	local id="" page=1 status
	while [ -z "$id" ] && [ "$page" -le 50 ]; do
		status=$(github GET "/repos/$repo/issues/$pr/comments?per_page=100&page=$page") || status=000
		if [ "$status" != 200 ]; then
			echo "fiosync did not comment: listing the comments of #$pr answered $status."
			return
		fi
		id=$(jq -r --arg m "$marker" '[.[] | select((.body // "") | startswith($m))][0].id // empty' "$work/answer")
		if [ "$(jq length "$work/answer")" -lt 100 ]; then
			break
		fi
		page=$((page + 1))
	done
	{
		echo "$marker"
		cat "$report"
	} | jq -Rs '{body: .}' >"$work/payload.json"
	if [ -n "$id" ]; then
		status=$(github PATCH "/repos/$repo/issues/comments/$id" "$work/payload.json") || status=000
		[ "$status" = 200 ] && return
	else
		status=$(github POST "/repos/$repo/issues/$pr/comments" "$work/payload.json") || status=000
		[ "$status" = 201 ] && return
	fi
	echo "fiosync did not comment: GitHub answered $status; the job needs \`permissions: pull-requests: write\`."
}

why=$(comment)
if [ -n "$why" ]; then
	echo "::warning::$why"
	printf '\n%s\n' "$why" >>"$report"
fi
cat "$report" >>"$summary"
exit "$code"
