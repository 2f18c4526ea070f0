// Which kernel builds this CPU runs.

#include "kernels_internal.h"

int tq_level_supported(tq_level_t level) {
    switch (level) {
    case TQ_LEVEL_PORTABLE:
        return 1;
#if TQ_X86
    case TQ_LEVEL_POPCNT:
        __builtin_cpu_init();
        return __builtin_cpu_supports("popcnt");
    case TQ_LEVEL_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case TQ_LEVEL_AVX512:
        // The AVX-512 kernels use AVX2 for fewer than eight queries, so they need it too.
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("popcnt");
#endif
    default:
        return 0;
    }
}

tq_level_t tq_best_level(void) {
    if (tq_level_supported(TQ_LEVEL_AVX512)) return TQ_LEVEL_AVX512;
    if (tq_level_supported(TQ_LEVEL_AVX2)) return TQ_LEVEL_AVX2;
    if (tq_level_supported(TQ_LEVEL_POPCNT)) return TQ_LEVEL_POPCNT;
    return TQ_LEVEL_PORTABLE;
}
