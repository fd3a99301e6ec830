/*
 * events.c — the event log's checker (shared with the server's POST
 * /events) and reader, and what is computed from a log without a model:
 * click-through rate by position and by item popularity, position-based
 * propensities (CTR(p) / CTR(1), Joachims, Swaminathan & Schnabel, WSDM
 * 2017), the clicks and purchases as implicit data, and the IPS estimate
 * over any scorer (src/eval/ips.c scores with a model). Format: events.h.
 * Cost: reading O(log bytes); the joins sort the shown items once,
 * O(shown log shown).
 */
#include "events.h"

#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const fct_ev_names[] = {"impression", "click", "purchase", "rating"};

/* "an object", "a string", ...: what a JSON value is, for error details. */
const char *fct_json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

const char *fct_event_type_name(int type)
{
    return type >= 0 && type <= FCT_EV_RATING ? fct_ev_names[type] : "unknown";
}

/* An id: a string in facto_id_escape's form ("\\" a backslash, "\xHH" a
 * byte; the text as the log keeps it) of an id of 1..FACTO_MAX_ID_LEN
 * bytes without NUL, or an integer (its decimal text into buf[32]). NULL
 * with `why` otherwise. */
static const char *fct_ev_id(const json_t *j, char *buf, const char **why)
{
    if (json_is_integer(j)) {
        snprintf(buf, 32, "%lld", (long long)json_integer_value(j));
        return buf;
    }
    if (!json_is_string(j)) {
        *why = "not a string or an integer id";
        return NULL;
    }
    size_t n = json_string_length(j);
    const char *s = json_string_value(j);
    size_t bytes = strlen(s) == n ? facto_id_unescape(s, NULL, 0) : 0;
    if (bytes == FACTO_ID_BAD_ESCAPE) {
        *why = "a backslash that is not \\\\ (one backslash) or \\xHH (one byte, not 00)";
        return NULL;
    }
    if (bytes == 0 || bytes > FACTO_MAX_ID_LEN) {
        *why = "not an id of 1 to 255 bytes without NUL";
        return NULL;
    }
    return s;
}

#define FCT_EV_BAD(name, ...)                                                                                       \
    do {                                                                                                            \
        snprintf(field, field_size, "%s", name);                                                                    \
        snprintf(detail, detail_size, __VA_ARGS__);                                                                 \
        return 0;                                                                                                   \
    } while (0)

