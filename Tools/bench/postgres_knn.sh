#!/usr/bin/env bash
# Exact k-NN in PostgreSQL against the LMDB scan (issue #19): starts a throwaway PostgreSQL 15
# cluster (throwaway_postgres.sh), runs `twentyq bench postgres` against it, and removes it.
# Usage: Tools/bench/postgres_knn.sh BINARY [bench postgres options, e.g. --count 1000000 --bits 256]
set -euo pipefail
binary=$1; shift
source "$(dirname "$0")/throwaway_postgres.sh"
"$binary" bench postgres --url "$pg_url" "$@"
