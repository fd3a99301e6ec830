/*
 * rows_io.c — feature rows files and request bodies for train, eval and
 * predict (rows_io.h). Design: rows are read with their origins, so every
 * message about one row, the CLI's own label check or the library's
 * "training row N: ..." after the fact, is printed with the file's line
 * (or recordIO record and byte). Cost O(rows) per label check, O(body) per
 * request, O(log rows) per message.
 */
#include "rows_io.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Added to a classifier's label error. */
#define CLI_LABEL_HINT " (labels 0/1 or -1/+1; for ratings use --binarize T: label = rating >= T)"

int cli_rows_read(facto_ctx *ctx, const char *path, facto_rows_format format, uint64_t feature_dim,
                  facto_rows **rows, facto_rows_origin **origin)
{
    facto_status st = facto_rows_read_origin(ctx, path, format, feature_dim, rows, origin);
    if (st == FACTO_OK && feature_dim > 0)
        st = facto_rows_set_dim(ctx, *rows, feature_dim);
    if (st != FACTO_OK) {
        facto_rows_free(*rows);
        facto_rows_origin_free(*origin);
        *rows = NULL;
        *origin = NULL;
        return cli_fail(ctx, st, 0);
    }
    return 0;
}

/* "PATH:LINE: detail" (recordIO: "PATH: record N at byte B: detail") for row
 * `row` (0-based); "PATH: row N: detail" when the origin does not know it. */
static void cli_rows_format(const cli_rows_file *file, int64_t row, const char *detail, char *out, size_t cap)
{
    const char *hint = strstr(detail, "is not 0 or 1") ? CLI_LABEL_HINT : "";
    char where[4400];
    if (facto_rows_origin_where(file->origin, row, where, sizeof where) > 0)
        snprintf(out, cap, "%s: %s%s", where, detail, hint);
    else
        snprintf(out, cap, "%s: row %lld: %s%s", file->path, (long long)row + 1, detail, hint);
}

static void cli_rows_error(const cli_rows_file *file, int64_t row, const char *detail)
{
    char text[8192];
    cli_rows_format(file, row, detail, text, sizeof text);
    cli_error("%s", text);
}

int cli_rows_check_labels(const cli_rows_file *file, facto_task task)
{
    const float *labels = NULL;
    facto_rows_csr(file->rows, NULL, NULL, NULL, &labels);
    if (!labels || !task)
        return 0;
    for (int64_t r = 0; r < facto_rows_count(file->rows); r++) {
        float y = labels[r];
        char detail[160];
        if (!isfinite(y)) {
            cli_rows_error(file, r, "the label is not a finite number");
            return FACTO_EXIT_DATA;
        }
        if (task == FACTO_TASK_BINARY && y != 0.0f && y != 1.0f && y != -1.0f) {
            char shown[32];
            facto_format_float(shown, sizeof shown, y);
            snprintf(detail, sizeof detail, "label %s is not 0 or 1 (or -1/+1) as binary_classifier needs", shown);
            cli_rows_error(file, r, detail);
            return FACTO_EXIT_DATA;
        }
    }
    return 0;
}

int cli_rows_locate(const char *msg, const cli_rows_file *files, int n, char *out, size_t cap)
{
    for (int i = 0; files && i < n; i++) {
        const cli_rows_file *f = &files[i];
        size_t len = strlen(f->prefix);
        if (!f->path || !f->rows || strncmp(msg, f->prefix, len) != 0 || msg[len] < '0' || msg[len] > '9')
            continue;
        char *end = NULL;
        errno = 0;
        long long row = strtoll(msg + len, &end, 10);
        if (errno || strncmp(end, ": ", 2) != 0 || row < 1 || row > facto_rows_count(f->rows))
            continue;
        cli_rows_format(f, row - 1, end + 2, out, cap);
        return 1;
    }
    return 0;
}

int cli_rows_report(const char *msg, const cli_rows_file *files, int n)
{
    char text[8192];
    if (!cli_rows_locate(msg, files, n, text, sizeof text))
        return 0;
    cli_error("%s", text);
    return 1;
}

/* Grow *buf (capacity *cap) to hold more; 0 when out of memory. */
static int cli_grow(char **buf, size_t *cap)
{
    char *nb = realloc(*buf, *cap * 2);
    if (!nb)
        return 0;
    *buf = nb;
    *cap *= 2;
    return 1;
}

int cli_slurp(const char *path, char **data, size_t *size)
{
    int from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : path;
    *data = NULL;
    *size = 0;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return FACTO_EXIT_DATA;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf && rc == 0) {
        if (n == cap && cap >= CLI_MAX_REQUEST) {
            cli_error("%s: more than %d MiB: too large for one request (an endless stream?)", name,
                      CLI_MAX_REQUEST >> 20);
            rc = FACTO_EXIT_DATA;
        } else if (n == cap && !cli_grow(&buf, &cap)) {
            cli_error("out of memory reading %s", name);
            rc = FACTO_EXIT_INTERNAL;
        } else {
            size_t got = fread(buf + n, 1, cap - n, f);
            n += got;
            if (got == 0)
                break;
        }
    }
    if (!buf) {
        cli_error("out of memory reading %s", name);
        rc = FACTO_EXIT_INTERNAL;
    } else if (rc == 0 && ferror(f)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        rc = FACTO_EXIT_DATA;
    }
    if (!from_stdin)
        fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *data = buf;
    *size = n;
    return 0;
}
