/*
 * features.c — side-feature tables (facto_features): per entity id (a user
 * or an item, the data's own id strings) a sparse list of (column, value),
 * each column named ("genre=Comedy") and in a group (its kind: "genre").
 * Reads MovieLens 100K u.user (age bucket, gender, occupation) and u.item
 * (19 genre flags each 1/number-of-genres, release decade), and attribute
 * files "id<TAB>name[:value] ...". Design: ids in an id map, one facto_rows
 * CSR row per id in file order, column and group names in id maps;
 * MovieLens columns are laid out once the whole file is read (occupations
 * sorted, decades ascending). Cost O(file bytes + entries); memory
 * O(ids + columns + entries).
 */
#include "core/numtext.h"
#include "data/features.h"
#include "data/rows.h"
#include "data/linereader.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FCT_ML_GENRES 19
#define FCT_ML_AGES 7
#define FCT_ML_MAX_OCCUPATIONS 1000
/* Longest occupation: "occupation=" + name must fit a column name. */
#define FCT_ML_MAX_OCCUPATION_LEN (FACTO_MAX_ID_LEN - 11)

static const char *const k_genres[FCT_ML_GENRES] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western"};
static const char *const k_ages[FCT_ML_AGES] = {"<18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"};
static const char *const k_genders[2] = {"M", "F"};

void facto_features_free(facto_features *f)
{
    if (!f)
        return;
    fct_idmap_free(f->ids);
    facto_rows_free(f->rows);
    fct_idmap_free(f->columns);
    free(f->column_group);
    fct_idmap_free(f->groups);
    free(f);
}

static facto_features *fct_features_new(void)
{
    facto_features *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ids = fct_idmap_new();
    f->rows = facto_rows_new(0, 0);
    f->columns = fct_idmap_new();
    f->groups = fct_idmap_new();
    if (!f->ids || !f->rows || !f->columns || !f->groups) {
        facto_features_free(f);
        return NULL;
    }
    return f;
}

/* Grow *arr (elements of `elem` bytes, capacity *cap) to hold index `need`;
 * the capacity doubles. 0 when out of memory. */
static int fct_grow(void **arr, size_t elem, int32_t *cap, int32_t need)
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

/* The column `name` (len bytes) of group `group` (glen bytes), added when
 * new. Returns its index, -1 when out of memory, -2 when the name or the
 * group is empty, longer than FACTO_MAX_ID_LEN or there are 2^31-1. */
static int32_t fct_features_column(facto_features *f, const char *name, size_t len, const char *group, size_t glen)
{
    int32_t c = fct_idmap_intern(f->columns, name, len);
    int32_t g = fct_idmap_intern(f->groups, group, glen);
    if (c == -1 || g == -1)
        return -1;
    if (c < 0 || g < 0)
        return -2;
    if (!fct_grow((void **)&f->column_group, sizeof *f->column_group, &f->group_cap, c))
        return -1;
    f->column_group[c] = g;
    return c;
}

/* A named column whose name is built by the reader (cannot be malformed). */
static facto_status fct_features_add_named(facto_ctx *ctx, facto_features *f, const char *group, const char *value)
{
    char name[FACTO_MAX_ID_LEN + 1];
    int n = snprintf(name, sizeof name, "%s=%s", group, value);
    if (n < 0 || (size_t)n >= sizeof name)
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "column name '%s=%.40s' is too long", group, value);
    int32_t c = fct_features_column(f, name, (size_t)n, group, strlen(group));
    if (c == -1)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    if (c < 0)
        return fct_fail(ctx, FACTO_ERR_INTERNAL, "column name '%s' refused", name);
    return FACTO_OK;
}

/* Add the id of line `ln` (len bytes): FACTO_ERR_PARSE when it is empty,
 * too long or already there; `what` names it ("user id"). */
static facto_status fct_features_add_id(facto_ctx *ctx, facto_features *f, const char *id, size_t len,
                                        const char *path, long long ln, const char *what)
{
    int32_t before = f->ids->n;
    int32_t i = fct_idmap_intern(f->ids, id, len);
    if (i == -1)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    if (i < 0)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %s '%.40s' is empty or too long", path, ln, what, id);
    if (f->ids->n == before)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %s '%.64s' appears twice", path, ln, what, id);
    return FACTO_OK;
}

/* Split `line` in place at '|' into at most max fields; returns the count
 * (max + 1 when there are more). */
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

/* ---- MovieLens 100K u.user ------------------------------------------------ */

static int fct_age_bucket(long age)
{
    return age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6;
}

