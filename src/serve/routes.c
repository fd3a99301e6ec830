/*
 * routes.c — the answers of the model routes, through the model interface
 * only (facto_model_predict, _predict_rows, _recommend, _recommend_history,
 * _similar); nothing here asks the model's kind, only what it scores
 * (facto_model_inputs) and predicts (facto_model_task).
 *
 *   POST /invocations      a model that scores feature rows: SageMaker's
 *                          bodies through facto_inference_request_parse and
 *                          facto_inference_response_write (formats.c); a
 *                          model with ids: {"instances": [{"user", "item"}]}
 *                          (or one such object a line, JSON Lines)
 *   /recommendations       top-k for a training user, a history (fold-in),
 *                          or the model's fallback for an unknown user
 *   /similar-items         the k items most like one item
 *
 * Cost: one request's parse (O(body)) plus the model's scoring.
 */
#include "data/events.h"
#include "serve/serve.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV_DEFAULT_K 10
#define SRV_MAX_HISTORY 100000

/* ---- helpers ---------------------------------------------------------------- */

/* An id from JSON into buf: a string (valid UTF-8, checked by jansson) in
 * facto_id_escape's form, read back by srv_id_read, or an integer (its
 * decimal text). NULL with `why` otherwise. */
static const char *srv_json_id(const json_t *j, char buf[FACTO_MAX_ID_LEN + 1], const char **why)
{
    if (json_is_string(j)) {
        if (strlen(json_string_value(j)) != json_string_length(j)) {
            *why = "holds a NUL";
            return NULL;
        }
        return srv_id_read(json_string_value(j), buf, 0, why) ? buf : NULL;
    }
    if (json_is_integer(j)) {
        snprintf(buf, 32, "%lld", (long long)json_integer_value(j));
        return buf;
    }
    *why = "is not a string or an integer id";
    return NULL;
}

/* k from text: an integer in 1..max_k; 0 when it is not one. */
static int srv_parse_k(const char *text, int max_k)
{
    if (!text || !*text)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < 1 || v > max_k)
        return 0;
    return (int)v;
}

/* A flag from text: 1/true/yes, 0/false/no; -1 otherwise. */
static int srv_parse_flag(const char *text)
{
    if (!text || strcmp(text, "1") == 0 || strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 ||
        strcmp(text, "") == 0)
        return 1;
    if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0 || strcmp(text, "no") == 0)
        return 0;
    return -1;
}

static void srv_answer_json(srv_answer *a)
{
    a->status = 200;
    a->content_type = "application/json";
}

/* The type an answer is written in: Accept, else the request's own type
 * (or JSON). 0 and an answer (406) when Accept names nothing we write. */
static int srv_accept_type(const srv_call *c, srv_answer *a, facto_content_type request_type,
                           facto_content_type *out)
{
    *out = request_type;
    if (!c->accept || !*c->accept)
        return 1;
    facto_ctx *ctx = c->ctx;
    if (facto_content_type_parse(ctx, c->accept, out) != FACTO_OK) {
        srv_error(a, c, 406, "not_acceptable",
                  "Accept '%.200s' names no type this server writes: application/json, application/jsonlines, "
                  "application/x-recordio-protobuf",
                  c->accept);
        return 0;
    }
    /* a wildcard Accept means the request's own type */
    if (strstr(c->accept, "*/*") && !strstr(c->accept, "application/j") && !strstr(c->accept, "application/x"))
        *out = request_type;
    return 1;
}

/* ---- POST /invocations --------------------------------------------------------- */

