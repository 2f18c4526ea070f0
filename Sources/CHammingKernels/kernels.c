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

#include "CHammingKernels.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// Nibble-split path (AVX2): from this many queries per call, in sub-blocks of this many codes.
// Measured with clang -O2 on 1M codes (docs/BENCHMARKS.md): break-even near 48-64 queries;
// +16-23% at 1000 queries for 1 to 8 words; no gain at 12, 16 or generic widths.
#define TQ_SPLIT_MIN_QUERIES 64
#define TQ_SPLIT_CODES 2048

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TQ_X86 1
#else
#define TQ_X86 0
#endif

#define TQ_MAX_WORDS 64
#define TQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define TQ_UNLIKELY(x) __builtin_expect(!!(x), 0)

// MARK: - CPU levels

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
#endif
    default:
        return 0;
    }
}

tq_level_t tq_best_level(void) {
    if (tq_level_supported(TQ_LEVEL_AVX2)) return TQ_LEVEL_AVX2;
    if (tq_level_supported(TQ_LEVEL_POPCNT)) return TQ_LEVEL_POPCNT;
    return TQ_LEVEL_PORTABLE;
}

// MARK: - Top-k

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

#define TQ_SCALAR_DIST(NAME, ATTR, W)                                                         \
    ATTR static void NAME(const uint64_t *codes, int64_t n, int64_t words_rt,                 \
                          const uint64_t *query, uint32_t *out) {                              \
        const int64_t words = (W) ? (W) : words_rt;                                            \
        for (int64_t i = 0; i < n; i++) {                                                      \
            const uint64_t *c = codes + i * words;                                             \
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

#define TQ_ATTR_PORTABLE
#if TQ_X86
#define TQ_ATTR_POPCNT __attribute__((target("popcnt")))
#else
#define TQ_ATTR_POPCNT
#endif

#define TQ_FOR_EACH_WIDTH(X, LEVEL, ATTR) \
    X(knn_##LEVEL##_w1, ATTR, 1) X(knn_##LEVEL##_w2, ATTR, 2) X(knn_##LEVEL##_w3, ATTR, 3) \
    X(knn_##LEVEL##_w4, ATTR, 4) X(knn_##LEVEL##_w6, ATTR, 6) X(knn_##LEVEL##_w8, ATTR, 8) \
    X(knn_##LEVEL##_w12, ATTR, 12) X(knn_##LEVEL##_w16, ATTR, 16) X(knn_##LEVEL##_wn, ATTR, 0)

#define TQ_FOR_EACH_WIDTH_DIST(X, LEVEL, ATTR) \
    X(dist_##LEVEL##_w1, ATTR, 1) X(dist_##LEVEL##_w2, ATTR, 2) X(dist_##LEVEL##_w4, ATTR, 4) \
    X(dist_##LEVEL##_w8, ATTR, 8) X(dist_##LEVEL##_w16, ATTR, 16) X(dist_##LEVEL##_wn, ATTR, 0)

TQ_FOR_EACH_WIDTH(TQ_SCALAR_KNN, portable, TQ_ATTR_PORTABLE)
TQ_FOR_EACH_WIDTH(TQ_SCALAR_KNN, popcnt, TQ_ATTR_POPCNT)
TQ_FOR_EACH_WIDTH_DIST(TQ_SCALAR_DIST, portable, TQ_ATTR_PORTABLE)
TQ_FOR_EACH_WIDTH_DIST(TQ_SCALAR_DIST, popcnt, TQ_ATTR_POPCNT)

#define TQ_FOR_EACH_WIDTH_FILTER(X, LEVEL, ATTR) \
    X(filter_##LEVEL##_w1, ATTR, 1) X(filter_##LEVEL##_w2, ATTR, 2) X(filter_##LEVEL##_w4, ATTR, 4) \
    X(filter_##LEVEL##_wn, ATTR, 0)

TQ_FOR_EACH_WIDTH_FILTER(TQ_SCALAR_FILTER, portable, TQ_ATTR_PORTABLE)
TQ_FOR_EACH_WIDTH_FILTER(TQ_SCALAR_FILTER, popcnt, TQ_ATTR_POPCNT)

// MARK: - AVX2 kernel

#if TQ_X86
#define TQ_ATTR_AVX2 __attribute__((target("avx2,popcnt")))

// Rare path of both AVX2 kernels: the lanes set in `mask` beat their query's k-th distance;
// insert them and return the updated thresholds.
TQ_ATTR_AVX2 __attribute__((noinline)) static __m256i
tq_insert_lanes(int mask, __m256i d, tq_topk_t *lists, int64_t id, int64_t thr[4]) {
    int64_t dl[4];
    _mm256_storeu_si256((__m256i *)dl, d);
    for (int l = 0; l < 4; l++) {
        if (mask & (1 << l)) {
            topk_insert(&lists[l], (uint32_t)dl[l], id);
            thr[l] = topk_threshold(&lists[l]);
        }
    }
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
            int64_t thr[4] = {0, 0, 0, 0};                                                     \
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
                if (TQ_UNLIKELY(mask != 0)) vthr = tq_insert_lanes(mask, d, lists + q, first_id + i, thr); \
            }                                                                                  \
        }                                                                                      \
    }

TQ_FOR_EACH_WIDTH(TQ_AVX2_KNN, avx2, TQ_ATTR_AVX2)

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
            int64_t thr[4] = {0, 0, 0, 0};                                                     \
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
                if (TQ_UNLIKELY(mask != 0)) vthr = tq_insert_lanes(mask, d, lists + q, first_id + i, thr); \
            }                                                                                  \
        }                                                                                      \
    }

TQ_AVX2_SPLIT_KNN(knn_split_avx2_w1, TQ_ATTR_AVX2, 1)
TQ_AVX2_SPLIT_KNN(knn_split_avx2_w2, TQ_ATTR_AVX2, 2)
TQ_AVX2_SPLIT_KNN(knn_split_avx2_w3, TQ_ATTR_AVX2, 3)
TQ_AVX2_SPLIT_KNN(knn_split_avx2_w4, TQ_ATTR_AVX2, 4)
TQ_AVX2_SPLIT_KNN(knn_split_avx2_w6, TQ_ATTR_AVX2, 6)
TQ_AVX2_SPLIT_KNN(knn_split_avx2_w8, TQ_ATTR_AVX2, 8)

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

// MARK: - Dispatch (once per call, never per code)

typedef void (*tq_knn_fn)(const uint64_t *, int64_t, int64_t, int64_t, const uint64_t *, int64_t,
                          tq_topk_t *);
typedef void (*tq_dist_fn)(const uint64_t *, int64_t, int64_t, const uint64_t *, uint32_t *);

#define TQ_PICK_KNN(LEVEL, words)                                                             \
    switch (words) {                                                                          \
    case 1: return knn_##LEVEL##_w1;                                                          \
    case 2: return knn_##LEVEL##_w2;                                                          \
    case 3: return knn_##LEVEL##_w3;                                                          \
    case 4: return knn_##LEVEL##_w4;                                                          \
    case 6: return knn_##LEVEL##_w6;                                                          \
    case 8: return knn_##LEVEL##_w8;                                                          \
    case 12: return knn_##LEVEL##_w12;                                                        \
    case 16: return knn_##LEVEL##_w16;                                                        \
    default: return knn_##LEVEL##_wn;                                                         \
    }

#define TQ_PICK_DIST(LEVEL, words)                                                            \
    switch (words) {                                                                          \
    case 1: return dist_##LEVEL##_w1;                                                         \
    case 2: return dist_##LEVEL##_w2;                                                         \
    case 4: return dist_##LEVEL##_w4;                                                         \
    case 8: return dist_##LEVEL##_w8;                                                         \
    case 16: return dist_##LEVEL##_w16;                                                       \
    default: return dist_##LEVEL##_wn;                                                        \
    }

#if TQ_X86
static tq_knn_fn pick_split_knn(int64_t words) {
    switch (words) {
    case 1: return knn_split_avx2_w1;
    case 2: return knn_split_avx2_w2;
    case 3: return knn_split_avx2_w3;
    case 4: return knn_split_avx2_w4;
    case 6: return knn_split_avx2_w6;
    default: return knn_split_avx2_w8;
    }
}
#endif

static tq_knn_fn pick_knn(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level == TQ_LEVEL_AVX2 && tq_level_supported(TQ_LEVEL_AVX2)) { TQ_PICK_KNN(avx2, words) }
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_KNN(popcnt, words) }
#endif
    TQ_PICK_KNN(portable, words)
}

static tq_dist_fn pick_dist(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_DIST(popcnt, words) }
#endif
    TQ_PICK_DIST(portable, words)
}

void tq_knn_scan(tq_level_t level, const uint64_t *codes, int64_t n, int64_t first_id,
                 int64_t words, const uint64_t *queries, int64_t nq, tq_topk_t *lists) {
    if (n <= 0 || nq <= 0 || words <= 0 || words > TQ_MAX_WORDS) return;
#if TQ_X86
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

// Returns KIND_LEVEL_w1, _w2, _w4 or the generic _wn build for `words`.
#define TQ_PICK_BY_WIDTH(KIND, LEVEL, words)                                                  \
    switch (words) {                                                                          \
    case 1: return KIND##_##LEVEL##_w1;                                                       \
    case 2: return KIND##_##LEVEL##_w2;                                                       \
    case 4: return KIND##_##LEVEL##_w4;                                                       \
    default: return KIND##_##LEVEL##_wn;                                                      \
    }

static tq_filter_fn pick_filter(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_BY_WIDTH(filter, popcnt, words) }
#endif
    TQ_PICK_BY_WIDTH(filter, portable, words)
}

int64_t tq_filter_within(tq_level_t level, const uint64_t *codes, int64_t n, int64_t words,
                         const uint64_t *query, uint32_t limit, uint32_t *out_index, uint32_t *out_dist) {
    if (n <= 0 || words <= 0 || words > TQ_MAX_WORDS) return 0;
    return pick_filter(level, words)(codes, n, words, query, limit, out_index, out_dist);
}

void tq_distances(tq_level_t level, const uint64_t *codes, int64_t n, int64_t words,
                  const uint64_t *query, uint32_t *out) {
    if (n <= 0 || words <= 0 || words > TQ_MAX_WORDS) return;
    pick_dist(level, words)(codes, n, words, query, out);
}

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

#define TQ_FOR_EACH_WIDTH_PROBE(X, LEVEL, ATTR) \
    X(probe_##LEVEL##_w1, ATTR, 1, TQ_BUCKET_FILTER) X(probe_##LEVEL##_w2, ATTR, 2, TQ_BUCKET_FILTER) \
    X(probe_##LEVEL##_w4, ATTR, 4, TQ_BUCKET_FILTER) X(probe_##LEVEL##_wn, ATTR, 0, TQ_BUCKET_FILTER)

TQ_FOR_EACH_WIDTH_PROBE(TQ_PROBE_SHELL, portable, TQ_ATTR_PORTABLE)
#if TQ_X86
TQ_FOR_EACH_WIDTH_PROBE(TQ_PROBE_SHELL, popcnt, TQ_ATTR_POPCNT)

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

static int tq_avx512_popcount_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("popcnt");
}
#endif

typedef int64_t (*tq_probe_fn)(const uint32_t *, int64_t, const uint64_t *, int64_t, uint32_t, int32_t,
                               const uint64_t *, uint32_t, int64_t, int64_t, int64_t, tq_shell_cursor_t *,
                               uint32_t *, uint32_t *, int64_t);

static tq_probe_fn pick_probe(tq_level_t level, int64_t words) {
#if TQ_X86
    if (level >= TQ_LEVEL_AVX2 && (words == 1 || words == 2) && tq_avx512_popcount_supported()) {
        return words == 1 ? probe_avx512_w1 : probe_avx512_w2;
    }
    if (level >= TQ_LEVEL_POPCNT && tq_level_supported(TQ_LEVEL_POPCNT)) { TQ_PICK_BY_WIDTH(probe, popcnt, words) }
#endif
    TQ_PICK_BY_WIDTH(probe, portable, words)
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
