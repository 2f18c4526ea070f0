#!/usr/bin/env bash
# The evaluation of the vector encoders (issue #5), on the all-MiniLM-L6-v2 vectors in
# ../shared/data/embeddings-minilm: tie-aware recall@10 of the float top-10 at 64, 128, 256,
# 384 and 512 bits for sign / rotation / ITQ / trained-ternary / trained-float, with and
# without rescoring (oversample 2, 4, 8; float32 and int8 stored vectors; the Hamming-nearest
# rescored, --shortlist 1, and the asymmetric shortlist of VectorIndex's default, --shortlist 10).
#  - 20 Newsgroups: database = the 11,314 train vectors, queries = the first 500 test vectors
#    (as the issue's calibration figures), ground truth from the shared ivecs file;
#  - STS-B: database = all 15,487 sentences, queries = the 1,000 shared query rows, each left
#    out of its own results, ground truth from the shared ivecs file.
# Trained models train on the database vectors only (no queries, no labels).
# Writes JSON lines to docs/eval/DATE-vectors-DATASET.jsonl; models to $OUT (default /tmp/twentyq-eval).
# Usage: Tools/eval/run-vector-evaluation.sh [DATA_DIR] [DATASETS] [QUERIES]
#        DATASETS defaults to "20news stsb"; QUERIES (20news) defaults to 500 ("all": 7,532).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/../shared/data}
datasets=${2:-20news stsb}
queries=${3:-500}
out=${OUT:-/tmp/twentyq-eval}
scratch=${TWENTYQ_SCRATCH:-$root/.build}
date=$(date +%F)
mkdir -p "$out" "$root/docs/eval"
"$root/Tools/setup.sh"
(cd "$root" && swift build -c release --product twentyq --scratch-path "$scratch" >&2)
bin="$scratch/release/twentyq"
e="$data/embeddings-minilm"
limit=()
[ "$queries" != all ] && limit=(--limit-queries "$queries")
for dataset in $datasets; do
    case $dataset in
        20news) args=(--database "$e/20news-train.fvecs" --queries "$e/20news-test.fvecs"
                      --truth "$e/20news-test-vs-train.cosine-gt100.ivecs" "${limit[@]}") ;;
        stsb) args=(--database "$e/stsb-sentences.fvecs" --query-rows "$e/stsb-query-rows.txt"
                    --truth "$e/stsb-queries-vs-rest.cosine-gt100.ivecs") ;;
        *) echo "unknown dataset $dataset" >&2; exit 2 ;;
    esac
    "$bin" eval-vectors "${args[@]}" --label "$dataset" --bits 64,128,256,384,512 \
        --methods sign,rotation,itq,trained --weights ternary,float --oversample 2,4,8 --storage float32,int8 \
        --save-models "$out" > "$root/docs/eval/$date-vectors-$dataset.jsonl" 2> "$out/vectors-$dataset.log"
done
echo "done: docs/eval/$date-vectors-*.jsonl" >&2
