/*
 * lapack.h — the LAPACK routines facto uses, in float, through the Fortran
 * interface that Debian's OpenBLAS exports itself (spotrf_, spotri_: no
 * separate liblapack is needed; CMakeLists.txt checks the symbols and falls
 * back to -llapack when a BLAS lacks them). Kept in one place, like blas.h,
 * so nothing else declares Fortran symbols. Cost: that of the routine,
 * O(n^3) flops for an n x n matrix, on the threads fct_blas_set_threads gave
 * OpenBLAS.
 */
#ifndef FACTO_KERNELS_LAPACK_H
#define FACTO_KERNELS_LAPACK_H

#include <stdint.h>

/*
 * Invert the symmetric positive definite matrix A [n, n] (row-major, both
 * triangles set, lda = n) in place: Cholesky factorisation (spotrf) then
 * the inverse from the factor (spotri), then the triangle LAPACK leaves
 * untouched is mirrored so A holds the full symmetric inverse. Returns
 * LAPACK's info: 0 on success; k > 0 when the leading minor of order k is
 * not positive definite in float (A is then partly overwritten); < 0 for
 * a bad argument (n above INT32_MAX counts as one). Memory: none beyond A.
 */
int fct_spd_inverse(int64_t n, float *A);

#endif /* FACTO_KERNELS_LAPACK_H */
