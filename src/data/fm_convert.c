/*
 * fm_convert.c — ratings -> factorization-machine rows. An encoder fixes the
 * key layout from the training set's id maps (one-hot user, one-hot item,
 * as SageMaker's FM MovieLens example and libFM do) plus optional MovieLens
 * 100K side files: u.user gives age bucket, gender and occupation; u.item
 * gives genres (normalised to sum 1) and release decade. Ids index the
 * one-hot blocks in first-seen order, or as numbers (key = id - 1, exactly
 * SageMaker's demo). Side attributes are
 * looked up by the data's own ids, so a test user unseen in training still
 * gets them. Building costs O(users + items + side lines); encoding a data
 * set is O(ratings * row length), each row pushed in ascending key order.
 * Also reads side tables for block-structured training (u.user / u.item or
 * "id<TAB>name[:value] ..." attribute files), O(file + nnz).
 */
#include "data/dataset.h"
#include "data/fm_blocks.h"
#include "data/linereader.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FACTO_ML100K_GENRES 19
#define FACTO_AGE_BUCKETS 7

static const char *const k_genres[FACTO_ML100K_GENRES] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western"};
static const char *const k_ages[FACTO_AGE_BUCKETS] = {"<18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"};
static const char *const k_genders[2] = {"M", "F"};

struct facto_fm_encoder {
    facto_idmap *users, *items; /* one-hot layout: the training set's ids */
    int numeric;                /* 1: key = id - 1 (SageMaker's demo layout) */
    int64_t n_user_ids, n_item_ids; /* numeric layout: largest user / item id */
    float binarize;
    /* side users (u.user), by the data's own id */
    facto_idmap *side_users;
    int8_t *user_age, *user_gender; /* [side users], -1 = none */
    int16_t *user_occ;
    char **occupations; /* [n_occ] sorted names */
    int32_t n_occ;
    /* side items (u.item) */
    facto_idmap *side_items;
    uint32_t *item_genres; /* [side items] bit g = genre g */
    int16_t *item_decade;  /* [side items], -1 = none */
    int32_t *decades;      /* [n_decades] ascending, e.g. 1990 */
    int32_t n_decades;
    /* key offsets */
    uint64_t off_item, off_age, off_gender, off_occ, off_genre, off_decade, dim;
    int has_users, has_items;
};

facto_fm_encode_options facto_fm_encode_options_default(void)
{
    facto_fm_encode_options o;
    memset(&o, 0, sizeof o);
    return o;
}

void facto_fm_encoder_free(facto_fm_encoder *enc)
{
    if (!enc)
        return;
    fct_idmap_free(enc->users);
    fct_idmap_free(enc->items);
    fct_idmap_free(enc->side_users);
    fct_idmap_free(enc->side_items);
    free(enc->user_age);
    free(enc->user_gender);
    free(enc->user_occ);
    for (int32_t i = 0; i < enc->n_occ; i++)
        free(enc->occupations[i]);
    free(enc->occupations);
    free(enc->item_genres);
    free(enc->item_decade);
    free(enc->decades);
    free(enc);
}

uint64_t facto_fm_encoder_dim(const facto_fm_encoder *enc) { return enc->dim; }

/* Split `line` in place at '|' into at most max fields; returns the count. */
static int fct_split_bar(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return max + 1;
        fields[n++] = p;
        char *bar = strchr(p, '|');
        if (!bar)
            break;
        *bar = '\0';
        p = bar + 1;
    }
    return n;
}

static int fct_age_bucket(long age)
{
    return age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6;
}

static int fct_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Grow a side array to hold index i (cap doubles). */
static int fct_side_grow(void **arr, size_t elem, int32_t *cap, int32_t need)
{
    if (need < *cap)
        return 1;
    int64_t c = *cap ? *cap : 64;
    while (c <= need)
        c *= 2;
    if (c > INT32_MAX)
        c = INT32_MAX;
    void *p = fct_realloc_array(*arr, (size_t)c, elem);
    if (!p)
        return 0;
    *arr = p;
    *cap = (int32_t)c;
    return 1;
}

