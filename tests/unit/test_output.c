/*
 * test_output.c — the atomic output (src/core/output.c, facto_output_*):
 * a commit replaces the file whole; a write past the file size limit
 * (RLIMIT_FSIZE, SIGXFSZ ignored: EFBIG) fails at commit and leaves the old
 * file and no temporary file; SIGTERM and SIGINT in the middle of a write
 * remove the temporary file and still kill the process by that signal; a
 * temporary file of a dead writer is removed by the next commit of the same
 * path (and only of that path); inputs of the context and models are never
 * replaced; shortest float text. Each case runs in well under a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/numtext.h"
#include "facto.h"
#include "unit/testutil.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int count_temps(void)
{
    DIR *d = opendir(fct_test_dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".facto-tmp.") != NULL;
    closedir(d);
    return n;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get_file(const char *path)
{
    size_t n = 0;
    char *s = (char *)fct_test_slurp(path, &n);
    s[n] = '\0';
    return s;
}

static void test_commit_and_abort(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    const char *p = fct_test_path("a.txt");
    put_file(p, "old\n");
    facto_output *o = NULL;
    assert_int_equal(facto_output_open(ctx, p, 0, &o), FACTO_OK);
    fputs("new\n", facto_output_stream(o));
    assert_int_equal(count_temps(), 1);
    char *s = get_file(p);
    assert_string_equal(s, "old\n"); /* nothing shows before the commit */
    free(s);
    assert_int_equal(facto_output_commit(ctx, o), FACTO_OK);
    s = get_file(p);
    assert_string_equal(s, "new\n");
    free(s);
    assert_int_equal(count_temps(), 0);
    assert_int_equal(facto_output_open(ctx, p, 0, &o), FACTO_OK);
    fputs("lost\n", facto_output_stream(o));
    facto_output_abort(o);
    s = get_file(p);
    assert_string_equal(s, "new\n");
    free(s);
    assert_int_equal(count_temps(), 0);
    facto_ctx_free(ctx);
}

static void test_refusals(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_output *o = NULL;
    const char *in = fct_test_path("in.txt"), *model = fct_test_path("m.facto");
    put_file(in, "input\n");
    put_file(model, "FACTOMDL and the rest of a model");
    /* an input of the context, also through a symbolic link */
    assert_int_equal(facto_ctx_add_input(ctx, in), FACTO_OK);
    assert_int_equal(facto_output_open(ctx, in, 0, &o), FACTO_ERR_IO);
    assert_non_null(strstr(facto_errmsg(ctx), "is an input of this command"));
    assert_int_equal(symlink("in.txt", fct_test_path("link.txt")), 0);
    assert_int_equal(facto_output_open(ctx, fct_test_path("link.txt"), 0, &o), FACTO_ERR_IO);
    /* an input named after the output was opened: refused at commit, old file kept */
    const char *later = fct_test_path("later.txt");
    put_file(later, "later\n");
    assert_int_equal(facto_output_open(ctx, later, 0, &o), FACTO_OK);
    fputs("x\n", facto_output_stream(o));
    assert_int_equal(facto_ctx_add_input(ctx, later), FACTO_OK);
    assert_int_equal(facto_output_commit(ctx, o), FACTO_ERR_IO);
    char *s = get_file(later);
    assert_string_equal(s, "later\n");
    free(s);
    facto_ctx_clear_inputs(ctx);
    assert_int_equal(facto_output_open(ctx, later, 0, &o), FACTO_OK); /* forgotten: allowed again */
    facto_output_abort(o);
    /* a model: only a model output replaces it; a model output replaces no other file */
    assert_int_equal(facto_output_open(ctx, model, 0, &o), FACTO_ERR_IO);
    assert_non_null(strstr(facto_errmsg(ctx), "is a facto model"));
    assert_int_equal(facto_output_open(ctx, model, FACTO_OUTPUT_MODEL, &o), FACTO_OK);
    facto_output_abort(o);
    assert_int_equal(facto_output_open(ctx, in, FACTO_OUTPUT_MODEL, &o), FACTO_ERR_IO);
    assert_int_equal(facto_output_open(ctx, fct_test_dir, 0, &o), FACTO_ERR_IO);
    assert_int_equal(facto_output_open(ctx, "", 0, &o), FACTO_ERR_INVALID);
    assert_int_equal(count_temps(), 0);
    facto_ctx_free(ctx);
}

/* In a child: write `bytes` bytes to path past a 4 KB file size limit. */
static void test_file_too_big(void **state)
{
    (void)state;
    const char *p = fct_test_path("big.txt");
    put_file(p, "old\n");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        facto_ctx *ctx = facto_ctx_new();
        facto_output *o = NULL;
        if (facto_output_open(ctx, p, 0, &o) != FACTO_OK)
            _exit(10);
        for (int i = 0; i < 100000; i++)
            fputs("0123456789\n", facto_output_stream(o));
        facto_status st = facto_output_commit(ctx, o);
        _exit(st == FACTO_ERR_IO && strstr(facto_errmsg(ctx), "File too large") ? 0 : 11);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char *s = get_file(p);
    assert_string_equal(s, "old\n");
    free(s);
    assert_int_equal(count_temps(), 0);
}

