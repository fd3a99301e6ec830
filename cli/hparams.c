/*
 * hparams.c — hyperparameters by name (hparams.h): flags and
 * hyperparameters.json applied through facto_params_set, the early check,
 * and the kind's table turned into --help lines, JSON and text. Design: the
 * CLI never lists a hyperparameter itself; it walks facto_params_info and
 * reads every value back with facto_params_get, so a new kind or a new
 * hyperparameter shows up everywhere without a change here.
 * Cost O(table size) per call.
 */
#include "hparams.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_hp_flags_alloc(cli_hp_flags *f, int argc)
{
    size_t n = argc > 0 ? (size_t)argc : 1;
    f->n = 0;
    f->flags = calloc(n, sizeof *f->flags);
    f->values = calloc(n, sizeof *f->values);
    if (!f->flags || !f->values) {
        cli_hp_flags_free(f);
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    return 0;
}

int cli_hp_flags_add(cli_hp_flags *f, const char *name, size_t len, const char *value)
{
    char *flag = malloc(len + 3);
    if (!flag) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    snprintf(flag, len + 3, "--%.*s", (int)len, name);
    f->flags[f->n] = flag;
    f->values[f->n++] = value;
    return 0;
}

void cli_hp_flags_free(cli_hp_flags *f)
{
    for (int i = 0; f->flags && i < f->n; i++)
        free(f->flags[i]);
    free(f->flags);
    free(f->values);
    f->flags = NULL;
    f->values = NULL;
    f->n = 0;
}

int cli_hp_value_check(const char *verb, const char *flag, const char *value)
{
    size_t n = strlen(value);
    if (n > 0 && (value[0] == ' ' || value[0] == '\t' || value[n - 1] == ' ' || value[n - 1] == '\t'))
        return cli_usage(verb, "%s: '%s' has blanks around it; give the value alone", flag, value);
    if (value[0] == '+')
        return cli_usage(verb, "%s: '%s': write the number without '+'", flag, value);
    return 0;
}

int cli_param_known(facto_ctx *ctx, const facto_params *p, const char *name)
{
    char buf[128];
    return facto_params_get(ctx, p, name, buf, sizeof buf) != FACTO_ERR_NOT_FOUND;
}

int cli_param_get(facto_ctx *ctx, const facto_params *p, const char *name, char *buf, size_t size)
{
    if (facto_params_get(ctx, p, name, buf, size) != FACTO_OK) {
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    return buf[0] != '\0';
}

double cli_param_number(facto_ctx *ctx, const facto_params *p, const char *name, double fallback)
{
    char buf[128], *end;
    if (!cli_param_get(ctx, p, name, buf, sizeof buf))
        return fallback;
    double v = strtod(buf, &end);
    return end != buf && *end == '\0' ? v : fallback;
}

int cli_params_apply(facto_ctx *ctx, const char *verb, facto_params *p, const char *json_path,
                     const cli_hp_flags *flags)
{
    if (json_path) {
        facto_status st = facto_params_load_json(ctx, p, json_path);
        if (st == FACTO_ERR_INVALID)
            return cli_usage(verb, "%s", facto_errmsg(ctx));
        if (st != FACTO_OK)
            return cli_fail(ctx, st, 0);
    }
    for (int i = 0; i < flags->n; i++)
        if (facto_params_set(ctx, p, flags->flags[i] + 2, flags->values[i]) != FACTO_OK)
            return cli_usage(verb, "%s: %s", flags->flags[i], facto_errmsg(ctx));
    return 0;
}

/* A copy of p (same kind, same values). */
static facto_status cli_params_copy(facto_ctx *ctx, const facto_params *p, facto_params **out)
{
    facto_status st = facto_params_new(ctx, facto_params_kind(p), out);
    size_t need = facto_params_format(p, NULL, 0);
    char *text = st == FACTO_OK ? malloc(need + 1) : NULL;
    if (st == FACTO_OK && !text)
        st = FACTO_ERR_NOMEM;
    if (text) {
        facto_params_format(p, text, need + 1);
        for (char *line = text; st == FACTO_OK && *line;) {
            char *nl = strchr(line, '\n'), *eq = strchr(line, '=');
            if (nl)
                *nl = '\0';
            if (eq) {
                *eq = '\0';
                st = facto_params_set(ctx, *out, line, eq + 1);
            }
            line = nl ? nl + 1 : line + strlen(line);
        }
    }
    free(text);
    if (st != FACTO_OK) {
        facto_params_free(*out);
        *out = NULL;
    }
    return st;
}

/* Give every required hyperparameter the data fills (its unset_text says
 * what fills it) a stand-in value, so the other rules can be checked now.
 * Returns how many were filled. */
static int cli_params_stand_ins(facto_ctx *ctx, facto_params *q)
{
    int filled = 0;
    char buf[128];
    for (int i = 0; i < facto_params_count(q); i++) {
        facto_param_info info;
        if (facto_params_info(ctx, q, i, &info) != FACTO_OK || !info.required || !info.unset_text[0] ||
            cli_param_get(ctx, q, info.name, buf, sizeof buf))
            continue;
        char stand_in[64] = "1";
        if (info.choices[0])
            snprintf(stand_in, sizeof stand_in, "%.*s", (int)strcspn(info.choices, "|"), info.choices);
        filled += facto_params_set(ctx, q, info.name, stand_in) == FACTO_OK;
    }
    return filled;
}

int cli_params_check_early(facto_ctx *ctx, const char *verb, const facto_params *p)
{
    if (facto_params_validate(ctx, p) == FACTO_OK)
        return 0;
    char first[512];
    snprintf(first, sizeof first, "%s", facto_errmsg(ctx));
    facto_params *q = NULL;
    if (cli_params_copy(ctx, p, &q) != FACTO_OK)
        return cli_usage(verb, "%s", first);
    int rc = 0;
    if (cli_params_stand_ins(ctx, q) == 0)
        rc = cli_usage(verb, "%s", first);
    else if (facto_params_validate(ctx, q) != FACTO_OK)
        rc = cli_usage(verb, "%s", facto_errmsg(ctx));
    facto_params_free(q);
    return rc;
}

/* "0.100000001" (a float written with 9 digits) -> "0.1": the fewest digits
 * that read back to the same float; any other text is copied. */
void cli_short_number(const char *text, char *buf, size_t size)
{
    char *end;
    snprintf(buf, size, "%s", text);
    if (!strpbrk(text, ".eE"))
        return;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return;
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if ((float)strtod(buf, NULL) == (float)v)
            return;
    }
}

/* "(default 0.1)", "(required)", "(default: unset = 1e-8)" for --help. */
static void cli_param_default(facto_ctx *ctx, const facto_params *fresh, const facto_param_info *info, char *buf,
                              size_t size)
{
    char value[128], shown[128];
    const char *unset = info->unset_text[0] ? info->unset_text : "none";
    if (cli_param_get(ctx, fresh, info->name, value, sizeof value)) {
        cli_short_number(value, shown, sizeof shown);
        snprintf(buf, size, "(default %s)", shown);
    } else if (info->required) {
        snprintf(buf, size, info->unset_text[0] ? "(required; default: %s)" : "(required)", unset);
    } else if (strncmp(unset, "no default: ", 12) == 0) {
        snprintf(buf, size, "(default: none; %s)", unset + 12);
    } else {
        snprintf(buf, size, "(default: unset = %s)", unset);
    }
}

/* 1 when every name of "a|b|c" occurs in text. */
static int cli_names_in(const char *choices, const char *text)
{
    char name[64];
    for (const char *c = choices; *c;) {
        size_t n = strcspn(c, "|");
        snprintf(name, sizeof name, "%.*s", (int)n, c);
        if (!strstr(text, name))
            return 0;
        c += n + (c[n] == '|');
    }
    return 1;
}

/* `text` after a flag column of `col` characters, in lines of at most
 * `width` (a word longer than that gets a line of its own). */
static void cli_print_wrapped(FILE *out, const char *text, int col, int width)
{
    int first = 1;
    while (*text) {
        int n = (int)strlen(text);
        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)
                n = (int)strcspn(text, " ");
        }
        fprintf(out, "%*s", first ? 0 : col, "");
        for (int i = 0; i < n; i++)
            fputc(text[i] == '\x01' ? ' ' : text[i], out); /* \x01: a space that does not break */
        fputc('\n', out);
        first = 0;
        text += n;
        while (*text == ' ')
            text++;
    }
}