static facto_status fct_read_users(facto_ctx *ctx, facto_fm_encoder *enc, const char *path)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    enc->side_users = fct_idmap_new();
    int32_t cap_age = 0, cap_gender = 0, cap_occ = 0;
    int32_t *occ_idx = NULL;   /* [side users] index into `names` before sorting */
    char **names = NULL;
    int32_t n_names = 0, ncap = 0;
    char *line;
    size_t len;
    int r;
    if (!enc->side_users) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        goto done;
    }
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        long long ln = (long long)lr.lineno;
        if (len == 0)
            continue;
        char *f[6];
        int nf = fct_split_bar(line, f, 5);
        if (nf != 5) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: expected 5 '|'-separated fields (id|age|gender|occupation|zip)",
                            path, ln);
            goto done;
        }
        char *end;
        long age = strtol(f[1], &end, 10);
        if (end == f[1] || *end || age < 0 || age > 200) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: age '%.20s' is not a whole number of years", path, ln, f[1]);
            goto done;
        }
        int gender = strcmp(f[2], "M") == 0 ? 0 : strcmp(f[2], "F") == 0 ? 1 : -1;
        if (gender < 0) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: gender '%.20s' is not M or F", path, ln, f[2]);
            goto done;
        }
        if (f[3][0] == '\0') {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: empty occupation", path, ln);
            goto done;
        }
        int32_t before = enc->side_users->n;
        int32_t u = fct_idmap_intern(enc->side_users, f[0], strlen(f[0]));
        if (u == -1) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (u < 0) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: user id '%.40s' is empty or too long", path, ln, f[0]);
            goto done;
        }
        if (enc->side_users->n == before) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: user id '%.40s' appears twice", path, ln, f[0]);
            goto done;
        }
        if (!fct_side_grow((void **)&enc->user_age, 1, &cap_age, u) ||
            !fct_side_grow((void **)&enc->user_gender, 1, &cap_gender, u) ||
            !fct_side_grow((void **)&occ_idx, sizeof *occ_idx, &cap_occ, u)) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        enc->user_age[u] = (int8_t)fct_age_bucket(age);
        enc->user_gender[u] = (int8_t)gender;
        int32_t k = -1;
        for (int32_t i = 0; i < n_names; i++)
            if (strcmp(names[i], f[3]) == 0)
                k = i;
        if (k < 0) {
            if (n_names >= 1000) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: more than 1000 distinct occupations", path, ln);
                goto done;
            }
            if (!fct_side_grow((void **)&names, sizeof *names, &ncap, n_names) ||
                !(names[n_names] = strdup(f[3]))) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
                goto done;
            }
            k = n_names++;
        }
        occ_idx[u] = k;
    }
    if (r < 0) {
        st = facto_errcode(ctx);
        goto done;
    }
    if (enc->side_users->n == 0) {
        st = fct_fail(ctx, FACTO_ERR_PARSE, "%s: no users (expected u.user lines: id|age|gender|occupation|zip)",
                        path);
        goto done;
    }
    /* sort occupation names; remap each user's index */
    {
        char **sorted = fct_malloc_array((size_t)(n_names ? n_names : 1), sizeof *sorted);
        int32_t *rank = fct_malloc_array((size_t)(n_names ? n_names : 1), sizeof *rank);
        int32_t nu = enc->side_users->n;
        enc->user_occ = fct_malloc_array((size_t)(nu ? nu : 1), sizeof *enc->user_occ);
        if (!sorted || !rank || !enc->user_occ) {
            free(sorted);
            free(rank);
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(sorted, names, (size_t)n_names * sizeof *sorted);
        qsort(sorted, (size_t)n_names, sizeof *sorted, fct_cmp_str);
        for (int32_t i = 0; i < n_names; i++)
            for (int32_t j = 0; j < n_names; j++)
                if (sorted[j] == names[i])
                    rank[i] = j;
        for (int32_t u = 0; u < nu; u++)
            enc->user_occ[u] = (int16_t)rank[occ_idx[u]];
        enc->occupations = sorted;
        enc->n_occ = n_names;
        free(rank);
        free(names);
        names = NULL;
        n_names = 0;
    }
    enc->has_users = 1;
done:
    for (int32_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(occ_idx);
    fct_linereader_close(&lr);
    return st;
}

static int fct_cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static facto_status fct_read_items(facto_ctx *ctx, facto_fm_encoder *enc, const char *path)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    enc->side_items = fct_idmap_new();
    int32_t cap_genres = 0, cap_year = 0;
    int32_t *year = NULL; /* [side items] release year or -1 */
    char *line;
    size_t len;
    int r;
    if (!enc->side_items) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        goto done;
    }
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        long long ln = (long long)lr.lineno;
        if (len == 0)
            continue;
        char *f[64];
        int nf = fct_split_bar(line, f, 63);
        if (nf < 5 + FACTO_ML100K_GENRES || nf > 63) {
            st = fct_fail(ctx, FACTO_ERR_PARSE,
                            "%s:%lld: expected 24 '|'-separated fields (id|title|date|video date|url|19 genre flags)",
                            path, ln);
            goto done;
        }
        uint32_t genres = 0;
        for (int g = 0; g < FACTO_ML100K_GENRES; g++) {
            const char *v = f[nf - FACTO_ML100K_GENRES + g];
            if ((v[0] != '0' && v[0] != '1') || v[1]) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: genre flag %d ('%s') is '%.10s', not 0 or 1", path,
                                ln, g, k_genres[g], v);
                goto done;
            }
            if (v[0] == '1')
                genres |= 1u << g;
        }
        const char *date = f[nf - FACTO_ML100K_GENRES - 3];
        int32_t y = -1;
        if (date[0]) {
            const char *dash = strrchr(date, '-');
            const char *ys = dash ? dash + 1 : date;
            char *end;
            long v = strtol(ys, &end, 10);
            if (end == ys || *end || v < 1800 || v > 2200) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: release date '%.20s' has no year (dd-Mon-yyyy)", path,
                                ln, date);
                goto done;
            }
            y = (int32_t)v;
        }
        int32_t before = enc->side_items->n;
        int32_t i = fct_idmap_intern(enc->side_items, f[0], strlen(f[0]));
        if (i == -1) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (i < 0) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: item id '%.40s' is empty or too long", path, ln, f[0]);
            goto done;
        }
        if (enc->side_items->n == before) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: item id '%.40s' appears twice", path, ln, f[0]);
            goto done;
        }
        if (!fct_side_grow((void **)&enc->item_genres, sizeof(uint32_t), &cap_genres, i) ||
            !fct_side_grow((void **)&year, sizeof(int32_t), &cap_year, i)) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        enc->item_genres[i] = genres;
        year[i] = y;
    }
    if (r < 0) {
        st = facto_errcode(ctx);
        goto done;
    }
    if (enc->side_items->n == 0) {
        st = fct_fail(ctx, FACTO_ERR_PARSE,
                        "%s: no items (expected u.item lines: id|title|date|video date|url|19 genre flags)", path);
        goto done;
    }
    {
        int32_t ni = enc->side_items->n;
        enc->decades = fct_malloc_array((size_t)(ni ? ni : 1), sizeof *enc->decades);
        enc->item_decade = fct_malloc_array((size_t)(ni ? ni : 1), sizeof *enc->item_decade);
        if (!enc->decades || !enc->item_decade) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
            goto done;
        }
        int32_t nd = 0;
        for (int32_t i = 0; i < ni; i++)
            if (year[i] >= 0)
                enc->decades[nd++] = year[i] / 10 * 10;
        qsort(enc->decades, (size_t)nd, sizeof *enc->decades, fct_cmp_i32);
        int32_t u = 0;
        for (int32_t i = 0; i < nd; i++)
            if (u == 0 || enc->decades[u - 1] != enc->decades[i])
                enc->decades[u++] = enc->decades[i];
        enc->n_decades = u;
        for (int32_t i = 0; i < ni; i++) {
            enc->item_decade[i] = -1;
            if (year[i] < 0)
                continue;
            int32_t d = year[i] / 10 * 10;
            for (int32_t k = 0; k < u; k++)
                if (enc->decades[k] == d)
                    enc->item_decade[i] = (int16_t)k;
        }
    }
    enc->has_items = 1;