int fct_event_check(const json_t *j, fct_event *e, char *field, size_t field_size, char *detail,
                    size_t detail_size)
{
    memset(e, 0, sizeof *e);
    const char *why = "";
    if (!json_is_object(j))
        FCT_EV_BAD("", "an event is a JSON object, not %s", fct_json_kind(j));
    const json_t *t = json_object_get(j, "type");
    if (!t)
        FCT_EV_BAD("type", "missing: give \"type\": impression, click, purchase or rating");
    if (!json_is_string(t))
        FCT_EV_BAD("type", "is %s, not one of impression, click, purchase, rating", fct_json_kind(t));
    e->type = -1;
    for (int k = 0; k <= FCT_EV_RATING; k++)
        if (strcmp(json_string_value(t), fct_ev_names[k]) == 0)
            e->type = k;
    if (e->type < 0)
        FCT_EV_BAD("type", "'%.40s' is not one of impression, click, purchase, rating", json_string_value(t));
    const json_t *u = json_object_get(j, "user"), *r = json_object_get(j, "request_id"), *ts = json_object_get(j, "ts");
    if (u && !json_is_null(u) && !(e->user = fct_ev_id(u, e->ubuf, &why)))
        FCT_EV_BAD("user", "is %s: %s", fct_json_kind(u), why);
    if (r && !json_is_null(r) && !(e->request_id = fct_ev_id(r, e->rbuf, &why)))
        FCT_EV_BAD("request_id", "is %s: %s", fct_json_kind(r), why);
    if (ts && !json_is_null(ts)) {
        if (!json_is_number(ts))
            FCT_EV_BAD("ts", "is %s, not a number of seconds since 1970", fct_json_kind(ts));
        if (!isfinite(json_number_value(ts)) || json_number_value(ts) < 0 || json_number_value(ts) > FCT_EV_MAX_TS)
            FCT_EV_BAD("ts", "%.17g is not a time from 0 (1970-01-01) to %.0f (9999-12-31 23:59:59 UTC) in seconds",
                       json_number_value(ts), FCT_EV_MAX_TS);
        e->ts = json_number_value(ts);
        e->has_ts = 1;
    }
    if (e->type == FCT_EV_IMPRESSION) {
        const json_t *items = json_object_get(j, "items");
        if (!items)
            FCT_EV_BAD("items", "missing: an impression lists the items shown, in order: \"items\": [ID, ...]");
        if (!json_is_array(items))
            FCT_EV_BAD("items", "is %s, not an array of item ids", fct_json_kind(items));
        size_t n = json_array_size(items);
        if (n == 0 || n > FCT_EV_MAX_ITEMS)
            FCT_EV_BAD("items", "holds %zu items; an impression shows 1 to %d", n, FCT_EV_MAX_ITEMS);
        for (size_t x = 0; x < n; x++) {
            char buf[32], name[40];
            const json_t *it = json_array_get(items, x);
            if (!fct_ev_id(it, buf, &why)) {
                snprintf(name, sizeof name, "items[%zu]", x);
                FCT_EV_BAD(name, "is %s: %s", fct_json_kind(it), why);
            }
        }
        if (!e->request_id)
            FCT_EV_BAD("request_id", "missing: an impression needs the request_id its clicks will name");
        e->items = items;
        return 1;
    }
    if (!e->user)
        FCT_EV_BAD("user", "missing: a %s needs the user", fct_ev_names[e->type]);
    const json_t *it = json_object_get(j, "item");
    if (!it)
        FCT_EV_BAD("item", "missing: a %s needs the item", fct_ev_names[e->type]);
    if (!(e->item = fct_ev_id(it, e->ibuf, &why)))
        FCT_EV_BAD("item", "is %s: %s", fct_json_kind(it), why);
    if (e->type == FCT_EV_RATING) {
        const json_t *v = json_object_get(j, "value");
        if (!v)
            FCT_EV_BAD("value", "missing: a rating needs its \"value\"");
        if (!json_is_number(v) || !isfinite(json_number_value(v)) || fabs(json_number_value(v)) > 3.4e38)
            FCT_EV_BAD("value", "is %s, not a finite number", fct_json_kind(v));
        e->value = json_number_value(v);
    }
    return 1;
}

int fct_event_items_distinct(const fct_event *e, char *field, size_t field_size, char *detail, size_t detail_size)
{
    if (e->type != FCT_EV_IMPRESSION)
        return 1;
    /* a JSON object serves as the set of the ids seen so far: O(items) */
    json_t *seen = json_object();
    if (!seen)
        FCT_EV_BAD("items", "out of memory checking the items");
    const char *why = "";
    for (size_t x = 0; x < json_array_size(e->items); x++) {
        char buf[32], name[40];
        const char *id = fct_ev_id(json_array_get(e->items, x), buf, &why);
        const json_t *first = id ? json_object_get(seen, id) : NULL;
        if (first) {
            size_t at = (size_t)json_integer_value(first);
            snprintf(name, sizeof name, "items[%zu]", x);
            snprintf(field, field_size, "%s", name);
            snprintf(detail, detail_size, "repeats items[%zu] ('%.40s'): an impression shows each item once", at,
                     id);
            json_decref(seen);
            return 0;
        }
        if (id && json_object_set_new(seen, id, json_integer((json_int_t)x)) != 0) {
            json_decref(seen);
            FCT_EV_BAD("items", "out of memory checking the items");
        }
    }
    json_decref(seen);
    return 1;
}

char *fct_event_line(const fct_event *e, double ts_default)
{
    json_t *o = json_object();
    int bad = !o;
    bad = bad || json_object_set_new(o, "type", json_string(fct_ev_names[e->type]));
    if (!bad && e->user)
        bad = json_object_set_new(o, "user", json_string(e->user));
    if (!bad && e->type == FCT_EV_IMPRESSION) {
        json_t *arr = json_array();
        bad = !arr || json_object_set_new(o, "items", arr);
        char buf[32];
        const char *why;
        for (size_t x = 0; !bad && x < json_array_size(e->items); x++)
            bad = json_array_append_new(arr, json_string(fct_ev_id(json_array_get(e->items, x), buf, &why)));
    }
    if (!bad && e->item)
        bad = json_object_set_new(o, "item", json_string(e->item));
    if (!bad && e->type == FCT_EV_RATING)
        bad = json_object_set_new(o, "value", json_real(e->value));
    if (!bad && e->request_id)
        bad = json_object_set_new(o, "request_id", json_string(e->request_id));
    if (!bad)
        bad = json_object_set_new(o, "ts", json_real(e->has_ts ? e->ts : ts_default));
    char *line = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return line;
}

