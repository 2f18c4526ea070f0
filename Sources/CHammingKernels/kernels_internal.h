// Shared by the kernel files (not part of the module's interface): CPU-level attributes, the
// running top-k, limits, and the width list and picker of every kernel family. See scan.c for
// the design of the kernels.
#ifndef TWENTYQ_KERNELS_INTERNAL_H
#define TWENTYQ_KERNELS_INTERNAL_H

#include "CHammingKernels.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TQ_X86 1
#else
#define TQ_X86 0
#endif

#define TQ_MAX_WORDS 64
#define TQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define TQ_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TQ_ATTR_PORTABLE
#if TQ_X86
#define TQ_ATTR_POPCNT __attribute__((target("popcnt")))
#else
#define TQ_ATTR_POPCNT
#endif

// Every kernel family is built for the same widths, in 64-bit words: 1, 2, 3, 4, 6, 8, 12 and 16
// with the width a compile-time constant (the loops unroll, the query words stay in registers),
// and a generic copy (W = 0) for any other width up to TQ_MAX_WORDS. TQ_FOR_EACH_WIDTH
// instantiates family KIND at LEVEL with the body macro X(NAME, ATTR, W); TQ_PICK_WIDTH returns
// the copy for `words`. One list and one picker for all families (scan, distances, filter,
// nibble-split scan, multi-index probe), so a width is added or dropped in one place.
#define TQ_FOR_EACH_WIDTH(X, KIND, LEVEL, ATTR)                                               \
    X(KIND##_##LEVEL##_w1, ATTR, 1) X(KIND##_##LEVEL##_w2, ATTR, 2)                           \
    X(KIND##_##LEVEL##_w3, ATTR, 3) X(KIND##_##LEVEL##_w4, ATTR, 4)                           \
    X(KIND##_##LEVEL##_w6, ATTR, 6) X(KIND##_##LEVEL##_w8, ATTR, 8)                           \
    X(KIND##_##LEVEL##_w12, ATTR, 12) X(KIND##_##LEVEL##_w16, ATTR, 16)                       \
    X(KIND##_##LEVEL##_wn, ATTR, 0)

#define TQ_PICK_WIDTH(KIND, LEVEL, words)                                                     \
    switch (words) {                                                                          \
    case 1: return KIND##_##LEVEL##_w1;                                                       \
    case 2: return KIND##_##LEVEL##_w2;                                                       \
    case 3: return KIND##_##LEVEL##_w3;                                                       \
    case 4: return KIND##_##LEVEL##_w4;                                                       \
    case 6: return KIND##_##LEVEL##_w6;                                                       \
    case 8: return KIND##_##LEVEL##_w8;                                                       \
    case 12: return KIND##_##LEVEL##_w12;                                                     \
    case 16: return KIND##_##LEVEL##_w16;                                                     \
    default: return KIND##_##LEVEL##_wn;                                                      \
    }

// The running top-k of one query.

static inline uint32_t topk_threshold(const tq_topk_t *t) {
    return t->count < t->k ? UINT32_MAX : t->distances[t->k - 1];
}

// Rare path (a code beat the k-th best): kept out of line so the scan loops stay small.
__attribute__((noinline)) static void topk_insert(tq_topk_t *t, uint32_t d, int64_t id) {
    int64_t pos = t->count < t->k ? t->count : t->k - 1; // when full, the worst entry goes
    while (pos > 0 && (t->distances[pos - 1] > d ||
                       (t->distances[pos - 1] == d && t->ids[pos - 1] > id))) {
        t->distances[pos] = t->distances[pos - 1];
        t->ids[pos] = t->ids[pos - 1];
        pos--;
    }
    t->distances[pos] = d;
    t->ids[pos] = id;
    if (t->count < t->k) t->count++;
}

// For each bit l of `mask` (lowest first): inserts distance `d[l]` with `id` into `lists[l]` and
// refreshes `thr[l]`, its threshold. The rare path of the vector kernels, whose lane l is query l.
static inline void tq_insert_lanes(unsigned mask, const uint64_t *d, tq_topk_t *lists, int64_t id, uint64_t *thr) {
    for (; mask != 0; mask &= mask - 1) {
        const int l = __builtin_ctz(mask);
        topk_insert(&lists[l], (uint32_t)d[l], id);
        thr[l] = topk_threshold(&lists[l]);
    }
}

#endif
