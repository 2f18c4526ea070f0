// Hamming-distance scan kernels: k-NN with a running top-k, and plain distance lists.
//
// Three builds of every kernel, chosen at run time (so a plain `swift build -c release`,
// which targets baseline x86-64, still gets hardware popcount):
//   portable  plain C; __builtin_popcountll becomes shifts and masks
//   popcnt    __attribute__((target("popcnt"))): one POPCNT per word
//   avx2      __attribute__((target("avx2,popcnt"))): four queries per pass, the queries held
//             transposed in registers (lane j = word w of query j); each code word is
//             broadcast, XORed against the four queries, counted with a nibble lookup table
//             (vpshufb), summed per byte and reduced with vpsadbw to four 64-bit distances.
// For batches of 64+ queries at 1 to 8 words the AVX2 build first splits each sub-block of
// codes into nibble words, which saves two of seven vector operations per word (see below).
// Widths (in 64-bit words) 1, 2, 3, 4, 6, 8, 12 and 16 get their own copy with the word count a
// compile-time constant, so the loops unroll and the query words stay in registers; any other
// width up to 64 words (4096 bits) runs the generic copy. Tools/check-asm.sh shows which
// instructions each copy compiles to.

#include "kernels_internal.h"

// Nibble-split path (AVX2): from this many queries per call, in sub-blocks of this many codes.
// Measured with clang -O2 on 1M codes (docs/BENCHMARKS.md): break-even near 48-64 queries;
// +16-23% at 1000 queries for 1 to 8 words; no gain at 12, 16 or generic widths.
#define TQ_SPLIT_MIN_QUERIES 64
#define TQ_SPLIT_CODES 2048

// MARK: - Scalar kernels (portable and POPCNT builds share this source)

// One body, instantiated per (level attribute, word count). W == 0 means "generic".
// Two queries per pass over the codes: every code word is loaded once for both.
#define TQ_SCALAR_KNN(NAME, ATTR, W)                                                          \
    ATTR static void NAME(const uint64_t *codes, int64_t n, int64_t first_id, int64_t words_rt,   \
                          const uint64_t *queries, int64_t nq, tq_topk_t *lists) {             \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        int64_t q = 0;                                                                         \
        for (; q + 2 <= nq; q += 2) {                                                          \
            const uint64_t *qa = queries + q * words, *qb = qa + words;                        \
            tq_topk_t *la = &lists[q], *lb = &lists[q + 1];                                    \
            uint32_t ta = topk_threshold(la), tb = topk_threshold(lb);                         \
            for (int64_t i = 0; i < n; i++) {                                                  \
                const uint64_t *c = codes + i * words;                                         \
                uint32_t da = 0, db = 0;                                                       \
                for (int64_t w = 0; w < words; w++) {                                          \
                    da += (uint32_t)__builtin_popcountll(c[w] ^ qa[w]);                        \
                    db += (uint32_t)__builtin_popcountll(c[w] ^ qb[w]);                        \
                }                                                                              \
                if (TQ_UNLIKELY(da < ta)) { topk_insert(la, da, first_id + i); ta = topk_threshold(la); } \
                if (TQ_UNLIKELY(db < tb)) { topk_insert(lb, db, first_id + i); tb = topk_threshold(lb); } \
            }                                                                                  \
        }                                                                                      \
        for (; q < nq; q++) {                                                                  \
            const uint64_t *qa = queries + q * words;                                          \
            tq_topk_t *la = &lists[q];                                                         \
            uint32_t ta = topk_threshold(la);                                                  \
            for (int64_t i = 0; i < n; i++) {                                                  \
                const uint64_t *c = codes + i * words;                                         \
                uint32_t da = 0;                                                               \
                for (int64_t w = 0; w < words; w++)                                            \
                    da += (uint32_t)__builtin_popcountll(c[w] ^ qa[w]);                        \
                if (TQ_UNLIKELY(da < ta)) { topk_insert(la, da, first_id + i); ta = topk_threshold(la); } \
            }                                                                                  \
        }                                                                                      \
    }

