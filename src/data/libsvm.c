/*
 * libsvm.c — libsvm / libFM text for feature rows: "label key:value ...",
 * one row a line. The reader streams the file (plain or gzip) through the
 * shared line reader and parses each line in place with strtof/strtoull, so
 * it costs O(file bytes) time and O(nnz) memory; every error names
 * PATH:LINE, and on request each row's line is kept (facto_rows_origin)
 * for errors found later. Short decimals take an exact fast path (one float division),
 * others strtof. The writer prints whole numbers as integers, short
 * decimals by the inverse of that fast path, and other floats with %.9g
 * (always exact), formatting into a 64 KiB buffer.
 */
#include "core/numtext.h"
#include "core/output.h"
#include "data/linereader.h"
#include "data/rows.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A token as it appears in a message: at most 40 bytes, then "...", with
 * control and non-ASCII bytes as \xNN so binary data stays one readable
 * line. `dst` holds at least 4 * 40 + 4 bytes. */
enum { FACTO_LIBSVM_SHOW = 4 * 40 + 4 };
static const char *fct_libsvm_show(char *dst, const char *s)
{
    size_t n = strlen(s), k = n < 40 ? n : 40, w = 0;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            w += (size_t)snprintf(dst + w, FACTO_LIBSVM_SHOW - w, "\\x%02x", c);
        else
            dst[w++] = (char)c;
    }
    snprintf(dst + w, FACTO_LIBSVM_SHOW - w, "%s", n > 40 ? "..." : "");
    return dst;
}

/* Token end: the next space, tab or NUL. */
static char *fct_libsvm_tok_end(char *p)
{
    while (*p && *p != ' ' && *p != '\t')
        p++;
    return p;
}

static const float k_pow10f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/*
 * Fast path for plain decimals ("3", "-0.25", "16.000"): at most 7
 * significant digits and 10 decimals, no exponent. Then the digits form an
 * integer m < 2^24 and 10^d <= 10^10, both exact floats, so the one IEEE
 * division m / 10^d is the correctly rounded float — the same bits strtof
 * gives. Returns 0 when the text is not of that form.
 */
static int fct_libsvm_float_fast(const char *s, const char *e, float *out)
{
    const char *p = s;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint32_t m = 0;
    int sig = 0, dec = 0, digits = 0, in_frac = 0;
    for (; p < e; p++) {
        if (*p == '.' && !in_frac) {
            in_frac = 1;
            continue;
        }
        if (*p < '0' || *p > '9')
            return 0;
        digits++;
        if (m || *p != '0')
            sig++;
        m = m * 10 + (uint32_t)(*p - '0');
        dec += in_frac;
        if (sig > 7 || dec > 10)
            return 0;
    }
    if (!digits)
        return 0;
    float v = (float)m / k_pow10f[dec];
    *out = neg ? -v : v;
    return 1;
}

/* Parse a finite float filling exactly [s, e). */
static int fct_libsvm_float(const char *s, const char *e, float *out)
{
    if (s == e)
        return 0;
    if (fct_libsvm_float_fast(s, e, out))
        return 1;
    char *end = NULL;
    errno = 0;
    float v = fct_strtof(s, &end);
    if (end != e || !isfinite(v))
        return 0;
    /* ERANGE for subnormals is fine (the value is still the nearest float). */
    *out = v;
    return 1;
}