/* Feature rows: SageMaker's bodies, the library's parser and writer. */
static void srv_invoke_rows(const srv_call *c, srv_answer *a, facto_content_type in, facto_content_type out)
{
    facto_rows *rows = NULL;
    facto_status st = facto_inference_request_parse(c->ctx, in, c->body, c->body_len, c->m->feature_dim, &rows);
    if (st != FACTO_OK) {
        srv_error_status(a, c, st);
        return;
    }
    int64_t n = facto_rows_count(rows);
    if (n > c->max_instances) {
        srv_error(a, c, 413, "too_many_instances", "the request holds %lld instances; the limit is %d (--max-instances)",
                  (long long)n, c->max_instances);
        facto_rows_free(rows);
        return;
    }
    float *scores = malloc((size_t)n * sizeof *scores);
    float *labels = c->m->task == FACTO_TASK_BINARY ? malloc((size_t)n * sizeof *labels) : NULL;
    if (!scores || (c->m->task == FACTO_TASK_BINARY && !labels)) {
        srv_error(a, c, 503, "out_of_memory", "no memory for %lld scores", (long long)n);
    } else if ((st = facto_model_predict_rows(c->ctx, c->m->model, rows, scores, labels)) != FACTO_OK) {
        srv_error_status(a, c, st);
    } else if ((st = facto_inference_response_write(c->ctx, out, scores, labels, n, &a->raw, &a->raw_len)) !=
               FACTO_OK) {
        srv_error_status(a, c, st);
    } else {
        a->status = 200;
        a->content_type = facto_content_type_name(out);
    }
    free(scores);
    free(labels);
    facto_rows_free(rows);
}

typedef struct srv_pairs {
    char (*users)[256];
    char (*items)[256];
    int64_t n, cap;
} srv_pairs;

/* One {"user": U, "item": I} instance into p; 0 and an answer when bad. */
static int srv_pair_add(const srv_call *c, srv_answer *a, srv_pairs *p, const json_t *inst, int64_t index)
{
    if (p->n >= c->max_instances) {
        srv_error(a, c, 413, "too_many_instances", "the request holds more than %d instances, the limit (--max-instances)",
                  c->max_instances);
        return 0;
    }
    if (!json_is_object(inst)) {
        srv_error(a, c, 400, "bad_instance", "instance %lld is %s, not {\"user\": ID, \"item\": ID}",
                  (long long)index, fct_json_kind(inst));
        return 0;
    }
    const json_t *uj = json_object_get(inst, "user"), *ij = json_object_get(inst, "item");
    char ub[FACTO_MAX_ID_LEN + 1], ib[FACTO_MAX_ID_LEN + 1];
    const char *uwhy = "", *iwhy = "";
    const char *u = uj ? srv_json_id(uj, ub, &uwhy) : NULL, *i = ij ? srv_json_id(ij, ib, &iwhy) : NULL;
    if (!uj || !ij) {
        srv_error(a, c, 400, "bad_instance",
                  "instance %lld has no \"%s\"; this model predicts (user, item) pairs: "
                  "{\"instances\": [{\"user\": ID, \"item\": ID}, ...]}",
                  (long long)index, !uj ? "user" : "item");
        return 0;
    }
    if (!u || !i) {
        srv_error(a, c, 400, "bad_instance", "instance %lld: \"%s\" (%s) %s", (long long)index, !u ? "user" : "item",
                  fct_json_kind(!u ? uj : ij), !u ? uwhy : iwhy);
        return 0;
    }
    if (p->n == p->cap) {
        int64_t cap = p->cap ? p->cap * 2 : 16;
        void *nu = realloc(p->users, (size_t)cap * sizeof *p->users);
        if (nu)
            p->users = nu;
        void *ni = nu ? realloc(p->items, (size_t)cap * sizeof *p->items) : NULL;
        if (ni)
            p->items = ni;
        if (!nu || !ni) {
            srv_error(a, c, 503, "out_of_memory", "no memory for %lld instances", (long long)cap);
            return 0;
        }
        p->cap = cap;
    }
    memcpy(p->users[p->n], u, strlen(u) + 1);
    memcpy(p->items[p->n], i, strlen(i) + 1);
    p->n++;
    return 1;
}