// Distances: codes `stride` words apart (`words` for whole codes; more for part of each code,
// tq_distances_part), the stride a run-time value.
#define TQ_SCALAR_DIST(NAME, ATTR, W)                                                         \
    ATTR static void NAME(const uint64_t *codes, int64_t n, int64_t stride, int64_t words_rt, \
                          const uint64_t *query, uint32_t *out) {                              \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        for (int64_t i = 0; i < n; i++) {                                                      \
            const uint64_t *c = codes + i * stride;                                            \
            uint32_t d = 0;                                                                    \
            for (int64_t w = 0; w < words; w++) d += (uint32_t)__builtin_popcountll(c[w] ^ query[w]); \
            out[i] = d;                                                                        \
        }                                                                                      \
    }

// Filter: the codes within `limit` of the query, as (index, distance) pairs, branch-free:
// every pair is written, and the output position advances only when it qualifies.
#define TQ_SCALAR_FILTER(NAME, ATTR, W)                                                       \
    ATTR static int64_t NAME(const uint64_t *codes, int64_t n, int64_t words_rt,              \
                             const uint64_t *query, uint32_t limit, uint32_t *out_index,      \
                             uint32_t *out_dist) {                                             \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        int64_t found = 0;                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                      \
            const uint64_t *c = codes + i * words;                                             \
            uint32_t d = 0;                                                                    \
            for (int64_t w = 0; w < words; w++) d += (uint32_t)__builtin_popcountll(c[w] ^ query[w]); \
            out_index[found] = (uint32_t)i;                                                    \
            out_dist[found] = d;                                                               \
            found += d <= limit;                                                               \
        }                                                                                      \
        return found;                                                                          \
    }


TQ_FOR_EACH_WIDTH(TQ_SCALAR_KNN, knn, portable, TQ_ATTR_PORTABLE)
TQ_FOR_EACH_WIDTH(TQ_SCALAR_KNN, knn, popcnt, TQ_ATTR_POPCNT)
TQ_FOR_EACH_WIDTH(TQ_SCALAR_DIST, dist, portable, TQ_ATTR_PORTABLE)
TQ_FOR_EACH_WIDTH(TQ_SCALAR_DIST, dist, popcnt, TQ_ATTR_POPCNT)

TQ_FOR_EACH_WIDTH(TQ_SCALAR_FILTER, filter, portable, TQ_ATTR_PORTABLE)
TQ_FOR_EACH_WIDTH(TQ_SCALAR_FILTER, filter, popcnt, TQ_ATTR_POPCNT)

// MARK: - AVX2 kernel

#if TQ_X86
#define TQ_ATTR_AVX2 __attribute__((target("avx2,popcnt")))

// Rare path of both AVX2 kernels: the lanes set in `mask` beat their query's k-th distance;
// insert them (tq_insert_lanes) and return the updated thresholds.
TQ_ATTR_AVX2 __attribute__((noinline)) static __m256i
tq_insert_lanes4(int mask, __m256i d, tq_topk_t *lists, int64_t id, uint64_t thr[4]) {
    uint64_t dl[4];
    _mm256_storeu_si256((__m256i *)dl, d);
    tq_insert_lanes((unsigned)mask, dl, lists, id, thr);
    return _mm256_loadu_si256((const __m256i *)thr);
}

TQ_ATTR_AVX2 static inline __attribute__((always_inline)) __m256i
tq_popcount_bytes(__m256i x, __m256i table, __m256i low_nibbles) {
    __m256i lo = _mm256_and_si256(x, low_nibbles);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibbles);
    return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

