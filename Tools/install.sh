#!/usr/bin/env bash
# Installs the twentyq CLI with its default model:
#   PREFIX/bin/twentyq and PREFIX/share/twentyq/default.tqm (found beside the binary; see
#   DefaultModel.swift), plus the shell completion scripts in PREFIX/share/twentyq/completions.
# Usage: Tools/install.sh [--prefix DIR] [--binary FILE]
#   --prefix  where to install (default: $HOME/.local; /usr/local needs root)
#   --binary  an already built twentyq to install (default: build one, see below)
# The binary it builds links the Swift runtime and Foundation statically (--static-swift-stdlib,
# in its own build folder .build-install): it needs only glibc, libstdc++, LMDB, zlib and, to
# train, OpenBLAS, so it keeps working when the Swift toolchain is moved, upgraded or removed,
# and starts about 6 ms sooner (docs/BENCHMARKS.md). The first install compiles everything once
# (6 minutes on 2 cores, 17 with a training job sharing them); later ones only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${HOME}/.local"
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
if [ -z "$binary" ]; then
    Tools/setup.sh
    swift build -c release --product twentyq --static-swift-stdlib --scratch-path .build-install >&2
    binary="$(swift build -c release --static-swift-stdlib --scratch-path .build-install --show-bin-path)/twentyq"
fi
[ -x "$binary" ] || { echo "install.sh: '$binary' is not an executable twentyq" >&2; exit 66; }
mkdir -p "$prefix/bin" "$prefix/share/twentyq/completions"
install -m 0755 "$binary" "$prefix/bin/twentyq"
install -m 0644 Data/default.tqm "$prefix/share/twentyq/default.tqm"
for shell in bash zsh fish; do
    "$prefix/bin/twentyq" --generate-completion-script "$shell" > "$prefix/share/twentyq/completions/twentyq.$shell"
done
echo "installed $prefix/bin/twentyq (model: $prefix/share/twentyq/default.tqm)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "add $prefix/bin to PATH to run twentyq" ;; esac
