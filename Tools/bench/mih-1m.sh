#!/usr/bin/env bash
# Multi-index hashing against the scan, faiss.IndexBinaryMultiHash and faiss.IndexBinaryHNSW,
# single queries, k = 10, on real and random codes; plus index build time, disk space and
# insert speed with and without the tables. JSON lines on stdout (and in $out).
#
# Real codes: Tools/bench/make_chunk_corpus.py cuts every document of ../shared/data into
# sentences and windows of 2-4 consecutive sentences (1,376,179 chunks); the shipped default
# model encodes them (256 bits); the 64- and 128-bit codes are the first 64 / 128 bits of
# those codes. Queries: one chunk from each of 997 held-out 20 Newsgroups test messages.
# Random codes: 1M uniformly random codes, queries half random, half stored codes with 10%
# of their bits flipped (`bench search` without --query-db).
# Usage: Tools/bench/mih-1m.sh [DATA_DIR]   (about 15 minutes; needs ~6 GB in $work)
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
data=${1:-$root/../shared/data}
work=${TWENTYQ_MIH_WORK:-/tmp/twentyq-mih}
out=${TWENTYQ_MIH_OUT:-$root/docs/bench/$(date +%F)-mih-1m.jsonl}
mkdir -p "$work"
py="$here/.venv/bin/python"
emit() { tee -a "$out"; }
: > "$out"

if [ ! -s "$work/export256.jsonl" ]; then
    python3 "$here/make_chunk_corpus.py" "$data" "$work" >&2
    rm -rf "$work/idx256" "$work/idxq"
    "$twentyq" index --db "$work/idx256" --batch 20000 --json "$work/corpus.jsonl" >&2
    "$twentyq" index --db "$work/idxq" --json "$work/queries.jsonl" >&2
    "$twentyq" export --db "$work/idx256" > "$work/export256.jsonl"
    "$twentyq" export --db "$work/idxq" > "$work/exportq.jsonl"
fi
for bits in 64 128 256; do
    "$py" - "$work" "$bits" <<'PY'
import json, sys
work, bits = sys.argv[1], int(sys.argv[2])
for src, dst in (("export256", f"codes{bits}"), ("exportq", f"q{bits}")):
    with open(f"{work}/{src}.jsonl") as f, open(f"{work}/{dst}.jsonl", "w") as o:
        for line in f:
            d = json.loads(line)
            o.write(json.dumps({"id": d["id"], "code": d["code"][-bits // 4:]}) + "\n")
PY
    rm -rf "$work/c$bits" "$work/q$bits-idx"
    "$twentyq" index --codes "$work/codes$bits.jsonl" --db "$work/c$bits" --batch 20000 --json \
        | "$py" -c "import json,sys; d=json.loads(sys.stdin.read()); d['what']='index real codes, tables on'; print(json.dumps(d))" | emit
    "$twentyq" index --codes "$work/q$bits.jsonl" --db "$work/q$bits-idx" --json >&2
    "$twentyq" tables --db "$work/c$bits" --json | emit
    for method in auto mih; do
        "$twentyq" bench search --db "$work/c$bits" --query-db "$work/q$bits-idx" --queries 1000 --method "$method" --runs 3 --json | emit
    done
    "$py" "$here/mih_vs_faiss.py" "$work/codes$bits.jsonl" "$work/q$bits.jsonl" --m "$("$twentyq" tables --db "$work/c$bits" --json | "$py" -c "import json,sys; print(json.loads(sys.stdin.read())['substrings'])")" | emit
done

# Random codes: inserts with and without tables (bulk 1M in batches of 10,000, then 20,000
# more in batches of 100), then search.
for bits in 64 128; do
    for tables in off on; do
        rm -rf "$work/rnd$bits-$tables"
        "$twentyq" bench index --db "$work/rnd$bits-$tables" --count 1000000 --bits "$bits" --batch 10000 --tables "$tables" --json \
            | "$py" -c "import json,sys; d=json.loads(sys.stdin.read()); d['what']='bulk inserts, random codes'; print(json.dumps(d))" | emit
        "$twentyq" bench index --db "$work/rnd$bits-$tables" --count 1020000 --bits "$bits" --batch 100 --json \
            | "$py" -c "import json,sys; d=json.loads(sys.stdin.read()); d['what']='inserts of 100 into 1M, random codes'; print(json.dumps(d))" | emit
    done
    for method in auto mih; do
        "$twentyq" bench search --db "$work/rnd$bits-on" --queries 1000 --method "$method" --json | emit
    done
    "$twentyq" export --db "$work/rnd$bits-on" > "$work/rnd$bits.jsonl"
    "$py" - "$work/rnd$bits.jsonl" "$work/rnd$bits-q.jsonl" <<'PY'
import json, random, sys
# 1,000 queries like bench search's: half random codes, half stored codes with 10% of bits flipped.
rows = [json.loads(l)["code"] for l in open(sys.argv[1])]
rng = random.Random(7)
bits = len(rows[0]) * 4
with open(sys.argv[2], "w") as o:
    for q in range(1000):
        if q < 500:
            v = rng.getrandbits(bits)
        else:
            v = int(rows[rng.randrange(len(rows))], 16)
            for b in rng.sample(range(bits), bits // 10):
                v ^= 1 << b
        o.write(json.dumps({"id": str(q), "code": format(v, f"0{bits // 4}x")}) + "\n")
PY
    "$py" "$here/mih_vs_faiss.py" "$work/rnd$bits.jsonl" "$work/rnd$bits-q.jsonl" | emit
done