/* Parse an unsigned decimal integer filling exactly [s, e). */
static int fct_libsvm_uint(const char *s, const char *e, uint64_t *out)
{
    if (s == e || e - s > 20)
        return 0;
    uint64_t v = 0;
    for (const char *p = s; p < e; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

facto_status facto_libsvm_read(facto_ctx *ctx, const char *path, uint64_t feature_dim, int index_base,
                               facto_rows **out)
{
    return fct_libsvm_read_origin(ctx, path, feature_dim, index_base, out, NULL);
}

facto_status fct_libsvm_read_origin(facto_ctx *ctx, const char *path, uint64_t feature_dim, int index_base,
                                      facto_rows **out, facto_rows_origin *origin)
{
    *out = NULL;
    if (index_base != 0 && index_base != 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "libsvm index_base must be 0 or 1, not %d", index_base);
    if (feature_dim > ((uint64_t)1 << 32))
        return fct_fail(ctx, FACTO_ERR_INVALID, "feature_dim %llu is above 2^32", (unsigned long long)feature_dim);
    fct_linereader lr;
    facto_status st = fct_linereader_open(ctx, &lr, path);
    if (st != FACTO_OK)
        return st;
    facto_rows *rows = facto_rows_new(feature_dim, 1);
    if (!rows) {
        fct_linereader_close(&lr);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "%s: out of memory", path);
    }
    uint64_t max_key_plus1 = 0;
    char shown[FACTO_LIBSVM_SHOW];
    char *line;
    size_t len;
    int r;
    while ((r = fct_linereader_next(ctx, &lr, &line, &len)) == 1) {
        long long ln = (long long)lr.lineno;
        if (lr.lineno == 1 && len >= 8 && memcmp(line, "FACTOMDL", 8) == 0) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s: this is a facto model file, not libsvm rows", path);
            goto fail;
        }
        const char *nul = memchr(line, '\0', len);
        if (nul) {
            st = fct_fail(ctx, FACTO_ERR_PARSE,
                            "%s:%lld: a NUL byte at column %lld: binary data, not libsvm text (recordIO? --format)",
                            path, ln, (long long)(nul - line) + 1);
            goto fail;
        }
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        char *e = fct_libsvm_tok_end(p);
        float label;
        if (!fct_libsvm_float(p, e, &label)) {
            char c = *e;
            *e = '\0';
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: label '%s' is not a finite number", path, ln,
                            fct_libsvm_show(shown, p));
            *e = c;
            goto fail;
        }
        p = e;
        for (;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                break;
            e = fct_libsvm_tok_end(p);
            char *colon = memchr(p, ':', (size_t)(e - p));
            if (colon && colon - p == 3 && memcmp(p, "qid", 3) == 0) {
                p = e;
                continue;
            }
            uint64_t key;
            float value;
            if (!colon) {
                *e = '\0';
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: '%s' is not key:value", path, ln,
                                fct_libsvm_show(shown, p));
                goto fail;
            }
            if (!fct_libsvm_uint(p, colon, &key)) {
                *colon = '\0';
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: key '%s' is not an unsigned integer", path, ln,
                                fct_libsvm_show(shown, p));
                goto fail;
            }
            if (!fct_libsvm_float(colon + 1, e, &value)) {
                *e = '\0';
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: value '%s' of key %llu is not a finite number",
                                path, ln, fct_libsvm_show(shown, colon + 1), (unsigned long long)key);
                goto fail;
            }
            if (key < (uint64_t)index_base) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: key 0 in a file read as 1-based", path, ln);
                goto fail;
            }
            key -= (uint64_t)index_base;
            if (key > UINT32_MAX) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: key %llu is not below 2^32", path, ln,
                                (unsigned long long)key + (unsigned long long)index_base);
                goto fail;
            }
            if (feature_dim > 0 && key >= feature_dim) {
                st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: key %llu is not below feature_dim %llu", path, ln,
                                (unsigned long long)key + (unsigned long long)index_base,
                                (unsigned long long)feature_dim);
                goto fail;
            }
            if (key + 1 > max_key_plus1)
                max_key_plus1 = key + 1;
            st = facto_rows_push(ctx, rows, (uint32_t)key, value);
            if (st != FACTO_OK)
                goto fail;
            p = e;
        }
        st = facto_rows_finish_row(ctx, rows, label);
        if (st == FACTO_OK && origin)
            st = fct_rows_origin_push(ctx, origin, (int64_t)ln);
        if (st != FACTO_OK)
            goto fail;
    }
    if (r < 0) {
        st = facto_errcode(ctx);
        goto fail;
    }
    fct_linereader_close(&lr);
    if (rows->n_rows == 0) {
        facto_rows_free(rows);
        return fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no rows", path);
    }
    if (feature_dim == 0)
        rows->feature_dim = max_key_plus1;
    *out = rows;
    return fct_ok(ctx);