// Four queries per pass. Lanes past the last query hold a zero query and a threshold of 0,
// so they never insert. Per-byte counts are at most 8 per word, so up to 31 words are summed
// as bytes before one vpsadbw; wider codes flush every 16 words.
#define TQ_AVX2_KNN(NAME, ATTR, W)                                                            \
    ATTR static void NAME(const uint64_t *codes, int64_t n, int64_t first_id, int64_t words_rt,   \
                          const uint64_t *queries, int64_t nq, tq_topk_t *lists) {             \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  \
                                               0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4); \
        const __m256i low_nibbles = _mm256_set1_epi8(0x0f);                                    \
        const __m256i zero = _mm256_setzero_si256();                                           \
        __m256i qt[(W) ? (W) : TQ_MAX_WORDS];                                                  \
        for (int64_t q = 0; q < nq; q += 4) {                                                  \
            const int64_t lanes = nq - q < 4 ? nq - q : 4;                                     \
            uint64_t thr[4] = {0, 0, 0, 0};                                                     \
            for (int64_t w = 0; w < words; w++) {                                              \
                uint64_t lane[4] = {0, 0, 0, 0};                                               \
                for (int64_t l = 0; l < lanes; l++) lane[l] = queries[(q + l) * words + w];    \
                qt[w] = _mm256_loadu_si256((const __m256i *)lane);                              \
            }                                                                                  \
            for (int64_t l = 0; l < lanes; l++) thr[l] = topk_threshold(&lists[q + l]);        \
            __m256i vthr = _mm256_loadu_si256((const __m256i *)thr);                            \
            for (int64_t i = 0; i < n; i++) {                                                  \
                const uint64_t *c = codes + i * words;                                         \
                __m256i d;                                                                     \
                if ((W) != 0 && (W) <= 31) {                                                   \
                    __m256i acc = tq_popcount_bytes(                                           \
                        _mm256_xor_si256(qt[0], _mm256_set1_epi64x((long long)c[0])), table, low_nibbles); \
                    for (int64_t w = 1; w < words; w++)                                        \
                        acc = _mm256_add_epi8(acc, tq_popcount_bytes(                          \
                            _mm256_xor_si256(qt[w], _mm256_set1_epi64x((long long)c[w])), table, low_nibbles)); \
                    d = _mm256_sad_epu8(acc, zero);                                            \
                } else {                                                                       \
                    d = zero;                                                                  \
                    for (int64_t w0 = 0; w0 < words; w0 += 16) {                               \
                        const int64_t w1 = w0 + 16 < words ? w0 + 16 : words;                  \
                        __m256i acc = zero;                                                    \
                        for (int64_t w = w0; w < w1; w++)                                      \
                            acc = _mm256_add_epi8(acc, tq_popcount_bytes(                      \
                                _mm256_xor_si256(qt[w], _mm256_set1_epi64x((long long)c[w])), table, low_nibbles)); \
                        d = _mm256_add_epi64(d, _mm256_sad_epu8(acc, zero));                   \
                    }                                                                          \
                }                                                                              \
                const int mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(vthr, d))); \
                if (TQ_UNLIKELY(mask != 0)) vthr = tq_insert_lanes4(mask, d, lists + q, first_id + i, thr); \
            }                                                                                  \
        }                                                                                      \
    }

TQ_FOR_EACH_WIDTH(TQ_AVX2_KNN, knn, avx2, TQ_ATTR_AVX2)

