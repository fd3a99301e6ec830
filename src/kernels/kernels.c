/*
 * kernels.c — the kernel table (kernels.h): which implementation each
 * entry points to. The table is statically initialised to the scalar
 * kernels, so it is valid before any constructor runs; a constructor then
 * detects the CPU once (__builtin_cpu_supports) and refills it with the
 * AVX2+FMA kernels when the CPU has both (AVX-512F for the top-N scan and
 * MF's blocked SGD steps when it has that too). fct_kernel_path_set refills it
 * on demand. O(1), no memory.
 */
#include "kernels.h"

fct_kernels fct_kern = {
    FACTO_KERNEL_SCALAR, fct_dot_scalar,        fct_axpy_scalar,     fct_sgd_pair_scalar,
    fct_adam_pair_scalar, fct_adam_scalar,      fct_adagrad_scalar,  fct_fm_score_scalar,
    fct_fm_sgd_scalar,    fct_fm_sgd_clip_scalar, fct_rows_apply_scalar, fct_symv_scalar,
    fct_scan_above_scalar, fct_mf_sgd_row_scalar, fct_mf_adagrad_row_scalar,
};

fct_kernel_path fct_kernel_path_detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return FACTO_KERNEL_AVX2;
#endif
    return FACTO_KERNEL_SCALAR;
}

int fct_kernel_has_avx512(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

fct_kernel_path fct_kernel_path_get(void) { return fct_kern.path; }

void fct_kernel_path_set(fct_kernel_path path)
{
    if (path == FACTO_KERNEL_AVX2 && fct_kernel_path_detect() != FACTO_KERNEL_AVX2)
        path = FACTO_KERNEL_SCALAR;
    const int v = path == FACTO_KERNEL_AVX2;
    fct_kern.path = path;
    fct_kern.dot = v ? fct_dot_avx2 : fct_dot_scalar;
    fct_kern.axpy = v ? fct_axpy_avx2 : fct_axpy_scalar;
    fct_kern.sgd_pair = v ? fct_sgd_pair_avx2 : fct_sgd_pair_scalar;
    fct_kern.adam_pair = v ? fct_adam_pair_avx2 : fct_adam_pair_scalar;
    fct_kern.adam = v ? fct_adam_avx2 : fct_adam_scalar;
    fct_kern.adagrad = v ? fct_adagrad_avx2 : fct_adagrad_scalar;
    fct_kern.fm_score = v ? fct_fm_score_avx2 : fct_fm_score_scalar;
    fct_kern.fm_sgd = v ? fct_fm_sgd_avx2 : fct_fm_sgd_scalar;
    fct_kern.fm_sgd_clip = v ? fct_fm_sgd_clip_avx2 : fct_fm_sgd_clip_scalar;
    fct_kern.rows_apply = v ? fct_rows_apply_avx2 : fct_rows_apply_scalar;
    fct_kern.symv = v ? fct_symv_avx2 : fct_symv_scalar;
    fct_kern.scan_above =
        !v ? fct_scan_above_scalar : fct_kernel_has_avx512() ? fct_scan_above_avx512 : fct_scan_above_avx2;
    fct_kern.mf_sgd_row =
        !v ? fct_mf_sgd_row_scalar : fct_kernel_has_avx512() ? fct_mf_sgd_row_avx512 : fct_mf_sgd_row_avx2;
    fct_kern.mf_adagrad_row = !v                         ? fct_mf_adagrad_row_scalar
                              : fct_kernel_has_avx512() ? fct_mf_adagrad_row_avx512
                                                        : fct_mf_adagrad_row_avx2;
}

/* Once per process, before main (and before any library call). */
__attribute__((constructor)) static void fct_kernels_startup(void) { fct_kernel_path_set(fct_kernel_path_detect()); }
