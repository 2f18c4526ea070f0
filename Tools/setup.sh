#!/usr/bin/env bash
# Installs what building TwentyQ needs when it is missing: liblmdb-dev (LMDB headers and
# lmdb.pc), libopenblas-dev (the trainer's matrix products) and pkg-config. Debian/Ubuntu via
# apt-get; as root or through sudo.
set -euo pipefail
need=()
pkg-config --version >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists lmdb 2>/dev/null || need+=(liblmdb-dev)
pkg-config --exists openblas 2>/dev/null || need+=(libopenblas-dev)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
