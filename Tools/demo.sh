#!/usr/bin/env bash
# The main job on a fresh machine: build twentyq (release), index the shipped sample (3,000
# Debian fortunes) with the shipped default model and search it; then time exact search over
# 1M random 256-bit codes in LMDB (results checked against the naive reference).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --product twentyq
bin=.build/release/twentyq
$bin demo
db=${TWENTYQ_DEMO_DB:-/tmp/twentyq-demo-codes}
rm -rf "$db"
echo
$bin bench index --db "$db" --count 1000000 --bits 256 --batch 50000
$bin bench search --db "$db" --queries 1000 -k 10 --verify 5