/* (user, item) pairs by id: JSON {"instances": [...]} or one a line. */
static void srv_invoke_pairs(const srv_call *c, srv_answer *a, facto_content_type in, facto_content_type out)
{
    srv_pairs p = {0};
    json_error_t err;
    int ok = 1;
    if (in == FACTO_CONTENT_RECORDIO) {
        srv_error(a, c, 415, "unsupported_media_type",
                  "this model predicts (user, item) pairs by id: send application/json "
                  "{\"instances\": [{\"user\": ID, \"item\": ID}, ...]} or application/jsonlines");
        return;
    }
    if (in == FACTO_CONTENT_JSON) {
        json_t *root = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!root) {
            srv_error(a, c, 400, "malformed_json", "JSON error at line %d column %d: %s", err.line, err.column, err.text);
            return;
        }
        const json_t *inst = json_is_object(root) ? json_object_get(root, "instances") : NULL;
        if (!inst || !json_is_array(inst)) {
            srv_error(a, c, 400, "bad_request", "expected {\"instances\": [{\"user\": ID, \"item\": ID}, ...]}");
            ok = 0;
        }
        for (size_t x = 0; ok && x < json_array_size(inst); x++)
            ok = srv_pair_add(c, a, &p, json_array_get(inst, x), (int64_t)x);
        json_decref(root);
    } else {
        const char *body = c->body ? c->body : "";
        size_t pos = 0, size = c->body_len;
        int64_t line = 0;
        while (ok && pos < size) {
            const char *nl = memchr(body + pos, '\n', size - pos);
            size_t end = nl ? (size_t)(nl - body) : size;
            line++;
            size_t s0 = pos, s1 = end;
            while (s0 < s1 && (body[s0] == ' ' || body[s0] == '\t' || body[s0] == '\r'))
                s0++;
            pos = end + 1;
            if (s0 == s1)
                continue;
            json_t *j = json_loadb(body + s0, s1 - s0, JSON_REJECT_DUPLICATES, &err);
            if (!j) {
                srv_error(a, c, 400, "malformed_json", "line %lld: JSON error at column %d: %s", (long long)line,
                          err.column, err.text);
                ok = 0;
                break;
            }
            ok = srv_pair_add(c, a, &p, j, p.n);
            json_decref(j);
        }
    }
    if (ok && p.n == 0) {
        srv_error(a, c, 400, "no_instances", "the request holds no instances");
        ok = 0;
    }
    float *scores = ok ? malloc((size_t)p.n * sizeof *scores) : NULL;
    int *flags = ok ? malloc((size_t)p.n * sizeof *flags) : NULL;
    if (ok && (!scores || !flags)) {
        srv_error(a, c, 503, "out_of_memory", "no memory for %lld scores", (long long)p.n);
        ok = 0;
    }
    for (int64_t x = 0; ok && x < p.n; x++) {
        facto_status st = facto_model_predict(c->ctx, c->m->model, p.users[x], p.items[x], &scores[x], &flags[x]);
        if (st != FACTO_OK) {
            srv_error_status(a, c, st);
            ok = 0;
        }
    }
    if (ok) {
        int binary = c->m->task == FACTO_TASK_BINARY;
        if (out == FACTO_CONTENT_RECORDIO) {
            float *labels = binary ? malloc((size_t)p.n * sizeof *labels) : NULL;
            for (int64_t x = 0; labels && x < p.n; x++)
                labels[x] = scores[x] >= 0.5f ? 1.0f : 0.0f;
            facto_status st = binary && !labels ? FACTO_ERR_NOMEM
                                                : facto_inference_response_write(c->ctx, out, scores, labels, p.n,
                                                                                 &a->raw, &a->raw_len);
            free(labels);
            if (st != FACTO_OK)
                srv_error_status(a, c, st);
            else {
                a->status = 200;
                a->content_type = facto_content_type_name(out);
            }
        } else {
            /* SageMaker's prediction objects, plus the flags of ids the model never saw */
            int json = out == FACTO_CONTENT_JSON;
            srv_buf *b = &a->body;
            if (json)
                srv_buf_str(b, "{\"predictions\": [");
            for (int64_t x = 0; x < p.n; x++) {
                if (json && x > 0)
                    srv_buf_str(b, ", ");
                srv_buf_str(b, "{\"score\": ");
                srv_buf_json_float(b, scores[x]);
                if (binary)
                    srv_buf_printf(b, ", \"predicted_label\": %d", scores[x] >= 0.5f ? 1 : 0);
                if (flags[x] & FACTO_PRED_UNKNOWN_USER)
                    srv_buf_str(b, ", \"unknown_user\": true");
                if (flags[x] & FACTO_PRED_UNKNOWN_ITEM)
                    srv_buf_str(b, ", \"unknown_item\": true");
                srv_buf_str(b, json ? "}" : "}\n");
            }
            if (json)
                srv_buf_str(b, "]}\n");
            a->status = 200;
            a->content_type = facto_content_type_name(out);
        }
    }
    free(scores);
    free(flags);
    free(p.users);
    free(p.items);
}

