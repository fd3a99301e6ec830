/*
 * chol.h — dense Cholesky factorisation and solve of a small symmetric
 * positive definite system in double (the k x k normal equations of a
 * least-squares row solve: iALS's exact path and fold-in of a user from a
 * history). Row-major, lower triangle. O(n^3 / 3) to factor, O(n^2) to
 * solve; no memory.
 */
#ifndef FACTO_KERNELS_CHOL_H
#define FACTO_KERNELS_CHOL_H

/* Factor A [n, n] (row-major; only the lower triangle and diagonal are read)
 * into L with A = L L^T, in place (L in the lower triangle, the strict
 * upper triangle left as it was). Returns 0, or -1 when a pivot is not
 * positive and finite (A is not positive definite to working precision). */
int fct_chol_factor_d(double *A, int n);

/* Solve L L^T x = b in place (b becomes x), L from fct_chol_factor_d. */
void fct_chol_solve_d(const double *L, int n, double *b);

#endif /* FACTO_KERNELS_CHOL_H */
