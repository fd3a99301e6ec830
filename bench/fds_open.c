/*
 * fds_open.c — one timed open of a ratings file, for bench/fds.sh: for a
 * .fds file the seconds to map and verify it (fct_fds_open: mmap + checksum +
 * directory checks) and then, separately, to build a data set from it
 * (facto_dataset_read: checksum in step with the value checks + borrow the
 * arrays + id views);
 * for text, facto_dataset_read. Prints "verify_s X load_s Y n_ratings N
 * peak_rss_kb R verify_cpu_s X load_cpu_s Y" (peak RSS of the whole process,
 * from getrusage; CPU seconds of the process, user + system).
 * Usage: fds_open FILE
 */
#include "data/fds.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds of the process (user + system): what a shared machine's load
 * does not inflate as much as the wall clock. */
static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fds_open FILE\n");
        return 1;
    }
    facto_ctx *ctx = facto_ctx_new();
    double verify = -1.0, verify_cpu = -1.0;
    if (fct_fds_sniff(argv[1])) {
        fct_fds *f = NULL;
        double t0 = now(), c0 = cpu();
        if (fct_fds_open(ctx, argv[1], &f) != FACTO_OK) {
            fprintf(stderr, "%s\n", facto_errmsg(ctx));
            return 2;
        }
        verify = now() - t0;
        verify_cpu = cpu() - c0;
        fct_fds_close(f);
    }
    facto_dataset *ds = NULL;
    double t0 = now(), c0 = cpu();
    if (facto_dataset_read(ctx, argv[1], NULL, &ds, NULL) != FACTO_OK) {
        fprintf(stderr, "%s\n", facto_errmsg(ctx));
        return 2;
    }
    double load = now() - t0, load_cpu = cpu() - c0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("verify_s %.4f load_s %.4f n_ratings %lld peak_rss_kb %ld verify_cpu_s %.4f load_cpu_s %.4f\n", verify,
           load, (long long)facto_dataset_n_ratings(ds), ru.ru_maxrss, verify_cpu, load_cpu);
    facto_dataset_free(ds);
    facto_ctx_free(ctx);
    return 0;
}
