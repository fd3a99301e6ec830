/*
 * args.c — argument parsing shared by every subcommand: a getopt_long driver
 * that turns unknown flags, missing values and stray words into usage errors
 * (exit 1), and strict parsers for option values (the whole text must be a
 * number in range, "--factors abc" is refused naming the flag). O(1) each.
 */
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_getopt_begin(void)
{
    optind = 0; /* glibc: 0 re-initialises the scanner */
    opterr = 0;
}

int cli_getopt(const char *verb, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == '?' || c == ':') {
        const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        if (optopt && c == ':')
            cli_usage(verb, "option '-%c' needs a value", optopt);
        else if (optopt) {
            /* getopt_long sets optopt to the option's val when a value is missing. */
            const struct option *o = longopts;
            while (o->name && o->val != optopt)
                o++;
            if (o->name && o->has_arg == required_argument && strncmp(arg, "--", 2) == 0)
                cli_usage(verb, "option '--%s' needs a value", o->name);
            else if (o->name && o->has_arg == required_argument && arg[0] == '-' && arg[1] == optopt)
                cli_usage(verb, "option '-%c' needs a value", optopt);
            else if (o->name && o->has_arg == no_argument && strncmp(arg, "--", 2) == 0)
                cli_usage(verb, "option '--%s' takes no value", o->name);
            else
                cli_usage(verb, "unknown option '%s'", arg);
        } else {
            cli_usage(verb, "unknown option '%s'", arg);
        }
        return '?';
    }
    if (c == -1 && optind < argc) {
        cli_usage(verb, "unexpected argument '%s'", argv[optind]);
        return '?';
    }
    return c;
}

int cli_arg_int(const char *verb, const char *flag, const char *text, long min, long max, int *out)
{
    char *end;
    errno = 0;
    /* The whole text is the number: no blanks, no '+' (strtol would skip them). */
    if (!((text[0] >= '0' && text[0] <= '9') || (text[0] == '-' && text[1] >= '0' && text[1] <= '9')))
        return cli_usage(verb, "%s: '%s' is not an integer", flag, text);
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return cli_usage(verb, "%s: '%s' is not an integer", flag, text);
    if (v < min || v > max)
        return cli_usage(verb, "%s: %ld is out of range [%ld, %ld]", flag, v, min, max);
    *out = (int)v;
    return 0;
}

int cli_arg_u64(const char *verb, const char *flag, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!(text[0] >= '0' && text[0] <= '9'))
        return cli_usage(verb, "%s: '%s' is not a non-negative integer", flag, text);
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return cli_usage(verb, "%s: '%s' is not a non-negative integer", flag, text);
    *out = (uint64_t)v;
    return 0;
}

int cli_arg_double(const char *verb, const char *flag, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '-' || text[0] == '.'))
        return cli_usage(verb, "%s: '%s' is not a number", flag, text);
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v))
        return cli_usage(verb, "%s: '%s' is not a number", flag, text);
    if (errno == ERANGE)
        return cli_usage(verb, "%s: '%s' is too %s for a double", flag, text, fabs(v) > 1.0 ? "large" : "close to 0");
    if (v < min || v > max) {
        char lo[32], hi[32];
        facto_format_double(lo, sizeof lo, min);
        facto_format_double(hi, sizeof hi, max);
        return cli_usage(verb, "%s: %s is out of range [%s, %s]", flag, text, lo, hi);
    }
    *out = v;
    return 0;
}

int cli_arg_float(const char *verb, const char *flag, const char *text, double min, double max, float *out)
{
    double v = 0.0;
    int rc = cli_arg_double(verb, flag, text, min, max, &v);
    if (rc != 0)
        return rc;
    if (v != 0.0 && fabs(v) < FLT_MIN)
        return cli_usage(verb, "%s: '%s' is too close to 0 for a float (the smallest is 1.17549435e-38)", flag, text);
    *out = (float)v;
    return 0;
}

static const struct {
    const char *name;
    facto_format format;
} cli_formats[] = {{"auto", FACTO_FORMAT_AUTO},
                     {"ml100k", FACTO_FORMAT_ML100K},
                     {"ml1m", FACTO_FORMAT_ML1M},
                     {"mlcsv", FACTO_FORMAT_ML_CSV},
                     {"delimited", FACTO_FORMAT_DELIMITED}};

int cli_arg_format(const char *verb, const char *text, facto_format *out)
{
    for (size_t i = 0; i < sizeof cli_formats / sizeof *cli_formats; i++) {
        if (strcmp(text, cli_formats[i].name) == 0) {
            *out = cli_formats[i].format;
            return 0;
        }
    }
    return cli_usage(verb, "--format: '%s' is not one of auto, ml100k, ml1m, mlcsv, delimited", text);
}

const char *cli_format_name(facto_format f)
{
    for (size_t i = 0; i < sizeof cli_formats / sizeof *cli_formats; i++)
        if (cli_formats[i].format == f)
            return cli_formats[i].name;
    return "?";
}

int cli_arg_delimiter(const char *verb, const char *text, char *out)
{
    static const struct {
        const char *name;
        char c;
    } names[] = {{"tab", '\t'}, {"\\t", '\t'}, {"comma", ','}, {"semicolon", ';'}, {"space", ' '}, {"auto", 0}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (strcmp(text, names[i].name) == 0) {
            *out = names[i].c;
            return 0;
        }
    }
    if (strlen(text) == 1 && text[0] != '\n' && text[0] != '\r') {
        *out = text[0];
        return 0;
    }
    return cli_usage(verb, "--delimiter: '%s' is not one character or tab, comma, semicolon, space, auto",
                           text);
}

int cli_rows_format_of(const char *text, int allow_auto, facto_rows_format *out)
{
    if (strcmp(text, "libsvm") == 0 || strcmp(text, "libfm") == 0)
        *out = FACTO_ROWS_LIBSVM;
    else if (strcmp(text, "recordio") == 0 || strcmp(text, "recordio-protobuf") == 0)
        *out = FACTO_ROWS_RECORDIO;
    else if (allow_auto && strcmp(text, "auto") == 0)
        *out = FACTO_ROWS_AUTO;
    else
        return 0;
    return 1;
}

int cli_arg_rows_format(const char *verb, const char *flag, const char *text, int allow_auto,
                        facto_rows_format *out)
{
    if (!cli_rows_format_of(text, allow_auto, out))
        return cli_usage(verb, "%s: '%s' is not one of %slibsvm, recordio", flag, text, allow_auto ? "auto, " : "");
    return 0;
}

int cli_arg_metrics(const char *verb, const char *text)
{
    facto_ctx *ctx = cli_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    int rc = 0;
    if (facto_ranking_metrics_check(ctx, text) != FACTO_OK) {
        const char *msg = facto_errmsg(ctx);
        rc = cli_usage(verb, "--metrics: %s", strncmp(msg, "metrics: ", 9) == 0 ? msg + 9 : msg);
    }
    facto_ctx_free(ctx);
    return rc;
}