done:
    free(year);
    fct_linereader_close(&lr);
    return st;
}

/* FACTO_ERR_PARSE when no id of the side file `side` is an id of `ids`. */
static facto_status fct_side_overlap(facto_ctx *ctx, const facto_idmap *side, const facto_idmap *ids,
                                       const char *path, const char *what)
{
    int32_t n = facto_idmap_size(side);
    for (int32_t i = 0; i < n; i++)
        if (facto_idmap_find(ids, facto_idmap_name(side, i)) >= 0)
            return FACTO_OK;
    return fct_fail(ctx, FACTO_ERR_PARSE,
                      "%s: none of its %d %s ids (the first is '%.40s') is a %s of the training ratings: "
                      "a side file for other data?",
                      path ? path : "side features", (int)n, what, n > 0 ? facto_idmap_name(side, 0) : "", what);
}

/* A numeric id: decimal digits only, 1 .. 2^31-1; -1 otherwise. */
static int64_t fct_fm_numeric_id(const char *s)
{
    int64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > INT32_MAX)
            return -1;
    }
    return v >= 1 ? v : -1;
}

/* Largest numeric id of `map` (0 when empty); with `strict`, a non-numeric
 * id is an error naming `what`. */
static facto_status fct_fm_max_id(facto_ctx *ctx, const facto_idmap *map, int strict, const char *what,
                                    int64_t *max)
{
    for (int32_t i = 0; map && i < facto_idmap_size(map); i++) {
        const char *id = facto_idmap_name(map, i);
        int64_t v = fct_fm_numeric_id(id);
        if (v < 0 && strict)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "%s id '%.40s' is not a positive integer, which the numeric id layout needs", what, id);
        if (v > *max)
            *max = v;
    }
    return FACTO_OK;
}

