/*
 * read_ratings.c — facto_dataset_read: (user, item, rating[, timestamp]) text
 * in every supported layout. The formats differ only in their dialect (the
 * delimiter, whether a header comes first, which columns hold what), so one
 * streaming engine reads them all: the first data line fixes the dialect
 * (format, delimiter and header detection, column names resolved), then each
 * line is split in place, parsed and pushed to a COO list, which
 * fct_dataset_from_coo turns into CSR. O(file bytes) time, O(ratings) memory.
 */
#include "core/numtext.h"
#include "dataset.h"
#include "delimited.h"
#include "fds.h"
#include "linereader.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { FACTO_COL_USER = 0, FACTO_COL_ITEM = 1, FACTO_COL_RATING = 2, FACTO_COL_TIME = 3 };
static const char *const fct_col_what[4] = {"user id", "item id", "rating", "timestamp"};

struct fct_dialect;
static const char *fct_what(const struct fct_dialect *d, int c);

#define FACTO_MAX_COLUMN 100000

/* How the lines of one file are laid out. */
typedef struct fct_dialect {
    facto_format format; /* resolved: never AUTO */
    char delim;          /* one byte, FACTO_DELIM_DCOLON for "::", or 0 = detect */
    int header;          /* 1, 0, or -1 = detect */
    int n_cols;          /* 3 or 4 wanted columns */
    int pos[4];          /* 0-based positions; -1 = not yet known */
    int time_optional;   /* the timestamp column may be absent (then no timestamps) */
    int implicit;        /* the third column is a weight (facto_read_options.implicit) */
    int signed_weights;  /* implicit with a threshold: values on a signed scale are thresholded, not refused */
    int weight_optional; /* implicit: the weight column may be absent (then every weight is 1) */
    int no_weight;       /* implicit: the file has no weight column: every weight is 1 */
    int columns_default; /* no columns were given: a header's names may place them */
    char name[4][FACTO_MAX_ID_LEN + 1]; /* header names when chosen by name, else "" */
} fct_dialect;

/* What column c holds, for messages: the rating is a weight in implicit data. */
static const char *fct_what(const fct_dialect *d, int c)
{
    return c == FACTO_COL_RATING && d->implicit ? "weight" : fct_col_what[c];
}

/* Whether the lines must have column c: the timestamp only when there is
 * one, the weight unless implicit data has none. */
static int fct_col_used(const fct_dialect *d, int c)
{
    return c < d->n_cols && !(c == FACTO_COL_RATING && d->no_weight);
}


facto_read_options facto_read_options_default(void)
{
    facto_read_options o;
    o.format = FACTO_FORMAT_AUTO;
    o.delimiter = 0;
    o.header = -1;
    o.columns = NULL;
    o.implicit = 0;
    o.implicit_threshold = 0.0;
    return o;
}

int fct_is_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

int fct_is_blank_or_comment(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && fct_is_space(line[i]))
        i++;
    return i == len || line[i] == '#';
}

/* A field as it appears in a message: at most 40 bytes, then "...";
 * control bytes (a stray CR, NUL, binary data) as \xNN so the message
 * stays one readable line. `size` must be at least 4 * 40 + 4. */
void fct_show(char *dst, size_t size, const char *s, size_t n)
{
    size_t k = n < 40 ? n : 40, w = 0;
    for (size_t i = 0; i < k && w + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            w += (size_t)snprintf(dst + w, size - w, "\\x%02x", c);
        else
            dst[w++] = (char)c;
    }
    snprintf(dst + w, size - w, "%s", n > 40 ? "..." : "");
}

/*
 * Whole-field parses; leading/trailing spaces were trimmed by the splitter.
 * Plain decimals ("4", "3.5", "-0.25") take a fast path that is exact: an
 * integer mantissa below 2^53 divided by a power of ten up to 10^15 is one
 * correctly rounded IEEE division, the same value strtod gives. Anything else
 * ("1e3", "nan", long digit strings) goes to strtod; hexadecimal ("0x10")
 * is refused there (fct_strtod).
 */
int fct_ratings_number(const char *s, size_t n, double *v)
{
    static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    if (n == 0)
        return 0;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            m = m * 10 + (uint64_t)(c - '0');
            digits++;
            if (frac >= 0)
                frac++;
        } else if (c == '.' && frac < 0) {
            frac = 0;
        } else {
            break;
        }
    }
    if (i == n && digits > 0 && digits <= 15) {
        double x = (double)m;
        if (frac > 0)
            x /= pow10[frac];
        *v = neg ? -x : x;
        return 1;
    }
    char *end = NULL;
    double x = fct_strtod(s, &end);
    if (end != s + n)
        return 0;
    *v = x;
    return 1;
}

/* Decimal integer in int64 range, optional sign, whole field. */
static int fct_parse_i64(const char *s, size_t n, int64_t *v)
{
    size_t i = 0;
    int neg = 0;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return 0;
    uint64_t m = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || m > (limit - d) / 10)
            return 0;
        m = m * 10 + d;
    }
    *v = !neg ? (int64_t)m : m > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)m;
    return 1;
}

