/*
 * params.c — the engine behind every kind's parameter table (params.h):
 * parse a field from text, check its range, print it back, read
 * hyperparameters.json. Numbers are read and written in the C locale
 * whatever the process locale is (uselocale around strtod / snprintf), so a
 * model saved under a decimal-comma locale loads anywhere.
 * Cost O(fields) per call.
 */
#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>


/* ---- names ------------------------------------------------------------------- */

/* a == b with '-' and '_' the same. */
static int fct_name_eq(const char *a, const char *b, size_t nb)
{
    size_t i = 0;
    for (; i < nb && a[i]; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return 0;
    }
    return i == nb && a[i] == '\0';
}

const fct_pdesc *fct_params_find(const fct_ptable *t, const char *name)
{
    for (int i = 0; i < t->n; i++) {
        const fct_pdesc *d = &t->desc[i];
        if (fct_name_eq(name, d->name, strlen(d->name)))
            return d;
        for (const char *a = d->aliases; a && *a;) {
            size_t n = strcspn(a, ",");
            if (fct_name_eq(name, a, n))
                return d;
            a += n;
            if (*a == ',')
                a++;
        }
    }
    return NULL;
}

const char *fct_params_enum_name(const fct_pdesc *d, int v)
{
    for (const fct_penum *c = d->choices; c && c->name; c++)
        if (c->value == v)
            return c->name;
    return NULL;
}

/* "a, b or c" of an enum's names into buf. */
static const char *fct_enum_list(const fct_pdesc *d, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    int n = 0;
    for (const fct_penum *c = d->choices; c && c->name; c++)
        n++;
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                                d->choices[i].name);
    return buf;
}

/* ---- parsing ------------------------------------------------------------------- */

/* Trimmed copy of value into buf; 0 when it does not fit or is empty. */
static int fct_trim(const char *value, char *buf, size_t size)
{
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    if (n == 0 || n >= size)
        return 0;
    memcpy(buf, value, n);
    buf[n] = '\0';
    return 1;
}

static facto_status fct_parse_field(facto_ctx *ctx, const fct_pdesc *d, const char *text, void *field)
{
    const char *name = d->name;
    char *end = NULL;
    switch (d->type) {
    case FCT_PT_U64: {
        if (text[0] == '-' || text[0] == '+')
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not a non-negative integer", name,
                            text);
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (end == text || *end != '\0')
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not an integer", name, text);
        if (errno == ERANGE)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is too large", name, text);
        uint64_t u = (uint64_t)v;
        memcpy(field, &u, sizeof u);
        return FACTO_OK;
    }
    case FCT_PT_INT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (end == text || *end != '\0')
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not an integer", name, text);
        if (errno == ERANGE || v > INT32_MAX || v < INT32_MIN)
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is out of the integer range", name,
                            text);
        int i = (int)v;
        memcpy(field, &i, sizeof i);
        return FACTO_OK;
    }
    case FCT_PT_FLOAT: {
        double v;
        if (!fct_parse_double(text, &v))
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not a number", name, text);
        if (!isfinite(v))
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not a finite float", name, text);
        if (fabs(v) > FLT_MAX)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "hyperparameter %s: '%s' is too large for a float (the largest is 3.40282347e+38)", name,
                            text);
        /* below FLT_MIN a float is 0 or loses digits: refused, not stored as 0 */
        if (v != 0.0 && fabs(v) < FLT_MIN)
            return fct_fail(ctx, FACTO_ERR_INVALID,
                            "hyperparameter %s: '%s' is too close to 0 for a float (the smallest is 1.17549435e-38)",
                            name, text);
        float f = v == 0.0 ? 0.0f : (float)v; /* '-0' is 0: shown as 0, not -0 */
        memcpy(field, &f, sizeof f);
        return FACTO_OK;
    }
    case FCT_PT_ENUM:
        for (const fct_penum *c = d->choices; c && c->name; c++)
            if (strcmp(c->name, text) == 0) {
                int v = c->value;
                memcpy(field, &v, sizeof v);
                return FACTO_OK;
            }
        {
            char list[256];
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: '%s' is not %s", name, text,
                            fct_enum_list(d, list, sizeof list));
        }
    }
    return fct_fail(ctx, FACTO_ERR_INTERNAL, "hyperparameter %s: unknown field type", name);
}

facto_status fct_params_set(facto_ctx *ctx, const fct_ptable *t, void *params, const char *name, const char *value)
{
    if (!params || !name || !value)
        return fct_fail(ctx, FACTO_ERR_INVALID, "setting a hyperparameter needs params, a name and a value");
    const fct_pdesc *d = fct_params_find(t, name);
    if (!d)
        return fct_fail(ctx, FACTO_ERR_INVALID, "unknown hyperparameter '%s' for %s models", name, t->kind);
    char text[128];
    if (!fct_trim(value, text, sizeof text))
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: the value is empty or too long", d->name);
    unsigned char tmp[16];
    void *field = (char *)params + d->offset;
    size_t width = d->type == FCT_PT_U64 ? sizeof(uint64_t) : 4;
    memcpy(tmp, field, width);
    facto_status st = fct_parse_field(ctx, d, text, field);
    if (st == FACTO_OK)
        st = fct_params_check_field(ctx, d, params);
    if (st != FACTO_OK) {
        memcpy(field, tmp, width);
        return st;
    }
    return fct_ok(ctx);
}

