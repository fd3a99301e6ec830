/*
 * write_tsv.c — a data set back to text: one line a rating,
 * user<TAB>item<TAB>rating[<TAB>timestamp], users in index order and items
 * ascending within a user; an id the ratings reader would not read back
 * bare is written in double quotes (tsv_needs_quotes), and an id holding a
 * line feed is refused before anything is written. A rating is written as the shortest text that
 * reads back to the same float (core/numtext.c, locale-free), so reading the
 * file gives the same values bit for bit. Written through the atomic output
 * (core/output.c: temporary file, fsync, rename; "-": standard output).
 * O(n_ratings) time, O(1) memory besides the data set.
 */
#include "dataset.h"

#include "../core/numtext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* 1 when the ratings reader would not read `id` back from a bare TSV field:
 * a tab or a double quote inside, "::" (the first line would pick "::" as
 * the delimiter), blanks at either end (fields are trimmed), or a '#' first
 * (a user id there makes the line a comment). Such ids are written in
 * double quotes, a quote inside doubled, as the reader takes them. */
static int tsv_needs_quotes(const char *id)
{
    const size_t n = strlen(id);
    if (n == 0 || id[0] == '#' || strpbrk(id, "\t\"") || strstr(id, "::"))
        return 1;
    const char ends[2] = {id[0], id[n - 1]};
    for (int e = 0; e < 2; e++)
        if (ends[e] == ' ' || ends[e] == '\v' || ends[e] == '\f' || ends[e] == '\r')
            return 1;
    return 0;
}

/* Write id to f, quoted when tsv_needs_quotes. <0 on a write error. */
static int tsv_put_id(FILE *f, const char *id)
{
    if (!tsv_needs_quotes(id))
        return fputs(id, f);
    if (putc('"', f) == EOF)
        return -1;
    for (const char *p = id; *p; p++)
        if ((*p == '"' && putc('"', f) == EOF) || putc(*p, f) == EOF)
            return -1;
    return putc('"', f) == EOF ? -1 : 0;
}

/* The first id of `map` a text line cannot carry (a line feed), or -1. */
static int32_t tsv_bad_id(const facto_idmap *map)
{
    for (int32_t i = 0; i < map->n; i++)
        if (strchr(facto_idmap_name(map, i), '\n'))
            return i;
    return -1;
}

/* id for a message: at most 60 bytes, control bytes and '\\' as \xHH. */
static void tsv_show_id(const char *id, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)id; *p && o + 8 < size; p++) {
        if (p - (const unsigned char *)id >= 60) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
}

facto_status facto_dataset_write_tsv(facto_ctx *ctx, const facto_dataset *ds, const char *path)
{
    if (!ds || !path || !*path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_dataset_write_tsv: data set and path must be given");
    {
        facto_status wst = fct_dataset_wide(ctx, ds);
        if (wst != FACTO_OK)
            return wst;
    }
    /* Refused before the output is opened: nothing is written. */
    for (int side = 0; side < 2; side++) {
        const facto_idmap *map = side == 0 ? ds->user_map : ds->item_map;
        int32_t bad = tsv_bad_id(map);
        if (bad < 0)
            continue;
        int64_t row = 0; /* the first rating row that names it, 1-based */
        for (int32_t u = 0; u < ds->n_users && !row; u++)
            for (int64_t k = ds->row_ptr[u]; k < ds->row_ptr[u + 1] && !row; k++)
                if (side == 0 ? u == bad : ds->items[k] == bad)
                    row = k + 1;
        char shown[256];
        tsv_show_id(facto_idmap_name(map, bad), shown, sizeof shown);
        return fct_fail(ctx, FACTO_ERR_INVALID,
                        "%s: %s id '%s' (row %lld) holds a line break, which a line of text cannot carry; keep "
                        "this data set as .fds",
                        path, side == 0 ? "user" : "item", shown, (long long)row);
    }
    int to_stdout = strcmp(path, "-") == 0;
    facto_output *out = NULL;
    FILE *f = stdout;
    if (!to_stdout) {
        facto_status st = facto_output_open(ctx, path, 0, &out);
        if (st != FACTO_OK)
            return st;
        f = facto_output_stream(out);
    }
    int err = 0;
    char num[64];
    /* A value that repeats (every half-star) is formatted once. */
    float last = 0.0f;
    int have_last = 0;
    char last_text[64];
    for (int32_t u = 0; u < ds->n_users && !err; u++) {
        const char *uid = facto_idmap_name(ds->user_map, u);
        for (int64_t k = ds->row_ptr[u]; k < ds->row_ptr[u + 1]; k++) {
            float r = ds->ratings[k];
            if (!have_last || memcmp(&r, &last, sizeof r) != 0) {
                fct_format_float_short(last_text, sizeof last_text, r);
                last = r;
                have_last = 1;
            }
            int n = tsv_put_id(f, uid) < 0 || putc('\t', f) == EOF ||
                            tsv_put_id(f, facto_idmap_name(ds->item_map, ds->items[k])) < 0
                        ? -1
                        : 0;
            if (n >= 0 && ds->timestamps) {
                snprintf(num, sizeof num, "%lld", (long long)ds->timestamps[k]);
                n = fprintf(f, "\t%s\t%s\n", last_text, num);
            } else if (n >= 0) {
                n = fprintf(f, "\t%s\n", last_text);
            }
            if (n < 0) {
                err = errno ? errno : EIO;
                break;
            }
        }
    }
    if (to_stdout) {
        if (!err && fflush(f) != 0)
            err = errno ? errno : EIO;
        return err ? fct_fail(ctx, FACTO_ERR_IO, "standard output: cannot write: %s", strerror(err)) : fct_ok(ctx);
    }
    if (err) {
        facto_status st = fct_fail(ctx, FACTO_ERR_IO, "%s: cannot write: %s", path, strerror(err));
        facto_output_abort(out);
        return st;
    }
    return facto_output_commit(ctx, out);
}