facto_status facto_fm_encoder_new(facto_ctx *ctx, const facto_dataset *train, const facto_fm_encode_options *opts,
                                  facto_fm_encoder **out)
{
    *out = NULL;
    facto_fm_encode_options def = facto_fm_encode_options_default();
    if (!opts)
        opts = &def;
    if (!(opts->binarize >= 0.0f))
        return fct_fail(ctx, FACTO_ERR_INVALID, "binarize must be >= 0 (0 keeps ratings as labels)");
    facto_fm_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    enc->binarize = opts->binarize;
    enc->users = fct_idmap_clone(facto_dataset_users(train));
    enc->items = fct_idmap_clone(facto_dataset_items(train));
    if (!enc->users || !enc->items) {
        facto_fm_encoder_free(enc);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    facto_status st = FACTO_OK;
    if (opts->user_file && (st = fct_read_users(ctx, enc, opts->user_file)) != FACTO_OK) {
        facto_fm_encoder_free(enc);
        return st;
    }
    if (opts->item_file && (st = fct_read_items(ctx, enc, opts->item_file)) != FACTO_OK) {
        facto_fm_encoder_free(enc);
        return st;
    }
    /* A side file that describes none of the training ids is the wrong file. */
    if ((enc->side_users && (st = fct_side_overlap(ctx, enc->side_users, enc->users, opts->user_file, "user")) !=
                                FACTO_OK) ||
        (enc->side_items && (st = fct_side_overlap(ctx, enc->side_items, enc->items, opts->item_file, "item")) !=
                                FACTO_OK)) {
        facto_fm_encoder_free(enc);
        return st;
    }
    if (opts->numeric_ids) {
        int64_t mu = 0, mi = 0;
        if ((st = fct_fm_max_id(ctx, enc->users, 1, "user", &mu)) != FACTO_OK ||
            (st = fct_fm_max_id(ctx, enc->items, 1, "item", &mi)) != FACTO_OK) {
            facto_fm_encoder_free(enc);
            return st;
        }
        int64_t tu = mu, ti = mi;
        fct_fm_max_id(ctx, enc->side_users, 0, "user", &mu);
        fct_fm_max_id(ctx, enc->side_items, 0, "item", &mi);
        if (opts->max_user_id > 0) {
            if (opts->max_user_id < tu || opts->max_user_id > INT32_MAX) {
                facto_fm_encoder_free(enc);
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "max_user_id %lld is below the training set's largest user id %lld or above 2^31-1",
                                  (long long)opts->max_user_id, (long long)tu);
            }
            mu = opts->max_user_id;
        }
        if (opts->max_item_id > 0) {
            if (opts->max_item_id < ti || opts->max_item_id > INT32_MAX) {
                facto_fm_encoder_free(enc);
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "max_item_id %lld is below the training set's largest item id %lld or above 2^31-1",
                                  (long long)opts->max_item_id, (long long)ti);
            }
            mi = opts->max_item_id;
        }
        enc->numeric = 1;
        enc->n_user_ids = mu;
        enc->n_item_ids = mi;
    }
    enc->off_item = enc->numeric ? (uint64_t)enc->n_user_ids : (uint64_t)enc->users->n;
    enc->off_age = enc->off_item + (enc->numeric ? (uint64_t)enc->n_item_ids : (uint64_t)enc->items->n);
    enc->off_gender = enc->off_age + (enc->has_users ? FACTO_AGE_BUCKETS : 0);
    enc->off_occ = enc->off_gender + (enc->has_users ? 2 : 0);
    enc->off_genre = enc->off_occ + (uint64_t)enc->n_occ;
    enc->off_decade = enc->off_genre + (enc->has_items ? FACTO_ML100K_GENRES : 0);
    enc->dim = enc->off_decade + (uint64_t)enc->n_decades;
    *out = enc;
    return fct_ok(ctx);
}

