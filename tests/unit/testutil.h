/*
 * testutil.h — small helpers several unit tests share: a scratch folder
 * made by the group setup and removed by the teardown, paths inside it, and
 * a xorshift random stream (seeded per test file) for property tests,
 * whole-file read/write that fail the test on error, and the real-data
 * rules (below).
 * Header-only; include after <cmocka.h>.
 *
 * Tests that read real data (MovieLens under FACTO_DATA_HOME):
 *  - register them with fct_data_test(fn) instead of cmocka_unit_test(fn)
 *    (cmocka name "data:fn"), and run the file with fct_run_tests(tests,
 *    setup, teardown) from main(argc, argv);
 *  - find the files with fct_test_need_data("ml-100k/u1.base", ...), which
 *    returns FACTO_DATA_HOME when every file named is readable under it,
 *    else skips the test, or fails it when FACTO_REQUIRE_DATA=1 (CI);
 *  - never call cmocka's skip() for missing data: cmocka counts a skipped
 *    test as passed.
 * ctest runs each such file twice: `test_x --no-data` (label quick: every
 * test but the data ones) and `test_x --data` (label data: only those).
 * A run in which any test was skipped for want of data exits 77, which
 * ctest (SKIP_RETURN_CODE 77) reports as Skipped, never as Passed; a
 * failure still exits 1. Without an argument every test runs.
 */
#ifndef FACTO_TESTUTIL_H
#define FACTO_TESTUTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fct_test_dir[128];

/* Make /tmp/<prefix>_XXXXXX; 0 on success (a cmocka group setup returns it). */
static inline int fct_test_dir_make(const char *prefix)
{
    snprintf(fct_test_dir, sizeof fct_test_dir, "/tmp/%s_XXXXXX", prefix);
    return mkdtemp(fct_test_dir) ? 0 : -1;
}

/* Remove the scratch folder and all it holds; 0 on success. */
static inline int fct_test_dir_remove(void)
{
    char cmd[sizeof fct_test_dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fct_test_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* "<scratch>/<name>"; four rotating buffers, so up to four can be live at once. */
static inline const char *fct_test_path(const char *name)
{
    static char buf[4][sizeof fct_test_dir + 64];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fct_test_dir, name);
    return buf[k];
}

/* xorshift64 (Marsaglia 2003): a fixed stream for a given seed. */
static uint64_t fct_test_rng = 88172645463325252ull;

static inline uint32_t fct_test_rnd(void)
{
    fct_test_rng ^= fct_test_rng << 13;
    fct_test_rng ^= fct_test_rng >> 7;
    fct_test_rng ^= fct_test_rng << 17;
    return (uint32_t)(fct_test_rng >> 11);
}

/* A finite float with random bits (any sign, exponent and mantissa). */
static inline float fct_test_rnd_float(void)
{
    for (;;) {
        uint32_t b = fct_test_rnd();
        float f;
        memcpy(&f, &b, 4);
        if (f == f && f - f == 0.0f)
            return f;
    }
}

/* The whole file at `path` in a malloc'd buffer with 64 spare bytes after
 * its *n bytes (callers may append); fails the test when it cannot. */
static inline unsigned char *fct_test_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(len >= 0);
    unsigned char *buf = malloc((size_t)len + 64);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Write n bytes to `path`, replacing it; fails the test when it cannot. */
static inline void fct_test_spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* ---- real data ------------------------------------------------------------------------ */

/* A cmocka test entry for a test that reads real data (see the top). */
#define fct_data_test(f) {"data:" #f, f, NULL, NULL, NULL}

/* Tests skipped for want of data in this process (fct_run_tests exits 77 when > 0). */
static int fct_test_n_skipped;

/* Skip the running test, counted: the process then exits 77, not 0. */
#define fct_test_skip(...)                                                                                  \
    do {                                                                                                    \
        fct_test_n_skipped++;                                                                               \
        print_message("skipped: " __VA_ARGS__);                                                             \
        print_message("\n");                                                                                \
        skip();                                                                                             \
    } while (0)

static inline int fct_test_data_required(void)
{
    const char *r = getenv("FACTO_REQUIRE_DATA");
    return r && *r && strcmp(r, "0") != 0;
}

/* FACTO_DATA_HOME when each file of the NULL-terminated list of paths
 * relative to it is readable; else the test is skipped (counted), or
 * failed when FACTO_REQUIRE_DATA is set (and not "0"). */
static inline const char *fct_test_need_data_(const char *rel, ...)
{
    const char *home = getenv("FACTO_DATA_HOME");
    char path[4096], missing[4096] = "";
    if (!home || !*home)
        snprintf(missing, sizeof missing, "FACTO_DATA_HOME is not set (wanted %s)", rel);
    va_list ap;
    va_start(ap, rel);
    for (const char *r = rel; r && !*missing; r = va_arg(ap, const char *)) {
        snprintf(path, sizeof path, "%s/%s", home, r);
        if (access(path, R_OK) != 0)
            snprintf(missing, sizeof missing, "no %s (FACTO_DATA_HOME=%s)", r, home);
    }
    va_end(ap);
    if (!*missing)
        return home;
    if (fct_test_data_required())
        fail_msg("FACTO_REQUIRE_DATA is set and %s", missing);
    fct_test_skip("%s", missing);
    return NULL; /* not reached: skip() leaves the test */
}
#define fct_test_need_data(...) fct_test_need_data_(__VA_ARGS__, (const char *)NULL)

/* The seed of a real-data accuracy test: FACTO_TEST_SEED when set, else
 * `seed`. Lets tests/measure-bounds run the same test over many seeds to
 * measure the spread its bounds must allow. */
static inline uint64_t fct_test_seed(uint64_t seed)
{
    const char *s = getenv("FACTO_TEST_SEED");
    return s && *s ? strtoull(s, NULL, 10) : seed;
}

/* Run tests[n] as one cmocka group. argv[1] "--data" runs only the
 * fct_data_test entries, "--no-data" only the others; none runs all.
 * Exit status: 1 when a test failed, else 77 when one was skipped for want
 * of data, else 0. */
static inline int fct_test_run_(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t n,
                                CMFixtureFunction setup, CMFixtureFunction teardown)
{
    int want = -1; /* -1 all, 1 data only, 0 no data */
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--data") != 0 && strcmp(argv[1], "--no-data") != 0)) {
        fprintf(stderr, "usage: %s [--data | --no-data]\n", argv[0]);
        return 2;
    }
    if (argc == 2)
        want = strcmp(argv[1], "--data") == 0;
    struct CMUnitTest *run = malloc((n ? n : 1) * sizeof *run);
    if (!run)
        return 1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int is_data = strncmp(tests[i].name, "data:", 5) == 0;
        if (want < 0 || want == is_data)
            run[m++] = tests[i];
    }
    if (m == 0) {
        fprintf(stderr, "%s: no test to run with %s\n", argv[0], argc == 2 ? argv[1] : "no argument");
        free(run);
        return 1;
    }
    int failed = _cmocka_run_group_tests(group, run, m, setup, teardown);
    free(run);
    if (failed)
        return 1;
    if (fct_test_n_skipped) {
        fprintf(stderr, "%d test(s) skipped for want of data: exit 77 (set FACTO_DATA_HOME; "
                        "FACTO_REQUIRE_DATA=1 makes missing data a failure)\n", fct_test_n_skipped);
        return 77;
    }
    return 0;
}
#define fct_run_tests(tests, setup, teardown)                                                               \
    fct_test_run_(argc, argv, #tests, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

#endif /* FACTO_TESTUTIL_H */
