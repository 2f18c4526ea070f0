#!/usr/bin/env bash
# Exact k-NN: faiss.IndexBinaryFlat against `twentyq bench search`, same sizes, same run,
# alternating. Makes its own venv (faiss-cpu, numpy from PyPI) in Tools/bench/.venv.
# Usage: Tools/bench/faiss-vs-twentyq.sh [--count N] [--bits B] [--queries Q] [-k K]
#        [--threads 1,2] [--reps R] [--db DIR]     (prints one JSON object)
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
exec "$here/.venv/bin/python" "$here/faiss_vs_twentyq.py" --twentyq "$twentyq" "$@"