static facto_status fct_fields_push(facto_ctx *ctx, fct_fields *fs, char *s, size_t n)
{
    if (fs->n == fs->cap) {
        int cap = fs->cap ? fs->cap * 2 : 16;
        fct_field *f = fct_realloc_array(fs->f, (size_t)cap, sizeof *f);
        if (!f)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory splitting a line");
        fs->f = f;
        fs->cap = cap;
    }
    fs->f[fs->n].s = s;
    fs->f[fs->n].n = n;
    fs->n++;
    return FACTO_OK;
}

/*
 * Split `line` in place by the dialect's delimiter. Fields are trimmed of
 * spaces; a field in double quotes may hold the delimiter, and "" inside it
 * stands for one quote. With ' ' as the delimiter, runs of blanks separate.
 */
facto_status fct_split_line(facto_ctx *ctx, const char *path, int64_t lineno, char *line, size_t len, char delim,
                            fct_fields *fs)
{
    fs->n = 0;
    char *p = line, *end = line + len;
    if (delim == ' ') {
        for (;;) {
            while (p < end && fct_is_space(*p))
                p++;
            if (p == end)
                return FACTO_OK;
            char *s = p;
            while (p < end && !fct_is_space(*p))
                p++;
            *p = '\0'; /* at end this is the line's own terminator */
            facto_status st = fct_fields_push(ctx, fs, s, (size_t)(p - s));
            if (st)
                return st;
            if (p < end)
                p++;
        }
    }
    for (;;) {
        while (p < end && fct_is_space(*p) && *p != delim)
            p++;
        char *s = p, *fend;
        if (p < end && *p == '"') {
            /* Quoted: unescape into the same bytes (the result only shrinks). */
            char *w = p;
            p++;
            for (;;) {
                if (p == end)
                    return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: a quoted field has no closing quote", path,
                                      (long long)lineno);
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            fend = w;
            while (p < end && fct_is_space(*p) && *p != delim)
                p++;
            int at_delim = delim == FACTO_DELIM_DCOLON ? p + 1 < end && p[0] == ':' && p[1] == ':' : *p == delim;
            if (p < end && !at_delim)
                return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: unexpected text after a closing quote", path,
                                  (long long)lineno);
        } else {
            if (delim == FACTO_DELIM_DCOLON) {
                char *q = p;
                while (q < end && !(q[0] == ':' && q + 1 < end && q[1] == ':'))
                    q++;
                p = q;
            } else {
                while (p < end && *p != delim) /* fields are short: no memchr call */
                    p++;
            }
            fend = p;
            while (fend > s && fct_is_space(fend[-1]) && fend[-1] != delim)
                fend--;
        }
        int more = p < end;
        facto_status st = fct_fields_push(ctx, fs, s, (size_t)(fend - s));
        if (st)
            return st;
        *fend = '\0';
        if (!more)
            return FACTO_OK;
        p += delim == FACTO_DELIM_DCOLON ? 2 : 1;
    }
}

/* Parse "user,item,rating[,timestamp]" as names or 1-based positions.
 * Implicit data may leave the weight out: "user,item" or "user,item,,timestamp". */
static facto_status fct_parse_columns(facto_ctx *ctx, const char *spec, fct_dialect *d)
{
    const char *want = d->implicit ? "give 2 to 4 columns (user,item[,weight[,timestamp]])"
                                   : "give 3 or 4 columns (user,item,rating[,timestamp])";
    int k = 0;
    const char *p = spec;
    for (;;) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        while (n > 0 && fct_is_space(*p)) {
            p++;
            n--;
        }
        while (n > 0 && fct_is_space(p[n - 1]))
            n--;
        if (k == 4)
            return fct_fail(ctx, FACTO_ERR_INVALID, "columns '%s': %s", spec, want);
        if (n == 0 && k == FACTO_COL_RATING && d->implicit) {
            d->no_weight = 1; /* no weight column: every weight is 1 */
            d->pos[k] = -1;
            d->name[k][0] = '\0';
            k++;
            if (!q)
                break;
            p = q + 1;
            continue;
        }
        if (n == 0)
            return fct_fail(ctx, FACTO_ERR_INVALID, "columns '%s': column %d (%s) is empty", spec, k + 1,
                              fct_what(d, k));
        if (n > FACTO_MAX_ID_LEN)
            return fct_fail(ctx, FACTO_ERR_INVALID, "columns '%s': column %d is longer than %d bytes", spec, k + 1,
                              FACTO_MAX_ID_LEN);
        size_t digits = 0;
        while (digits < n && p[digits] >= '0' && p[digits] <= '9')
            digits++;
        if (digits == n) {
            long v = 0;
            for (size_t i = 0; i < n && v <= FACTO_MAX_COLUMN; i++)
                v = v * 10 + (p[i] - '0');
            if (v < 1 || v > FACTO_MAX_COLUMN)
                return fct_fail(ctx, FACTO_ERR_INVALID, "columns '%s': position %.*s is not in 1..%d", spec, (int)n,
                                  p, FACTO_MAX_COLUMN);
            d->pos[k] = (int)(v - 1);
            d->name[k][0] = '\0';
        } else {
            d->pos[k] = -1;
            memcpy(d->name[k], p, n);
            d->name[k][n] = '\0';
        }
        k++;
        if (!q)
            break;
        p = q + 1;
    }
    if (k == 2 && d->implicit) {
        d->no_weight = 1;
        d->pos[FACTO_COL_RATING] = -1;
        d->name[FACTO_COL_RATING][0] = '\0';
        k = 3;
    }
    if (k < 3)
        return fct_fail(ctx, FACTO_ERR_INVALID, "columns '%s': %s", spec, want);
    d->n_cols = k;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < i; j++)
            if (fct_col_used(d, i) && fct_col_used(d, j) &&
                ((d->pos[i] >= 0 && d->pos[i] == d->pos[j]) ||
                 (d->pos[i] < 0 && d->pos[j] < 0 && strcmp(d->name[i], d->name[j]) == 0)))
                return fct_fail(ctx, FACTO_ERR_INVALID, "columns '%s': the %s and the %s are the same column", spec,
                                  fct_what(d, j), fct_what(d, i));
    return FACTO_OK;
}

