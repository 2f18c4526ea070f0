#include "kernels_internal.h"

// Multi-index probes. The masks of one shell in increasing order (Gosper's hack, the division
// by the lowest set bit done as a shift); `end` once past the last.
static inline uint64_t tq_next_mask(uint64_t mask, uint64_t end) {
    if (mask == 0 || mask >= end) return end;
    const uint64_t c = mask & (~mask + 1);
    const uint64_t r = mask + c;
    return (((r ^ mask) >> 2) >> __builtin_ctzll(c)) | r;
}

// Prefetch distances, in buckets: offsets this far ahead, every code line this far ahead
// (after the offsets have arrived). Measured on 1.38M real 64-bit codes, m = 4 (BENCHMARKS.md).
#define TQ_OFFSETS_AHEAD 10
#define TQ_CODES_AHEAD 5
#define TQ_RING 16
#define TQ_CODE_LOCALITY 3



#define TQ_PROBE_SHELL(NAME, ATTR, W, FILTER)                                                        \
    ATTR static int64_t NAME(const uint32_t *offsets, int64_t entries, const uint64_t *codes,   \
                             int64_t words_rt, uint32_t own, int32_t length,                     \
                             const uint64_t *query, uint32_t limit, int64_t probe_units,         \
                             int64_t candidate_units, int64_t max_units, tq_shell_cursor_t *cur, \
                             uint32_t *out_entry, uint32_t *out_dist, int64_t capacity) {        \
        const int64_t words = (W) ? (W) : words_rt;                                             \
        const uint64_t end = (uint64_t)1 << length;                                             \
        uint64_t ring[TQ_RING];                                                                 \
        ring[0] = cur->mask;                                                                    \
        for (int i = 1; i <= TQ_OFFSETS_AHEAD; i++) {                                           \
            ring[i] = tq_next_mask(ring[i - 1], end);                                           \
            if (ring[i] < end) __builtin_prefetch(offsets + (own ^ (uint32_t)ring[i]), 0, 3);  \
        }                                                                                       \
        int head = 0;                                                                           \
        int64_t found = 0, probes = 0, candidates = 0, units = 0;                               \
        uint64_t mask = cur->mask;                                                              \
        int64_t resume = cur->entry;                                                            \
        while (mask < end) {                                                                    \
            const uint64_t far = ring[(head + TQ_OFFSETS_AHEAD) & (TQ_RING - 1)];               \
            if (far < end) __builtin_prefetch(offsets + (own ^ (uint32_t)far), 0, 3);          \
            const uint64_t near = ring[(head + TQ_CODES_AHEAD) & (TQ_RING - 1)];                \
            if (near < end) {                                                                   \
                const uint32_t v = own ^ (uint32_t)near;                                        \
                int64_t a = offsets[v], b = offsets[v + 1];                                     \
                if (b > entries) b = entries;                                                   \
                for (int64_t x = a * words; x < b * words; x += 8) __builtin_prefetch(codes + x, 0, TQ_CODE_LOCALITY); \
            }                                                                                   \
            const uint32_t v = own ^ (uint32_t)mask;                                            \
            int64_t first = offsets[v], last = offsets[v + 1];                                  \
            if (last > entries) last = entries;                                                 \
            if (resume >= 0) { first = resume; resume = -1; } else { probes++; units += probe_units; } \
            const int64_t stop = last - first > capacity - found ? first + (capacity - found) : last; \
            found = FILTER(codes, words, first, stop, query, limit, out_entry, out_dist, found); \
            candidates += stop - first;                                                         \
            units += (stop - first) * candidate_units;                                          \
            if (stop < last) { cur->mask = mask; cur->entry = stop; goto done; }               \
            ring[(head + TQ_OFFSETS_AHEAD + 1) & (TQ_RING - 1)] = tq_next_mask(far, end);       \
            head = (head + 1) & (TQ_RING - 1);                                                  \
            mask = ring[head];                                                                  \
            if (units >= max_units) break;                                                      \
        }                                                                                       \
        cur->mask = mask;                                                                       \
        cur->entry = -1;                                                                        \
    done:                                                                                       \
        cur->probes = probes;                                                                   \
        cur->candidates = candidates;                                                           \
        return found;                                                                           \
    }

// The filter of one bucket's entries first ..< stop: writes (entry, distance) at `found` for
// every entry and advances `found` past those within `limit` (branch-free).
#define TQ_BUCKET_FILTER(codes, words, first, stop, query, limit, out_entry, out_dist, found)   \
    ({                                                                                          \
        int64_t kept_ = (found);                                                                \
        for (int64_t e = (first); e < (stop); e++) {                                            \
            const uint64_t *c = (codes) + e * (words);                                          \
            uint32_t d = 0;                                                                     \
            for (int64_t w = 0; w < (words); w++) d += (uint32_t)__builtin_popcountll(c[w] ^ (query)[w]); \
            (out_entry)[kept_] = (uint32_t)e;                                                   \
            (out_dist)[kept_] = d;                                                              \
            kept_ += d <= (limit);                                                              \
        }                                                                                       \
        kept_;                                                                                  \
    })

// The probe body with the plain bucket filter, in the shape TQ_FOR_EACH_WIDTH expects.
#define TQ_PROBE_PLAIN(NAME, ATTR, W) TQ_PROBE_SHELL(NAME, ATTR, W, TQ_BUCKET_FILTER)

TQ_FOR_EACH_WIDTH(TQ_PROBE_PLAIN, probe, portable, TQ_ATTR_PORTABLE)
#if TQ_X86
TQ_FOR_EACH_WIDTH(TQ_PROBE_PLAIN, probe, popcnt, TQ_ATTR_POPCNT)