// One query, codes of a multiple of four words: a code's words fill whole registers, so each
// code is XORed with the query, counted per byte and reduced by vpsadbw to four partial sums;
// four codes' partial sums are folded (unpack, add, permute) into their four distances and
// compared with the threshold at once. Lanes that beat it are inserted in id order, each
// checked again against the threshold the previous one left. Leftover codes (n % 4) go
// through the scalar loop. 1.06 ms against 1.36 ms for the popcnt kernel over 1M 256-bit codes.
#define TQ_AVX2_KNN1(NAME, W)                                                                 \
    TQ_ATTR_AVX2 static void NAME(const uint64_t *codes, int64_t n, int64_t first_id,            \
                                  const uint64_t *query, tq_topk_t *list) {                    \
        const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  \
                                               0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4); \
        const __m256i low_nibbles = _mm256_set1_epi8(0x0f);                                    \
        const __m256i zero = _mm256_setzero_si256();                                           \
        __m256i qv[(W) / 4];                                                                   \
        for (int v = 0; v < (W) / 4; v++) qv[v] = _mm256_loadu_si256((const __m256i *)(query + 4 * v)); \
        uint32_t t = topk_threshold(list);                                                     \
        __m256i vthr = _mm256_set1_epi64x((long long)t);                                       \
        int64_t i = 0;                                                                         \
        for (; i + 4 <= n; i += 4) {                                                           \
            __m256i s[4];                                                                      \
            for (int j = 0; j < 4; j++) {                                                      \
                const uint64_t *c = codes + (i + j) * (W);                                     \
                __m256i acc = zero;                                                            \
                for (int v = 0; v < (W) / 4; v++)                                              \
                    acc = _mm256_add_epi8(acc, tq_popcount_bytes(                              \
                        _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(c + 4 * v)), qv[v]), table, low_nibbles)); \
                s[j] = _mm256_sad_epu8(acc, zero);                                             \
            }                                                                                  \
            const __m256i a = _mm256_add_epi64(_mm256_unpacklo_epi64(s[0], s[1]), _mm256_unpackhi_epi64(s[0], s[1])); \
            const __m256i b = _mm256_add_epi64(_mm256_unpacklo_epi64(s[2], s[3]), _mm256_unpackhi_epi64(s[2], s[3])); \
            const __m256i d = _mm256_add_epi64(_mm256_permute2x128_si256(a, b, 0x20),          \
                                               _mm256_permute2x128_si256(a, b, 0x31));         \
            const int mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(vthr, d))); \
            if (TQ_UNLIKELY(mask != 0)) {                                                      \
                int64_t dl[4];                                                                 \
                _mm256_storeu_si256((__m256i *)dl, d);                                         \
                for (int l = 0; l < 4; l++) {                                                  \
                    if ((mask & (1 << l)) && (uint32_t)dl[l] < t) {                            \
                        topk_insert(list, (uint32_t)dl[l], first_id + i + l);                  \
                        t = topk_threshold(list);                                              \
                    }                                                                          \
                }                                                                              \
                vthr = _mm256_set1_epi64x((long long)t);                                       \
            }                                                                                  \
        }                                                                                      \
        for (; i < n; i++) {                                                                   \
            const uint64_t *c = codes + i * (W);                                               \
            uint32_t d = 0;                                                                    \
            for (int w = 0; w < (W); w++) d += (uint32_t)__builtin_popcountll(c[w] ^ query[w]); \
            if (d < t) { topk_insert(list, d, first_id + i); t = topk_threshold(list); }       \
        }                                                                                      \
    }

TQ_AVX2_KNN1(knn1_avx2_w4, 4)
TQ_AVX2_KNN1(knn1_avx2_w8, 8)
TQ_AVX2_KNN1(knn1_avx2_w12, 12)
TQ_AVX2_KNN1(knn1_avx2_w16, 16)

// Nibble-split variant for batches. The codes of a sub-block are first rewritten once as
// nibble words (code word w -> lo = w & 0x0f.., hi = (w >> 4) & 0x0f..; per code W lo words then
// W hi words), and the queries likewise; then each (code word, 4 queries) costs
// xor, xor, vpshufb, vpshufb, add instead of xor, and, shift, and, vpshufb, vpshufb, add.
// The split costs about one query's work per code, so it pays from a handful of queries on.
#define TQ_AVX2_SPLIT_KNN(NAME, ATTR, W)                                                      \
    ATTR static void NAME(const uint64_t *nibbles, int64_t n, int64_t first_id, int64_t words_rt, \
                          const uint64_t *queries, int64_t nq, tq_topk_t *lists) {             \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  \
                                               0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4); \
        const __m256i low_nibbles = _mm256_set1_epi8(0x0f);                                    \
        const __m256i zero = _mm256_setzero_si256();                                           \
        __m256i ql[(W) ? (W) : TQ_MAX_WORDS], qh[(W) ? (W) : TQ_MAX_WORDS];                    \
        for (int64_t q = 0; q < nq; q += 4) {                                                  \
            const int64_t lanes = nq - q < 4 ? nq - q : 4;                                     \
            uint64_t thr[4] = {0, 0, 0, 0};                                                     \
            for (int64_t w = 0; w < words; w++) {                                              \
                uint64_t lane[4] = {0, 0, 0, 0};                                               \
                for (int64_t l = 0; l < lanes; l++) lane[l] = queries[(q + l) * words + w];    \
                const __m256i x = _mm256_loadu_si256((const __m256i *)lane);                    \
                ql[w] = _mm256_and_si256(x, low_nibbles);                                      \
                qh[w] = _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibbles);                \
            }                                                                                  \
            for (int64_t l = 0; l < lanes; l++) thr[l] = topk_threshold(&lists[q + l]);        \
            __m256i vthr = _mm256_loadu_si256((const __m256i *)thr);                            \
            for (int64_t i = 0; i < n; i++) {                                                  \
                const uint64_t *c = nibbles + i * 2 * words;                                   \
                __m256i d = zero;                                                              \
                for (int64_t w0 = 0; w0 < words; w0 += 16) {                                   \
                    const int64_t w1 = ((W) != 0 && (W) <= 16) ? words : (w0 + 16 < words ? w0 + 16 : words); \
                    __m256i acc = zero;                                                        \
                    for (int64_t w = w0; w < w1; w++) {                                        \
                        acc = _mm256_add_epi8(acc, _mm256_shuffle_epi8(table,                  \
                            _mm256_xor_si256(ql[w], _mm256_set1_epi64x((long long)c[w]))));    \
                        acc = _mm256_add_epi8(acc, _mm256_shuffle_epi8(table,                  \
                            _mm256_xor_si256(qh[w], _mm256_set1_epi64x((long long)c[words + w])))); \
                    }                                                                          \
                    d = _mm256_add_epi64(d, _mm256_sad_epu8(acc, zero));                       \
                }                                                                              \
                const int mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(vthr, d))); \
                if (TQ_UNLIKELY(mask != 0)) vthr = tq_insert_lanes4(mask, d, lists + q, first_id + i, thr); \
            }                                                                                  \
        }                                                                                      \
    }

