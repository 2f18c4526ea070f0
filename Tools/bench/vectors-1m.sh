#!/usr/bin/env bash
# Rescored vector search over 1M stored 384-d vectors: `twentyq bench vectors` against
# faiss.IndexBinaryFlat + numpy int8 rescoring on the same codes and queries, same run.
# The 1M vectors are synthesised from the all-MiniLM-L6-v2 vectors in ../shared/data (see
# vectors_1m.py). Usage: Tools/bench/vectors-1m.sh [--work DIR] [--count N] [--bits B]
#        [--queries Q] [--oversample O] [--data DIR]        (prints one JSON object)
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
exec "$here/.venv/bin/python" "$here/vectors_1m.py" --twentyq "$twentyq" --data "$root/../shared/data" "$@"
