#!/usr/bin/env bash
# Installs what building and testing TwentyQ needs when it is missing: liblmdb-dev (LMDB
# headers and lmdb.pc), zlib1g-dev (CRC-32), pkg-config, libopenblas0 (the trainer's matrix
# products; loaded when training starts, not linked), for the tests of `twentyq serve`
# chromium (the search page's browser test) and curl, and for the PostgreSQL store's tests
# postgresql-15 (the tests start their own server in a temporary directory; the package's own
# cluster is not used). Debian/Ubuntu via apt-get; as root or through sudo.
set -euo pipefail
need=()
pkg-config --version >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists lmdb 2>/dev/null || need+=(liblmdb-dev)
pkg-config --exists zlib 2>/dev/null || need+=(zlib1g-dev)
/sbin/ldconfig -p 2>/dev/null | grep 'libopenblas\.so\.0' >/dev/null || need+=(libopenblas0)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v curl >/dev/null 2>&1 || need+=(curl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