static void killed_while_writing(int sig)
{
    const char *p = fct_test_path("sig.txt");
    unlink(p);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        facto_ctx *ctx = facto_ctx_new();
        facto_output *o = NULL;
        if (facto_output_open(ctx, p, 0, &o) != FACTO_OK)
            _exit(10);
        fputs("partial", facto_output_stream(o));
        fflush(facto_output_stream(o));
        (void)!write(ready[1], "x", 1);
        for (;;)
            pause();
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(count_temps(), 1); /* the child's temporary file exists */
    kill(pid, sig);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status)); /* the handler re-raised: killed by the signal */
    assert_int_equal(WTERMSIG(status), sig);
    assert_int_equal(count_temps(), 0);
    assert_int_equal(access(p, F_OK), -1);
    close(ready[0]);
    close(ready[1]);
}

static void test_signals_remove_temp(void **state)
{
    (void)state;
    killed_while_writing(SIGTERM);
    killed_while_writing(SIGINT);
}

static void test_stale_temps(void **state)
{
    (void)state;
    /* a writer that died (pid of a reaped child) and one that still runs (ours) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    char dead[256], live[256], other[256];
    snprintf(dead, sizeof dead, "%s/.s.txt.facto-tmp.%ld.0", fct_test_dir, (long)pid);
    snprintf(live, sizeof live, "%s/.s.txt.facto-tmp.%ld.7", fct_test_dir, (long)getppid());
    snprintf(other, sizeof other, "%s/.t.txt.facto-tmp.%ld.0", fct_test_dir, (long)pid);
    put_file(dead, "half");
    put_file(live, "half");
    put_file(other, "half");
    facto_ctx *ctx = facto_ctx_new();
    facto_output *o = NULL;
    assert_int_equal(facto_output_open(ctx, fct_test_path("s.txt"), 0, &o), FACTO_OK);
    fputs("whole\n", facto_output_stream(o));
    assert_int_equal(facto_output_commit(ctx, o), FACTO_OK);
    assert_int_equal(access(dead, F_OK), -1);  /* removed */
    assert_int_equal(access(live, F_OK), 0);   /* its writer runs */
    assert_int_equal(access(other, F_OK), 0);  /* another file's */
    unlink(live);
    unlink(other);
    facto_ctx_free(ctx);
}

static void test_device_in_place(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    facto_output *o = NULL;
    assert_int_equal(facto_output_open(ctx, "/dev/null", 0, &o), FACTO_OK);
    fputs("gone\n", facto_output_stream(o));
    assert_int_equal(facto_output_commit(ctx, o), FACTO_OK);
    assert_int_equal(facto_output_open(ctx, "/dev/full", 0, &o), FACTO_OK);
    fputs("gone\n", facto_output_stream(o));
    assert_int_equal(facto_output_commit(ctx, o), FACTO_ERR_IO); /* ENOSPC is reported */
    assert_int_equal(facto_output_open(ctx, "/dev/null", FACTO_OUTPUT_MODEL, &o), FACTO_ERR_IO);
    facto_ctx_free(ctx);
}

