/* lapack.h - the few LAPACK routines core uses (Fortran ABI; Debian's OpenBLAS ships
 * LAPACK but no LAPACKE header).  Character arguments are single letters, so the
 * hidden length arguments of the Fortran ABI are passed explicitly as 1. */
#ifndef RS_LAPACK_H
#define RS_LAPACK_H

#include <stddef.h>

void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t);
void sposv_(const char *uplo, const int *n, const int *nrhs, float *a, const int *lda,
            float *b, const int *ldb, int *info, size_t);
/* eigenvalues (ascending) and, with jobz "V", eigenvectors of a symmetric matrix */
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info, size_t, size_t);
/* OpenBLAS's thread count (process-wide library state; also in its cblas.h) */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

#endif
