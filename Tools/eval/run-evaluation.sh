#!/usr/bin/env bash
# The evaluation of the text encoder (issue #3), on ../shared/data:
#  1. precision@100 on 20 Newsgroups and Reuters-20 at 16, 32, 64 and 128 bits (unsupervised
#     ternary models with default settings), with TF-IDF cosine and LSH baselines;
#  2. the low-bit ablation at 64 bits: float, ternary, binary, fp4-e3m0, fp4-e2m1 weights,
#     same architecture and training budget, with model size and encode throughput.
# Writes JSON lines to docs/eval/DATE-*.jsonl and the models to $OUT (default /tmp/twentyq-eval).
# Usage: Tools/eval/run-evaluation.sh [DATA_DIR] [DATASETS]   (about 40 minutes on 2 cores)
#        DATASETS defaults to "20news reuters"; "encode" alone re-runs only the throughput part.
#        PARTS (third argument) defaults to "bits ablation encode"; name fewer to run fewer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/../shared/data}
out=${OUT:-/tmp/twentyq-eval}
date=$(date +%F)
mkdir -p "$out" "$root/docs/eval"
"$root/Tools/setup.sh"
(cd "$root" && swift build -c release --product twentyq >&2)
bin="$root/.build/release/twentyq"
datasets=${2:-20news reuters}
parts=${3:-bits ablation encode}
for dataset in $datasets; do
    [ "$dataset" = encode ] && continue
    case " $parts " in *" bits "*) ;; *) continue ;; esac
    "$bin" eval --dataset "$dataset" --data "$data" --bits 16,32,64,128 --baselines --save-models "$out" \
        > "$root/docs/eval/$date-$dataset-bits.jsonl" 2> "$out/$dataset-bits.log"
    case " $parts " in *" ablation "*) ;; *) continue ;; esac
    for w in float binary fp4-e3m0 fp4-e2m1; do
        "$bin" eval --dataset "$dataset" --data "$data" --bits 64 --weights "$w" --save-models "$out" \
            >> "$root/docs/eval/$date-$dataset-ablation.jsonl" 2> "$out/$dataset-ablation-$w.log"
    done
done
# Encode throughput of each 64-bit 20 Newsgroups model, 2 threads, whole corpus.
case " $parts " in *" encode "*) ;; *) echo "done" >&2; exit 0 ;; esac
gzip -dc "$data/20news/20news-bydate.jsonl.gz" > "$out/20news.jsonl"
for w in ternary float binary fp4-e3m0 fp4-e2m1; do
    "$bin" bench encode --corpus "$out/20news.jsonl" --strip-headers --model "$out/20news-64-$w.tqm" --runs 3 --json
done > "$root/docs/eval/$date-encode.jsonl"
echo "done: docs/eval/$date-*.jsonl" >&2