// AVX-512 with VPOPCNTDQ: eight 64-bit codes (or four 128-bit ones) per step, the lanes within
// the limit packed in a register and stored whole (a compressing store to memory is slow on
// some CPUs), so the outputs need 8 entries of room past `capacity`.
#define TQ_ATTR_AVX512 __attribute__((target("avx512f,avx512vl,avx512vpopcntdq,popcnt")))

// Appends the lanes of `keep` (distances `d`, entries `entry`, 64-bit lanes) at `found`.
TQ_ATTR_AVX512 static inline int64_t tq_store_kept512(__mmask8 keep, __m512i d, __m512i entry,
                                                      uint32_t *out_entry, uint32_t *out_dist, int64_t found) {
    if (!keep) return found;
    _mm256_storeu_si256((__m256i *)(out_dist + found), _mm512_cvtepi64_epi32(_mm512_maskz_compress_epi64(keep, d)));
    _mm256_storeu_si256((__m256i *)(out_entry + found), _mm512_cvtepi64_epi32(_mm512_maskz_compress_epi64(keep, entry)));
    return found + __builtin_popcount(keep);
}

TQ_ATTR_AVX512 static inline int64_t tq_bucket_filter512_w1(const uint64_t *codes, int64_t first, int64_t stop,
                                                            const uint64_t *query, uint32_t limit,
                                                            uint32_t *out_entry, uint32_t *out_dist, int64_t found) {
    const __m512i q = _mm512_set1_epi64((long long)query[0]);
    const __m512i lim = _mm512_set1_epi64(limit);
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (int64_t e = first; e < stop; e += 8) {
        const int64_t n = stop - e;
        const __mmask8 live = n >= 8 ? (__mmask8)0xff : (__mmask8)((1u << n) - 1);
        const __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_maskz_loadu_epi64(live, codes + e), q));
        const __mmask8 keep = _mm512_mask_cmple_epu64_mask(live, d, lim);
        found = tq_store_kept512(keep, d, _mm512_add_epi64(lanes, _mm512_set1_epi64(e)), out_entry, out_dist, found);
    }
    return found;
}

TQ_ATTR_AVX512 static inline int64_t tq_bucket_filter512_w2(const uint64_t *codes, int64_t first, int64_t stop,
                                                            const uint64_t *query, uint32_t limit,
                                                            uint32_t *out_entry, uint32_t *out_dist, int64_t found) {
    const __m512i q = _mm512_set_epi64((long long)query[1], (long long)query[0], (long long)query[1], (long long)query[0],
                                       (long long)query[1], (long long)query[0], (long long)query[1], (long long)query[0]);
    const __m512i lim = _mm512_set1_epi64(limit);
    const __m512i lanes = _mm512_set_epi64(3, 3, 2, 2, 1, 1, 0, 0);
    for (int64_t e = first; e < stop; e += 4) {
        const int64_t n = stop - e;
        const __mmask8 live = n >= 4 ? (__mmask8)0xff : (__mmask8)((1u << (2 * n)) - 1);
        const __m512i p = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_maskz_loadu_epi64(live, codes + 2 * e), q));
        // Each even lane gets its code's two words' counts.
        const __m512i d = _mm512_add_epi64(p, _mm512_permutex_epi64(p, _MM_SHUFFLE(2, 3, 0, 1)));
        const __mmask8 keep = _mm512_mask_cmple_epu64_mask(live & (__mmask8)0x55, d, lim);
        found = tq_store_kept512(keep, d, _mm512_add_epi64(lanes, _mm512_set1_epi64(e)), out_entry, out_dist, found);
    }
    return found;
}

#define TQ_FILTER512_W1(codes, words, first, stop, query, limit, out_entry, out_dist, found) \
    tq_bucket_filter512_w1(codes, first, stop, query, limit, out_entry, out_dist, found)
#define TQ_FILTER512_W2(codes, words, first, stop, query, limit, out_entry, out_dist, found) \
    tq_bucket_filter512_w2(codes, first, stop, query, limit, out_entry, out_dist, found)
TQ_PROBE_SHELL(probe_avx512_w1, TQ_ATTR_AVX512, 1, TQ_FILTER512_W1)
TQ_PROBE_SHELL(probe_avx512_w2, TQ_ATTR_AVX512, 2, TQ_FILTER512_W2)

#endif

typedef int64_t (*tq_probe_fn)(const uint32_t *, int64_t, const uint64_t *, int64_t, uint32_t, int32_t,
                               const uint64_t *, uint32_t, int64_t, int64_t, int64_t, tq_shell_cursor_t *,
                               uint32_t *, uint32_t *, int64_t);

static tq_probe_fn pick_probe(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level == TQ_LEVEL_AVX512 && (words == 1 || words == 2) && tq_level_supported(TQ_LEVEL_AVX512)) {
        return words == 1 ? probe_avx512_w1 : probe_avx512_w2;
    }
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_WIDTH(probe, popcnt, words) }
#endif
    TQ_PICK_WIDTH(probe, portable, words)
}

int64_t tq_probe_shell(tq_level_t level, const uint32_t *offsets, int64_t entries, const uint64_t *codes, int64_t words,
                       uint32_t own, int32_t length, const uint64_t *query, uint32_t limit,
                       int64_t probe_units, int64_t candidate_units, int64_t max_units,
                       tq_shell_cursor_t *cursor, uint32_t *out_entry, uint32_t *out_dist, int64_t capacity) {
    cursor->probes = 0;
    cursor->candidates = 0;
    if (words <= 0 || words > TQ_MAX_WORDS || length < 0 || length > 32 || capacity <= 0) return 0;
    return pick_probe(level, words)(offsets, entries, codes, words, own, length, query, limit,
                                    probe_units, candidate_units, max_units, cursor, out_entry, out_dist, capacity);
}