void cli_params_help(FILE *out, facto_ctx *ctx, const facto_params *fresh)
{
    for (int i = 0; i < facto_params_count(fresh); i++) {
        facto_param_info info;
        if (facto_params_info(ctx, fresh, i, &info) != FACTO_OK)
            continue;
        const char *arg = info.choices[0] ? "NAME" : strcmp(info.type, "float") == 0 ? "X" : "N";
        char flag[96], aliases[160] = "", def[200], text[1024];
        snprintf(flag, sizeof flag, "%s %s", info.name, arg);
        if (info.aliases[0]) {
            size_t len = (size_t)snprintf(aliases, sizeof aliases, "; also");
            for (const char *a = info.aliases; *a && len < sizeof aliases;) {
                size_t n = strcspn(a, ",");
                len += (size_t)snprintf(aliases + len, sizeof aliases - len, " --%.*s", (int)n, a);
                a += n + (a[n] == ',');
            }
        }
        cli_param_default(ctx, fresh, &info, def, sizeof def);
        for (char *c = def; *c; c++) /* the default stays on one line */
            *c = *c == ' ' ? '\x01' : *c;
        int list = info.choices[0] && !cli_names_in(info.choices, info.help);
        snprintf(text, sizeof text, "%s%s%s%s%s%s %s", info.help, list ? " (" : "", list ? info.choices : "",
                 list ? ")" : "", aliases, strcmp(info.origin, "sagemaker") == 0 ? " [sagemaker]" : "", def);
        fprintf(out, "  --%-26s ", flag);
        cli_print_wrapped(out, text, 31, 78);
    }
}