TQ_FOR_EACH_WIDTH(TQ_AVX2_SPLIT_KNN, knn_split, avx2, TQ_ATTR_AVX2)

// Rewrites n codes as nibble words (see above).
TQ_ATTR_AVX2 static void tq_split_nibbles(const uint64_t *codes, int64_t n, int64_t words, uint64_t *out) {
    const uint64_t m = 0x0f0f0f0f0f0f0f0fULL;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        uint64_t *o = out + i * 2 * words;
        for (int64_t w = 0; w < words; w++) {
            o[w] = c[w] & m;
            o[words + w] = (c[w] >> 4) & m;
        }
    }
}
#endif

// MARK: - AVX-512 kernels (VPOPCNTDQ)

#if TQ_X86
#define TQ_ATTR_AVX512 __attribute__((target("avx512f,avx512vl,avx512vpopcntdq,avx2,popcnt")))

// Rare path of the eight-query kernel, as tq_insert_lanes4.
TQ_ATTR_AVX512 __attribute__((noinline)) static __m512i
tq_insert_lanes8(__mmask8 mask, __m512i d, tq_topk_t *lists, int64_t id, uint64_t thr[8]) {
    uint64_t dl[8];
    _mm512_storeu_si512((void *)dl, d);
    tq_insert_lanes(mask, dl, lists, id, thr);
    return _mm512_loadu_si512((const void *)thr);
}

