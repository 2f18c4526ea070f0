#!/usr/bin/env bash
# Removes the build products of this package's own targets (Sources/* and Tests/*) from every
# configuration under .build (or TWENTYQ_SCRATCH), keeping the dependencies' builds, so the next
# `swift build` recompiles all of TwentyQ in a few minutes instead of everything in twenty.
# Use it after changing the stored properties of a type that other modules use: an incremental
# build can skip recompiling a dependent module and link code that assumes the old layout
# (docs/DEVELOPING.md, "stale incremental builds").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${TWENTYQ_SCRATCH:-$root/.build}
targets=$(cd "$root" && ls Sources Tests | grep -v '[:.]' | grep -v '^$' | sort -u)
removed=0
for config in "$scratch"/*/debug "$scratch"/*/release; do
    [ -d "$config" ] || continue
    for t in $targets; do
        for path in "$config/$t.build" "$config/Modules/$t."*; do
            if [ -e "$path" ]; then rm -rf "$path"; removed=$((removed + 1)); fi
        done
    done
    # The test product's own objects (its runner links every test module), and the build plan,
    # without which SwiftPM would look for the removed folders' file maps.
    rm -rf "$config"/*PackageTests.product "$config"/*PackageDiscoveredTests.* "$config/description.json" 2>/dev/null || true
done
echo "removed $removed build products of $(wc -w <<<"$targets") targets under $scratch"