/* ---- checking -------------------------------------------------------------------- */

static facto_status fct_out_of_range(facto_ctx *ctx, const fct_pdesc *d, const char *shown)
{
    if (d->rule)
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: %s %s", d->name, shown, d->rule);
    char lo[32], hi[32];
    fct_format_double(lo, sizeof lo, 9, d->min);
    fct_format_double(hi, sizeof hi, 9, d->max);
    return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: %s is not in %c%s, %s%c", d->name, shown,
                    d->flags & FCT_PF_MIN_OPEN ? '(' : '[', lo, hi, d->flags & FCT_PF_MAX_OPEN ? ')' : ']');
}

static int fct_in_range(const fct_pdesc *d, double v)
{
    if (d->flags & FCT_PF_MIN_OPEN ? !(v > d->min) : !(v >= d->min))
        return 0;
    if (d->flags & FCT_PF_MAX_OPEN ? !(v < d->max) : !(v <= d->max))
        return 0;
    return 1;
}

facto_status fct_params_check_field(facto_ctx *ctx, const fct_pdesc *d, const void *params)
{
    const char *field = (const char *)params + d->offset;
    char shown[64];
    switch (d->type) {
    case FCT_PT_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        if (v == 0 && (d->flags & FCT_PF_UNSET_ZERO))
            return FACTO_OK;
        snprintf(shown, sizeof shown, "%llu", (unsigned long long)v);
        return fct_in_range(d, (double)v) ? FACTO_OK : fct_out_of_range(ctx, d, shown);
    }
    case FCT_PT_INT: {
        int v;
        memcpy(&v, field, sizeof v);
        if (v == 0 && (d->flags & FCT_PF_UNSET_ZERO))
            return FACTO_OK;
        snprintf(shown, sizeof shown, "%d", v);
        return fct_in_range(d, (double)v) ? FACTO_OK : fct_out_of_range(ctx, d, shown);
    }
    case FCT_PT_FLOAT: {
        float v;
        memcpy(&v, field, sizeof v);
        if ((isnan(v) && (d->flags & FCT_PF_UNSET_NAN)) || (v == 0.0f && (d->flags & FCT_PF_UNSET_ZERO)))
            return FACTO_OK;
        if (!isfinite(v))
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: the value is not a finite number", d->name);
        if (d->flags & FCT_PF_ANY_FLOAT)
            return FACTO_OK;
        fct_format_double(shown, sizeof shown, 9, (double)v);
        return fct_in_range(d, (double)v) ? FACTO_OK : fct_out_of_range(ctx, d, shown);
    }
    case FCT_PT_ENUM: {
        int v;
        memcpy(&v, field, sizeof v);
        if (v == 0 && (d->flags & FCT_PF_UNSET_ZERO))
            return FACTO_OK;
        if (fct_params_enum_name(d, v))
            return FACTO_OK;
        char list[256];
        return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s: %d is not %s", d->name, v,
                        fct_enum_list(d, list, sizeof list));
    }
    }
    return fct_fail(ctx, FACTO_ERR_INTERNAL, "hyperparameter %s: unknown field type", d->name);
}

/* 1 when field d of params holds its "not set" value. */
static int fct_is_unset(const fct_pdesc *d, const void *params)
{
    const char *field = (const char *)params + d->offset;
    switch (d->type) {
    case FCT_PT_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        return v == 0 && (d->flags & (FCT_PF_UNSET_ZERO | FCT_PF_REQUIRED));
    }
    case FCT_PT_INT:
    case FCT_PT_ENUM: {
        int v;
        memcpy(&v, field, sizeof v);
        return v == 0 && (d->flags & (FCT_PF_UNSET_ZERO | FCT_PF_REQUIRED));
    }
    case FCT_PT_FLOAT: {
        float v;
        memcpy(&v, field, sizeof v);
        if (v == 0.0f && (d->flags & FCT_PF_UNSET_ZERO))
            return 1;
        return isnan(v) && (d->flags & (FCT_PF_UNSET_NAN | FCT_PF_REQUIRED));
    }
    }
    return 0;
}