/* ---- reading ---------------------------------------------------------------------- */

void facto_events_free(facto_events *ev)
{
    if (!ev)
        return;
    fct_idmap_free(ev->users);
    fct_idmap_free(ev->items);
    fct_idmap_free(ev->requests);
    free(ev->imp_user);
    free(ev->imp_req);
    free(ev->req_has_imp);
    free(ev->imp_ptr);
    free(ev->imp_items);
    free(ev->act_type);
    free(ev->act_user);
    free(ev->act_item);
    free(ev->act_req);
    free(ev->act_value);
    free(ev->act_ts);
    free(ev);
}

void facto_events_get_counts(const facto_events *ev, facto_events_counts *out)
{
    if (ev && out)
        *out = ev->counts;
}

static int fct_ev_grow(void **p, int64_t cap, size_t size)
{
    void *q = fct_realloc_array(*p, (size_t)cap, size);
    if (!q)
        return 0;
    *p = q;
    return 1;
}

/* The id's bytes (the log keeps facto_id_escape's text, checked by fct_ev_id). */
static int32_t fct_ev_intern(facto_idmap *m, const char *id)
{
    if (!id)
        return -1;
    char buf[FACTO_MAX_ID_LEN + 1];
    size_t n = facto_id_unescape(id, buf, sizeof buf);
    if (n == FACTO_ID_BAD_ESCAPE || n >= sizeof buf)
        return -2;
    return fct_idmap_intern(m, buf, n);
}

/* Add one checked event; FACTO_ERR_NOMEM or OK. */
static facto_status fct_ev_add(facto_ctx *ctx, facto_events *ev, const fct_event *e)
{
    int32_t u = fct_ev_intern(ev->users, e->user), r = fct_ev_intern(ev->requests, e->request_id);
    if (u < -1 || r < -1 || (e->user && u < 0) || (e->request_id && r < 0))
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
    if (e->type == FCT_EV_IMPRESSION) {
        if (r >= ev->cap_req) {
            int64_t cap = ev->cap_req ? 2 * ev->cap_req : 1024;
            while (cap <= r)
                cap *= 2;
            if (!fct_ev_grow((void **)&ev->req_has_imp, cap, 1))
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
            memset(ev->req_has_imp + ev->cap_req, 0, (size_t)(cap - ev->cap_req));
            ev->cap_req = cap;
        }
        if (ev->req_has_imp[r]) {
            /* a repeat of an impression already read (a retried POST): the first one counts */
            ev->counts.duplicate_impressions++;
            return FACTO_OK;
        }
        ev->req_has_imp[r] = 1;
        size_t n = json_array_size(e->items);
        if (ev->n_imp + 1 >= ev->cap_imp) {
            int64_t cap = ev->cap_imp ? 2 * ev->cap_imp : 1024;
            if (!fct_ev_grow((void **)&ev->imp_user, cap, sizeof *ev->imp_user) ||
                !fct_ev_grow((void **)&ev->imp_req, cap, sizeof *ev->imp_req) ||
                !fct_ev_grow((void **)&ev->imp_ptr, cap + 1, sizeof *ev->imp_ptr))
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
            ev->cap_imp = cap;
        }
        if (ev->n_shown + (int64_t)n > ev->cap_shown) {
            int64_t cap = ev->cap_shown ? 2 * ev->cap_shown : 8192;
            while (cap < ev->n_shown + (int64_t)n)
                cap *= 2;
            if (!fct_ev_grow((void **)&ev->imp_items, cap, sizeof *ev->imp_items))
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
            ev->cap_shown = cap;
        }
        for (size_t x = 0; x < n; x++) {
            char buf[32];
            const char *why;
            int32_t i = fct_ev_intern(ev->items, fct_ev_id(json_array_get(e->items, x), buf, &why));
            if (i < 0)
                return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
            ev->imp_items[ev->n_shown++] = i;
        }
        ev->imp_user[ev->n_imp] = u;
        ev->imp_req[ev->n_imp] = r;
        ev->n_imp++;
        ev->imp_ptr[ev->n_imp] = ev->n_shown;
        ev->counts.impressions++;
        ev->counts.shown += (int64_t)n;
        return FACTO_OK;
    }
    int32_t i = fct_ev_intern(ev->items, e->item);
    if (i < 0)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
    if (ev->n_act == ev->cap_act) {
        int64_t cap = ev->cap_act ? 2 * ev->cap_act : 1024;
        if (!fct_ev_grow((void **)&ev->act_type, cap, 1) || !fct_ev_grow((void **)&ev->act_user, cap, 4) ||
            !fct_ev_grow((void **)&ev->act_item, cap, 4) || !fct_ev_grow((void **)&ev->act_req, cap, 4) ||
            !fct_ev_grow((void **)&ev->act_value, cap, 4) || !fct_ev_grow((void **)&ev->act_ts, cap, 8))
            return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
        ev->cap_act = cap;
    }
    int64_t a = ev->n_act++;
    ev->act_type[a] = (unsigned char)e->type;
    ev->act_user[a] = u;
    ev->act_item[a] = i;
    ev->act_req[a] = r;
    ev->act_value[a] = (float)e->value;
    ev->act_ts[a] = e->has_ts ? e->ts : 0.0;
    if (e->type == FCT_EV_CLICK)
        ev->counts.clicks++;
    else if (e->type == FCT_EV_PURCHASE)
        ev->counts.purchases++;
    else
        ev->counts.ratings++;
    return FACTO_OK;
}

