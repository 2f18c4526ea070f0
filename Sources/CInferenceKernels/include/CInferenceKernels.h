// CInferenceKernels: AVX2 builds of the text encoder's low-bit inference loops. No stable API of
// its own: Encoder (PackedMatrix, LexicalProjection) wraps it and keeps the Swift loops as the
// reference and the build for CPUs without AVX2. Each kernel does, lane by lane, the same
// float additions and subtractions in the same order as its Swift loop (no multiplication, no
// fused operation), so results are equal to the last bit; EncoderTests check this.
#ifndef TWENTYQ_CINFERENCEKERNELS_H
#define TWENTYQ_CINFERENCEKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this CPU runs the kernels below (x86_64 with AVX2).
int tqi_avx2_supported(void);

/// Ternary row into a hidden vector: for each 8 columns whose plus or minus bits are not all 0,
/// `h[c] += (plus bit c ? v : +0)`, then `h[c] -= (minus bit c ? v : +0)`. `plus` and `minus`
/// hold `plane_words` words each; `h` holds 64 x `plane_words` floats.
void tqi_ternary_add_row_avx2(const uint64_t *plus, const uint64_t *minus, size_t plane_words, float v, float *h);

/// Ternary row times `x` (64 x `plane_words` floats), the 8 lanes before the final sum:
/// `lanes[i]` = (sum over groups g of x[8 g + i] where plus bit 8 g + i is set) minus (the same
/// over the minus bits), each sum taken in order of g.
void tqi_ternary_dot_lanes_avx2(const uint64_t *plus, const uint64_t *minus, size_t plane_words, const float *x, float *lanes);

/// Binary-sign projections (the query bits): for each word `w` < `words`, 64 accumulators start
/// at +0 and, for each of the `count` entries k in order, get `weights[k]` added with its sign
/// flipped where bit j of `signs(buckets[k], w)` is 0; then `out[64 w + j] += accumulator j`
/// for `64 w + j < bits`. The signs are splitmix64 of `seed + bucket * golden + word * c2`
/// (`LexicalProjection.signs`).
void tqi_sign_projections_avx2(const int32_t *buckets, const float *weights, size_t count, uint64_t seed,
                               size_t words, size_t bits, float *out);

#ifdef __cplusplus
}
#endif

#endif
