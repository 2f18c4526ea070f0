// CHammingKernels: popcount scan kernels for TwentyQ. No stable API of its own: BinaryCodes
// wraps it. Every kernel exists in builds for several instruction sets (portable C, POPCNT, AVX2,
// AVX-512 with VPOPCNTDQ) selected at run time with tq_best_level(); each is tested against the
// naive Swift reference in BinaryCodesTests.
#ifndef TWENTYQ_CHAMMINGKERNELS_H
#define TWENTYQ_CHAMMINGKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set level of a kernel build.
typedef enum {
    TQ_LEVEL_PORTABLE = 0, ///< plain C; popcount by shifts and masks
    TQ_LEVEL_POPCNT = 1,   ///< scalar POPCNT instruction
    TQ_LEVEL_AVX2 = 2,     ///< AVX2 nibble-table popcount, four queries per pass
    TQ_LEVEL_AVX512 = 3,   ///< AVX-512 VPOPCNTDQ: eight queries per pass, eight codes per distance fold
} tq_level_t;

/// The fastest level this CPU runs (checked once with __builtin_cpu_supports on x86_64;
/// TQ_LEVEL_PORTABLE elsewhere).
tq_level_t tq_best_level(void);

/// Whether this CPU can run kernels of `level`.
int tq_level_supported(tq_level_t level);

/// A running top-k list of one query: `count` entries of `distances`/`ids`, sorted by
/// (distance, id) ascending. Capacity `k` >= 1. Entries are inserted only when strictly
/// better than the worst kept one, so scanning ids in ascending order keeps ties by lowest id.
typedef struct {
    uint32_t *distances;
    int64_t *ids;
    int64_t k;
    int64_t count;
} tq_topk_t;

/// Scans `n` codes of `words` 64-bit words each (row-major, contiguous; the code of row i has
/// id `first_id + i`) against `nq` queries (row-major, same width) and merges the results
/// into `lists[0..nq)`. Ids must grow across successive calls for the tie order to hold.
/// Widths of 1, 2, 3, 4, 6, 8, 12 and 16 words have dedicated kernels; others use a generic
/// loop. `words` must be between 1 and 64. Thread safety: distinct `lists` per thread.
void tq_knn_scan(tq_level_t level,
                 const uint64_t *codes, int64_t n, int64_t first_id, int64_t words,
                 const uint64_t *queries, int64_t nq,
                 tq_topk_t *lists);

/// Writes the Hamming distance between `query` and each of `n` codes into `out[0..n)`.
void tq_distances(tq_level_t level,
                  const uint64_t *codes, int64_t n, int64_t words,
                  const uint64_t *query, uint32_t *out);

/// tq_knn_scan over part of each code: words [offset, offset + words) of codes that lie
/// `stride` words apart (the queries hold just those `words`), e.g. the query bits of a text
/// model's codes. The parts are gathered, a few hundred codes at a time, into a 32 KB block on
/// the stack and scanned there by tq_knn_scan's kernels, so every width and level keeps its
/// fast path. Requires 0 <= offset, 1 <= words, offset + words <= stride <= 64 (checked where
/// the range enters; nothing happens otherwise). Needs 32 KB of the calling thread's stack.
void tq_knn_scan_part(tq_level_t level,
                      const uint64_t *codes, int64_t n, int64_t first_id, int64_t stride, int64_t offset, int64_t words,
                      const uint64_t *queries, int64_t nq,
                      tq_topk_t *lists);

/// tq_distances over part of each code (the same requirements as tq_knn_scan_part), read in
/// place.
void tq_distances_part(tq_level_t level,
                       const uint64_t *codes, int64_t n, int64_t stride, int64_t offset, int64_t words,
                       const uint64_t *query, uint32_t *out);

/// Finds the codes among `n` (of `words` words each) within Hamming distance `limit` of
/// `query`: writes their indices (0-based, ascending) to `out_index` and their distances to
/// `out_dist`, and returns how many. Both outputs need room for `n` entries.
int64_t tq_filter_within(tq_level_t level,
                         const uint64_t *codes, int64_t n, int64_t words,
                         const uint64_t *query, uint32_t limit, uint32_t *out_index, uint32_t *out_dist);

/// Where the probe of one shell of a multi-index table stands (see tq_probe_shell). Start a
/// shell with `mask` = (1 << radius) - 1 and `entry` = -1; the shell is done once `mask` >=
/// 1 << length.
typedef struct {
    uint64_t mask;      ///< the bucket probed next is own ^ mask
    int64_t entry;      ///< -1, or the entry of bucket `mask` to go on from (a call stopped inside it)
    int64_t probes;     ///< buckets begun by the last call
    int64_t candidates; ///< entries filtered by the last call
} tq_shell_cursor_t;

/// Probes the buckets of one multi-index table whose substring value lies at distance exactly
/// r from `own` (every mask of r set bits among `length`, in increasing order, from
/// `cursor->mask` on, which has r bits set) and filters their entries: writes the entry number (into the table)
/// and distance of each entry within `limit` of `query` to `out_entry`/`out_dist` and returns
/// how many. The table is laid out as MultiIndexLayout.writeTable does: `offsets` (2^length +
/// 1; entries of value v are offsets[v] ..< offsets[v + 1], clamped to `entries`), then the
/// entries' codes (`words` words each) in entry order. While one bucket is filtered, the
/// offsets of later buckets and every cache line of the next buckets' codes are prefetched.
/// Stops early (the cursor says where to go on) when `capacity` results are written or once
/// `probes * probe_units + candidates * candidate_units` reaches `max_units`.
/// `out_entry` and `out_dist` need room for `capacity` + 8 entries (the AVX-512 build, taken at
/// TQ_LEVEL_AVX512, stores eight lanes at a time).
int64_t tq_probe_shell(tq_level_t level, const uint32_t *offsets, int64_t entries, const uint64_t *codes, int64_t words,
                       uint32_t own, int32_t length, const uint64_t *query, uint32_t limit,
                       int64_t probe_units, int64_t candidate_units, int64_t max_units,
                       tq_shell_cursor_t *cursor, uint32_t *out_entry, uint32_t *out_dist, int64_t capacity);

/// Asks the CPU to start loading the cache line at `p` (a hint; no effect on results).
static inline void tq_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#ifdef __cplusplus
}
#endif
#endif