facto_status facto_fm_encoder_key_name(facto_ctx *ctx, const facto_fm_encoder *enc, uint64_t key, char *buf,
                                       size_t size)
{
    int n;
    if (key < enc->off_item && enc->numeric)
        n = snprintf(buf, size, "user=%llu", (unsigned long long)key + 1);
    else if (key < enc->off_item)
        n = snprintf(buf, size, "user=%s", facto_idmap_name(enc->users, (int32_t)key));
    else if (key < enc->off_age && enc->numeric)
        n = snprintf(buf, size, "item=%llu", (unsigned long long)(key - enc->off_item) + 1);
    else if (key < enc->off_age)
        n = snprintf(buf, size, "item=%s", facto_idmap_name(enc->items, (int32_t)(key - enc->off_item)));
    else if (key < enc->off_gender)
        n = snprintf(buf, size, "age=%s", k_ages[key - enc->off_age]);
    else if (key < enc->off_occ)
        n = snprintf(buf, size, "gender=%s", k_genders[key - enc->off_gender]);
    else if (key < enc->off_genre)
        n = snprintf(buf, size, "occupation=%s", enc->occupations[key - enc->off_occ]);
    else if (key < enc->off_decade)
        n = snprintf(buf, size, "genre=%s", k_genres[key - enc->off_genre]);
    else if (key < enc->dim)
        n = snprintf(buf, size, "decade=%d", (int)enc->decades[key - enc->off_decade]);
    else
        return fct_fail(ctx, FACTO_ERR_INVALID, "key %llu is not below the encoder's dimension %llu",
                          (unsigned long long)key, (unsigned long long)enc->dim);
    if (n < 0 || (size_t)n >= size)
        return fct_fail(ctx, FACTO_ERR_INVALID, "buffer of %zu bytes too small for the name of key %llu", size,
                          (unsigned long long)key);
    return fct_ok(ctx);
}

