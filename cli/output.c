/*
 * output.c — how the CLI speaks: "facto: ..." error lines on stderr, the map
 * from a library status to an exit code (0 ok, 1 usage, 2 data or I/O,
 * 3 internal), and JSON output through jansson with numbers rounded to a
 * readable number of significant digits. O(size of the output).
 */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("facto: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const facto_ctx *ctx, facto_status status, int invalid_is_usage)
{
    const char *msg = facto_errmsg(ctx);
    cli_error("%s", msg && *msg ? msg : facto_status_str(status));
    switch (status) {
    case FACTO_OK: return FACTO_EXIT_OK;
    case FACTO_ERR_NOMEM:
    case FACTO_ERR_INTERNAL: return FACTO_EXIT_INTERNAL;
    case FACTO_ERR_INVALID: return invalid_is_usage ? FACTO_EXIT_USAGE : FACTO_EXIT_DATA;
    default: return FACTO_EXIT_DATA;
    }
}

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", verb);
    return FACTO_EXIT_USAGE;
}

json_t *cli_json_num(double value, int digits)
{
    if (!isfinite(value))
        return json_null();
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", digits, value);
    return json_real(strtod(buf, NULL));
}

int cli_json_print(json_t *root)
{
    if (!root) {
        cli_error("out of memory building JSON output");
        return FACTO_EXIT_INTERNAL;
    }
    /* 15 significant digits: every value rounded by cli_json_num prints as written. */
    int rc = json_dumpf(root, stdout, JSON_REAL_PRECISION(15));
    json_decref(root);
    fputc('\n', stdout);
    if (rc != 0 || fflush(stdout) != 0) {
        cli_error("cannot write JSON to stdout");
        return FACTO_EXIT_DATA;
    }
    return FACTO_EXIT_OK;
}

json_t *cli_json_str(const char *text)
{
    json_t *j = json_string(text);
    if (j)
        return j;
    /* Not UTF-8 (ids are the data's own bytes): read it as ISO-8859-1. */
    size_t n = strlen(text);
    char *buf = malloc(2 * n + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = (char)(0xC0 | (c >> 6));
            buf[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    buf[o] = '\0';
    j = json_string(buf);
    free(buf);
    return j;
}

int cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }
