/*
 * testutil.h — small helpers several unit tests share: a scratch folder
 * made by the group setup and removed by the teardown, paths inside it, and
 * a xorshift random stream (seeded per test file) for property tests,
 * and whole-file read/write that fail the test on error.
 * Header-only; include after <cmocka.h>.
 */
#ifndef FACTO_TESTUTIL_H
#define FACTO_TESTUTIL_H

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

#endif /* FACTO_TESTUTIL_H */
