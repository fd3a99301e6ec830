/*
 * lapack.c — fct_spd_inverse (lapack.h) over LAPACK's spotrf and spotri.
 * LAPACK is column-major; a symmetric matrix is its own transpose, so a
 * row-major array is handed over as it is: LAPACK's lower triangle
 * (uplo 'L': element (i, j), i >= j, at A[i + j n]) is the row-major upper
 * triangle, and that is the part spotri fills. The mirror afterwards works
 * in 64 x 64 tiles so the transposed reads stay in cache.
 */
#include "lapack.h"

#include <stddef.h>

/* Fortran LAPACK (OpenBLAS exports them): arguments by address, and the
 * hidden length of the character argument last, as gfortran passes it. */
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);

int fct_spd_inverse(int64_t n, float *A)
{
    if (n < 0 || n > INT32_MAX || (n > 0 && !A))
        return -1;
    if (n == 0)
        return 0;
    const char uplo = 'L';
    const int nn = (int)n, lda = (int)n;
    int info = 0;
    spotrf_(&uplo, &nn, A, &lda, &info, 1);
    if (info != 0)
        return info;
    spotri_(&uplo, &nn, A, &lda, &info, 1);
    if (info != 0)
        return info;
    /* Row-major upper triangle (c >= r) holds the inverse: copy it below. */
    const int64_t T = 64;
    for (int64_t r0 = 0; r0 < n; r0 += T)
        for (int64_t c0 = 0; c0 <= r0; c0 += T)
            for (int64_t r = r0; r < r0 + T && r < n; r++)
                for (int64_t c = c0; c < c0 + T && c < r; c++)
                    A[r * n + c] = A[c * n + r];
    return 0;
}