/* Push the keys of (user, item) in ascending order. uid/iid: the data's ids. */
static facto_status fct_fm_push_pair(facto_ctx *ctx, const facto_fm_encoder *enc, facto_rows *rows,
                                       const char *uid, const char *iid, int *known_user, int *known_item)
{
    facto_status st;
    int64_t u, i;
    if (enc->numeric) {
        u = fct_fm_numeric_id(uid);
        i = fct_fm_numeric_id(iid);
        u = u >= 1 && u <= enc->n_user_ids ? u - 1 : -1;
        i = i >= 1 && i <= enc->n_item_ids ? i - 1 : -1;
    } else {
        u = facto_idmap_find(enc->users, uid);
        i = facto_idmap_find(enc->items, iid);
    }
    *known_user = u >= 0;
    *known_item = i >= 0;
    if (u >= 0 && (st = facto_rows_push(ctx, rows, (uint32_t)u, 1.0f)) != FACTO_OK)
        return st;
    if (i >= 0 && (st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_item + (uint64_t)i), 1.0f)) != FACTO_OK)
        return st;
    if (enc->has_users) {
        int32_t s = facto_idmap_find(enc->side_users, uid);
        if (s >= 0) {
            if ((st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_age + (uint64_t)enc->user_age[s]), 1.0f)) ||
                (st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_gender + (uint64_t)enc->user_gender[s]), 1.0f)) ||
                (st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_occ + (uint64_t)enc->user_occ[s]), 1.0f)))
                return st;
        }
    }
    if (enc->has_items) {
        int32_t s = facto_idmap_find(enc->side_items, iid);
        if (s >= 0) {
            uint32_t g = enc->item_genres[s];
            int count = 0;
            for (int k = 0; k < FACTO_ML100K_GENRES; k++)
                count += (g >> k) & 1u;
            for (int k = 0; k < FACTO_ML100K_GENRES; k++)
                if ((g >> k) & 1u) {
                    st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_genre + (uint64_t)k), 1.0f / (float)count);
                    if (st != FACTO_OK)
                        return st;
                }
            if (enc->item_decade[s] >= 0 &&
                (st = facto_rows_push(ctx, rows, (uint32_t)(enc->off_decade + (uint64_t)enc->item_decade[s]), 1.0f)))
                return st;
        }
    }
    return FACTO_OK;
}

facto_status facto_fm_encode(facto_ctx *ctx, const facto_fm_encoder *enc, const facto_dataset *ds,
                             facto_rows **out, int64_t *n_unknown_users, int64_t *n_unknown_items)
{
    *out = NULL;
    if (enc->dim > (uint64_t)UINT32_MAX + 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "the layout has %llu keys, more than 2^32",
                          (unsigned long long)enc->dim);
    const int64_t *row_ptr;
    const int32_t *items;
    const float *ratings;
    const int64_t *ts;
    facto_dataset_csr(ds, &row_ptr, &items, &ratings, &ts);
    int32_t nu = facto_dataset_n_users(ds);
    if (facto_dataset_n_ratings(ds) == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "no ratings to encode");
    const facto_idmap *dsu = facto_dataset_users(ds), *dsi = facto_dataset_items(ds);
    facto_rows *rows = facto_rows_new(enc->dim, 1);
    if (!rows)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    int64_t unk_u = 0, unk_i = 0;
    facto_status st = FACTO_OK;
    for (int32_t u = 0; u < nu && st == FACTO_OK; u++) {
        const char *uid = facto_idmap_name(dsu, u);
        for (int64_t j = row_ptr[u]; j < row_ptr[u + 1]; j++) {
            int ku, ki;
            if ((st = fct_fm_push_pair(ctx, enc, rows, uid, facto_idmap_name(dsi, items[j]), &ku, &ki)) != FACTO_OK)
                break;
            unk_u += !ku;
            unk_i += !ki;
            float label = enc->binarize > 0.0f ? (ratings[j] >= enc->binarize ? 1.0f : 0.0f) : ratings[j];
            if ((st = facto_rows_finish_row(ctx, rows, label)) != FACTO_OK)
                break;
        }
    }
    if (st != FACTO_OK) {
        facto_rows_free(rows);
        return st;
    }
    if (n_unknown_users)
        *n_unknown_users = unk_u;
    if (n_unknown_items)
        *n_unknown_items = unk_i;
    *out = rows;
    return fct_ok(ctx);
}

facto_status facto_fm_encode_pair(facto_ctx *ctx, const facto_fm_encoder *enc, const char *user, const char *item,
                                  float label, facto_rows *rows, int *flags)
{
    int ku, ki;
    facto_status st = fct_fm_push_pair(ctx, enc, rows, user, item, &ku, &ki);
    if (st == FACTO_OK)
        st = facto_rows_finish_row(ctx, rows, label);
    if (flags)
        *flags = (ku ? 0 : FACTO_PRED_UNKNOWN_USER) | (ki ? 0 : FACTO_PRED_UNKNOWN_ITEM);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

/* ---- side tables for block-structured training (fm_blocks.h) ------------ */

/* 1 when the first non-blank, non-comment line of `path` holds a '|'
 * (MovieLens u.user / u.item), 0 for the attribute format, -1 on error. */
static int fct_side_is_movielens(facto_ctx *ctx, const char *path)
{
    fct_linereader lr;
    if (fct_linereader_open(ctx, &lr, path) != FACTO_OK)
        return -1;
    char *line;
    size_t len;
    int r, ml = 0;
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (len == 0 || line[0] == '#')
            continue;
        ml = memchr(line, '|', len) != NULL;
        break;
    }
    fct_linereader_close(&lr);
    return r < 0 ? -1 : ml;
}