static void test_float_text(void **state)
{
    (void)state;
    char buf[32];
    const struct { float v; const char *text; } cases[] = {
        {0.1f, "0.1"}, {1e-5f, "1e-05"}, {3.0f, "3"}, {-2.5f, "-2.5"}, {0.3f, "0.3"},
        {1.2345e-5f, "1.2345e-05"}, {16777216.0f, "16777216"}, {3.4028235e38f, "3.4028235e+38"},
        {290.0f, "290"}, {-200.0f, "-200"}, {1.5e8f, "150000000"}, {1e9f, "1e+09"}, {1234.5f, "1234.5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        facto_format_float(buf, sizeof buf, cases[i].v);
        assert_string_equal(buf, cases[i].text);
    }
    /* every float of a random sample reads back exactly */
    for (int i = 0; i < 20000; i++) {
        float f = fct_test_rnd_float();
        double back = 0;
        facto_format_float(buf, sizeof buf, f);
        assert_int_equal(facto_parse_number(buf, &back), 1);
        assert_true((float)back == f);
        /* and is the decimal of the fewest digits: the same value as the
         * first %.{p}g, p = 1, 2, ..., that reads back (the library finds p
         * by a binary search). Checked below 2^24: above, the plain form the
         * library writes up to 1e9 is the float's own integer value. */
        if (fabsf(f) < 16777216.0f) {
            char ref[32];
            for (int p = 1; p <= 9; p++) {
                snprintf(ref, sizeof ref, "%.*g", p, (double)f);
                if (strtof(ref, NULL) == f)
                    break;
            }
            assert_true(back == strtod(ref, NULL));
        }
    }
    facto_format_double(buf, sizeof buf, 0.1);
    assert_string_equal(buf, "0.1");
    facto_format_float(buf, sizeof buf, 1.0f / 0.0f);
    assert_string_equal(buf, "inf");
}

/* fct_format_float_short computes its text in integers where it can; the
 * snprintf/strtof reference must give the same bytes: random bit patterns
 * (every exponent, the ranges the integer path refuses included), scores
 * around 1 to 5, decimals of 1 to 8 digits at every scale, and powers of
 * two with their neighbours (where the rounding interval is lopsided). */
static void test_float_text_exact(void **state)
{
    (void)state;
    char a[32], b[32];
    for (int i = 0; i < 240000; i++) {
        float f;
        if (i % 3 == 0) {
            f = fct_test_rnd_float();
        } else if (i % 3 == 1) {
            f = (float)(fct_test_rnd() % 100000000u) / 16777216.0f - 1.0f;
        } else {
            f = (float)(fct_test_rnd() % (1u + fct_test_rnd() % 100000000u));
            for (int k = (int)(fct_test_rnd() % 30); k > 0; k--)
                f /= 10.0f;
            f = fct_test_rnd() & 1 ? -f : f;
        }
        int na = fct_format_float_short(a, sizeof a, f), nb = fct_format_float_short_ref(b, sizeof b, f);
        if (strcmp(a, b) != 0)
            fail_msg("%a: '%s' but the reference writes '%s'", (double)f, a, b);
        assert_int_equal(na, nb);
    }
    for (uint32_t e = 1; e < 255; e++)
        for (int d = -2; d <= 2; d++) {
            uint32_t u = (e << 23) + (uint32_t)d;
            float f;
            memcpy(&f, &u, sizeof f);
            fct_format_float_short(a, sizeof a, f);
            fct_format_float_short_ref(b, sizeof b, f);
            if (strcmp(a, b) != 0)
                fail_msg("%a: '%s' but the reference writes '%s'", (double)f, a, b);
        }
    /* exact ties of printf's rounding (half to even) and of strtof's */
    const float ties[] = {0.5f, 2.5f, 0.125f, 1.5f, 9.5f, 99.5f, 0.0625f, 1048576.5f, 8388607.5f, 0.375f};
    for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++) {
        fct_format_float_short(a, sizeof a, ties[i]);
        fct_format_float_short_ref(b, sizeof b, ties[i]);
        assert_string_equal(a, b);
    }
}

static void test_id_escape(void **state)
{
    (void)state;
    const struct { const char *id, *text; } cases[] = {
        {"plain", "plain"},
        {"jos\xe9", "jos\\xe9"},                 /* Latin-1: the byte as \xe9 */
        {"jos\xc3\xa9", "jos\xc3\xa9"},         /* UTF-8 kept */
        {"a\\b", "a\\\\b"},                   /* a backslash doubled */
        {"a\\xe9", "a\\\\xe9"},               /* ... so it never reads as a byte */
        {"\xc0\xaf", "\\xc0\\xaf"},           /* overlong '/' */
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* a surrogate */
        {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* above U+10FFFF */
        {"\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!"}, /* U+1F600 kept */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        size_t n = facto_id_escape(cases[i].id, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(n, strlen(cases[i].text));
    }
    char small[4];
    assert_int_equal(facto_id_escape("jos\xe9", small, sizeof small), 7); /* truncated, length of the whole */
    assert_string_equal(small, "jos");
}

/* facto_id_unescape reads every escaped text back to its id, and refuses
 * a backslash that is neither "\\" nor "\xHH" (or "\x00"). */
static void test_id_unescape(void **state)
{
    (void)state;
    const char *ids[] = {"plain", "jos\xe9", "jos\xc3\xa9", "a\\b", "a\\xe9", "\xc0\xaf", "\xff\\", "\\\\", ""};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char text[64], back[64];
        facto_id_escape(ids[i], text, sizeof text);
        size_t n = facto_id_unescape(text, back, sizeof back);
        assert_int_equal(n, strlen(ids[i]));
        assert_string_equal(back, ids[i]);
    }
    char out[8];
    assert_int_equal(facto_id_unescape("\\xE9", out, sizeof out), 1); /* upper-case hex */
    assert_int_equal((unsigned char)out[0], 0xe9);
    const char *bad[] = {"a\\b", "a\\", "\\x", "\\xe", "\\xg0", "\\x00", "\\u00e9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_true(facto_id_unescape(bad[i], out, sizeof out) == FACTO_ID_BAD_ESCAPE);
    assert_int_equal(facto_id_unescape("jos\\xe9!", out, 4), 5); /* truncated, length of the whole */
    assert_string_equal(out, "jos");
}

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_output");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_and_abort),  cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_file_too_big),      cmocka_unit_test(test_signals_remove_temp),
        cmocka_unit_test(test_stale_temps),       cmocka_unit_test(test_device_in_place),
        cmocka_unit_test(test_float_text),        cmocka_unit_test(test_float_text_exact),        cmocka_unit_test(test_id_escape), cmocka_unit_test(test_id_unescape),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