/* One u.user line as read, before the occupation columns are sorted. */
typedef struct fct_ml_user {
    int8_t age;    /* bucket in [0, FCT_ML_AGES) */
    int8_t gender; /* 0 M, 1 F */
    int32_t occ;   /* index in the first-seen occupation map */
} fct_ml_user;

/* Parse "id|age|gender|occupation|zip" into *u, adding the id to f and the
 * occupation to occs. */
static facto_status fct_ml_user_line(facto_ctx *ctx, const char *path, long long ln, char *line, facto_features *f,
                                     facto_idmap *occs, fct_ml_user *u)
{
    char *fl[6];
    if (fct_split_bar(line, fl, 5) != 5)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: expected 5 '|'-separated fields (id|age|gender|occupation|zip)",
                        path, ln);
    char *end;
    long age = strtol(fl[1], &end, 10);
    if (end == fl[1] || *end || age < 0 || age > 200)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: age '%.20s' is not a whole number of years", path, ln, fl[1]);
    int gender = strcmp(fl[2], "M") == 0 ? 0 : strcmp(fl[2], "F") == 0 ? 1 : -1;
    if (gender < 0)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: gender '%.20s' is not M or F", path, ln, fl[2]);
    size_t occ_len = strlen(fl[3]);
    if (occ_len == 0)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: empty occupation", path, ln);
    if (occ_len > FCT_ML_MAX_OCCUPATION_LEN)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: occupation '%.40s...' is longer than %d bytes", path, ln,
                        fl[3], FCT_ML_MAX_OCCUPATION_LEN);
    facto_status st = fct_features_add_id(ctx, f, fl[0], strlen(fl[0]), path, ln, "user id");
    if (st != FACTO_OK)
        return st;
    int32_t k = fct_idmap_intern(occs, fl[3], occ_len);
    if (k == -1)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    if (k >= FCT_ML_MAX_OCCUPATIONS)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: more than %d distinct occupations", path, ln,
                        FCT_ML_MAX_OCCUPATIONS);
    u->age = (int8_t)fct_age_bucket(age);
    u->gender = (int8_t)gender;
    u->occ = k;
    return FACTO_OK;
}

static int fct_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lay out the u.user columns (7 age buckets, M, F, the occupations in
 * sorted order) and push one row per user. */
static facto_status fct_ml_users_finish(facto_ctx *ctx, facto_features *f, const fct_ml_user *users,
                                        const facto_idmap *occs)
{
    int32_t n_occ = occs->n;
    const char **sorted = fct_malloc_array(n_occ ? (size_t)n_occ : 1, sizeof *sorted);
    int32_t *rank = fct_malloc_array(n_occ ? (size_t)n_occ : 1, sizeof *rank);
    facto_status st = FACTO_OK;
    if (!sorted || !rank) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(sorted, occs->names, (size_t)n_occ * sizeof *sorted);
    qsort(sorted, (size_t)n_occ, sizeof *sorted, fct_cmp_str);
    for (int32_t j = 0; j < n_occ; j++)
        rank[facto_idmap_find(occs, sorted[j])] = j;
    for (int a = 0; a < FCT_ML_AGES && st == FACTO_OK; a++)
        st = fct_features_add_named(ctx, f, "age", k_ages[a]);
    for (int g = 0; g < 2 && st == FACTO_OK; g++)
        st = fct_features_add_named(ctx, f, "gender", k_genders[g]);
    for (int32_t j = 0; j < n_occ && st == FACTO_OK; j++)
        st = fct_features_add_named(ctx, f, "occupation", sorted[j]);
    for (int32_t u = 0; u < f->ids->n && st == FACTO_OK; u++) {
        if ((st = facto_rows_push(ctx, f->rows, (uint32_t)users[u].age, 1.0f)) == FACTO_OK &&
            (st = facto_rows_push(ctx, f->rows, (uint32_t)(FCT_ML_AGES + users[u].gender), 1.0f)) == FACTO_OK &&
            (st = facto_rows_push(ctx, f->rows, (uint32_t)(FCT_ML_AGES + 2 + rank[users[u].occ]), 1.0f)) ==
                FACTO_OK)
            st = facto_rows_finish_row(ctx, f->rows, 0.0f);
    }
done:
    free(sorted);
    free(rank);
    return st;
}