static facto_status fct_dialect_init(facto_ctx *ctx, const facto_read_options *o, fct_dialect *d)
{
    memset(d, 0, sizeof *d);
    d->format = o->format;
    d->header = o->header;
    d->n_cols = 4;
    d->time_optional = 1;
    d->columns_default = !o->columns;
    for (int i = 0; i < 4; i++)
        d->pos[i] = i;
    if (o->format < FACTO_FORMAT_AUTO || o->format > FACTO_FORMAT_DELIMITED)
        return fct_fail(ctx, FACTO_ERR_INVALID, "read options: unknown format %d", (int)o->format);
    if (o->header < -1 || o->header > 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "read options: header must be 1, 0 or -1 (detect), not %d",
                          o->header);
    if (o->implicit != 0 && o->implicit != 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "read options: implicit must be 0 (ratings) or 1 (weights), not %d",
                        o->implicit);
    if (!isfinite(o->implicit_threshold) || o->implicit_threshold < 0.0)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "read options: the implicit threshold must be a finite number >= 0 (0: none), not %g",
                        o->implicit_threshold);
    if (o->implicit_threshold > 0.0 && !o->implicit)
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "read options: an implicit threshold (%g) applies to implicit data; set implicit = 1",
                        o->implicit_threshold);
    d->implicit = o->implicit;
    d->signed_weights = o->implicit && o->implicit_threshold > 0.0;
    /* Without a column list, implicit delimited text may have no weight
     * column: the first line decides (facto_read_options). */
    d->weight_optional = o->implicit && !o->columns &&
                         (o->format == FACTO_FORMAT_AUTO || o->format == FACTO_FORMAT_DELIMITED);
    unsigned char dc = (unsigned char)o->delimiter;
    if (dc != 0 && dc != '\t' && (dc < 0x20 || dc >= 0x7f || dc == '"' || dc == '#'))
        return fct_fail(ctx, FACTO_ERR_INVALID,
                          "read options: the delimiter must be tab or a printable ASCII byte other than '\"' "
                          "and '#', or 0 (detect); not byte %d",
                          (int)dc);
    /* The MovieLens formats fix their layout: a column list or another
     * delimiter would be silently ignored, so it is refused. */
    if (o->format == FACTO_FORMAT_ML100K || o->format == FACTO_FORMAT_ML1M || o->format == FACTO_FORMAT_ML_CSV) {
        static const char *const fmt_names[] = {"ml100k", "ml1m", "mlcsv"};
        const char *fname = fmt_names[o->format == FACTO_FORMAT_ML100K ? 0 : o->format == FACTO_FORMAT_ML1M ? 1 : 2];
        char fixed = o->format == FACTO_FORMAT_ML100K ? '\t' : o->format == FACTO_FORMAT_ML_CSV ? ',' : 0;
        if (o->columns)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "read options: columns '%s' apply to delimited text; the %s format fixes its columns",
                              o->columns, fname);
        if (o->delimiter && o->delimiter != fixed)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                              "read options: delimiter '%c' applies to delimited text; the %s format fixes its "
                              "delimiter",
                              o->delimiter, fname);
    }
    /* AUTO with an explicit delimiter, header or columns means generic text. */
    if (o->format == FACTO_FORMAT_AUTO && (o->delimiter || o->header != -1 || o->columns))
        d->format = FACTO_FORMAT_DELIMITED;
    switch (d->format) {
    case FACTO_FORMAT_ML100K:
        d->delim = '\t';
        d->header = 0;
        break;
    case FACTO_FORMAT_ML1M:
        d->delim = FACTO_DELIM_DCOLON;
        d->header = 0;
        break;
    case FACTO_FORMAT_ML_CSV:
        d->delim = ',';
        d->header = 1;
        break;
    case FACTO_FORMAT_DELIMITED:
        d->delim = o->delimiter;
        if (o->columns) {
            facto_status st = fct_parse_columns(ctx, o->columns, d);
            if (st)
                return st;
            d->time_optional = 0;
            int by_name = 0;
            for (int i = 0; i < d->n_cols; i++)
                by_name |= fct_col_used(d, i) && d->pos[i] < 0;
            if (by_name && o->header == 0)
                return fct_fail(ctx, FACTO_ERR_INVALID,
                                  "columns '%s' are given by name, but the options say the file has no header",
                                  o->columns);
            if (by_name)
                d->header = 1;
        }
        break;
    default:
        break;
    }
    if (d->format == FACTO_FORMAT_ML_CSV) {
        static const char *const names[4] = {"userId", "movieId", "rating", "timestamp"};
        for (int i = 0; i < 4; i++) {
            d->pos[i] = -1;
            strcpy(d->name[i], names[i]);
        }
    }
    return FACTO_OK;
}

