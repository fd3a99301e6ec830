/*
 * chol.c — the Cholesky factorisation and triangular solves of chol.h, in
 * plain double loops over contiguous rows (k is at most a few hundred in
 * practice; these solves are not the hot path of any solver). O(n^3 / 3)
 * to factor, O(n^2) to solve.
 */
#include "chol.h"

#include <math.h>

int fct_chol_factor_d(double *A, int n)
{
    for (int j = 0; j < n; j++) {
        double *Lj = A + (long)j * n;
        double s = Lj[j];
        for (int p = 0; p < j; p++)
            s -= Lj[p] * Lj[p];
        if (!(s > 0.0) || !isfinite(s))
            return -1;
        const double d = sqrt(s), inv = 1.0 / d;
        Lj[j] = d;
        for (int i = j + 1; i < n; i++) {
            double *Li = A + (long)i * n;
            double t = Li[j];
            for (int p = 0; p < j; p++)
                t -= Li[p] * Lj[p];
            Li[j] = t * inv;
        }
    }
    return 0;
}

void fct_chol_solve_d(const double *L, int n, double *b)
{
    /* L y = b */
    for (int i = 0; i < n; i++) {
        const double *Li = L + (long)i * n;
        double t = b[i];
        for (int p = 0; p < i; p++)
            t -= Li[p] * b[p];
        b[i] = t / Li[i];
    }
    /* L^T x = y */
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int p = i + 1; p < n; p++)
            t -= L[(long)p * n + i] * b[p];
        b[i] = t / L[(long)i * n + i];
    }
}