static facto_status fct_read_ml_users(facto_ctx *ctx, const char *path, facto_features *f)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    facto_idmap *occs = fct_idmap_new();
    fct_ml_user *users = NULL;
    int32_t cap = 0;
    char *line;
    size_t len;
    int r = 0;
    if (!occs)
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    while (st == FACTO_OK && (r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (len == 0)
            continue;
        fct_ml_user u;
        st = fct_ml_user_line(ctx, path, (long long)lr.lineno, line, f, occs, &u);
        if (st == FACTO_OK && !fct_grow((void **)&users, sizeof *users, &cap, f->ids->n - 1))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        if (st == FACTO_OK)
            users[f->ids->n - 1] = u;
    }
    if (st == FACTO_OK && r < 0)
        st = facto_errcode(ctx);
    if (st == FACTO_OK && f->ids->n == 0)
        st = fct_fail(ctx, FACTO_ERR_PARSE, "%s: no users (expected u.user lines: id|age|gender|occupation|zip)",
                      path);
    if (st == FACTO_OK)
        st = fct_ml_users_finish(ctx, f, users, occs);
    fct_idmap_free(occs);
    free(users);
    fct_linereader_close(&lr);
    return st;
}

/* ---- MovieLens 100K u.item ------------------------------------------------ */

/* One u.item line as read, before the decade columns are laid out. */
typedef struct fct_ml_item {
    uint32_t genres; /* bit g = genre g */
    int32_t year;    /* release year, or -1 */
} fct_ml_item;

/* Parse "id|title|date|video date|url|19 genre flags" into *it (the flags
 * are the last 19 fields and the date the third before them, so a title
 * holding '|' still reads), adding the id to f. */
static facto_status fct_ml_item_line(facto_ctx *ctx, const char *path, long long ln, char *line, facto_features *f,
                                     fct_ml_item *it)
{
    char *fl[64];
    int nf = fct_split_bar(line, fl, 63);
    if (nf < 5 + FCT_ML_GENRES || nf > 63)
        return fct_fail(ctx, FACTO_ERR_PARSE,
                        "%s:%lld: expected 24 '|'-separated fields (id|title|date|video date|url|19 genre flags)",
                        path, ln);
    uint32_t genres = 0;
    for (int g = 0; g < FCT_ML_GENRES; g++) {
        const char *v = fl[nf - FCT_ML_GENRES + g];
        if ((v[0] != '0' && v[0] != '1') || v[1])
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: genre flag %d ('%s') is '%.10s', not 0 or 1", path, ln,
                            g, k_genres[g], v);
        if (v[0] == '1')
            genres |= 1u << g;
    }
    const char *date = fl[nf - FCT_ML_GENRES - 3];
    int32_t year = -1;
    if (date[0]) {
        const char *dash = strrchr(date, '-');
        const char *ys = dash ? dash + 1 : date;
        char *end;
        long v = strtol(ys, &end, 10);
        if (end == ys || *end || v < 1800 || v > 2200)
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: release date '%.20s' has no year (dd-Mon-yyyy)", path,
                            ln, date);
        year = (int32_t)v;
    }
    facto_status st = fct_features_add_id(ctx, f, fl[0], strlen(fl[0]), path, ln, "item id");
    if (st != FACTO_OK)
        return st;
    it->genres = genres;
    it->year = year;
    return FACTO_OK;
}

static int fct_cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Lay out the u.item columns (19 genres, then the decades present,
 * ascending) and push one row per item: each set genre 1/number of set
 * genres, the decade 1. */
static facto_status fct_ml_items_finish(facto_ctx *ctx, facto_features *f, const fct_ml_item *items)
{
    int32_t ni = f->ids->n, nd = 0;
    int32_t *decades = fct_malloc_array(ni ? (size_t)ni : 1, sizeof *decades);
    if (!decades)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < ni; i++)
        if (items[i].year >= 0)
            decades[nd++] = items[i].year / 10 * 10;
    qsort(decades, (size_t)nd, sizeof *decades, fct_cmp_i32);
    int32_t n_decades = 0;
    for (int32_t i = 0; i < nd; i++)
        if (n_decades == 0 || decades[n_decades - 1] != decades[i])
            decades[n_decades++] = decades[i];
    facto_status st = FACTO_OK;
    for (int g = 0; g < FCT_ML_GENRES && st == FACTO_OK; g++)
        st = fct_features_add_named(ctx, f, "genre", k_genres[g]);
    for (int32_t k = 0; k < n_decades && st == FACTO_OK; k++) {
        char year[16];
        snprintf(year, sizeof year, "%d", (int)decades[k]);
        st = fct_features_add_named(ctx, f, "decade", year);
    }
    for (int32_t i = 0; i < ni && st == FACTO_OK; i++) {
        uint32_t gb = items[i].genres;
        int count = 0;
        for (int g = 0; g < FCT_ML_GENRES; g++)
            count += (gb >> g) & 1u;
        for (int g = 0; g < FCT_ML_GENRES && st == FACTO_OK; g++)
            if ((gb >> g) & 1u)
                st = facto_rows_push(ctx, f->rows, (uint32_t)g, 1.0f / (float)count);
        if (st == FACTO_OK && items[i].year >= 0) {
            int32_t d = items[i].year / 10 * 10;
            const int32_t *k = bsearch(&d, decades, (size_t)n_decades, sizeof *decades, fct_cmp_i32);
            st = facto_rows_push(ctx, f->rows, (uint32_t)(FCT_ML_GENRES + (k - decades)), 1.0f);
        }
        if (st == FACTO_OK)
            st = facto_rows_finish_row(ctx, f->rows, 0.0f);
    }
    free(decades);
    return st;
}