void srv_route_invocations(const srv_call *c, srv_answer *a)
{
    if (!c->content_type || !*c->content_type) {
        srv_error(a, c, 415, "unsupported_media_type",
                  "no Content-Type: use application/json, application/jsonlines or application/x-recordio-protobuf");
        return;
    }
    facto_content_type in, out;
    if (facto_content_type_parse(c->ctx, c->content_type, &in) != FACTO_OK ||
        strchr(c->content_type, '*') != NULL) {
        srv_error(a, c, 415, "unsupported_media_type",
                  "Content-Type '%.200s' is not application/json, application/jsonlines or "
                  "application/x-recordio-protobuf",
                  c->content_type);
        return;
    }
    if (!srv_accept_type(c, a, in, &out))
        return;
    if (c->m->inputs & FACTO_INPUT_ROWS)
        srv_invoke_rows(c, a, in, out);
    else if (c->m->inputs & FACTO_INPUT_RATINGS)
        srv_invoke_pairs(c, a, in, out);
    else
        srv_error(a, c, 400, "unsupported", "this model scores neither feature rows nor (user, item) pairs");
}

/* ---- top-N answers ---------------------------------------------------------------- */

static void srv_write_items(const srv_call *c, srv_buf *b, const facto_recommendation *rec, int n)
{
    const facto_idmap *items = facto_model_items(c->m->model);
    srv_buf_str(b, "\"items\": [");
    for (int x = 0; x < n; x++) {
        srv_buf_str(b, x ? ", {\"item\": " : "{\"item\": ");
        srv_buf_json_id(b, facto_idmap_name(items, rec[x].item));
        srv_buf_str(b, ", \"score\": ");
        srv_buf_json_float(b, rec[x].score);
        if (c->m->titles && rec[x].item >= 0 && rec[x].item < c->m->n_titles && c->m->titles[rec[x].item]) {
            srv_buf_str(b, ", \"title\": ");
            srv_buf_json_str(b, c->m->titles[rec[x].item]);
        }
        srv_buf_str(b, "}");
    }
    srv_buf_str(b, "]");
}

static int srv_need_ids(const srv_call *c, srv_answer *a)
{
    if (facto_model_items(c->m->model))
        return 1;
    srv_error(a, c, 400, "unsupported", "this %s model scores feature rows and has no item ids: use /invocations",
              c->m->kind);
    return 0;
}

/* One user's list: a training user, or (unknown) the model's fallback for
 * a user it never saw, flagged "unknown_user": true. */
static void srv_recommend_user(const srv_call *c, srv_answer *a, const char *user, int k, int include_seen)
{
    facto_recommendation *rec = malloc((size_t)k * sizeof *rec);
    if (!rec) {
        srv_error(a, c, 503, "out_of_memory", "no memory for %d items", k);
        return;
    }
    int n = 0, unknown = 0;
    facto_status st = facto_model_recommend(c->ctx, c->m->model, user, k, include_seen, rec, &n);
    if (st == FACTO_ERR_NOT_FOUND) {
        /* the documented fallback: the model's answer for nobody in particular */
        unknown = 1;
        st = facto_model_recommend_history(c->ctx, c->m->model, NULL, NULL, 0, k, rec, &n, NULL);
    }
    if (st != FACTO_OK) {
        srv_error_status(a, c, st);
        free(rec);
        return;
    }
    if (!srv_log_impression(c, a, user, rec, n, "/recommendations")) {
        free(rec);
        return;
    }
    srv_answer_json(a);
    srv_buf *b = &a->body;
    srv_buf_str(b, "{\"request_id\": ");
    srv_buf_json_str(b, c->request_id);
    srv_buf_str(b, ", \"user\": ");
    srv_buf_json_id(b, user);
    /* a fallback list is the model's answer for an empty history, whose scores are on the
     * fallback's own scale (item-based kinds: training counts): flagged, so a client ranks by
     * them without comparing them with a known user's */
    srv_buf_str(b, unknown ? ", \"unknown_user\": true, \"fallback\": \"no_history\", " : ", \"unknown_user\": false, ");
    srv_write_items(c, b, rec, n);
    srv_buf_str(b, "}\n");
    free(rec);
}