/* 1 when the line holds "::" outside double quotes (an id such as "a::b"
 * in a quoted field of a TSV or CSV line is not MovieLens' delimiter). */
static int fct_has_dcolon(const char *line, size_t len)
{
    if (!strstr(line, "::"))
        return 0;
    int quoted = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (line[i] == '"')
            quoted = !quoted;
        else if (!quoted && line[i] == ':' && line[i + 1] == ':')
            return 1;
    }
    return 0;
}

/* Pick the delimiter of the first line: "::" when it holds one; else the
 * first of tab, comma, semicolon that splits it into enough columns; else runs of blanks when they do; else
 * whichever of the three gives the most columns (the line then fails with a
 * "missing column" message that shows the count). */
char fct_detect_delim(const char *line, size_t len, int need)
{
    if (fct_has_dcolon(line, len))
        return FACTO_DELIM_DCOLON;
    static const char cands[3] = {'\t', ',', ';'};
    int best = 0;
    char best_c = ' ';
    for (int c = 0; c < 3; c++) {
        int n = 1;
        for (size_t i = 0; i < len; i++)
            n += line[i] == cands[c];
        if (n >= need)
            return cands[c];
        if (n > best && n > 1) {
            best = n;
            best_c = cands[c];
        }
    }
    int blanks = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && fct_is_space(line[i]))
            i++;
        if (i < len)
            blanks++;
        while (i < len && !fct_is_space(line[i]))
            i++;
    }
    return blanks >= need || blanks > best ? ' ' : best_c;
}

/* A header name that says "time": holds "time" or "date" in any case, or is "ts". */
static int fct_names_time(const char *s, size_t n)
{
    char low[FACTO_MAX_ID_LEN + 1];
    if (n > FACTO_MAX_ID_LEN)
        n = FACTO_MAX_ID_LEN;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    low[n] = '\0';
    return strstr(low, "time") || strstr(low, "date") || strcmp(low, "ts") == 0;
}

/* Which column a header name speaks of: FACTO_COL_USER, _ITEM, _RATING,
 * _TIME, or -1. Case, '_', '-' and ' ' are ignored ("userId", "user_id",
 * "Movie ID" all match). In implicit data, names of counts ("plays",
 * "clicks", "weight", ...) also name the rating column, which holds weights. */
