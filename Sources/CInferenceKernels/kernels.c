// AVX2 builds of the encoder's inference loops; see CInferenceKernels.h. Lane masks come from a
// table of 256 x 8 words (bit i of the byte -> lane i all ones), as in the Swift loops.

#include "CInferenceKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

static uint32_t masks[256][8];
static uint32_t negative[256][8];  // sign bit set where bit i is clear
static int ready;

__attribute__((constructor)) static void tqi_build_tables(void) {
    for (int b = 0; b < 256; b++) {
        for (int i = 0; i < 8; i++) {
            masks[b][i] = ((b >> i) & 1) ? 0xFFFFFFFFu : 0;
            negative[b][i] = ((b >> i) & 1) ? 0 : 0x80000000u;
        }
    }
    ready = 1;
}

int tqi_avx2_supported(void) {
    __builtin_cpu_init();
    return ready && __builtin_cpu_supports("avx2");
}

#define TQI_AVX2 __attribute__((target("avx2")))

TQI_AVX2 static inline __m256i mask_of(const uint32_t table[256][8], unsigned byte) {
    return _mm256_loadu_si256((const __m256i *)table[byte]);
}

TQI_AVX2 void tqi_ternary_add_row_avx2(const uint64_t *plus, const uint64_t *minus, size_t plane_words, float v, float *h) {
    const __m256i value = _mm256_castps_si256(_mm256_set1_ps(v));
    for (size_t w = 0; w < plane_words; w++) {
        uint64_t p = plus[w], m = minus[w];
        if ((p | m) == 0) continue;
        for (int byte = 0; byte < 8; byte++) {
            unsigned pb = (unsigned)(p >> (8 * byte)) & 0xff, mb = (unsigned)(m >> (8 * byte)) & 0xff;
            if ((pb | mb) == 0) continue;
            float *at = h + w * 64 + byte * 8;
            __m256 x = _mm256_loadu_ps(at);
            x = _mm256_add_ps(x, _mm256_castsi256_ps(_mm256_and_si256(value, mask_of(masks, pb))));
            x = _mm256_sub_ps(x, _mm256_castsi256_ps(_mm256_and_si256(value, mask_of(masks, mb))));
            _mm256_storeu_ps(at, x);
        }
    }
}

TQI_AVX2 void tqi_ternary_dot_lanes_avx2(const uint64_t *plus, const uint64_t *minus, size_t plane_words, const float *x, float *lanes) {
    __m256 plus_sum = _mm256_setzero_ps(), minus_sum = _mm256_setzero_ps();
    for (size_t w = 0; w < plane_words; w++) {
        uint64_t p = plus[w], m = minus[w];
        for (int byte = 0; byte < 8; byte++) {
            __m256i xv = _mm256_castps_si256(_mm256_loadu_ps(x + w * 64 + byte * 8));
            plus_sum = _mm256_add_ps(plus_sum, _mm256_castsi256_ps(_mm256_and_si256(xv, mask_of(masks, (unsigned)(p >> (8 * byte)) & 0xff))));
            minus_sum = _mm256_add_ps(minus_sum, _mm256_castsi256_ps(_mm256_and_si256(xv, mask_of(masks, (unsigned)(m >> (8 * byte)) & 0xff))));
        }
    }
    _mm256_storeu_ps(lanes, _mm256_sub_ps(plus_sum, minus_sum));
}

static inline uint64_t tqi_signs(uint64_t seed, int32_t bucket, uint64_t word) {
    uint64_t z = seed + (uint64_t)(int64_t)bucket * 0x9E3779B97F4A7C15ull + word * 0xD1B54A32D192ED03ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

TQI_AVX2 void tqi_sign_projections_avx2(const int32_t *buckets, const float *weights, size_t count, uint64_t seed,
                                        size_t words, size_t bits, float *out) {
    for (size_t word = 0; word < words; word++) {
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        for (size_t k = 0; k < count; k++) {
            uint64_t s = tqi_signs(seed, buckets[k], word);
            __m256i w = _mm256_castps_si256(_mm256_set1_ps(weights[k]));
            for (int j = 0; j < 8; j++) {
                a[j] = _mm256_add_ps(a[j], _mm256_castsi256_ps(_mm256_xor_si256(w, mask_of(negative, (unsigned)(s >> (8 * j)) & 0xff))));
            }
        }
        float lanes[64];
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(lanes + 8 * j, a[j]);
        for (size_t i = 0; i < 64 && word * 64 + i < bits; i++) out[word * 64 + i] += lanes[i];
    }
}

#else

int tqi_avx2_supported(void) { return 0; }
void tqi_ternary_add_row_avx2(const uint64_t *plus, const uint64_t *minus, size_t plane_words, float v, float *h) {
    (void)plus; (void)minus; (void)plane_words; (void)v; (void)h; __builtin_trap();
}
void tqi_ternary_dot_lanes_avx2(const uint64_t *plus, const uint64_t *minus, size_t plane_words, const float *x, float *lanes) {
    (void)plus; (void)minus; (void)plane_words; (void)x; (void)lanes; __builtin_trap();
}
void tqi_sign_projections_avx2(const int32_t *buckets, const float *weights, size_t count, uint64_t seed,
                               size_t words, size_t bits, float *out) {
    (void)buckets; (void)weights; (void)count; (void)seed; (void)words; (void)bits; (void)out; __builtin_trap();
}

#endif