static void srv_recommend_history(const srv_call *c, srv_answer *a, const json_t *hist, int k)
{
    size_t n = json_array_size(hist);
    if (n > SRV_MAX_HISTORY) {
        srv_error(a, c, 413, "history_too_long", "the history holds %zu items; the limit is %d", n, SRV_MAX_HISTORY);
        return;
    }
    char (*ids)[FACTO_MAX_ID_LEN + 1] = malloc((n ? n : 1) * sizeof *ids);
    const char **items = malloc((n ? n : 1) * sizeof *items);
    facto_recommendation *rec = malloc((size_t)k * sizeof *rec);
    if (!ids || !items || !rec) {
        srv_error(a, c, 503, "out_of_memory", "no memory for a history of %zu items", n);
        goto done;
    }
    for (size_t x = 0; x < n; x++) {
        const json_t *j = json_array_get(hist, x);
        const char *why = "";
        items[x] = srv_json_id(j, ids[x], &why);
        if (!items[x]) {
            srv_error(a, c, 400, "bad_history", "history[%zu] (%s) %s", x, fct_json_kind(j), why);
            goto done;
        }
    }
    int n_out = 0;
    int32_t n_unknown = 0;
    facto_status st = facto_model_recommend_history(c->ctx, c->m->model, items, NULL, (int32_t)n, k, rec, &n_out,
                                                    &n_unknown);
    if (st != FACTO_OK) {
        srv_error_status(a, c, st);
        goto done;
    }
    if (!srv_log_impression(c, a, NULL, rec, n_out, "/recommendations"))
        goto done;
    srv_answer_json(a);
    srv_buf *b = &a->body;
    srv_buf_str(b, "{\"request_id\": ");
    srv_buf_json_str(b, c->request_id);
    srv_buf_printf(b, ", \"history_items\": %zu, \"unknown_items\": %d, ", n, (int)n_unknown);
    srv_write_items(c, b, rec, n_out);
    srv_buf_str(b, "}\n");
done:
    free(ids);
    free(items);
    free(rec);
}