// Eight queries per pass, held transposed (lane j of register w = word w of query j); each code
// word is broadcast, XORed with the eight queries and counted by vpopcntq, so one code costs W
// broadcasts, XORs and popcounts and W - 1 adds for eight distances, compared with the eight
// thresholds at once. Lanes past the last query hold a zero query and a threshold of 0, so
// they never insert. The caller gives it whole groups of eight (see tq_knn_scan).
#define TQ_AVX512_KNN(NAME, ATTR, W)                                                          \
    ATTR static void NAME(const uint64_t *codes, int64_t n, int64_t first_id, int64_t words_rt,   \
                          const uint64_t *queries, int64_t nq, tq_topk_t *lists) {             \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        __m512i qt[(W) ? (W) : TQ_MAX_WORDS];                                                  \
        for (int64_t q = 0; q < nq; q += 8) {                                                  \
            const int64_t lanes = nq - q < 8 ? nq - q : 8;                                     \
            uint64_t thr[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                        \
            for (int64_t w = 0; w < words; w++) {                                              \
                uint64_t lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                   \
                for (int64_t l = 0; l < lanes; l++) lane[l] = queries[(q + l) * words + w];    \
                qt[w] = _mm512_loadu_si512((const void *)lane);                                \
            }                                                                                  \
            for (int64_t l = 0; l < lanes; l++) thr[l] = topk_threshold(&lists[q + l]);        \
            __m512i vthr = _mm512_loadu_si512((const void *)thr);                              \
            for (int64_t i = 0; i < n; i++) {                                                  \
                const uint64_t *c = codes + i * words;                                         \
                __m512i d = _mm512_popcnt_epi64(                                               \
                    _mm512_xor_si512(qt[0], _mm512_set1_epi64((long long)c[0])));              \
                for (int64_t w = 1; w < words; w++)                                            \
                    d = _mm512_add_epi64(d, _mm512_popcnt_epi64(                               \
                        _mm512_xor_si512(qt[w], _mm512_set1_epi64((long long)c[w]))));         \
                const __mmask8 mask = _mm512_cmplt_epu64_mask(d, vthr);                        \
                if (TQ_UNLIKELY(mask != 0)) vthr = tq_insert_lanes8(mask, d, lists + q, first_id + i, thr); \
            }                                                                                  \
        }                                                                                      \
    }

TQ_FOR_EACH_WIDTH(TQ_AVX512_KNN, knn, avx512, TQ_ATTR_AVX512)

// Folds eight registers of per-lane counts into one register whose lane j is the sum of
// register j's lanes (unpack and add, then two rounds of 128-bit block shuffles and adds).
TQ_ATTR_AVX512 static inline __attribute__((always_inline)) __m512i tq_fold8(const __m512i s[8]) {
    const __m512i a0 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[0], s[1]), _mm512_unpackhi_epi64(s[0], s[1]));
    const __m512i a1 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[2], s[3]), _mm512_unpackhi_epi64(s[2], s[3]));
    const __m512i a2 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[4], s[5]), _mm512_unpackhi_epi64(s[4], s[5]));
    const __m512i a3 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[6], s[7]), _mm512_unpackhi_epi64(s[6], s[7]));
    // Block k of a0 holds (register 0, register 1) partial sums of block k; likewise a1..a3.
    const __m512i b0 = _mm512_add_epi64(_mm512_shuffle_i64x2(a0, a1, _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm512_shuffle_i64x2(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i b1 = _mm512_add_epi64(_mm512_shuffle_i64x2(a2, a3, _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm512_shuffle_i64x2(a2, a3, _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_epi64(_mm512_shuffle_i64x2(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i64x2(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Distances, eight codes at a time: a code's words are read eight to a register (the last
// register of a width that is no multiple of eight by a masked load, which reads nothing past
// the code), XORed with the query, counted by vpopcntq and summed per lane; tq_fold8 turns the
// eight codes' registers into their eight distances. Leftover codes (n % 8) go word by word.
#define TQ_AVX512_DIST(NAME, ATTR, W)                                                         \
    ATTR static void NAME(const uint64_t *codes, int64_t n, int64_t stride, int64_t words_rt, \
                          const uint64_t *query, uint32_t *out) {                              \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        const int64_t full = words / 8;                                                        \
        const __mmask8 rest = (__mmask8)((1u << (words % 8)) - 1);                             \
        int64_t i = 0;                                                                         \
        for (; i + 8 <= n; i += 8) {                                                           \
            __m512i s[8];                                                                      \
            for (int j = 0; j < 8; j++) {                                                      \
                const uint64_t *c = codes + (i + j) * stride;                                  \
                __m512i acc = _mm512_setzero_si512();                                          \
                for (int64_t v = 0; v < full; v++)                                             \
                    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(          \
                        _mm512_loadu_si512((const void *)(c + 8 * v)),                         \
                        _mm512_loadu_si512((const void *)(query + 8 * v)))));                  \
                if (rest)                                                                      \
                    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(          \
                        _mm512_maskz_loadu_epi64(rest, c + 8 * full),                          \
                        _mm512_maskz_loadu_epi64(rest, query + 8 * full))));                   \
                s[j] = acc;                                                                    \
            }                                                                                  \
            _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi64_epi32(tq_fold8(s)));      \
        }                                                                                      \
        for (; i < n; i++) {                                                                   \
            const uint64_t *c = codes + i * stride;                                            \
            uint32_t d = 0;                                                                    \
            for (int64_t w = 0; w < words; w++) d += (uint32_t)__builtin_popcountll(c[w] ^ query[w]); \
            out[i] = d;                                                                        \
        }                                                                                      \
    }

TQ_FOR_EACH_WIDTH(TQ_AVX512_DIST, dist, avx512, TQ_ATTR_AVX512)
#endif

// MARK: - Dispatch (once per call, never per code)

typedef void (*tq_knn_fn)(const uint64_t *, int64_t, int64_t, int64_t, const uint64_t *, int64_t,
                          tq_topk_t *);
typedef void (*tq_dist_fn)(const uint64_t *, int64_t, int64_t, int64_t, const uint64_t *, uint32_t *);

#if TQ_X86
static tq_knn_fn pick_split_knn(int64_t words) { TQ_PICK_WIDTH(knn_split, avx2, words) }
#endif

static tq_knn_fn pick_knn(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level == TQ_LEVEL_AVX512 && tq_level_supported(TQ_LEVEL_AVX512)) { TQ_PICK_WIDTH(knn, avx512, words) }
    if (level == TQ_LEVEL_AVX2 && tq_level_supported(TQ_LEVEL_AVX2)) { TQ_PICK_WIDTH(knn, avx2, words) }
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_WIDTH(knn, popcnt, words) }
#endif
    TQ_PICK_WIDTH(knn, portable, words)
}

static tq_dist_fn pick_dist(tq_level_t level, int64_t words) {
#if TQ_X86
    // Codes of fewer than four words would fill under half of the masked register: they keep
    // one POPCNT per word.
    if (level == TQ_LEVEL_AVX512 && words >= 4 && tq_level_supported(TQ_LEVEL_AVX512)) { TQ_PICK_WIDTH(dist, avx512, words) }
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_WIDTH(dist, popcnt, words) }
#endif
    TQ_PICK_WIDTH(dist, portable, words)
}

void tq_knn_scan(tq_level_t level, const uint64_t *codes, int64_t n, int64_t first_id,
                 int64_t words, const uint64_t *queries, int64_t nq, tq_topk_t *lists) {
    if (n <= 0 || nq <= 0 || words <= 0 || words > TQ_MAX_WORDS) return;
#if TQ_X86
    // The AVX-512 kernel takes whole groups of eight queries; the rest (fewer than eight, most
    // often one typed query) goes through the AVX2 paths below, whose single-query kernel reads
    // whole codes per register.
    if (level == TQ_LEVEL_AVX512 && tq_level_supported(TQ_LEVEL_AVX512)) {
        const int64_t grouped = nq - nq % 8;
        if (grouped > 0) pick_knn(TQ_LEVEL_AVX512, words)(codes, n, first_id, words, queries, grouped, lists);
        if (grouped == nq) return;
        queries += grouped * words;
        lists += grouped;
        nq -= grouped;
        level = TQ_LEVEL_AVX2;
    }
    const int split_width = words <= 4 || words == 6 || words == 8;
    if (level == TQ_LEVEL_AVX2 && nq >= TQ_SPLIT_MIN_QUERIES && split_width && tq_level_supported(TQ_LEVEL_AVX2)) {
        uint64_t *nibbles = aligned_alloc(32, (size_t)(TQ_SPLIT_CODES * words * 16));
        if (nibbles) {
            const tq_knn_fn scan = pick_split_knn(words);
            for (int64_t start = 0; start < n; start += TQ_SPLIT_CODES) {
                const int64_t m = n - start < TQ_SPLIT_CODES ? n - start : TQ_SPLIT_CODES;
                tq_split_nibbles(codes + start * words, m, words, nibbles);
                scan(nibbles, m, first_id + start, words, queries, nq, lists);
            }
            free(nibbles);
            return;
        }
    }
    // The AVX2 kernel answers four queries per pass; fewer lanes cost as much as four. So it
    // takes whole groups of four, and the rest (a single query, most often) goes one by one to
    // the single-query AVX2 kernel when the width is a multiple of four words, else to the
    // POPCNT kernel (every AVX2 CPU has it): 1.3 ms instead of 6.8 ms for one query over 1M
    // 256-bit codes through POPCNT, 1.06 ms through the single-query kernel.
    if (level == TQ_LEVEL_AVX2 && tq_level_supported(TQ_LEVEL_AVX2)) {
        const int64_t grouped = nq - nq % 4;
        if (grouped > 0) pick_knn(TQ_LEVEL_AVX2, words)(codes, n, first_id, words, queries, grouped, lists);
        if (grouped < nq) {
            void (*single)(const uint64_t *, int64_t, int64_t, const uint64_t *, tq_topk_t *) =
                words == 4 ? knn1_avx2_w4 : words == 8 ? knn1_avx2_w8 : words == 12 ? knn1_avx2_w12 : words == 16 ? knn1_avx2_w16 : NULL;
            if (single) {
                for (int64_t q = grouped; q < nq; q++) single(codes, n, first_id, queries + q * words, &lists[q]);
            } else {
                pick_knn(TQ_LEVEL_POPCNT, words)(codes, n, first_id, words, queries + grouped * words, nq - grouped, lists + grouped);
            }
        }
        return;
    }
#endif
    pick_knn(level, words)(codes, n, first_id, words, queries, nq, lists);
}

typedef int64_t (*tq_filter_fn)(const uint64_t *, int64_t, int64_t, const uint64_t *, uint32_t, uint32_t *, uint32_t *);

static tq_filter_fn pick_filter(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_WIDTH(filter, popcnt, words) }
#endif
    TQ_PICK_WIDTH(filter, portable, words)
}