static int fct_header_role(const char *s, size_t n, int implicit)
{
    static const char *const users[] = {"user", "userid", "uid", "users", "customer", "customerid", "member",
                                        "memberid", "reviewer", "reviewerid", NULL};
    static const char *const items[] = {"item", "itemid", "iid", "items", "movie", "movieid", "product",
                                        "productid", "asin", "isbn", "book", "bookid", "track", "trackid",
                                        "song", "songid", "artist", "artistid", NULL};
    static const char *const ratings[] = {"rating", "ratings", "score", "stars", "value", "preference",
                                          "pref", "bookrating", NULL};
    static const char *const weights[] = {"weight", "weights", "count", "counts", "plays", "playcount",
                                          "listens", "listencount", "clicks", "clickcount", "views",
                                          "quantity", "qty", "frequency", "freq", "interactions", NULL};
    char low[64];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_' || c == '-' || c == ' ' || c == '"')
            continue;
        if (m + 1 >= sizeof low)
            return -1;
        low[m++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    low[m] = '\0';
    const char *const *lists[4] = {users, items, ratings, weights};
    const int roles[4] = {FACTO_COL_USER, FACTO_COL_ITEM, FACTO_COL_RATING, FACTO_COL_RATING};
    for (int l = 0; l < (implicit ? 4 : 3); l++)
        for (int i = 0; lists[l][i]; i++)
            if (strcmp(low, lists[l][i]) == 0)
                return roles[l];
    return fct_names_time(s, n) ? FACTO_COL_TIME : -1;
}

/* A header with names for the user, the item and the rating places those
 * columns when no columns were given ("rating;item;user" reads right).
 * Without all three names the columns stay in their default order; implicit
 * data with names for the user and the item but none for a weight has no
 * weight column ("user,item,timestamp"). */
static void fct_dialect_place_by_header(fct_dialect *d, const fct_fields *fs)
{
    int pos[4] = {-1, -1, -1, -1};
    for (int i = 0; i < fs->n; i++) {
        int role = fct_header_role(fs->f[i].s, fs->f[i].n, d->implicit);
        if (role >= 0 && pos[role] < 0)
            pos[role] = i;
    }
    if (pos[FACTO_COL_USER] < 0 || pos[FACTO_COL_ITEM] < 0)
        return;
    if (pos[FACTO_COL_RATING] < 0) {
        if (!d->weight_optional)
            return;
        d->no_weight = 1;
        d->weight_optional = 0;
    }
    for (int c = 0; c < 3; c++)
        d->pos[c] = pos[c];
    if (pos[FACTO_COL_TIME] >= 0) {
        d->pos[FACTO_COL_TIME] = pos[FACTO_COL_TIME];
        d->n_cols = 4;
    } else {
        d->n_cols = 3;
    }
    d->time_optional = 0;
}

/*
 * Fix the dialect from the first data line (a copy: splitting is in place).
 * Returns FACTO_OK and sets *is_header when that line is the header.
 */
static facto_status fct_dialect_resolve(facto_ctx *ctx, const char *path, int64_t lineno, char *line, size_t len,
                                          fct_dialect *d, fct_fields *fs, int *is_header)
{
    *is_header = 0;
    if (d->format == FACTO_FORMAT_AUTO) {
        if (fct_has_dcolon(line, len)) {
            d->format = FACTO_FORMAT_ML1M;
            d->delim = FACTO_DELIM_DCOLON;
            d->header = 0;
        } else if (strncmp(line, "userId,movieId,rating", 21) == 0) {
            d->format = FACTO_FORMAT_ML_CSV;
            d->delim = ',';
            d->header = 1;
            static const char *const names[4] = {"userId", "movieId", "rating", "timestamp"};
            for (int i = 0; i < 4; i++) {
                d->pos[i] = -1;
                strcpy(d->name[i], names[i]);
            }
        } else {
            d->format = FACTO_FORMAT_DELIMITED;
        }
    }
    if (d->format == FACTO_FORMAT_ML_CSV)
        d->weight_optional = 0; /* its header names the rating */
    if (d->delim == 0) {
        int need = d->weight_optional ? 2 : 3;
        for (int i = 0; i < d->n_cols; i++)
            if (d->pos[i] + 1 > need && !(i == FACTO_COL_TIME && d->time_optional) &&
                !(i == FACTO_COL_RATING && d->weight_optional) && fct_col_used(d, i))
                need = d->pos[i] + 1;
        d->delim = fct_detect_delim(line, len, need);
    }
    facto_status st = fct_split_line(ctx, path, lineno, line, len, d->delim, fs);
    if (st)
        return st;
    if (d->header == -1) {
        /* A header is a line in which no field is a number and that has all
         * the columns wanted by position (else it is bad data, reported so). */
        int numeric = fs->n < (d->weight_optional ? 2 : 3);
        double v;
        for (int c = 0; c < d->n_cols; c++)
            if (c != FACTO_COL_TIME && !(c == FACTO_COL_RATING && d->weight_optional) && fct_col_used(d, c) &&
                d->pos[c] >= fs->n)
                numeric = 1;
        for (int i = 0; i < fs->n && !numeric; i++)
            numeric = fct_ratings_number(fs->f[i].s, fs->f[i].n, &v);
        /* Implicit "user item" lines hold no number at all: two or fewer
         * fields make a header only when one of them names a column. */
        if (!numeric && d->weight_optional && fs->n < 3) {
            int named = 0;
            for (int i = 0; i < fs->n; i++)
                named |= fct_header_role(fs->f[i].s, fs->f[i].n, 1) >= 0;
            numeric = !named;
        }
        d->header = !numeric;
    }
    *is_header = d->header == 1;
    if (*is_header && d->columns_default && d->format == FACTO_FORMAT_DELIMITED)
        fct_dialect_place_by_header(d, fs);
    if (*is_header) {
        for (int c = 0; c < d->n_cols; c++) {
            if (d->pos[c] >= 0 || !fct_col_used(d, c))
                continue;
            for (int i = 0; i < fs->n; i++)
                if (fs->f[i].n == strlen(d->name[c]) && memcmp(fs->f[i].s, d->name[c], fs->f[i].n) == 0) {
                    d->pos[c] = i;
                    break;
                }
            if (d->pos[c] < 0) {
                if (c == FACTO_COL_TIME && d->time_optional) {
                    d->n_cols = 3;
                    break;
                }
                return fct_fail(ctx, FACTO_ERR_PARSE,
                                  "%s:%lld: the header has no column '%s' (for the %s); columns given by name need "
                                  "a header line that names them, for a file without one give positions (e.g. "
                                  "--columns 1,2,3)",
                                  path, (long long)lineno, d->name[c], fct_what(d, c));
            }
        }
        /* Implicit data without a column list: a header with fewer than
         * three fields has no weight column. */
        if (d->weight_optional && d->pos[FACTO_COL_RATING] >= fs->n)
            d->no_weight = 1;
        d->weight_optional = 0;
        /* The header settles the timestamp: a named one is required; the
         * default 4th column counts only when its name speaks of time. */
        if (d->time_optional && d->n_cols == 4 && d->name[FACTO_COL_TIME][0] == '\0') {
            int p = d->pos[FACTO_COL_TIME];
            if (p >= fs->n || !fct_names_time(fs->f[p].s, fs->f[p].n))
                d->n_cols = 3;
        }
        d->time_optional = 0;
    } else {
        for (int c = 0; c < d->n_cols; c++)
            if (d->pos[c] < 0 && fct_col_used(d, c))
                return fct_fail(ctx, FACTO_ERR_PARSE,
                                  "%s:%lld: expected a header naming the column '%s', found data", path,
                                  (long long)lineno, d->name[c]);
    }
    return FACTO_OK;
}

/* Once the first data line is split: a timestamp column that is optional is
 * used only when that line has it; so is an optional weight column. */
static void fct_dialect_settle(fct_dialect *d, const fct_fields *fs)
{
    if (d->n_cols == 4 && d->time_optional && d->pos[FACTO_COL_TIME] >= fs->n)
        d->n_cols = 3;
    if (d->weight_optional && d->pos[FACTO_COL_RATING] >= fs->n)
        d->no_weight = 1;
    d->time_optional = 0;
    d->weight_optional = 0;
}

/*
 * Most rating files use small decimal ids. A direct table from the value of
 * a canonical decimal id ("1".."4194303", no sign, no leading zero) to its
 * index skips hashing for them; other ids go to the hash map. The table grows
 * to twice the largest such id seen, at most 16 MiB per map.
 */
#define FACTO_ID_CACHE_MAX ((int64_t)1 << 22)

typedef struct fct_id_cache {
    int32_t *slot; /* [cap] index of id value v, or -1 */
    int64_t cap;
} fct_id_cache;

static int32_t fct_intern_cached(fct_id_cache *c, facto_idmap *map, const char *s, size_t n)
{
    int64_t v = -1;
    if (n <= 7 && s[0] >= '1' && s[0] <= '9') {
        v = 0;
        for (size_t i = 0; i < n && v >= 0; i++)
            v = s[i] >= '0' && s[i] <= '9' ? v * 10 + (s[i] - '0') : -1;
        if (v >= FACTO_ID_CACHE_MAX)
            v = -1;
    }
    if (v >= 0 && v < c->cap && c->slot[v] >= 0)
        return c->slot[v];
    int32_t idx = fct_idmap_intern(map, s, n);
    if (v < 0 || idx < 0)
        return idx;
    if (v >= c->cap) {
        int64_t cap = 2 * (v + 1) < 1024 ? 1024 : 2 * (v + 1);
        if (cap > FACTO_ID_CACHE_MAX)
            cap = FACTO_ID_CACHE_MAX;
        int32_t *slot = fct_realloc_array(c->slot, (size_t)cap, sizeof *slot);
        if (!slot)
            return idx; /* the table is only a shortcut */
        for (int64_t k = c->cap; k < cap; k++)
            slot[k] = -1;
        c->slot = slot;
        c->cap = cap;
    }
    c->slot[v] = idx;
    return idx;
}

static facto_status fct_parse_record(facto_ctx *ctx, const char *path, int64_t lineno, const fct_dialect *d,
                                       const fct_fields *fs, facto_idmap *maps[2], fct_id_cache caches[2],
                                       fct_coo *coo)
{
    char shown[4 * 40 + 8];
    for (int c = 0; c < d->n_cols; c++)
        if (fct_col_used(d, c) && d->pos[c] >= fs->n) {
            /* A NUL where a delimiter was is the likelier fault: say so. */
            int nul = 0;
            for (int x = 0; x < fs->n && !nul; x++)
                nul = memchr(fs->f[x].s, '\0', fs->f[x].n) != NULL;
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: missing column %d (%s): the line has %d column%s%s",
                            path, (long long)lineno, d->pos[c] + 1, fct_what(d, c), fs->n, fs->n == 1 ? "" : "s",
                            nul ? " and holds a NUL byte (binary data?)" : "");
        }
    int32_t idx[2];
    for (int c = 0; c < 2; c++) {
        const fct_field *f = &fs->f[d->pos[c]];
        if (f->n == 0)
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the %s is empty", path, (long long)lineno,
                              fct_col_what[c]);
        if (f->n > FACTO_MAX_ID_LEN)
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the %s is %zu bytes long; at most %d are allowed", path,
                              (long long)lineno, fct_col_what[c], f->n, FACTO_MAX_ID_LEN);
        if (memchr(f->s, '\0', f->n))
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the %s holds a NUL byte", path, (long long)lineno,
                              fct_col_what[c]);
        idx[c] = fct_intern_cached(&caches[c], maps[c], f->s, f->n);
        if (idx[c] == -1)
            return fct_fail(ctx, FACTO_ERR_NOMEM, "%s:%lld: out of memory", path, (long long)lineno);
        if (idx[c] < 0)
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: too many distinct %ss", path, (long long)lineno,
                              c == 0 ? "user" : "item");
    }
    double r = 1.0; /* implicit data without a weight column: every line weighs 1 */
    if (!d->no_weight) {
        const fct_field *fr = &fs->f[d->pos[FACTO_COL_RATING]];
        const char *what = fct_what(d, FACTO_COL_RATING);
        if (fr->n == 0)
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the %s is empty", path, (long long)lineno, what);
        if (memchr(fr->s, '\0', fr->n))
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the %s holds a NUL byte", path, (long long)lineno,
                            what);
        if (!fct_ratings_number(fr->s, fr->n, &r) || !isfinite(r)) {
            fct_show(shown, sizeof shown, fr->s, fr->n);
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %s '%s' is not a finite number", path,
                              (long long)lineno, what, shown);
        }
        if (fabs(r) > FLT_MAX) {
            fct_show(shown, sizeof shown, fr->s, fr->n);
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %s '%s' is too large for a float", path,
                              (long long)lineno, what, shown);
        }
        if (d->implicit && r < 0.0 && !d->signed_weights) {
            fct_show(shown, sizeof shown, fr->s, fr->n);
            return fct_fail(ctx, FACTO_ERR_PARSE,
                            "%s:%lld: weight '%s' is negative; weights count plays, clicks or purchases (>= 0); "
                            "ratings on a signed scale are read with a threshold (--implicit-threshold)",
                            path, (long long)lineno, shown);
        }
        if (d->implicit)
            r += 0.0; /* -0 weighs 0 */
    }
    int64_t t = 0;
    int has_time = d->n_cols == 4;
    if (has_time) {
        const fct_field *ft = &fs->f[d->pos[FACTO_COL_TIME]];
        if (memchr(ft->s, '\0', ft->n))
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: the timestamp holds a NUL byte", path,
                              (long long)lineno);
        if (!fct_parse_i64(ft->s, ft->n, &t)) {
            fct_show(shown, sizeof shown, ft->s, ft->n);
            return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: timestamp '%s' is not an integer", path,
                              (long long)lineno, shown);
        }
    }
    return fct_coo_push(ctx, coo, idx[0], idx[1], (float)r, has_time, t);
}