/* MovieLens side file through an encoder; columns relative to the side block. */
static facto_status fct_side_movielens(facto_ctx *ctx, const char *path, int is_user, const facto_idmap *ids,
                                         facto_rows *rows, int32_t **groups, int32_t *n_cols)
{
    facto_fm_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    facto_status st = is_user ? fct_read_users(ctx, enc, path) : fct_read_items(ctx, enc, path);
    int32_t d = is_user ? FACTO_AGE_BUCKETS + 2 + enc->n_occ : FACTO_ML100K_GENRES + enc->n_decades;
    int32_t *g = st == FACTO_OK ? fct_malloc_array(d ? (size_t)d : 1, sizeof *g) : NULL;
    if (st == FACTO_OK && !g)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    for (int32_t c = 0; st == FACTO_OK && c < d; c++)
        g[c] = is_user ? (c < FACTO_AGE_BUCKETS ? 0 : c < FACTO_AGE_BUCKETS + 2 ? 1 : 2)
                       : (c < FACTO_ML100K_GENRES ? 0 : 1);
    for (int32_t t = 0; st == FACTO_OK && t < ids->n; t++) {
        int32_t s = facto_idmap_find(is_user ? enc->side_users : enc->side_items, ids->names[t]);
        if (s >= 0 && is_user) {
            if ((st = facto_rows_push(ctx, rows, (uint32_t)enc->user_age[s], 1.0f)) == FACTO_OK &&
                (st = facto_rows_push(ctx, rows, (uint32_t)(FACTO_AGE_BUCKETS + enc->user_gender[s]), 1.0f)) ==
                    FACTO_OK)
                st = facto_rows_push(ctx, rows, (uint32_t)(FACTO_AGE_BUCKETS + 2 + enc->user_occ[s]), 1.0f);
        } else if (s >= 0) {
            uint32_t gb = enc->item_genres[s];
            int count = 0;
            for (int k = 0; k < FACTO_ML100K_GENRES; k++)
                count += (gb >> k) & 1u;
            for (int k = 0; k < FACTO_ML100K_GENRES && st == FACTO_OK; k++)
                if ((gb >> k) & 1u)
                    st = facto_rows_push(ctx, rows, (uint32_t)k, 1.0f / (float)count);
            if (st == FACTO_OK && enc->item_decade[s] >= 0)
                st = facto_rows_push(ctx, rows, (uint32_t)(FACTO_ML100K_GENRES + enc->item_decade[s]), 1.0f);
        }
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, rows, 0.0f);
    }
    facto_fm_encoder_free(enc);
    if (st != FACTO_OK) {
        free(g);
        return st;
    }
    rows->feature_dim = (uint64_t)d;
    *groups = g;
    *n_cols = d;
    return FACTO_OK;
}