static facto_status fct_ev_read_file(facto_ctx *ctx, facto_events *ev, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t lineno = 0;
    facto_status st = FACTO_OK;
    while (st == FACTO_OK && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        /* the last line may lack its newline: a complete event (a writer that
         * does not end its last line) is read; anything else there is a line
         * torn by a crash mid-write, skipped and counted */
        int last = n == 0 || line[n - 1] != '\n';
        size_t len = last ? (size_t)n : (size_t)n - 1;
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        json_error_t err;
        json_t *j = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
        fct_event e;
        char field[48], detail[256];
        if (last && (!j || !fct_event_check(j, &e, field, sizeof field, detail, sizeof detail))) {
            ev->counts.torn_lines++;
            json_decref(j);
            break;
        }
        if (!j) {
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: not JSON (column %d: %s)", path, (long long)lineno,
                          err.column, err.text);
            break;
        }
        if (!fct_event_check(j, &e, field, sizeof field, detail, sizeof detail))
            st = fct_fail(ctx, FACTO_ERR_PARSE, "%s:%lld: %s%s%s", path, (long long)lineno, field,
                          field[0] ? ": " : "", detail);
        else {
            int64_t dup = ev->counts.duplicate_impressions;
            if ((st = fct_ev_add(ctx, ev, &e)) == FACTO_OK && ev->counts.duplicate_impressions == dup)
                ev->counts.lines++;
        }
        json_decref(j);
    }
    if (st == FACTO_OK && ferror(f))
        st = fct_fail(ctx, FACTO_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return st;
}

static int fct_ev_name_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name), p = strlen(FCT_EV_PREFIX), s = strlen(FCT_EV_SUFFIX);
    return n > p + s && strncmp(d->d_name, FCT_EV_PREFIX, p) == 0 && strcmp(d->d_name + n - s, FCT_EV_SUFFIX) == 0;
}

