#!/usr/bin/env bash
# The long pass of the fuzzing harnesses, in process (release build):
# - LoaderFuzzTests: seeded mutations of model files, .npy, .fvecs, vector and document JSONL and
#   hex codes; every case must load or throw (a trap ends the run). `swift test` runs 3,000.
# - IndexFuzzTests: seeded mutations of a small index's data.mdb, opened and read every way;
#   every case must answer, throw, or stop inside LMDB in a way the CLI reports as damaged
#   (docs/RELIABILITY.md). `swift test` runs 200.
# Usage: Tools/fuzz.sh [CASES (default 1000000)] [SEED (default 1616)] [INDEX_CASES (default 100000)]
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
TWENTYQ_FUZZ_CASES=${1:-1000000} TWENTYQ_FUZZ_SEED=${2:-1616} TWENTYQ_FUZZ_INDEX_CASES=${3:-100000} \
  swift test -c release -Xswiftc -enable-testing --filter "LoaderFuzzTests|IndexFuzzTests" 2>&1 | grep -E "fuzz:|Test run|error|✘"