int64_t tq_filter_within(tq_level_t level, const uint64_t *codes, int64_t n, int64_t words,
                         const uint64_t *query, uint32_t limit, uint32_t *out_index, uint32_t *out_dist) {
    if (n <= 0 || words <= 0 || words > TQ_MAX_WORDS) return 0;
    return pick_filter(level, words)(codes, n, words, query, limit, out_index, out_dist);
}

void tq_distances(tq_level_t level, const uint64_t *codes, int64_t n, int64_t words,
                  const uint64_t *query, uint32_t *out) {
    if (n <= 0 || words <= 0 || words > TQ_MAX_WORDS) return;
    pick_dist(level, words)(codes, n, words, words, query, out);
}

// MARK: - Part of each code (a word range)

// Distances: the distance kernels above read the counted words in place (their stride).
// k-NN: the counted words are gathered, a few hundred codes at a time, into a 32 KB block on
// the stack (4,096 words: 341 codes of 12 words) and scanned there while in L1 by
// tq_knn_scan, so every width and level keeps its kernels (four queries per pass, the
// single-query AVX2 kernel, the nibble split).
#define TQ_PART_SCRATCH_WORDS 4096

static int tq_part_valid(int64_t stride, int64_t offset, int64_t words) {
    return offset >= 0 && words >= 1 && offset + words <= stride && stride <= TQ_MAX_WORDS;
}

