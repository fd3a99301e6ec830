/*
 * test_events.c — the event log reader (src/data/events.c): the checker's
 * field names, files read in name order, a torn last line skipped and
 * counted, a bad complete line named by FILE:LINE, clicks and purchases as
 * implicit data, CTR by position and popularity by hand, and on a
 * synthetic log of shuffled slates with known position bias (propensity
 * 1/p, seeded): the estimated propensities within 0.02 of the true ones,
 * and the IPS estimate of a policy's CTR@k closer to the truth than the
 * naive one (and within 0.01 of it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data/events.h"
#include "facto.h"
#include "testutil.h"

static int setup(void **state)
{
    (void)state;
    return fct_test_dir_make("facto_events");
}

static int teardown(void **state)
{
    (void)state;
    return fct_test_dir_remove();
}

static const char *mkdir_fresh(const char *name)
{
    const char *d = fct_test_path(name);
    mkdir(d, 0755);
    return d;
}

static void put(const char *dir, const char *file, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    fct_test_spit(path, text, strlen(text));
}

/* fct_event_check names the bad field. */
static void test_check(void **state)
{
    (void)state;
    struct {
        const char *json, *field;
    } cases[] = {
        {"[1]", ""},
        {"{}", "type"},
        {"{\"type\":\"clack\"}", "type"},
        {"{\"type\":\"impression\",\"items\":[\"a\",true],\"request_id\":\"r\"}", "items[1]"},
        {"{\"type\":\"impression\",\"items\":[],\"request_id\":\"r\"}", "items"},
        {"{\"type\":\"impression\",\"items\":[\"a\"]}", "request_id"},
        {"{\"type\":\"click\",\"item\":\"a\"}", "user"},
        {"{\"type\":\"click\",\"user\":\"u\"}", "item"},
        {"{\"type\":\"click\",\"user\":\"u\",\"item\":\"\"}", "item"},
        {"{\"type\":\"click\",\"user\":\"u\",\"item\":\"a\",\"ts\":-1}", "ts"},
        {"{\"type\":\"click\",\"user\":\"u\",\"item\":\"a\",\"request_id\":1.5}", "request_id"},
        {"{\"type\":\"rating\",\"user\":\"u\",\"item\":\"a\"}", "value"},
        {"{\"type\":\"rating\",\"user\":\"u\",\"item\":\"a\",\"value\":\"4\"}", "value"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        json_t *j = json_loads(cases[k].json, 0, NULL);
        assert_non_null(j);
        fct_event e;
        char field[48], detail[256];
        assert_int_equal(fct_event_check(j, &e, field, sizeof field, detail, sizeof detail), 0);
        assert_string_equal(field, cases[k].field);
        assert_true(strlen(detail) > 5);
        json_decref(j);
    }
    /* a good one, normalized: integer ids as text, ts filled in */
    json_t *j = json_loads("{\"type\":\"rating\",\"user\":7,\"item\":\"a\",\"value\":4.5,\"extra\":1}", 0, NULL);
    fct_event e;
    char field[48], detail[256];
    assert_int_equal(fct_event_check(j, &e, field, sizeof field, detail, sizeof detail), 1);
    char *line = fct_event_line(&e, 12.5);
    assert_string_equal(line, "{\"type\":\"rating\",\"user\":\"7\",\"item\":\"a\",\"value\":4.5,\"ts\":12.5}");
    free(line);
    json_decref(j);
}

/* Two files in name order, a torn last line, the counts, the joins by hand. */
static void test_read_by_hand(void **state)
{
    (void)state;
    const char *dir = mkdir_fresh("hand");
    /* written out of name order: the reader sorts */
    put(dir, "events-20260101-01-000002.jsonl",
        "{\"type\":\"click\",\"user\":\"u1\",\"item\":\"b\",\"request_id\":\"r2\",\"ts\":20}\n"
        "{\"type\":\"purchase\",\"user\":\"u1\",\"item\":\"b\",\"ts\":21}\n"
        "{\"type\":\"click\",\"user\":\"u2\",\"item\":\"c\",\"request_id\":\"r9\",\"ts\":22}\n"
        "{\"type\":\"click\",\"user\":\"u2\",\"item\":\"c\",\"requ"); /* torn */
    put(dir, "events-20260101-00-000001.jsonl",
        "{\"type\":\"impression\",\"user\":\"u1\",\"items\":[\"a\",\"b\",\"c\"],\"request_id\":\"r1\",\"ts\":1}\n"
        "\n"
        "{\"type\":\"click\",\"user\":\"u1\",\"item\":\"b\",\"request_id\":\"r1\",\"ts\":2}\n"
        "{\"type\":\"click\",\"user\":\"u1\",\"item\":\"b\",\"request_id\":\"r1\",\"ts\":3}\n"
        "{\"type\":\"impression\",\"user\":\"u2\",\"items\":[\"c\",\"b\"],\"request_id\":\"r2\",\"ts\":4}\n"
        "{\"type\":\"click\",\"user\":\"u2\",\"item\":\"a\",\"request_id\":\"r2\",\"ts\":5}\n"
        "{\"type\":\"rating\",\"user\":\"u2\",\"item\":\"a\",\"value\":3}\n");
    put(dir, "notes.txt", "not a log file\n");
    facto_ctx *ctx = facto_ctx_new();
    facto_events *ev = NULL;
    assert_int_equal(facto_events_read(ctx, dir, &ev), FACTO_OK);
    facto_events_counts n;
    facto_events_get_counts(ev, &n);
    assert_int_equal(n.files, 2);
    assert_int_equal(n.lines, 9);
    assert_int_equal(n.impressions, 2);
    assert_int_equal(n.shown, 5);
    assert_int_equal(n.clicks, 5);
    assert_int_equal(n.purchases, 1);
    assert_int_equal(n.ratings, 1);
    assert_int_equal(n.torn_lines, 1);

    /* r1: b at 2 clicked (twice: once); r2: c at 1 not, b at 2 clicked (from the later file); a was not shown in r2 */
    int64_t shown[4], clicked[4];
    int np = 0;
    assert_int_equal(facto_events_position_ctr(ctx, ev, 4, shown, clicked, &np), FACTO_OK);
    assert_int_equal(np, 3);
    assert_int_equal(shown[0], 2);
    assert_int_equal(clicked[0], 0);
    assert_int_equal(shown[1], 2);
    assert_int_equal(clicked[1], 2);
    assert_int_equal(shown[2], 1);
    assert_int_equal(clicked[2], 0);
    double prop[4];
    assert_int_equal(facto_events_propensities(ctx, ev, 4, prop, &np), FACTO_ERR_EMPTY); /* no click at 1 */

    /* popularity: a shown once, b and c twice (ties by first appearance: b before c); 3 items in 2
     * bins by rank r * 2 / 3: {a, b}, {c} */
    int64_t items[2], bs[2], bc[2], lo[2], hi[2];
    assert_int_equal(facto_events_popularity_ctr(ctx, ev, 2, items, bs, bc, lo, hi), FACTO_OK);
    assert_int_equal(items[0], 2);
    assert_int_equal(bs[0], 3);
    assert_int_equal(bc[0], 2);
    assert_int_equal(lo[0], 1);
    assert_int_equal(hi[0], 2);
    assert_int_equal(items[1], 1);
    assert_int_equal(bs[1], 2);
    assert_int_equal(bc[1], 0);
    assert_int_equal(lo[1], 2);
    assert_int_equal(hi[1], 2);

    /* interactions: (u1,b) 3 clicks + 1 purchase = 4, (u2,a) 1, (u2,c) 1 (the torn click not counted) */
    facto_dataset *ds = NULL;
    assert_int_equal(facto_events_interactions(ctx, ev, &ds), FACTO_OK);
    assert_int_equal(facto_dataset_n_ratings(ds), 3);
    const int64_t *rp;
    const int32_t *it;
    const float *w;
    const int64_t *ts;
    facto_dataset_csr(ds, &rp, &it, &w, &ts);
    int32_t u1 = facto_idmap_find(facto_dataset_users(ds), "u1");
    assert_int_equal(rp[u1 + 1] - rp[u1], 1);
    assert_float_equal(w[rp[u1]], 4.0f, 0);
    assert_int_equal(ts[rp[u1]], 21);
    facto_dataset_free(ds);
    facto_events_free(ev);
    facto_ctx_free(ctx);
}

/* A complete line that is not an event: FILE:LINE and the field. */
static void test_bad_line(void **state)
{
    (void)state;
    const char *dir = mkdir_fresh("bad");
    put(dir, "events-20260101-00-000001.jsonl",
        "{\"type\":\"impression\",\"user\":\"u1\",\"items\":[\"a\"],\"request_id\":\"r1\"}\n"
        "{\"type\":\"impression\",\"user\":\"u1\",\"items\":[\"a\",null],\"request_id\":\"r1\"}\n");
    facto_ctx *ctx = facto_ctx_new();
    facto_events *ev = NULL;
    assert_int_equal(facto_events_read(ctx, dir, &ev), FACTO_ERR_PARSE);
    assert_null(ev);
    assert_non_null(strstr(facto_errmsg(ctx), "events-20260101-00-000001.jsonl:2: items[1]"));
    put(dir, "events-20260101-00-000001.jsonl", "{\"type\":\"click\",\n");
    assert_int_equal(facto_events_read(ctx, dir, &ev), FACTO_ERR_PARSE);
    assert_non_null(strstr(facto_errmsg(ctx), ":1: not JSON"));
    const char *empty = mkdir_fresh("empty");
    put(empty, "events-20260101-00-000001.jsonl", "{\"type\":\"cli"); /* only a torn line */
    assert_int_equal(facto_events_read(ctx, empty, &ev), FACTO_ERR_EMPTY);
    assert_int_equal(facto_events_read(ctx, fct_test_path("missing"), &ev), FACTO_ERR_IO);
    facto_ctx_free(ctx);
}

/* ---- a synthetic log with known position bias ------------------------------------ */

#define SYN_USERS 400
#define SYN_ITEMS 60
#define SYN_SLATE 10
#define SYN_SLATES 30000

static double syn_rel(int u, int i)
{
    /* users and items in 3 groups; an item also has its own quality */
    double base = u % 3 == i % 3 ? 0.6 : 0.1;
    return base * (0.5 + 0.5 * (double)(i % 7) / 6.0);
}

static double syn_prop(int p) { return 1.0 / (double)(p + 1); } /* p 0-based */

static int syn_id(const facto_idmap *m, int32_t index)
{
    return atoi(facto_idmap_name(m, index) + 1);
}

typedef struct syn_policy {
    int sign; /* +1: by true relevance; -1: by its opposite; 0: by item number */
} syn_policy;

static int syn_score(void *ud, const facto_events *ev, int64_t s, const int32_t *items, int32_t n, float *out)
{
    const syn_policy *pol = ud;
    int u = syn_id(ev->users, ev->imp_user[s]);
    for (int32_t x = 0; x < n; x++) {
        int i = syn_id(ev->items, items[x]);
        out[x] = pol->sign ? (float)(pol->sign * syn_rel(u, i)) : (float)i;
    }
    return 0;
}

static int syn_rank_cmp(const void *a, const void *b)
{
    const float *x = a, *y = b;
    return (x[0] < y[0]) - (x[0] > y[0]);
}

/* The policy's true CTR@k: mean relevance of its top k of each slate. */
static double syn_truth(const facto_events *ev, const syn_policy *pol, int k)
{
    double sum = 0;
    int64_t slots = 0;
    for (int64_t s = 0; s < ev->n_imp; s++) {
        int32_t n = (int32_t)(ev->imp_ptr[s + 1] - ev->imp_ptr[s]);
        float sc[SYN_SLATE];
        float pair[SYN_SLATE][2];
        syn_score((void *)pol, ev, s, ev->imp_items + ev->imp_ptr[s], n, sc);
        int u = syn_id(ev->users, ev->imp_user[s]);
        for (int32_t x = 0; x < n; x++) {
            pair[x][0] = sc[x];
            pair[x][1] = (float)syn_rel(u, syn_id(ev->items, ev->imp_items[ev->imp_ptr[s] + x]));
        }
        qsort(pair, (size_t)n, sizeof pair[0], syn_rank_cmp);
        for (int j = 0; j < k && j < n; j++, slots++)
            sum += pair[j][1];
    }
    return sum / (double)slots;
}

static void test_synthetic_propensities_and_ips(void **state)
{
    (void)state;
    const char *dir = mkdir_fresh("syn");
    char path[512];
    snprintf(path, sizeof path, "%s/events-20260101-00-000001.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fct_rng rng;
    fct_rng_seed(&rng, 20170206); /* WSDM 2017 */
    for (int s = 0; s < SYN_SLATES; s++) {
        int u = (int)fct_rng_below(&rng, SYN_USERS), perm[SYN_ITEMS];
        for (int i = 0; i < SYN_ITEMS; i++)
            perm[i] = i;
        for (int i = 0; i < SYN_SLATE; i++) { /* a uniformly random slate in random order */
            int j = i + (int)fct_rng_below(&rng, (uint64_t)(SYN_ITEMS - i));
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        fprintf(f, "{\"type\":\"impression\",\"user\":\"u%d\",\"items\":[", u);
        for (int p = 0; p < SYN_SLATE; p++)
            fprintf(f, "%s\"i%d\"", p ? "," : "", perm[p]);
        fprintf(f, "],\"request_id\":\"r%d\"}\n", s);
        for (int p = 0; p < SYN_SLATE; p++)
            if (fct_rng_uniform(&rng) < syn_prop(p) * syn_rel(u, perm[p]))
                fprintf(f, "{\"type\":\"click\",\"user\":\"u%d\",\"item\":\"i%d\",\"request_id\":\"r%d\"}\n", u,
                        perm[p], s);
    }
    fclose(f);
    facto_ctx *ctx = facto_ctx_new();
    facto_events *ev = NULL;
    assert_int_equal(facto_events_read(ctx, dir, &ev), FACTO_OK);
    double prop[SYN_SLATE + 5];
    int np = 0;
    assert_int_equal(facto_events_propensities(ctx, ev, SYN_SLATE + 5, prop, &np), FACTO_OK);
    assert_int_equal(np, SYN_SLATE);
    double worst = 0;
    for (int p = 0; p < SYN_SLATE; p++)
        worst = fmax(worst, fabs(prop[p] - syn_prop(p)));
    printf("propensities: largest error %.4f (tolerance 0.02)\n", worst);
    assert_true(worst < 0.02);
    assert_true(prop[SYN_SLATE] == 0.0);

    syn_policy pols[] = {{+1}, {-1}, {0}};
    for (size_t k = 0; k < 3; k++) {
        facto_ips_options o = facto_ips_options_default();
        o.k = 3;
        facto_ips_result r;
        assert_int_equal(fct_events_ips(ctx, ev, syn_score, &pols[k], prop, np, &o, &r), FACTO_OK);
        double truth = syn_truth(ev, &pols[k], o.k);
        printf("policy %+d: truth %.4f, ips %.4f, clipped %.4f, naive %.4f\n", pols[k].sign, truth, r.ctr_ips,
               r.ctr_clipped, r.ctr_naive);
        assert_int_equal(r.slates_used, SYN_SLATES);
        assert_int_equal(r.slots_used, 3 * SYN_SLATES);
        assert_true(fabs(r.ctr_ips - truth) < 0.01);
        assert_true(fabs(r.ctr_ips - truth) < fabs(r.ctr_naive - truth));
        /* weights are at most 1/0.1 = 10, the default cap: clipping changes nothing */
        assert_true(fabs(r.ctr_clipped - r.ctr_ips) < 1e-9 || o.max_weight < 10.5);
        o.max_weight = 2.0;
        facto_ips_result c;
        assert_int_equal(fct_events_ips(ctx, ev, syn_score, &pols[k], prop, np, &o, &c), FACTO_OK);
        assert_true(c.ctr_clipped < r.ctr_ips && c.ctr_clipped >= r.ctr_naive);
    }
    /* bad options */
    facto_ips_options o = facto_ips_options_default();
    facto_ips_result r;
    o.k = 0;
    assert_int_equal(fct_events_ips(ctx, ev, syn_score, &pols[0], prop, np, &o, &r), FACTO_ERR_INVALID);
    o = facto_ips_options_default();
    double bad = 0.5;
    assert_int_equal(fct_events_ips(ctx, ev, syn_score, &pols[0], &bad, 1, &o, &r), FACTO_ERR_INVALID);
    facto_events_free(ev);
    facto_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_read_by_hand),
        cmocka_unit_test(test_bad_line),
        cmocka_unit_test(test_synthetic_propensities_and_ips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