facto_status fct_params_check(facto_ctx *ctx, const fct_ptable *t, const void *params)
{
    if (!params)
        return fct_fail(ctx, FACTO_ERR_INVALID, "%s hyperparameters must be given", t->kind);
    for (int i = 0; i < t->n; i++) {
        const fct_pdesc *d = &t->desc[i];
        if ((d->flags & FCT_PF_REQUIRED) && fct_is_unset(d, params)) {
            char list[256] = "";
            if (d->type == FCT_PT_ENUM)
                fct_enum_list(d, list, sizeof list);
            return fct_fail(ctx, FACTO_ERR_INVALID, "hyperparameter %s is required (%s)", d->name,
                            d->type == FCT_PT_ENUM ? list
                            : d->type == FCT_PT_FLOAT ? "a number"
                                                      : "a positive integer");
        }
    }
    for (int i = 0; i < t->n; i++) {
        facto_status st = fct_params_check_field(ctx, &t->desc[i], params);
        if (st != FACTO_OK)
            return st;
    }
    if (t->validate) {
        facto_status st = t->validate(ctx, params);
        if (st != FACTO_OK)
            return st;
    }
    return fct_ok(ctx);
}

/* ---- printing ---------------------------------------------------------------------- */

int fct_params_value(const fct_pdesc *d, const void *params, char *buf, size_t size)
{
    const char *field = (const char *)params + d->offset;
    if (size > 0)
        buf[0] = '\0';
    if (fct_is_unset(d, params))
        return 0;
    switch (d->type) {
    case FCT_PT_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, size, "%llu", (unsigned long long)v);
        return 1;
    }
    case FCT_PT_INT: {
        int v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, size, "%d", v);
        return 1;
    }
    case FCT_PT_FLOAT: {
        float v;
        memcpy(&v, field, sizeof v);
        fct_format_double(buf, size, 9, (double)v);
        return 1;
    }
    case FCT_PT_ENUM: {
        int v;
        memcpy(&v, field, sizeof v);
        const char *n = fct_params_enum_name(d, v);
        snprintf(buf, size, "%s", n ? n : "unknown");
        return 1;
    }
    }
    return 0;
}

size_t fct_params_dump(const fct_ptable *t, const void *params, char *buf, size_t size)
{
    size_t len = 0;
    if (buf && size > 0)
        buf[0] = '\0';
    for (int i = 0; i < t->n; i++) {
        char val[64];
        if (!fct_params_value(&t->desc[i], params, val, sizeof val))
            continue;
        int n = snprintf(buf && len < size ? buf + len : NULL, buf && len < size ? size - len : 0, "%s=%s\n",
                         t->desc[i].name, val);
        if (n > 0)
            len += (size_t)n;
    }
    return len;
}

facto_status fct_params_parse_lines(facto_ctx *ctx, const fct_ptable *t, void *params, const char *text, size_t n,
                                    const char *where)
{
    const char *s = text, *end = text + n;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *eq = memchr(s, '=', (size_t)(le - s));
        char name[64], value[128];
        if (!eq || eq - s >= (ptrdiff_t)sizeof name || le - eq - 1 >= (ptrdiff_t)sizeof value)
            return fct_fail(ctx, FACTO_ERR_INVALID, "%s: a hyperparameter line is not name=value", where);
        memcpy(name, s, (size_t)(eq - s));
        name[eq - s] = '\0';
        memcpy(value, eq + 1, (size_t)(le - eq - 1));
        value[le - eq - 1] = '\0';
        facto_status st = fct_params_set(ctx, t, params, name, value);
        if (st != FACTO_OK)
            return st;
        s = le + 1;
    }
    return FACTO_OK;
}

facto_status fct_params_load_json(facto_ctx *ctx, const fct_ptable *t, void *params, const char *path)
{
    if (!params || !path)
        return fct_fail(ctx, FACTO_ERR_INVALID, "reading hyperparameters.json needs params and a path");
    json_error_t err;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return fct_fail(ctx, FACTO_ERR_IO, "%s: is a folder, not a hyperparameters.json file", path);
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        fclose(f);
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:%d: %s", path, err.line, err.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return fct_fail(ctx, FACTO_ERR_PARSE, "%s:1: hyperparameters must be a JSON object", path);
    }
    unsigned char *tmp = malloc(t->size);
    if (!tmp) {
        json_decref(root);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading %s", path);
    }
    memcpy(tmp, params, t->size);
    const char *key;
    json_t *val;
    facto_status st = FACTO_OK;
    json_object_foreach(root, key, val) {
        /* Keys SageMaker itself adds (hyperparameter tuning, SDK settings). */
        if (key[0] == '_' || strncmp(key, "sagemaker_", 10) == 0)
            continue;
        char num[64];
        const char *text;
        if (json_is_string(val)) {
            text = json_string_value(val);
        } else if (json_is_integer(val)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
            text = num;
        } else if (json_is_real(val)) {
            fct_format_double(num, sizeof num, 17, json_real_value(val));
            text = num;
        } else {
            st = fct_fail(ctx, FACTO_ERR_INVALID, "%s: hyperparameter %s: the value must be a string or a number",
                          path, key);
            break;
        }
        st = fct_params_set(ctx, t, tmp, key, text);
        if (st != FACTO_OK) {
            char msg[FACTO_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", facto_errmsg(ctx));
            st = fct_fail(ctx, st, "%s: %s", path, msg);
            break;
        }
    }
    json_decref(root);
    if (st == FACTO_OK)
        memcpy(params, tmp, t->size);
    free(tmp);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
