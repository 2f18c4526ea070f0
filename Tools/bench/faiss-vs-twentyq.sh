#!/usr/bin/env bash
# Exact k-NN: faiss.IndexBinaryFlat against `twentyq bench search`, same sizes, same run,
# alternating. Makes its own venv (faiss-cpu, numpy from PyPI) in Tools/bench/.venv.
# Usage: Tools/bench/faiss-vs-twentyq.sh [--count N] [--bits B] [--queries Q] [-k K]
#        [--threads 1,2] [--reps R] [--db DIR]     (prints one JSON object)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$root/Tools/setup.sh"
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install -q faiss-cpu numpy >&2
fi
(cd "$root" && swift build -c release --product twentyq >&2)
exec "$here/.venv/bin/python" "$here/faiss_vs_twentyq.py" --twentyq "$root/.build/release/twentyq" "$@"