void tq_knn_scan_part(tq_level_t level, const uint64_t *codes, int64_t n, int64_t first_id, int64_t stride,
                      int64_t offset, int64_t words, const uint64_t *queries, int64_t nq, tq_topk_t *lists) {
    if (n <= 0 || nq <= 0 || !tq_part_valid(stride, offset, words)) return;
    if (offset == 0 && words == stride) { tq_knn_scan(level, codes, n, first_id, words, queries, nq, lists); return; }
    uint64_t scratch[TQ_PART_SCRATCH_WORDS] __attribute__((aligned(64)));
    const int64_t block = TQ_PART_SCRATCH_WORDS / words;
    for (int64_t start = 0; start < n; start += block) {
        const int64_t m = n - start < block ? n - start : block;
        const uint64_t *from = codes + start * stride + offset;
        for (int64_t i = 0; i < m; i++)
            for (int64_t w = 0; w < words; w++) scratch[i * words + w] = from[i * stride + w];
        tq_knn_scan(level, scratch, m, first_id + start, words, queries, nq, lists);
    }
}

void tq_distances_part(tq_level_t level, const uint64_t *codes, int64_t n, int64_t stride, int64_t offset,
                       int64_t words, const uint64_t *query, uint32_t *out) {
    if (n <= 0 || !tq_part_valid(stride, offset, words)) return;
    pick_dist(level, words)(codes + offset, n, stride, words, query, out);
}