fail:
    fct_linereader_close(&lr);
    facto_rows_free(rows);
    return st;
}

/* Append the decimal digits of v at p; returns the new end. */
static char *fct_libsvm_utoa(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/*
 * Append a float that reads back bit-exact: whole numbers below 2^24 as
 * integers; else the shortest "i.fff" of at most 7 digits and 10 decimals
 * that the reader's fast path (m / 10^d in float) maps back to the same
 * bits; else %.9g, which always reads back exactly. Room: 32 bytes.
 */
static char *fct_libsvm_ftoa(char *p, float f)
{
    if (f == f && f > -16777216.0f && f < 16777216.0f && f == (float)(int32_t)f && !(f == 0.0f && signbit(f))) {
        int32_t i = (int32_t)f;
        if (i < 0)
            *p++ = '-';
        return fct_libsvm_utoa(p, (uint64_t)(i < 0 ? -(int64_t)i : i));
    }
    float a = fabsf(f);
    if (a < 1e7f && a > 0.0f) {
        double x = (double)a;
        for (int d = 1; d <= 10; d++) {
            x *= 10.0;
            if (x >= 1e7)
                break;
            double m = nearbyint(x);
            if ((float)m / k_pow10f[d] == a) {
                uint64_t mi = (uint64_t)m, scale = 1;
                for (int k = 0; k < d; k++)
                    scale *= 10;
                if (f < 0)
                    *p++ = '-';
                p = fct_libsvm_utoa(p, mi / scale);
                *p++ = '.';
                uint64_t frac = mi % scale;
                for (uint64_t s10 = scale / 10; s10 > 0; s10 /= 10)
                    *p++ = (char)('0' + frac / s10 % 10);
                return p;
            }
        }
    }
    return p + fct_format_double(p, 32, 9, (double)f); /* C locale whatever the process's */
}

facto_status facto_libsvm_write(facto_ctx *ctx, const facto_rows *rows, const char *path, int index_base)
{
    if (index_base != 0 && index_base != 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "libsvm index_base must be 0 or 1, not %d", index_base);
    int to_stdout = strcmp(path, "-") == 0;
    facto_output *o = NULL;
    facto_status ost = to_stdout ? FACTO_OK : facto_output_open(ctx, path, 0, &o);
    if (ost != FACTO_OK)
        return ost;
    FILE *f = to_stdout ? stdout : facto_output_stream(o);
    /* one entry needs at most 1 + 20 + 1 + 32 bytes */
    enum { CHUNK = 1 << 16, ENTRY = 64 };
    char *buf = malloc(CHUNK + ENTRY);
    if (!buf) {
        facto_output_abort(o);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    char *p = buf;
    int bad = 0;
    for (int64_t r = 0; r < rows->n_rows && !bad; r++) {
        p = fct_libsvm_ftoa(p, rows->labels ? rows->labels[r] : 0.0f);
        for (int64_t j = rows->row_ptr[r]; j < rows->row_ptr[r + 1]; j++) {
            if (p - buf >= CHUNK) {
                bad |= fwrite(buf, 1, (size_t)(p - buf), f) != (size_t)(p - buf);
                p = buf;
            }
            *p++ = ' ';
            p = fct_libsvm_utoa(p, (uint64_t)rows->keys[j] + (uint64_t)index_base);
            *p++ = ':';
            p = fct_libsvm_ftoa(p, rows->values[j]);
        }
        *p++ = '\n';
        if (p - buf >= CHUNK) {
            bad |= fwrite(buf, 1, (size_t)(p - buf), f) != (size_t)(p - buf);
            p = buf;
        }
    }
    if (p > buf)
        bad |= fwrite(buf, 1, (size_t)(p - buf), f) != (size_t)(p - buf);
    free(buf);
    if (!to_stdout)
        return facto_output_commit(ctx, o); /* reports any write error, leaves no partial file */
    bad |= ferror(f);
    bad |= fflush(f) != 0;
    if (bad)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return fct_ok(ctx);
}
