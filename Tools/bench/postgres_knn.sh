#!/usr/bin/env bash
# Exact k-NN in PostgreSQL against the LMDB scan (issue #19): starts a throwaway PostgreSQL 15
# cluster in a temporary directory on a free port of 127.0.0.1 (as the postgres user when run
# as root), runs `twentyq bench postgres` against it, and removes it.
# Usage: Tools/bench/postgres_knn.sh BINARY [bench postgres options, e.g. --count 1000000 --bits 256]
set -euo pipefail
binary=$1; shift
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/twentyq-pgbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as=""
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 755 "$dir"; as="runuser -u postgres --"; fi
$as "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
$as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=1GB" start >/dev/null
trap '$as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; rm -rf "$dir"' EXIT
"$binary" bench postgres --url "postgres://postgres@127.0.0.1:$port/postgres" "$@"