facto_status facto_events_read(facto_ctx *ctx, const char *dir, facto_events **out)
{
    if (!out)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_events_read: out is NULL");
    *out = NULL;
    if (!dir || !*dir)
        return fct_fail(ctx, FACTO_ERR_INVALID, "facto_events_read: no folder");
    struct dirent **names = NULL;
    int n = scandir(dir, &names, fct_ev_name_filter, alphasort);
    if (n < 0)
        return fct_fail(ctx, FACTO_ERR_IO, "%s: cannot read the events folder: %s", dir, strerror(errno));
    facto_events *ev = calloc(1, sizeof *ev);
    facto_status st = FACTO_OK;
    if (!ev || !(ev->users = fct_idmap_new()) || !(ev->items = fct_idmap_new()) ||
        !(ev->requests = fct_idmap_new()) || !(ev->imp_ptr = calloc(1, sizeof *ev->imp_ptr)))
        st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory reading events");
    for (int i = 0; i < n; i++) {
        if (st == FACTO_OK) {
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) >= (int)sizeof path)
                st = fct_fail(ctx, FACTO_ERR_IO, "%s: path too long", dir);
            else {
                /* a folder or a dangling link named like a log file is not one (the writer skips them too) */
                struct stat sb;
                if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
                    fct_log(ctx, FACTO_LOG_WARN, "%s: not a regular file; skipped", path);
                else if ((st = fct_ev_read_file(ctx, ev, path)) == FACTO_OK)
                    ev->counts.files++;
            }
        }
        free(names[i]);
    }
    free(names);
    if (st == FACTO_OK && ev->counts.lines == 0)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "%s: no events (%lld events-*.jsonl files, %lld torn lines)", dir,
                      (long long)ev->counts.files, (long long)ev->counts.torn_lines);
    if (st != FACTO_OK) {
        facto_events_free(ev);
        return st;
    }
    *out = ev;
    return fct_ok(ctx);
}

/* ---- clicks and purchases as implicit data ---------------------------------------- */

facto_status facto_events_interactions(facto_ctx *ctx, const facto_events *ev, facto_dataset **out)
{
    *out = NULL;
    fct_coo coo;
    fct_coo_init(&coo);
    facto_idmap *users = fct_idmap_new(), *items = fct_idmap_new();
    facto_status st = users && items ? FACTO_OK : fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    for (int64_t a = 0; st == FACTO_OK && a < ev->n_act; a++) {
        if ((ev->act_type[a] != FCT_EV_CLICK && ev->act_type[a] != FCT_EV_PURCHASE) || ev->act_user[a] < 0)
            continue;
        const char *u = facto_idmap_name(ev->users, ev->act_user[a]);
        const char *i = facto_idmap_name(ev->items, ev->act_item[a]);
        int32_t ui = fct_idmap_intern(users, u, strlen(u)), ii = fct_idmap_intern(items, i, strlen(i));
        if (ui < 0 || ii < 0)
            st = fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
        else
            st = fct_coo_push(ctx, &coo, ui, ii, 1.0f, 1, (int64_t)floor(ev->act_ts[a]));
    }
    if (st == FACTO_OK && coo.n == 0)
        st = fct_fail(ctx, FACTO_ERR_EMPTY, "the event log holds no click or purchase with a user");
    if (st != FACTO_OK) {
        fct_idmap_free(users);
        fct_idmap_free(items);
        fct_coo_free(&coo);
        return st;
    }
    fct_merge merge = {1, 0.0};
    st = fct_dataset_build(ctx, &coo, users, items, &merge, out, NULL);
    fct_coo_free(&coo);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}

/* ---- joins: which shown item was clicked ------------------------------------------ */

typedef struct fct_ev_key {
    int32_t req, item;
    int64_t slot; /* index into imp_items */
} fct_ev_key;

static int fct_ev_key_cmp(const void *a, const void *b)
{
    const fct_ev_key *x = a, *y = b;
    if (x->req != y->req)
        return x->req < y->req ? -1 : 1;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* clicked[slot] = 1 when the item shown in that slot was clicked in the
 * same request (the first slate of a request_id showing the item takes
 * the click). malloc'd [n_shown]; NULL when out of memory. */
static unsigned char *fct_ev_clicked(const facto_events *ev)
{
    unsigned char *clicked = calloc((size_t)(ev->n_shown ? ev->n_shown : 1), 1);
    fct_ev_key *keys = fct_malloc_array((size_t)(ev->n_shown ? ev->n_shown : 1), sizeof *keys);
    if (!clicked || !keys) {
        free(clicked);
        free(keys);
        return NULL;
    }
    int64_t n = 0;
    for (int64_t s = 0; s < ev->n_imp; s++)
        for (int64_t x = ev->imp_ptr[s]; x < ev->imp_ptr[s + 1]; x++)
            keys[n++] = (fct_ev_key){ev->imp_req[s], ev->imp_items[x], x};
    qsort(keys, (size_t)n, sizeof *keys, fct_ev_key_cmp);
    for (int64_t a = 0; a < ev->n_act; a++) {
        if (ev->act_type[a] != FCT_EV_CLICK || ev->act_req[a] < 0)
            continue;
        int64_t lo = 0, hi = n; /* first key >= (req, item) */
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (keys[mid].req < ev->act_req[a] || (keys[mid].req == ev->act_req[a] && keys[mid].item < ev->act_item[a]))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && keys[lo].req == ev->act_req[a] && keys[lo].item == ev->act_item[a])
            clicked[keys[lo].slot] = 1;
    }
    free(keys);
    return clicked;
}