facto_status facto_dataset_read(facto_ctx *ctx, const char *path, const facto_read_options *opts,
                                facto_dataset **out, int64_t *n_duplicates)
{
    facto_read_stats stats;
    facto_status st = facto_dataset_read_with_stats(ctx, path, opts, out, &stats);
    if (n_duplicates)
        *n_duplicates = stats.n_duplicates;
    return st;
}

facto_status facto_dataset_read_with_stats(facto_ctx *ctx, const char *path, const facto_read_options *opts,
                                           facto_dataset **out, facto_read_stats *stats)
{
    if (out)
        *out = NULL;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!path || !out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_read: path and out must not be NULL");
    facto_read_options defaults = facto_read_options_default();
    fct_dialect d;
    facto_status st = fct_dialect_init(ctx, opts ? opts : &defaults, &d);
    if (st)
        return st;
    /* A .fds file, whatever its name: mapped, not parsed. */
    if (fct_fds_sniff(path))
        return fct_fds_read(ctx, path, opts ? opts : &defaults, out, stats);

    fct_linereader lr;
    st = fct_linereader_open(ctx, &lr, path);
    if (st)
        return st;
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    fct_coo coo;
    fct_coo_init(&coo);
    fct_fields fs = {NULL, 0, 0};
    fct_id_cache caches[2] = {{NULL, 0}, {NULL, 0}};
    char *copy = NULL;
    int resolved = 0, saw_header = 0;
    if (!users || !items) {
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    char *line;
    size_t len;
    int r;
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (fct_is_blank_or_comment(line, len))
            continue;
        if (!resolved) {
            int is_header = 0;
            /* Say what a binary file is instead of failing on its "columns". */
            if (len >= 8 && memcmp(line, "FACTOMDL", 8) == 0) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s: this is a facto model file, not ratings", path);
                goto done;
            }
            if (memchr(line, '\0', len)) {
                st = fct_fail(ctx, FACTO_ERR_PARSE,
                                "%s:%lld: binary data (a NUL byte in the first line): not a text ratings file", path,
                                (long long)lr.lineno);
                goto done;
            }
            /* Resolution splits a copy, so the line can be split again as data. */
            copy = malloc(len + 1);
            if (!copy) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            memcpy(copy, line, len + 1);
            st = fct_dialect_resolve(ctx, path, lr.lineno, copy, len, &d, &fs, &is_header);
            free(copy);
            copy = NULL;
            if (st)
                goto done;
            resolved = 1;
            if (is_header) {
                saw_header = 1;
                continue;
            }
        }
        st = fct_split_line(ctx, path, lr.lineno, line, len, d.delim, &fs);
        if (st)
            goto done;
        if (d.time_optional || d.weight_optional)
            fct_dialect_settle(&d, &fs);
        facto_idmap *maps[2] = {users, items};
        st = fct_parse_record(ctx, path, lr.lineno, &d, &fs, maps, caches, &coo);
        if (st)
            goto done;
    }
    if (r < 0) {
        st = facto_errcode(ctx);
        goto done;
    }
    if (coo.n == 0) {
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no %s: the file %s", path, d.implicit ? "interactions" : "ratings",
                        saw_header ? "holds only a header"
                        : lr.lineno ? "holds only blank or comment lines"
                                    : "is empty");
        goto done;
    }
    fct_linereader_close(&lr);
    free(fs.f);
    free(caches[0].slot);
    free(caches[1].slot);
    const facto_read_options *o = opts ? opts : &defaults;
    fct_merge merge = {o->implicit, o->implicit ? o->implicit_threshold : 0.0};
    fct_merge_counts counts;
    int64_t n_lines = coo.n;
    st = fct_dataset_build(ctx, &coo, users, items, &merge, out, &counts);
    users = items = NULL; /* owned by the data set now, or freed */
    fct_coo_free(&coo);
    if (st == FACTO_ERR_PARSE || st == FACTO_ERR_EMPTY) {
        /* The builder knows no file: say which one. */
        char msg[FACTO_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", ctx ? facto_errmsg(ctx) : "");
        return fct_fail(ctx, st, "%s: %s", path, msg);
    }
    if (st != FACTO_OK)
        return st;
    if (stats) {
        stats->n_lines = n_lines;
        stats->n_duplicates = counts.n_duplicates;
        stats->n_below_threshold = counts.n_below;
        stats->n_users_dropped = counts.n_users_dropped;
        stats->n_items_dropped = counts.n_items_dropped;
    }
    fct_log(ctx, FACTO_LOG_DEBUG, "%s: %lld %s, %d users, %d items", path, (long long)(*out)->n_ratings,
            d.implicit ? "interactions" : "ratings", (int)(*out)->n_users, (int)(*out)->n_items);
    return st;

done:
    fct_linereader_close(&lr);
    free(fs.f);
    free(caches[0].slot);
    free(caches[1].slot);
    fct_idmap_free(users);
    fct_idmap_free(items);
    fct_coo_free(&coo);
    return st;
}

