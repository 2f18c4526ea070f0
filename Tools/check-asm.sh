#!/usr/bin/env bash
# Shows which instructions the hot loops compile to, per kernel build, from a plain
# `swift build -c release` (no target-CPU flags). Expect: portable copies without popcnt,
# popcnt copies with popcnt, avx2 copies with vpshufb + vpsadbw, avx512 copies with vpopcntq.
# Exits 1 if not.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product twentyq >/dev/null
obj=$(find .build/release/ -path '*CHammingKernels.build/scan.c.o' | head -n 1)
[ -n "$obj" ] || { echo "scan.c.o not found under .build/release" >&2; exit 1; }
status=0
printf '%-22s %8s %8s %8s %8s %8s\n' function popcnt vpshufb vpsadbw vpopcntq insns
for fn in $(objdump -d "$obj" | sed -n 's/^[0-9a-f]* <\(\(knn[18]\?\|dist\|filter\)_[a-z0-9_]*\)>:$/\1/p'); do
    body=$(objdump -d "$obj" --disassemble="$fn" | grep -P '^\s+[0-9a-f]+:\t')
    n=$(wc -l <<<"$body")
    p=$(grep -cw popcnt <<<"$body" || true)
    s=$(grep -cw vpshufb <<<"$body" || true)
    a=$(grep -cw vpsadbw <<<"$body" || true)
    v=$(grep -cw vpopcntq <<<"$body" || true)
    printf '%-22s %8d %8d %8d %8d %8d\n' "$fn" "$p" "$s" "$a" "$v" "$n"
    case "$fn" in
        *_portable_*) [ "$p" -eq 0 ] || { echo "  ^ portable copy uses popcnt" >&2; status=1; } ;;
        *_popcnt_*)   [ "$p" -gt 0 ] || { echo "  ^ popcnt copy has no popcnt" >&2; status=1; } ;;
        *_avx2_*)     [ "$s" -gt 0 ] && [ "$a" -gt 0 ] || { echo "  ^ avx2 copy is not vectorised" >&2; status=1; } ;;
        *_avx512_*)   [ "$v" -gt 0 ] || { echo "  ^ avx512 copy has no vpopcntq" >&2; status=1; } ;;
    esac
done
exit $status
