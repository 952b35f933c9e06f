#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server, for the tests that need one.
#
#   scripts/with-pg.sh CMD [ARGS...]
#
# It finds the PostgreSQL server binaries (PATH, then /usr/lib/postgresql/*/bin), installing
# Debian's postgresql package when they are missing and we are root; creates a cluster in a
# temporary directory (as the postgres user when run as root, since PostgreSQL refuses to run
# as root); starts it on 127.0.0.1 with a free port and its unix socket in that directory;
# exports FIOSYNC_TEST_PG_URL; runs CMD; then stops the server, removes the directory, and
# exits with CMD's status. The server is tuned for tests (no fsync): it holds nothing worth
# keeping.
#
# FIOSYNC_TEST_PG=off runs CMD alone (tests that need PostgreSQL then skip), and an already
# set FIOSYNC_TEST_PG_URL is used as it is.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin" # runuser and useradd live there

if [ "$#" -eq 0 ]; then
	echo "usage: scripts/with-pg.sh CMD [ARGS...]" >&2
	exit 2
fi
if [ "${FIOSYNC_TEST_PG:-}" = off ]; then
	echo "with-pg: FIOSYNC_TEST_PG=off: running without PostgreSQL; tests that need it skip" >&2
	exec "$@"
fi
if [ -n "${FIOSYNC_TEST_PG_URL:-}" ]; then
	exec "$@"
fi

say() { echo "with-pg: $*" >&2; }

# find_bin prints the directory holding initdb, pg_ctl and postgres, or fails.
find_bin() {
	local d
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

if ! bin=$(find_bin); then
	if ! is_root; then
		say "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in PATH or /usr/lib/postgresql/*/bin;"
		say "install them (Debian: sudo apt-get install postgresql), or set FIOSYNC_TEST_PG=off to skip the tests that need them"
		exit 1
	fi
	say "installing PostgreSQL from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends postgresql >&2
	if ! bin=$(find_bin); then
		say "apt-get installed postgresql, but its server binaries are still not found"
		exit 1
	fi
fi

# PostgreSQL will not run as root: run the server tools as the postgres user then.
as_pg() {
	if is_root; then
		if command -v runuser >/dev/null; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c '"$0" "$@"' -- "$@"
		fi
	else
		"$@"
	fi
}
if is_root && ! id postgres >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
fi

# Under /tmp, not TMPDIR: the postgres user must reach it, and socket paths must stay short.
tmp=$(mktemp -d /tmp/fiosync-pg.XXXXXX)
data="$tmp/data"
started=""
cleanup() {
	if [ -n "$started" ]; then
		as_pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if is_root; then
	chown postgres "$tmp"
fi

as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >"$tmp/initdb.log" 2>&1 || {
	say "initdb failed:"
	cat "$tmp/initdb.log" >&2
	exit 1
}

# port_free succeeds when nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a free port and start; another process may take the port between the check and the
# bind, so try a few.
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	port_free "$port" || continue
	if as_pg "$bin/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null; then
		started=yes
		break
	fi
done
if [ -z "$started" ]; then
	say "PostgreSQL did not start; its log:"
	cat "$tmp/server.log" >&2 || true
	exit 1
fi

export FIOSYNC_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
say "$("$bin/postgres" --version) on 127.0.0.1:$port; FIOSYNC_TEST_PG_URL is set"

set +e
"$@"
status=$?
set -e
exit "$status"
