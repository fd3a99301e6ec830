/*
 * test_golden.c — model files written by an earlier facto keep loading and
 * scoring the same. tests/golden/v1/ holds small models of every kind and
 * training path of format 1, written by facto 0.1.0 (mf, fm) and by the
 * 0.2 development tree (the ranking kinds; how: tests/golden/README.md) from synthetic ratings, and expected.txt the predictions each
 * gives: by id for pairs.tsv, or for the feature rows of rows.test, plus a
 * top-5 list. Every build must load them and reproduce those values exactly
 * (each float printed with 9 significant digits, so equal text is equal
 * bits), and each top-5 score must be the model's predict of the pair (but
 * for classifiers, whose predict is a probability). FACTO_GOLDEN_WRITE=1 rewrites expected.txt instead, for a new
 * format version only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "facto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[4096];

/* The models and what each is asked. */
static const struct {
    const char *file;
    int by_ids; /* 1: pairs.tsv and top-5; 0: rows.test */
    int close;  /* 1: scores may differ from the record by 1e-6 relative */
} g_models[] = {
    {"mf.facto", 1, 0},
    {"fm_sgd.facto", 0, 0},
    {"fm_mcmc_rows.facto", 0, 0},
    {"fm_mcmc_ratings.facto", 1, 0},
    {"fm_als_cls.facto", 1, 0},
    /* the ranking kinds, written by facto 0.2.0-dev (still format 1). Their
     * scores are dot products that each compiler may fuse into FMAs its own
     * way (gcc's release build and clang's sanitizer build differ in the
     * last bit), so they are held to 1e-6 relative; ids, ranks and flags
     * exactly */
    {"popular.facto", 1, 1},
    {"itemknn.facto", 1, 1},
    {"ease.facto", 1, 1},
    {"ials.facto", 1, 1},
    {"bpr.facto", 1, 1},
    {"warp.facto", 1, 1},
    {"softmax.facto", 1, 1},
};