/* Attribute file: "id<TAB>name[:value] name[:value] ...". */
static facto_status fct_side_attributes(facto_ctx *ctx, const char *path, const facto_idmap *ids,
                                          facto_rows *rows, int32_t **groups, int32_t *n_cols)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    facto_idmap *names = fct_idmap_new(), *gnames = fct_idmap_new();
    int64_t *start = fct_malloc_array(ids->n ? (size_t)ids->n : 1, sizeof *start);
    facto_rows *tmp = facto_rows_new(0, 0); /* one row per line; key = column */
    int32_t *g = NULL, gcap = 0;
    char *line;
    size_t len;
    int r;
    if (!names || !gnames || !start || !tmp) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int32_t t = 0; t < ids->n; t++)
        start[t] = -1;
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        long long ln = (long long)lr.lineno;
        if (len == 0 || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: expected 'id<TAB>name[:value] ...'", path, ln);
            goto done;
        }
        *tab = '\0';
        int32_t t = facto_idmap_find(ids, line);
        if (t >= 0 && start[t] >= 0) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: id '%.64s' is listed twice", path, ln, line);
            goto done;
        }
        for (char *tok = strtok(tab + 1, " \t"); tok; tok = strtok(NULL, " \t")) {
            char *colon = strrchr(tok, ':');
            float v = 1.0f;
            if (colon) {
                char *end;
                double x = strtod(colon + 1, &end);
                if (end == colon + 1 || *end || !isfinite((float)x)) {
                    st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: value of '%.64s' is not a finite number", path,
                                    ln, tok);
                    goto done;
                }
                v = (float)x;
                *colon = '\0';
            }
            int32_t c = fct_idmap_intern(names, tok, strlen(tok));
            char *eq = strchr(tok, '=');
            int32_t gi = fct_idmap_intern(gnames, tok, eq ? (size_t)(eq - tok) : strlen(tok));
            if (c == -1 || gi == -1) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
                goto done;
            }
            if (c < 0 || gi < 0) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: bad attribute name '%.64s' (1..255 bytes)", path,
                                ln, tok);
                goto done;
            }
            if (c >= gcap && !fct_side_grow((void **)&g, sizeof *g, &gcap, c + 1)) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
                goto done;
            }
            g[c] = gi;
            if (t >= 0 && (st = facto_rows_push(ctx, tmp, (uint32_t)c, v)) != FACTO_OK)
                goto done;
        }
        if (t >= 0) {
            if ((st = facto_rows_finish_row(ctx, tmp, 0.0f)) != FACTO_OK)
                goto done;
            start[t] = tmp->n_rows - 1;
        }
    }
    if (r < 0) {
        st = facto_errcode(ctx);
        goto done;
    }
    for (int32_t t = 0; t < ids->n && st == FACTO_OK; t++) {
        int64_t row = start[t];
        for (int64_t e = row >= 0 ? tmp->row_ptr[row] : 0; row >= 0 && e < tmp->row_ptr[row + 1] && st == FACTO_OK;
             e++)
            st = facto_rows_push(ctx, rows, tmp->keys[e], tmp->values[e]);
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, rows, 0.0f);
    }
    if (st == FACTO_OK) {
        if (!g && !(g = malloc(sizeof *g)))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        rows->feature_dim = (uint64_t)names->n;
        *n_cols = names->n;
        *groups = g;
        g = NULL;
    }
done:
    fct_linereader_close(&lr);
    fct_idmap_free(names);
    fct_idmap_free(gnames);
    free(start);
    facto_rows_free(tmp);
    free(g);
    return st;
}

facto_status fct_fm_side_table(facto_ctx *ctx, const char *path, int is_user, const facto_idmap *ids,
                                 facto_rows **rows, int32_t **groups, int32_t *n_cols)
{
    *rows = NULL;
    *groups = NULL;
    *n_cols = 0;
    int ml = fct_side_is_movielens(ctx, path);
    if (ml < 0)
        return facto_errcode(ctx);
    facto_rows *r = facto_rows_new(0, 0);
    if (!r)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    facto_status st = ml ? fct_side_movielens(ctx, path, is_user, ids, r, groups, n_cols)
                         : fct_side_attributes(ctx, path, ids, r, groups, n_cols);
    if (st == FACTO_OK) {
        /* A side file that gives no training id a feature (empty, or made
         * for other data) would train silently without side features. */
        int64_t with_features = 0;
        for (int64_t i = 0; i < r->n_rows; i++)
            with_features += r->row_ptr[i + 1] > r->row_ptr[i];
        if (with_features == 0)
            st = fct_fail(ctx, FACTO_ERR_PARSE,
                            "%s: gives no %s of the training ratings a feature (empty, or a side file for other "
                            "data?)",
                            path, is_user ? "user" : "item");
    }
    if (st != FACTO_OK) {
        free(*groups);
        *groups = NULL;
        facto_rows_free(r);
        return st;
    }
    *rows = r;
    return FACTO_OK;
}
