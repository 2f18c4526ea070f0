#!/usr/bin/env bash
# The long pass of the loaders' fuzzing harness (Tests/TwentyQCLITests/LoaderFuzzTests.swift):
# seeded mutations of model files, .npy, .fvecs, vector and document JSONL and hex codes, loaded
# in process; every case must load or throw (a trap ends the run). `swift test` runs 3,000.
# Usage: Tools/fuzz.sh [CASES (default 1000000)] [SEED (default 1616)]
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
TWENTYQ_FUZZ_CASES=${1:-1000000} TWENTYQ_FUZZ_SEED=${2:-1616} swift test --filter LoaderFuzzTests 2>&1 | grep -E "fuzz:|Test run|error|✘"