/* Append one model's lines ("file\twhat\tvalue") to out. */
static void model_lines(facto_ctx *ctx, const char *file, int by_ids, FILE *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", g_dir, file);
    facto_model *m = NULL;
    if (facto_model_load(ctx, path, &m) != FACTO_OK)
        fail_msg("%s", facto_errmsg(ctx));
    if (!by_ids) {
        snprintf(path, sizeof path, "%s/rows.test", g_dir);
        facto_rows *rows = NULL;
        assert_int_equal(facto_rows_read(ctx, path, FACTO_ROWS_AUTO, 0, &rows), FACTO_OK);
        int64_t n = facto_rows_count(rows);
        float *s = malloc((size_t)n * sizeof *s);
        if (facto_model_predict_rows(ctx, m, rows, s, NULL) != FACTO_OK)
            fail_msg("%s: %s", file, facto_errmsg(ctx));
        for (int64_t r = 0; r < n; r++)
            fprintf(out, "%s\trow %lld\t%.9g\n", file, (long long)r, (double)s[r]);
        free(s);
        facto_rows_free(rows);
        facto_model_free(m);
        return;
    }
    snprintf(path, sizeof path, "%s/pairs.tsv", g_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char user[64], item[64];
    while (fscanf(f, "%63s %63s", user, item) == 2) {
        float s;
        int flags;
        if (facto_model_predict(ctx, m, user, item, &s, &flags) != FACTO_OK)
            fail_msg("%s: %s", file, facto_errmsg(ctx));
        fprintf(out, "%s\t%s %s\t%.9g %d\n", file, user, item, (double)s, flags);
    }
    fclose(f);
    facto_recommendation top[5];
    int n = 0;
    if (facto_model_recommend(ctx, m, "u1", 5, 1, top, &n) != FACTO_OK)
        fail_msg("%s: %s", file, facto_errmsg(ctx));
    for (int x = 0; x < n; x++) {
        const char *id = facto_idmap_name(facto_model_items(m), top[x].item);
        fprintf(out, "%s\ttop %d\t%s %.9g\n", file, x + 1, id, (double)top[x].score);
        /* a list's score is the model's own raw score of the pair: predict's
         * number where predict is the raw score (all but classifiers' link
         * and a clip to the rating range, which these lists never reach) */
        float s;
        if (facto_model_task(m) != FACTO_TASK_BINARY) {
            assert_int_equal(facto_model_predict(ctx, m, "u1", id, &s, NULL), FACTO_OK);
            if (memcmp(&s, &top[x].score, sizeof s) != 0)
                fail_msg("%s: top %d (u1 %s) scores %.9g, predict %.9g", file, x + 1, id, (double)top[x].score,
                         (double)s);
        }
    }
    facto_model_free(m);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* Is this line's model one whose scores are held to 1e-6 relative? */
static int line_is_close(const char *line)
{
    for (size_t i = 0; i < sizeof g_models / sizeof g_models[0]; i++) {
        size_t n = strlen(g_models[i].file);
        if (g_models[i].close && strncmp(line, g_models[i].file, n) == 0 && line[n] == '\t')
            return 1;
    }
    return 0;
}

/* Two lines equal token by token, numbers within 1e-6 relative. */
static int tokens_close(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ' || *a == '\t')
            a++;
        while (*b == ' ' || *b == '\t')
            b++;
        size_t na = strcspn(a, " \t"), nb = strcspn(b, " \t");
        if (na == 0 || nb == 0)
            return na == nb;
        if (na != nb || strncmp(a, b, na) != 0) {
            char ta[64], tb[64], *ea, *eb;
            if (na >= sizeof ta || nb >= sizeof tb)
                return 0;
            memcpy(ta, a, na);
            ta[na] = 0;
            memcpy(tb, b, nb);
            tb[nb] = 0;
            double x = strtod(ta, &ea), y = strtod(tb, &eb);
            if (*ea || *eb || !(fabs(x - y) <= 1e-6 * (fabs(y) > 1.0 ? fabs(y) : 1.0)))
                return 0;
        }
        a += na;
        b += nb;
    }
}

/* got and want line by line: equal, or close for the models that allow it. */
static void compare_lines(char *got, char *want)
{
    char *sg = NULL, *sw = NULL;
    char *g = strtok_r(got, "\n", &sg), *w = strtok_r(want, "\n", &sw);
    int line = 1;
    for (; g && w; g = strtok_r(NULL, "\n", &sg), w = strtok_r(NULL, "\n", &sw), line++)
        if (strcmp(g, w) != 0 && !(line_is_close(w) && tokens_close(g, w)))
            fail_msg("golden predictions differ at line %d: '%s' (expected '%s')", line, g, w);
    if (g || w)
        fail_msg("golden predictions: %s lines (line %d)", g ? "more" : "fewer", line);
}

static void test_golden_v1(void **state)
{
    (void)state;
    facto_ctx *ctx = facto_ctx_new();
    char got_path[4200], want_path[4200];
    snprintf(got_path, sizeof got_path, "test_golden_%ld.txt", (long)getpid());
    snprintf(want_path, sizeof want_path, "%s/expected.txt", g_dir);
    FILE *out = fopen(got_path, "w");
    assert_non_null(out);
    for (size_t i = 0; i < sizeof g_models / sizeof g_models[0]; i++)
        model_lines(ctx, g_models[i].file, g_models[i].by_ids, out);
    fclose(out);
    const char *w = getenv("FACTO_GOLDEN_WRITE");
    if (w && strcmp(w, "1") == 0) {
        assert_int_equal(rename(got_path, want_path), 0);
        print_message("wrote %s\n", want_path);
    } else {
        char *got = slurp(got_path), *want = slurp(want_path);
        assert_non_null(want);
        compare_lines(got, want);
        free(got);
        free(want);
        remove(got_path);
    }
    facto_ctx_free(ctx);
}

int main(void)
{
    const char *src = getenv("FACTO_SOURCE_DIR");
    snprintf(g_dir, sizeof g_dir, "%s/tests/golden/v1", src ? src : ".");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden_v1)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
