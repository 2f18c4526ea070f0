#!/usr/bin/env bash
# Reproduces Data/default.tqm: assembles the corpus (Tools/make-default-corpus.py; Cranfield, the
# ad-hoc dev set, is not in it), trains a 256-bit ternary model with the default settings and
# seed 42, appends 768 query bits whose bucket IDFs come from the same corpus (`twentyq model
# project`: 1,024 bits per code in all, the most a code holds), and evaluates it on the test splits of 20 Newsgroups and Reuters-20 and on Cranfield's
# judged queries (JSON lines in docs/eval/). About 30 minutes on 2 cores.
# Usage: Tools/train-default-model.sh [DATA_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data}
work=${WORK:-/tmp/twentyq-default}
mkdir -p "$work"
"$root/Tools/setup.sh"
(cd "$root" && swift build -c release --product twentyq --scratch-path "$root/.build-default" >&2)
bin="$root/.build-default/release/twentyq"
python3 "$root/Tools/make-default-corpus.py" "$data" "$work/corpus.jsonl"
"$bin" train --corpus "$work/corpus.jsonl" --bits 256 --weights ternary --seed 42 --out "$root/Data/default.tqm" --json
"$bin" model project --model "$root/Data/default.tqm" --corpus "$work/corpus.jsonl" --bits 768 --out "$root/Data/default.tqm"
for dataset in 20news reuters; do
    "$bin" eval --dataset "$dataset" --data "$data" --model "$root/Data/default.tqm" --baselines --bits 256
done > "$root/docs/eval/$(date +%F)-default-model.jsonl"
"$bin" eval --dataset cranfield --data "$data" --model "$root/Data/default.tqm" \
    > "$root/docs/eval/$(date +%F)-cranfield-adhoc-default-model.jsonl"