void srv_route_recommendations(const srv_call *c, srv_answer *a)
{
    if (!srv_need_ids(c, a))
        return;
    const char *kt = c->arg(c->conn, "k");
    int k = kt ? srv_parse_k(kt, c->max_k) : SRV_DEFAULT_K;
    if (k == 0) {
        srv_error(a, c, 400, "bad_k", "k '%.40s' is not an integer from 1 to %d", kt, c->max_k);
        return;
    }
    const char *st = c->arg(c->conn, "include_seen");
    int include_seen = st ? srv_parse_flag(st) : 0;
    if (include_seen < 0) {
        srv_error(a, c, 400, "bad_include_seen", "include_seen '%.40s' is not 1, 0, true or false", st);
        return;
    }
    if (strcmp(c->method, "GET") == 0) {
        const char *user = c->arg(c->conn, "user"), *why = "";
        char ub[FACTO_MAX_ID_LEN + 1];
        if (!user || !*user) {
            srv_error(a, c, 400, "missing_user", "give ?user=ID (and optionally k=N, include_seen=1)");
            return;
        }
        if (!srv_id_read(user, ub, 0, &why)) {
            srv_error(a, c, 400, "bad_id", "the user id %s", why);
            return;
        }
        srv_recommend_user(c, a, ub, k, include_seen);
        return;
    }
    /* POST: {"user": ID} or {"history": [items]}, optionally "k", "include_seen" */
    if (c->content_type && *c->content_type) {
        facto_content_type t;
        if (facto_content_type_parse(c->ctx, c->content_type, &t) != FACTO_OK || t != FACTO_CONTENT_JSON) {
            srv_error(a, c, 415, "unsupported_media_type", "Content-Type '%.200s' is not application/json",
                      c->content_type);
            return;
        }
    }
    json_error_t err;
    json_t *root = json_loadb(c->body ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        srv_error(a, c, 400, "malformed_json", "JSON error at line %d column %d: %s", err.line, err.column, err.text);
        return;
    }
    const json_t *user = json_object_get(root, "user"), *hist = json_object_get(root, "history");
    const json_t *kj = json_object_get(root, "k"), *sj = json_object_get(root, "include_seen");
    char ub[FACTO_MAX_ID_LEN + 1];
    const char *why = "";
    if (!json_is_object(root)) {
        srv_error(a, c, 400, "bad_request", "expected {\"user\": ID} or {\"history\": [ITEM, ...]}, not %s",
                  fct_json_kind(root));
    } else if (kj && (!json_is_integer(kj) || json_integer_value(kj) < 1 || json_integer_value(kj) > c->max_k)) {
        srv_error(a, c, 400, "bad_k", "\"k\" is not an integer from 1 to %d", c->max_k);
    } else if (sj && !json_is_boolean(sj) && !json_is_integer(sj)) {
        srv_error(a, c, 400, "bad_include_seen", "\"include_seen\" is %s, not a boolean", fct_json_kind(sj));
    } else if ((user != NULL) == (hist != NULL)) {
        srv_error(a, c, 400, "bad_request", "give exactly one of \"user\" and \"history\"");
    } else {
        if (kj)
            k = (int)json_integer_value(kj);
        if (sj)
            include_seen = json_is_true(sj) || (json_is_integer(sj) && json_integer_value(sj) != 0);
        if (user) {
            const char *u = srv_json_id(user, ub, &why);
            if (!u)
                srv_error(a, c, 400, "bad_user", "\"user\" (%s) %s", fct_json_kind(user), why);
            else
                srv_recommend_user(c, a, u, k, include_seen);
        } else if (!json_is_array(hist)) {
            srv_error(a, c, 400, "bad_history", "\"history\" is %s, not an array of item ids", fct_json_kind(hist));
        } else {
            srv_recommend_history(c, a, hist, k);
        }
    }
    json_decref(root);
}

void srv_route_similar(const srv_call *c, srv_answer *a)
{
    if (!srv_need_ids(c, a))
        return;
    const char *item = c->arg(c->conn, "item");
    const char *kt = c->arg(c->conn, "k");
    /* the viewer, when the page names one: only recorded in a logged impression */
    const char *viewer = c->arg(c->conn, "user"), *why = "";
    char vb[FACTO_MAX_ID_LEN + 1], ib[FACTO_MAX_ID_LEN + 1];
    viewer = viewer && srv_id_read(viewer, vb, 0, &why) ? vb : NULL;
    int k = kt ? srv_parse_k(kt, c->max_k) : SRV_DEFAULT_K;
    if (!item || !*item) {
        srv_error(a, c, 400, "missing_item", "give ?item=ID (and optionally k=N)");
        return;
    }
    if (k == 0) {
        srv_error(a, c, 400, "bad_k", "k '%.40s' is not an integer from 1 to %d", kt, c->max_k);
        return;
    }
    if (!srv_id_read(item, ib, 0, &why)) {
        srv_error(a, c, 400, "bad_id", "the item id %s", why);
        return;
    }
    item = ib;
    facto_recommendation *rec = malloc((size_t)k * sizeof *rec);
    if (!rec) {
        srv_error(a, c, 503, "out_of_memory", "no memory for %d items", k);
        return;
    }
    int n = 0;
    facto_status st = facto_model_similar(c->ctx, c->m->model, item, k, rec, &n);
    if (st == FACTO_ERR_NOT_FOUND) {
        srv_error(a, c, 404, "unknown_item", "the model has no item '%.255s'", c->arg(c->conn, "item"));
    } else if (st != FACTO_OK) {
        srv_error_status(a, c, st);
    } else if (srv_log_impression(c, a, viewer, rec, n, "/similar-items")) {
        srv_answer_json(a);
        srv_buf *b = &a->body;
        srv_buf_str(b, "{\"request_id\": ");
        srv_buf_json_str(b, c->request_id);
        srv_buf_str(b, ", \"item\": ");
        srv_buf_json_id(b, item);
        srv_buf_str(b, ", ");
        srv_write_items(c, b, rec, n);
        srv_buf_str(b, "}\n");
    }
    free(rec);
}