static facto_status fct_read_ml_items(facto_ctx *ctx, const char *path, facto_features *f)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    fct_ml_item *items = NULL;
    int32_t cap = 0;
    char *line;
    size_t len;
    int r = 0;
    while (st == FACTO_OK && (r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (len == 0)
            continue;
        fct_ml_item it;
        st = fct_ml_item_line(ctx, path, (long long)lr.lineno, line, f, &it);
        if (st == FACTO_OK && !fct_grow((void **)&items, sizeof *items, &cap, f->ids->n - 1))
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        if (st == FACTO_OK)
            items[f->ids->n - 1] = it;
    }
    if (st == FACTO_OK && r < 0)
        st = facto_errcode(ctx);
    if (st == FACTO_OK && f->ids->n == 0)
        st = fct_fail(ctx, FACTO_ERR_PARSE,
                      "%s: no items (expected u.item lines: id|title|date|video date|url|19 genre flags)", path);
    if (st == FACTO_OK)
        st = fct_ml_items_finish(ctx, f, items);
    free(items);
    fct_linereader_close(&lr);
    return st;
}

/* ---- attribute files ------------------------------------------------------ */

/* One "name[:value]" token (NUL-terminated, modified) of line `ln`, pushed
 * to the row being built. */
static facto_status fct_attr_token(facto_ctx *ctx, const char *path, long long ln, char *tok, facto_features *f)
{
    char *colon = strrchr(tok, ':');
    float v = 1.0f;
    if (colon) {
        char *end;
        double x = fct_strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !isfinite((float)x))
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: value of '%.64s' is not a finite number", path, ln, tok);
        v = (float)x;
        *colon = '\0';
    }
    size_t len = strlen(tok);
    const char *eq = strchr(tok, '=');
    int32_t c = fct_features_column(f, tok, len, tok, eq ? (size_t)(eq - tok) : len);
    if (c == -1)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    if (c < 0)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: bad attribute name '%.64s' (1..255 bytes)", path, ln, tok);
    return facto_rows_push(ctx, f->rows, (uint32_t)c, v);
}

/* One "id<TAB>name[:value] name[:value] ..." line: a new id and its row. */
static facto_status fct_attr_line(facto_ctx *ctx, const char *path, long long ln, char *line, facto_features *f)
{
    char *tab = strchr(line, '\t');
    if (!tab)
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: expected 'id<TAB>name[:value] ...'", path, ln);
    *tab = '\0';
    facto_status st = fct_features_add_id(ctx, f, line, (size_t)(tab - line), path, ln, "id");
    char *p = tab + 1;
    while (st == FACTO_OK) {
        p += strspn(p, " \t");
        if (!*p)
            break;
        char *tok = p;
        p += strcspn(p, " \t");
        if (*p)
            *p++ = '\0';
        st = fct_attr_token(ctx, path, ln, tok, f);
    }
    return st == FACTO_OK ? facto_rows_finish_row(ctx, f->rows, 0.0f) : st;
}

static facto_status fct_read_attributes(facto_ctx *ctx, const char *path, facto_features *f)
{
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    char *line;
    size_t len;
    int r = 0;
    while (st == FACTO_OK && (r = fct_linereader_next(ctx, &lr, &line, &len)) == 1)
        if (len > 0 && line[0] != '#')
            st = fct_attr_line(ctx, path, (long long)lr.lineno, line, f);
    if (st == FACTO_OK && r < 0)
        st = facto_errcode(ctx);
    fct_linereader_close(&lr);
    return st;
}

/* ---- reading ---------------------------------------------------------------- */

