// COpenBLAS: the few OpenBLAS/LAPACK routines the trainer uses, loaded with dlopen on first use.
//
// The library is not linked, so `twentyq index`, `search` and every command that does not train
// start without it (OpenBLAS starts worker threads when it is loaded, which spin for a while:
// measured as most of a short search's start-up). Debian's package is libopenblas0 (the
// runtime) or libopenblas-dev; TWENTYQ_OPENBLAS names another library file. Constants are CBLAS's
// standard values.
#ifndef TWENTYQ_COPENBLAS_H
#define TWENTYQ_COPENBLAS_H
#include <stddef.h>

#define TWENTYQ_CBLAS_ROW_MAJOR 101
#define TWENTYQ_CBLAS_NO_TRANS 111
#define TWENTYQ_CBLAS_TRANS 112
#define TWENTYQ_CBLAS_UPPER 121
#define TWENTYQ_CBLAS_NON_UNIT 131
#define TWENTYQ_CBLAS_LEFT 141

/// Loads OpenBLAS once (thread-safe) and pins it to one thread. 0 on success; otherwise -1 with
/// a message naming the library in `error`.
int twentyq_blas_load(char *error, size_t error_size);

/// cblas_sgemm, row-major (after a successful twentyq_blas_load).
void twentyq_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);
/// cblas_strsm, row-major.
void twentyq_strsm(int side, int uplo, int trans_a, int diag, int m, int n, float alpha, const float *a,
                   int lda, float *b, int ldb);
/// LAPACK ssyevd_ (symmetric eigenvectors, divide and conquer).
void twentyq_ssyevd(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
                    float *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