facto_status facto_events_position_ctr(facto_ctx *ctx, const facto_events *ev, int max_positions,
                                       int64_t *shown, int64_t *clicked, int *n_positions)
{
    if (max_positions < 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "max_positions %d is not >= 1", max_positions);
    unsigned char *c = fct_ev_clicked(ev);
    if (!c)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    memset(shown, 0, (size_t)max_positions * sizeof *shown);
    memset(clicked, 0, (size_t)max_positions * sizeof *clicked);
    int longest = 0;
    for (int64_t s = 0; s < ev->n_imp; s++)
        for (int64_t x = ev->imp_ptr[s]; x < ev->imp_ptr[s + 1]; x++) {
            int64_t p = x - ev->imp_ptr[s];
            if (p >= max_positions)
                break;
            shown[p]++;
            clicked[p] += c[x];
            if (p + 1 > longest)
                longest = (int)(p + 1);
        }
    free(c);
    *n_positions = longest;
    return fct_ok(ctx);
}

typedef struct fct_ev_pop {
    int64_t shown, clicked;
    int32_t item;
} fct_ev_pop;

static int fct_ev_pop_cmp(const void *a, const void *b)
{
    const fct_ev_pop *x = a, *y = b;
    if (x->shown != y->shown)
        return x->shown < y->shown ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

facto_status facto_events_popularity_ctr(facto_ctx *ctx, const facto_events *ev, int n_bins, int64_t *items,
                                         int64_t *shown, int64_t *clicked, int64_t *min_pop, int64_t *max_pop)
{
    if (n_bins < 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "n_bins %d is not >= 1", n_bins);
    if (ev->n_shown == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY, "the event log holds no impression");
    int32_t n_items = facto_idmap_size(ev->items);
    fct_ev_pop *pop = fct_calloc_array((size_t)n_items, sizeof *pop);
    unsigned char *c = fct_ev_clicked(ev);
    if (!pop || !c) {
        free(pop);
        free(c);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    for (int32_t i = 0; i < n_items; i++)
        pop[i].item = i;
    for (int64_t x = 0; x < ev->n_shown; x++) {
        pop[ev->imp_items[x]].shown++;
        pop[ev->imp_items[x]].clicked += c[x];
    }
    qsort(pop, (size_t)n_items, sizeof *pop, fct_ev_pop_cmp);
    int32_t first = 0;
    while (first < n_items && pop[first].shown == 0)
        first++;
    int64_t m = n_items - first;
    for (int b = 0; b < n_bins; b++) {
        items[b] = shown[b] = clicked[b] = 0;
        min_pop[b] = max_pop[b] = 0;
    }
    for (int64_t r = 0; r < m; r++) {
        int b = (int)(r * n_bins / m);
        const fct_ev_pop *p = &pop[first + r];
        if (items[b] == 0)
            min_pop[b] = p->shown;
        max_pop[b] = p->shown;
        items[b]++;
        shown[b] += p->shown;
        clicked[b] += p->clicked;
    }
    free(pop);
    free(c);
    return fct_ok(ctx);
}

facto_status facto_events_propensities(facto_ctx *ctx, const facto_events *ev, int max_positions, double *prop,
                                       int *n_positions)
{
    int64_t *shown = fct_malloc_array((size_t)(max_positions > 0 ? max_positions : 1), 2 * sizeof *shown);
    if (!shown)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    int64_t *clicked = shown + (max_positions > 0 ? max_positions : 1);
    facto_status st = facto_events_position_ctr(ctx, ev, max_positions, shown, clicked, n_positions);
    if (st == FACTO_OK && (shown[0] == 0 || clicked[0] == 0))
        st = fct_fail(ctx, FACTO_ERR_EMPTY,
                      "no click at position 1 (%lld items shown there): the propensities are relative to it",
                      (long long)shown[0]);
    if (st == FACTO_OK) {
        double ctr1 = (double)clicked[0] / (double)shown[0];
        for (int p = 0; p < max_positions; p++)
            prop[p] = shown[p] ? ((double)clicked[p] / (double)shown[p]) / ctr1 : 0.0;
    }
    free(shown);
    return st;
}

/* ---- IPS ------------------------------------------------------------------------------ */

facto_ips_options facto_ips_options_default(void)
{
    facto_ips_options o;
    memset(&o, 0, sizeof o);
    o.k = 5;
    o.max_weight = 10.0;
    return o;
}

typedef struct fct_ev_rank {
    float score;
    int32_t pos;
} fct_ev_rank;

static int fct_ev_rank_cmp(const void *a, const void *b)
{
    const fct_ev_rank *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1; /* higher score first */
    return (x->pos > y->pos) - (x->pos < y->pos); /* ties: the logged order */
}

facto_status fct_events_ips(facto_ctx *ctx, const facto_events *ev, fct_slate_scorer score, void *user_data,
                            const double *prop, int n_prop, const facto_ips_options *opts, facto_ips_result *res)
{
    facto_ips_options o = opts ? *opts : facto_ips_options_default();
    memset(res, 0, sizeof *res);
    if (o.k < 1 || !(o.max_weight >= 1.0))
        return fct_fail(ctx, FACTO_ERR_INVALID, "IPS: k (%d) must be >= 1 and the largest weight (%g) >= 1", o.k,
                        o.max_weight);
    if (n_prop < 1 || fabs(prop[0] - 1.0) > 1e-9)
        return fct_fail(ctx, FACTO_ERR_INVALID, "IPS: the propensities must start with position 1's, 1");
    int32_t longest = 0;
    for (int64_t s = 0; s < ev->n_imp; s++)
        if (ev->imp_ptr[s + 1] - ev->imp_ptr[s] > longest)
            longest = (int32_t)(ev->imp_ptr[s + 1] - ev->imp_ptr[s]);
    unsigned char *c = fct_ev_clicked(ev);
    float *scores = fct_malloc_array((size_t)(longest ? longest : 1), sizeof *scores);
    fct_ev_rank *rank = fct_malloc_array((size_t)(longest ? longest : 1), sizeof *rank);
    facto_status st = c && scores && rank ? FACTO_OK : fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    double ips = 0, clipped = 0, naive = 0;
    for (int64_t s = 0; st == FACTO_OK && s < ev->n_imp; s++) {
        int32_t n = (int32_t)(ev->imp_ptr[s + 1] - ev->imp_ptr[s]);
        const int32_t *items = ev->imp_items + ev->imp_ptr[s];
        int r = score(user_data, ev, s, items, n, scores);
        if (r < 0) {
            st = facto_errcode(ctx) != FACTO_OK ? facto_errcode(ctx) : fct_fail(ctx, FACTO_ERR_INTERNAL, "scorer failed");
            break;
        }
        if (r == 1) {
            res->slates_unknown_user++;
            continue;
        }
        if (r == 2) {
            res->slates_unknown_item++;
            continue;
        }
        for (int32_t x = 0; x < n; x++)
            rank[x] = (fct_ev_rank){scores[x], x};
        qsort(rank, (size_t)n, sizeof *rank, fct_ev_rank_cmp);
        int32_t k = n < o.k ? n : o.k;
        res->slates_used++;
        res->slots_used += k;
        for (int32_t j = 0; j < k; j++) {
            int32_t p = rank[j].pos;
            if (!c[ev->imp_ptr[s] + p])
                continue;
            naive += 1.0; /* every click: the naive estimate needs no propensity */
            if (p >= n_prop || !(prop[p] > 0)) {
                res->clicks_unknown_position++;
                continue;
            }
            double w = 1.0 / prop[p];
            res->clicks_used++;
            ips += w;
            clipped += w < o.max_weight ? w : o.max_weight;
        }
    }
    free(c);
    free(scores);
    free(rank);
    if (st != FACTO_OK)
        return st;
    if (res->slots_used == 0)
        return fct_fail(ctx, FACTO_ERR_EMPTY,
                        "IPS: no slate could be used (%lld with a user the model lacks, %lld with an item it lacks)",
                        (long long)res->slates_unknown_user, (long long)res->slates_unknown_item);
    res->ctr_ips = ips / (double)res->slots_used;
    res->ctr_clipped = clipped / (double)res->slots_used;
    res->ctr_naive = naive / (double)res->slots_used;
    return fct_ok(ctx);
}