/* Which one of the formats in `accept` `path` holds (see fct_features_read). */
static facto_status fct_features_detect(facto_ctx *ctx, const char *path, unsigned accept, unsigned *format)
{
    if (accept == FCT_FEATURES_ATTRIBUTES || accept == FCT_FEATURES_ML_USERS || accept == FCT_FEATURES_ML_ITEMS) {
        *format = accept;
        return FACTO_OK;
    }
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    char *line;
    size_t len;
    int r, bars = -1; /* -1: no data line */
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (len == 0 || line[0] == '#')
            continue;
        bars = 0;
        for (const char *p = line; (p = strchr(p, '|')) != NULL; p++)
            bars++;
        break;
    }
    fct_linereader_close(&lr);
    if (r < 0)
        return facto_errcode(ctx);
    unsigned ml = accept & (FCT_FEATURES_ML_USERS | FCT_FEATURES_ML_ITEMS);
    if ((bars <= 0 && (accept & FCT_FEATURES_ATTRIBUTES)) || !ml)
        *format = FCT_FEATURES_ATTRIBUTES;
    else if (ml != (FCT_FEATURES_ML_USERS | FCT_FEATURES_ML_ITEMS))
        *format = ml;
    else
        *format = bars == 4 ? FCT_FEATURES_ML_USERS : FCT_FEATURES_ML_ITEMS;
    return FACTO_OK;
}

facto_status fct_features_read(facto_ctx *ctx, const char *path, unsigned accept, facto_features **out)
{
    *out = NULL;
    unsigned format = 0;
    facto_status st = fct_features_detect(ctx, path, accept & FCT_FEATURES_ANY, &format);
    if (st != FACTO_OK)
        return st;
    facto_features *f = fct_features_new();
    if (!f)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    st = format == FCT_FEATURES_ML_USERS   ? fct_read_ml_users(ctx, path, f)
         : format == FCT_FEATURES_ML_ITEMS ? fct_read_ml_items(ctx, path, f)
                                           : fct_read_attributes(ctx, path, f);
    if (st != FACTO_OK) {
        facto_features_free(f);
        return st;
    }
    f->rows->feature_dim = (uint64_t)f->columns->n;
    *out = f;
    return FACTO_OK;
}

/* ---- public API ------------------------------------------------------------- */

facto_status facto_features_read(facto_ctx *ctx, const char *path, facto_features **out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_features_read: out is NULL");
    *out = NULL;
    if (!path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_features_read: path is NULL");
    facto_features *f = NULL;
    facto_status st = fct_features_read(ctx, path, FCT_FEATURES_ANY, &f);
    if (st != FACTO_OK)
        return st;
    if (f->ids->n == 0) {
        facto_features_free(f);
        return fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no ids (the file is empty or holds only blank and '#' lines)",
                        path);
    }
    *out = f;
    return fct_ok(ctx);
}

int32_t facto_features_n_ids(const facto_features *features) { return features ? features->ids->n : 0; }

int32_t facto_features_n_columns(const facto_features *features) { return features ? features->columns->n : 0; }

int32_t facto_features_n_groups(const facto_features *features) { return features ? features->groups->n : 0; }

const facto_idmap *facto_features_ids(const facto_features *features) { return features ? features->ids : NULL; }

facto_status facto_features_column(facto_ctx *ctx, const facto_features *features, int32_t column, const char **name,
                                   int32_t *group)
{
    int32_t n = facto_features_n_columns(features);
    if (column < 0 || column >= n)
        return fct_fail(ctx, FACTO_ERR_INVALID, "column %ld is not in [0, %ld)", (long)column, (long)n);
    if (name)
        *name = features->columns->names[column];
    if (group)
        *group = features->column_group[column];
    return fct_ok(ctx);
}

facto_status facto_features_group(facto_ctx *ctx, const facto_features *features, int32_t group, const char **name)
{
    int32_t n = facto_features_n_groups(features);
    if (group < 0 || group >= n)
        return fct_fail(ctx, FACTO_ERR_INVALID, "group %ld is not in [0, %ld)", (long)group, (long)n);
    if (name)
        *name = features->groups->names[group];
    return fct_ok(ctx);
}

facto_status facto_features_row(facto_ctx *ctx, const facto_features *features, int32_t index,
                                const uint32_t **columns, const float **values, int32_t *n)
{
    int32_t n_ids = facto_features_n_ids(features);
    if (index < 0 || index >= n_ids)
        return fct_fail(ctx, FACTO_ERR_INVALID, "id index %ld is not in [0, %ld) (facto_idmap_find gives -1 for an "
                        "unknown id)", (long)index, (long)n_ids);
    const facto_rows *r = features->rows;
    int64_t b = r->row_ptr[index];
    if (columns)
        *columns = r->keys + b;
    if (values)
        *values = r->values + b;
    if (n)
        *n = (int32_t)(r->row_ptr[index + 1] - b);
    return fct_ok(ctx);
}