json_t *cli_params_json(facto_ctx *ctx, const facto_params *p)
{
    json_t *obj = json_object();
    for (int i = 0; obj && i < facto_params_count(p); i++) {
        facto_param_info info;
        char value[128], shown[128], *end;
        if (facto_params_info(ctx, p, i, &info) != FACTO_OK || !cli_param_get(ctx, p, info.name, value, sizeof value))
            continue;
        json_t *v = NULL;
        if (info.choices[0]) {
            v = json_string(value);
        } else if (strcmp(info.type, "float") == 0) {
            cli_short_number(value, shown, sizeof shown);
            v = json_real(strtod(shown, NULL));
        } else {
            errno = 0;
            long long n = strtoll(value, &end, 10);
            v = errno == 0 && *end == '\0' ? json_integer(n) : json_real(strtod(value, NULL));
        }
        if (!v || json_object_set_new(obj, info.name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

int cli_params_print(FILE *out, const facto_params *p, const char *indent)
{
    size_t need = facto_params_format(p, NULL, 0);
    char *text = malloc(need + 1);
    if (!text) {
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    facto_params_format(p, text, need + 1);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n'), *eq = strchr(line, '='), shown[128];
        if (nl)
            *nl = '\0';
        if (eq)
            *eq = '\0';
        if (eq && facto_params_used(p, line) != 0) { /* not the settings of another solver */
            cli_short_number(eq + 1, shown, sizeof shown); /* "0.100000001" as "0.1": the same float */
            fprintf(out, "%s%s=%s\n", indent, line, shown);
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    free(text);
    return 0;
}

int cli_model_feature_dim(facto_ctx *ctx, const facto_model *model, uint64_t *dim)
{
    facto_params *p = NULL;
    facto_status st = facto_model_params(ctx, model, &p);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    *dim = (uint64_t)cli_param_number(ctx, p, CLI_HP_FEATURE_DIM, 0.0);
    facto_params_free(p);
    return 0;
}
