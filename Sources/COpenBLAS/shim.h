// COpenBLAS: the system OpenBLAS (Debian's libopenblas-dev) for the trainer's dense products.
// No Swift API of its own; Training wraps the few calls it makes. Inference never uses it.
#ifndef TWENTYQ_COPENBLAS_SHIM_H
#define TWENTYQ_COPENBLAS_SHIM_H
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
// LAPACK's symmetric eigensolver (divide and conquer), bundled in Debian's OpenBLAS; used for PCA.
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