facto_status facto_dataset_find_line(facto_ctx *ctx, const char *path, const facto_read_options *opts,
                                     const char *user, const char *item, int64_t *line_out)
{
    if (line_out)
        *line_out = 0;
    if (!path || !user || !item || !line_out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_find_line: path, user, item and line must be given");
    facto_read_options defaults = facto_read_options_default();
    fct_dialect d;
    facto_status st = fct_dialect_init(ctx, opts ? opts : &defaults, &d);
    if (st)
        return st;
    if (fct_fds_sniff(path))
        return fct_ok(ctx); /* a binary data set has no lines */
    fct_linereader lr;
    st = fct_linereader_open(ctx, &lr, path);
    if (st)
        return st;
    fct_fields fs = {NULL, 0, 0};
    size_t ulen = strlen(user), ilen = strlen(item);
    int resolved = 0, r;
    char *line, *copy = NULL;
    size_t len;
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        if (fct_is_blank_or_comment(line, len))
            continue;
        if (!resolved) {
            int is_header = 0;
            if (!(copy = malloc(len + 1))) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            memcpy(copy, line, len + 1);
            st = fct_dialect_resolve(ctx, path, lr.lineno, copy, len, &d, &fs, &is_header);
            free(copy);
            if (st)
                break;
            resolved = 1;
            if (is_header)
                continue;
        }
        if ((st = fct_split_line(ctx, path, lr.lineno, line, len, d.delim, &fs)) != FACTO_OK)
            break;
        if (d.pos[0] < fs.n && d.pos[1] < fs.n && fs.f[d.pos[0]].n == ulen && fs.f[d.pos[1]].n == ilen &&
            memcmp(fs.f[d.pos[0]].s, user, ulen) == 0 && memcmp(fs.f[d.pos[1]].s, item, ilen) == 0)
            *line_out = lr.lineno; /* the last one wins, as when reading */
    }
    if (r < 0)
        st = facto_errcode(ctx);
    fct_linereader_close(&lr);
    free(fs.f);
    return st ? st : fct_ok(ctx);
}
