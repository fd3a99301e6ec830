/*
 * titles.c — item titles of a MovieLens data set folder, as UTF-8:
 *   u.item      ml-100k, `id|title|date|...`, ISO-8859-1;
 *   movies.dat  ml-1m (ISO-8859-1) and ml-10m (UTF-8), `id::title::genres`;
 *   movies.csv  ml-20m / ml-latest, UTF-8 CSV `movieId,title,genres` whose
 *               titles may be quoted (with "" for a quote) and hold commas.
 * Encoding is decided per line: a line that is valid UTF-8 is kept, any other
 * is read as ISO-8859-1 and converted. Streaming, one line at a time; cost
 * O(file bytes), memory O(titles kept) — only items in the given id map.
 */
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
static int fct_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        if (i + n >= len)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Copy s[0..len) as a NUL-terminated UTF-8 string (Latin-1 converted unless
 * `utf8`). Control characters — C0 (NUL, ESC, CR, ...), DEL and C1
 * (U+0080..U+009F, bytes 0x80..0x9F in Latin-1) — become spaces: titles are
 * printed to terminals, where an escape sequence in a data file must not
 * act. NULL when out of memory. */
static char *fct_title_dup(const char *s, size_t len, int utf8)
{
    char *out = malloc(utf8 ? len + 1 : 2 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80 && c <= 0x9F)) {
            out[o++] = ' ';
        } else if (utf8 && c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9F) {
            out[o++] = ' ';
            i++;
        } else if (utf8 || c < 0x80) {
            out[o++] = (char)c;
        } else {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = '\0';
    return out;
}

typedef enum { FACTO_TITLES_UITEM, FACTO_TITLES_DAT, FACTO_TITLES_CSV } fct_titles_kind;

/*
 * Split one line into its id and title. For CSV the title may be quoted; the
 * unquoted text is written into `scratch` (at least line_len bytes). Returns
 * 0 on success, or -1 with *why set.
 */
static int fct_titles_split(fct_titles_kind kind, char *line, size_t len, char *scratch, const char **id,
                              size_t *id_len, const char **title, size_t *title_len, const char **why)
{
    const char *sep = kind == FACTO_TITLES_UITEM ? "|" : kind == FACTO_TITLES_DAT ? "::" : ",";
    size_t sep_len = strlen(sep);
    char *end = line + len;
    char *a = strstr(line, sep);
    if (!a) {
        *why = kind == FACTO_TITLES_UITEM ? "expected 'id|title|...'"
               : kind == FACTO_TITLES_DAT ? "expected 'id::title::genres'"
                                          : "expected 'movieId,title,genres'";
        return -1;
    }
    *id = line;
    *id_len = (size_t)(a - line);
    char *t = a + sep_len;
    if (kind != FACTO_TITLES_CSV || t >= end || *t != '"') {
        char *b = kind == FACTO_TITLES_CSV ? NULL : strstr(t, sep);
        if (kind == FACTO_TITLES_CSV) {
            /* Unquoted: the title runs to the last comma (genres never hold one). */
            b = strrchr(t, ',');
        }
        if (!b) {
            if (kind == FACTO_TITLES_UITEM || kind == FACTO_TITLES_DAT) {
                b = end; /* tolerate a line that stops after the title */
            } else {
                *why = "expected 'movieId,title,genres'";
                return -1;
            }
        }
        *title = t;
        *title_len = (size_t)(b - t);
        return 0;
    }
    /* Quoted CSV field. */
    size_t o = 0;
    char *p = t + 1;
    for (;;) {
        if (p >= end) {
            *why = "unterminated quoted title";
            return -1;
        }
        if (*p == '"') {
            if (p + 1 < end && p[1] == '"') {
                scratch[o++] = '"';
                p += 2;
                continue;
            }
            p++;
            break;
        }
        scratch[o++] = *p++;
    }
    if (p < end && *p != ',') {
        *why = "text after a quoted title";
        return -1;
    }
    *title = scratch;
    *title_len = o;
    return 0;
}

facto_status facto_titles_read(facto_ctx *ctx, const char *dataset_dir, const facto_idmap *items, char ***titles,
                               int32_t *n)
{
    static const struct {
        const char *file;
        fct_titles_kind kind;
    } candidates[] = {{"u.item", FACTO_TITLES_UITEM}, {"movies.dat", FACTO_TITLES_DAT}, {"movies.csv", FACTO_TITLES_CSV}};
    if (!dataset_dir || !items || !titles || !n)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_titles_read: NULL argument");
    *titles = NULL;
    *n = 0;
    char path[4096];
    FILE *f = NULL;
    fct_titles_kind kind = FACTO_TITLES_UITEM;
    for (size_t c = 0; c < sizeof candidates / sizeof *candidates && !f; c++) {
        int len = snprintf(path, sizeof path, "%s/%s", dataset_dir, candidates[c].file);
        if (len < 0 || (size_t)len >= sizeof path)
            return fct_fail(ctx, FACTO_ERR_INVALID, "path '%s' is too long", dataset_dir);
        f = fopen(path, "rb");
        if (!f && errno != ENOENT)
            return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        kind = candidates[c].kind;
    }
    if (!f)
        return fct_fail(ctx, FACTO_ERR_NOT_FOUND, "%s: no titles file (u.item, movies.dat or movies.csv)",
                          dataset_dir);

    int32_t count = facto_idmap_size(items);
    char **out = fct_calloc_array(count > 0 ? (size_t)count : 1, sizeof *out);
    char *line = NULL, *scratch = NULL;
    size_t cap = 0, scratch_cap = 0;
    long long lineno = 0;
    facto_status st = FACTO_OK;
    if (!out) {
        fclose(f);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory for %lld titles", (long long)count);
    }
    ssize_t got;
    errno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *s = line;
        if (lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3, len -= 3;
        if (len == 0)
            continue;
        if (kind == FACTO_TITLES_CSV && lineno == 1 && strncmp(s, "movieId,", 8) == 0)
            continue; /* header */
        if (scratch_cap < len + 1) {
            free(scratch);
            scratch_cap = len + 1;
            if (!(scratch = malloc(scratch_cap))) {
                st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s:%lld: out of memory", path, lineno);
                break;
            }
        }
        const char *id, *title, *why = NULL;
        size_t id_len, title_len;
        if (fct_titles_split(kind, s, len, scratch, &id, &id_len, &title, &title_len, &why) != 0 || id_len == 0) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %s", path, lineno, why ? why : "empty item id");
            break;
        }
        int32_t idx = fct_idmap_find_n(items, id, id_len);
        if (idx < 0 || out[idx])
            continue;
        int utf8 = fct_utf8_valid((const unsigned char *)title, title_len);
        if (!(out[idx] = fct_title_dup(title, title_len, utf8))) {
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "%s:%lld: out of memory", path, lineno);
            break;
        }
    }
    if (st == FACTO_OK && ferror(f))
        st = fct_fail(ctx, FACTO_ERR_IO, "%s:%lld: read error: %s", path, lineno + 1, strerror(errno));
    free(line);
    free(scratch);
    fclose(f);
    if (st != FACTO_OK) {
        facto_titles_free(out, count);
        return st;
    }
    *titles = out;
    *n = count;
    return fct_ok(ctx);
}

void facto_titles_free(char **titles, int32_t n)
{
    if (!titles)
        return;
    for (int32_t i = 0; i < n; i++)
        free(titles[i]);
    free(titles);
}
