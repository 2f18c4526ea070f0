#include "COpenBLAS.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*strsm_fn)(int, int, int, int, int, int, int, float, const float *, int, float *, int);
typedef void (*ssyevd_fn)(const char *, const char *, const int *, float *, const int *, float *, float *,
                          const int *, int *, const int *, int *);
typedef void (*threads_fn)(int);

static sgemm_fn sgemm;
static strsm_fn strsm;
static ssyevd_fn ssyevd;
static char load_error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    static const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    const char *chosen = getenv("TWENTYQ_OPENBLAS");
    void *handle = NULL;
    if (chosen && *chosen) {
        handle = dlopen(chosen, RTLD_NOW | RTLD_LOCAL);
    } else {
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !handle; i++) handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (!handle) {
        snprintf(load_error, sizeof load_error,
                 "OpenBLAS is needed for training and was not found (%s); on Debian: apt-get install libopenblas0, "
                 "or set TWENTYQ_OPENBLAS to the library's path",
                 dlerror());
        return;
    }
    threads_fn threads = (threads_fn)dlsym(handle, "openblas_set_num_threads");
    sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    strsm = (strsm_fn)dlsym(handle, "cblas_strsm");
    ssyevd = (ssyevd_fn)dlsym(handle, "ssyevd_");
    if (!threads || !sgemm || !strsm || !ssyevd) {
        snprintf(load_error, sizeof load_error,
                 "the OpenBLAS found lacks cblas_sgemm, cblas_strsm, ssyevd_ or openblas_set_num_threads; "
                 "install Debian's libopenblas0");
        sgemm = NULL;
        return;
    }
    // One thread: results differ slightly between thread counts, and a seed must reproduce a
    // model byte for byte.
    threads(1);
}

int twentyq_blas_load(char *error, size_t error_size) {
    pthread_once(&once, load);
    if (sgemm) return 0;
    if (error && error_size) snprintf(error, error_size, "%s", load_error);
    return -1;
}

static void require(void) {
    if (twentyq_blas_load(NULL, 0) != 0) {
        // Callers load first and report the error; reaching here is a bug in TwentyQ.
        fprintf(stderr, "twentyq: %s\n", load_error);
        abort();
    }
}

void twentyq_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    require();
    sgemm(TWENTYQ_CBLAS_ROW_MAJOR, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void twentyq_strsm(int side, int uplo, int trans_a, int diag, int m, int n, float alpha, const float *a,
                   int lda, float *b, int ldb) {
    require();
    strsm(TWENTYQ_CBLAS_ROW_MAJOR, side, uplo, trans_a, diag, m, n, alpha, a, lda, b, ldb);
}

void twentyq_ssyevd(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
                    float *work, const int *lwork, int *iwork, const int *liwork, int *info) {
    require();
    ssyevd(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info);
}
