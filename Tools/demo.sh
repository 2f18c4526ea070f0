#!/usr/bin/env bash
# The main job on a fresh machine: build twentyq (release), fill an index with 1M random
# 256-bit codes, show it, and search it with 1000 queries (checked against the reference).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build -c release --product twentyq
bin=.build/release/twentyq
db=${TWENTYQ_DEMO_DB:-/tmp/twentyq-demo}
rm -rf "$db"
$bin bench index --db "$db" --count 1000000 --bits 256 --batch 50000
$bin info --db "$db"
$bin bench search --db "$db" --queries 1000 -k 10 --verify 5
