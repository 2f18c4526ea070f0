#!/usr/bin/env bash
# `twentyq copy` speed (issue #19): an index into a throwaway PostgreSQL 15 (throwaway_postgres.sh)
# and back into a new directory, the same copy again (a resumed copy: everything unchanged), and
# the anchor in the same run, a copy that stays in LMDB (`twentyq backup`). One JSON line each.
# Usage: Tools/bench/postgres_copy.sh BINARY INDEX_DIR [--batch N]
set -euo pipefail
binary=$1; db=$2; shift 2
source "$(dirname "$0")/throwaway_postgres.sh"
out=$(mktemp -d /tmp/twentyq-copy-XXXXXX)
trap '$as "$bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null; rm -rf "$pg_dir" "$out"' EXIT
count=$("$binary" info --db "$db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
stamp() { python3 -c 'import time; print(time.time())'; }
run() {  # label, command...: the command's JSON summary plus wall time and items per second
  local label=$1; shift
  local t0; t0=$(stamp)
  local summary; summary=$("$@" | tail -1)
  local t1; t1=$(stamp)
  python3 -c 'import json,sys; s=json.loads(sys.argv[2]) if sys.argv[2].startswith("{") else {}; w=float(sys.argv[4])-float(sys.argv[3]); n=int(sys.argv[5])
s.update({"what": sys.argv[1], "items": n, "wall_seconds": round(w, 3), "items_per_second": round(n / w)}); print(json.dumps(s, sort_keys=True))' \
    "$label" "$summary" "$t0" "$t1" "$count"
}
run "LMDB -> PostgreSQL (copy)" "$binary" copy --from "$db" --to "$pg_url" --name bench --json "$@"
run "LMDB -> PostgreSQL again (resumed copy, all unchanged)" "$binary" copy --from "$db" --to "$pg_url" --name bench --json "$@"
run "PostgreSQL -> LMDB (copy into a new directory)" "$binary" copy --from "$pg_url" --name bench --to "$out/back" --json "$@"
run "anchor: LMDB -> LMDB (twentyq backup)" "$binary" backup --db "$db" --out "$out/backup" --json
