/*
 * server.c — facto_serve_run: one model behind HTTP on libmicrohttpd
 * (epoll, a pool of worker threads). Here: reading requests (headers, the
 * body up to max_body_bytes, refused early from Content-Length), the API
 * key (constant-time comparison), the route table, error bodies, the
 * reference-counted model handle and its atomic swap on reload (SIGHUP or
 * POST /admin/reload), Prometheus metrics, SageMaker's environment, and the
 * signal loop (SIGTERM / SIGINT: stop accepting, let requests in flight
 * finish, return). The routes' own answers are in routes.c.
 *
 * Threads: libmicrohttpd's workers run the routes; each request takes a
 * reference to the current model, so a reload never frees a model a
 * request is using (the last reference frees it). Counters are atomics;
 * the current-model pointer is guarded by a mutex held only to take a
 * reference or swap. The calling thread waits in sigwait().
 */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SRV_DEFAULT_PORT 8080
#define SRV_DRAIN_SECONDS 30

/* ---- routes and metrics -------------------------------------------------------- */

enum {
    R_PING,
    R_INVOCATIONS,
    R_RECOMMENDATIONS,
    R_SIMILAR,
    R_METRICS,
    R_RELOAD,
    R_EVENTS,
    R_PAGE,
    R_USERS,
    R_EVENTS_STATS,
    R_OTHER,
    R_COUNT
};
static const char *const srv_route_names[R_COUNT] = {
    "/ping", "/invocations", "/recommendations", "/similar-items", "/metrics", "/admin/reload",
    "/events", "/", "/users", "/events/stats", "other"};

static const unsigned srv_statuses[] = {200, 400, 401, 404, 405, 406, 413, 415, 500, 503};
#define S_COUNT (sizeof srv_statuses / sizeof srv_statuses[0] + 1) /* + "other" */

/* latency histogram bounds, seconds */
static const double srv_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
#define B_COUNT (sizeof srv_buckets / sizeof srv_buckets[0])

typedef struct srv_metrics {
    atomic_ullong requests[R_COUNT][S_COUNT];
    atomic_ullong other_status[R_COUNT]; /* the status of the "other" column, last seen */
    atomic_ullong hist[R_COUNT][B_COUNT + 1];
    atomic_ullong sum_ns[R_COUNT];
    atomic_ullong reloads_ok, reloads_failed;
} srv_metrics;

typedef struct srv {
    facto_serve_options o;
    const char *model_path;
    char model_path_buf[4096];
    struct MHD_Daemon *d;
    pthread_mutex_t model_lock;  /* guards `current` */
    srv_model *current;
    pthread_mutex_t reload_lock; /* one reload at a time */
    pthread_mutex_t log_lock;
    facto_ctx *log_ctx;          /* the caller's ctx: its log function only */
    atomic_int in_flight;
    atomic_ullong next_id;
    unsigned long long id_prefix;
    srv_metrics met;
    double started_at;
    srv_events *events; /* --events-dir, or NULL */
    pthread_key_t ctx_key; /* each worker thread's request ctx (freed when the thread ends) */
} srv;

static double srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t srv_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void srv_log(srv *s, facto_log_level level, const char *fmt, ...) FACTO_PRINTF(3, 4);
static void srv_log(srv *s, facto_log_level level, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->log_lock);
    fct_log(s->log_ctx, level, "%s", line);
    pthread_mutex_unlock(&s->log_lock);
}

/* ---- the model handle ------------------------------------------------------------- */

static void srv_model_release(srv_model *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        facto_titles_free(m->titles, m->n_titles);
        facto_model_free(m->model);
        free(m);
    }
}

static srv_model *srv_model_acquire(srv *s)
{
    pthread_mutex_lock(&s->model_lock);
    srv_model *m = s->current;
    atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&s->model_lock);
    return m;
}

/* The checksum stored in the file's last 8 bytes (XXH64, docs/format.md). */
static void srv_file_checksum(const char *path, char out[17])
{
    snprintf(out, 17, "unknown");
    FILE *f = fopen(path, "rb");
    unsigned char b[8];
    if (f && fseek(f, -8, SEEK_END) == 0 && fread(b, 1, 8, f) == 8) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | b[i];
        snprintf(out, 17, "%016llx", (unsigned long long)v);
    }
    if (f)
        fclose(f);
}

/* Load the model file into a new handle (one reference). */
static facto_status srv_model_load(facto_ctx *ctx, const srv *s, srv_model **out)
{
    *out = NULL;
    double t0 = srv_now();
    facto_model *model = NULL;
    facto_status st = facto_model_load(ctx, s->model_path, &model);
    if (st != FACTO_OK)
        return st;
    srv_model *m = calloc(1, sizeof *m);
    if (!m) {
        facto_model_free(model);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "out of memory");
    }
    m->model = model;
    atomic_init(&m->refs, 1);
    m->kind = facto_model_kind_name(facto_model_get_kind(model));
    m->task = facto_model_task(model);
    m->inputs = facto_model_inputs(model);
    if (m->inputs & FACTO_INPUT_ROWS) {
        facto_params *p = NULL;
        char buf[64] = "";
        if (facto_model_params(ctx, model, &p) == FACTO_OK &&
            facto_params_get(ctx, p, "feature_dim", buf, sizeof buf) == FACTO_OK && buf[0])
            m->feature_dim = strtoull(buf, NULL, 10);
        facto_params_free(p);
    }
    if (s->o.titles_dir && facto_model_items(model)) {
        st = facto_titles_read(ctx, s->o.titles_dir, facto_model_items(model), &m->titles, &m->n_titles);
        if (st != FACTO_OK) {
            srv_model_release(m);
            return st;
        }
    }
    srv_file_checksum(s->model_path, m->checksum);
    m->loaded_at = srv_now();
    m->load_seconds = m->loaded_at - t0;
    *out = m;
    return fct_ok(ctx);
}

/* Load the file again and swap it in; the old model stays on failure. */
static facto_status srv_reload(srv *s, facto_ctx *ctx, const char *why)
{
    pthread_mutex_lock(&s->reload_lock);
    srv_model *m = NULL;
    facto_status st = srv_model_load(ctx, s, &m);
    if (st != FACTO_OK) {
        atomic_fetch_add(&s->met.reloads_failed, 1);
        srv_log(s, FACTO_LOG_WARN, "reload (%s) refused, the old model keeps serving: %s", why, facto_errmsg(ctx));
    } else {
        pthread_mutex_lock(&s->model_lock);
        srv_model *old = s->current;
        s->current = m;
        pthread_mutex_unlock(&s->model_lock);
        srv_model_release(old);
        atomic_fetch_add(&s->met.reloads_ok, 1);
        srv_log(s, FACTO_LOG_INFO, "reloaded %s (%s): %s model, checksum %s, %.3f s", s->model_path, why, m->kind,
                m->checksum, m->load_seconds);
    }
    pthread_mutex_unlock(&s->reload_lock);
    return st;
}

/* ---- answers ---------------------------------------------------------------------- */

void srv_error(srv_answer *a, const srv_call *c, unsigned status, const char *code, const char *fmt, ...)
{
    char detail[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    free(a->body.p);
    memset(&a->body, 0, sizeof a->body);
    free(a->raw);
    a->raw = NULL;
    a->status = status;
    a->content_type = "application/json";
    srv_buf_str(&a->body, "{\"error\": ");
    srv_buf_json_str(&a->body, code);
    srv_buf_str(&a->body, ", \"detail\": ");
    srv_buf_json_str(&a->body, detail);
    if (c && c->request_id) {
        srv_buf_str(&a->body, ", \"request_id\": ");
        srv_buf_json_str(&a->body, c->request_id);
    }
    srv_buf_str(&a->body, "}\n");
}

void srv_error_status(srv_answer *a, const srv_call *c, facto_status st)
{
    const char *msg = facto_errmsg(c->ctx);
    switch (st) {
    case FACTO_ERR_PARSE:
    case FACTO_ERR_INVALID:
    case FACTO_ERR_EMPTY: srv_error(a, c, 400, "bad_request", "%s", msg); break;
    case FACTO_ERR_NOT_FOUND: srv_error(a, c, 404, "not_found", "%s", msg); break;
    case FACTO_ERR_NOMEM: srv_error(a, c, 503, "out_of_memory", "%s", msg); break;
    default: srv_error(a, c, 500, "internal", "%s: %s", facto_status_str(st), msg); break;
    }
}

/* ---- per-request state ------------------------------------------------------------ */

typedef struct srv_req {
    int route;
    uint64_t t0;
    unsigned status; /* what was answered; 0 = nothing yet */
    char *body;
    size_t len, cap;
    int too_large;
    int bad_escape; /* the request line's URI holds a '%' not followed by two hex digits (1) or a %00 (2) */
} srv_req;

/* What srv_uri_seen hands the handler (as *con_cls) for a URI with a bad
 * %-escape or a %00: marks, not allocations, so a request that
 * libmicrohttpd ends before the handler runs leaves nothing to free.
 * (libmicrohttpd decodes %00 to a NUL that would end the value early:
 * "user=196%00x" would be read as user 196.) */
static char srv_bad_escape_marks[2];
#define srv_is_mark(p) ((p) == &srv_bad_escape_marks[0] || (p) == &srv_bad_escape_marks[1])

static int srv_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* MHD_OPTION_URI_LOG_CALLBACK: the raw URI, before libmicrohttpd decodes
 * it (which keeps a bad escape such as "%zz" or a final "%4" as literal
 * text). Its return value is the handler's first *con_cls. */
static void *srv_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    for (const char *p = uri ? strchr(uri, '%') : NULL; p; p = strchr(p + 1, '%')) {
        if (!srv_hex(p[1]) || !srv_hex(p[2]))
            return &srv_bad_escape_marks[0];
        if (p[1] == '0' && p[2] == '0')
            return &srv_bad_escape_marks[1];
    }
    return NULL;
}

static int srv_route_of(const char *url)
{
    for (int r = 0; r < R_OTHER; r++)
        if (strcmp(url, srv_route_names[r]) == 0)
            return r;
    return R_OTHER;
}

/* The first query argument named twice ("k=2&k=3"), or NULL: a repeated
 * key is refused, as a repeated JSON key is, instead of taking either. */
typedef struct srv_arg_seen {
    const char *names[8];
    int n;
    const char *repeated;
} srv_arg_seen;

static enum MHD_Result srv_arg_count(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    srv_arg_seen *seen = cls;
    for (int i = 0; i < seen->n; i++)
        if (strcmp(seen->names[i], key) == 0) {
            seen->repeated = key;
            return MHD_NO;
        }
    if (seen->n < (int)(sizeof seen->names / sizeof seen->names[0]))
        seen->names[seen->n++] = key;
    return MHD_YES;
}

static const char *srv_repeated_arg(struct MHD_Connection *conn)
{
    srv_arg_seen seen = {{NULL}, 0, NULL};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, srv_arg_count, &seen);
    return seen.repeated;
}

static const char *srv_arg(void *conn, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result srv_send(struct MHD_Connection *conn, srv_req *r, srv_answer *a, const char *allow)
{
    struct MHD_Response *resp;
    if (a->raw) {
        resp = MHD_create_response_from_buffer(a->raw_len, a->raw, MHD_RESPMEM_MUST_FREE);
        a->raw = NULL;
    } else if (a->body.failed) {
        free(a->body.p);
        static const char oom[] = "{\"error\": \"out_of_memory\", \"detail\": \"no memory for the answer\"}\n";
        a->status = 503;
        a->content_type = "application/json";
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(a->body.len, a->body.p ? a->body.p : (void *)"",
                                               a->body.p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    }
    a->body.p = NULL;
    if (!resp)
        return MHD_NO;
    if (a->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    if (a->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(conn, a->status, resp);
    MHD_destroy_response(resp);
    r->status = a->status;
    return ret;
}

/* Constant-time: the time depends on the lengths only, never on where the
 * first differing byte is. */
static int srv_key_ok(const char *given, const char *key)
{
    size_t gl = strlen(given), kl = strlen(key);
    unsigned diff = (unsigned)(gl != kl);
    for (size_t i = 0; i < kl; i++)
        diff |= (unsigned char)key[i] ^ (unsigned char)(i < gl ? given[i] : 0);
    return diff == 0;
}

static int srv_authorized(const srv *s, struct MHD_Connection *conn)
{
    if (!s->o.api_key)
        return 1;
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return srv_key_ok(h, s->o.api_key);
}

/* ---- /metrics ----------------------------------------------------------------------- */

static void srv_metrics_text(srv *s, const srv_model *m, srv_buf *b)
{
    srv_metrics *mt = &s->met;
    srv_buf_str(b, "# HELP facto_requests_total Requests answered, by route and HTTP status.\n"
                   "# TYPE facto_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (size_t k = 0; k < S_COUNT; k++) {
            unsigned long long v = atomic_load(&mt->requests[r][k]);
            if (v == 0)
                continue;
            if (k < S_COUNT - 1)
                srv_buf_printf(b, "facto_requests_total{route=\"%s\",status=\"%u\"} %llu\n", srv_route_names[r],
                               srv_statuses[k], v);
            else
                srv_buf_printf(b, "facto_requests_total{route=\"%s\",status=\"other\"} %llu\n", srv_route_names[r], v);
        }
    srv_buf_str(b, "# HELP facto_request_errors_total Requests answered with a 4xx or 5xx status, by route and status.\n"
                   "# TYPE facto_request_errors_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (size_t k = 1; k < S_COUNT; k++) {
            unsigned long long v = atomic_load(&mt->requests[r][k]);
            if (v == 0)
                continue;
            if (k < S_COUNT - 1)
                srv_buf_printf(b, "facto_request_errors_total{route=\"%s\",status=\"%u\"} %llu\n", srv_route_names[r],
                               srv_statuses[k], v);
            else
                srv_buf_printf(b, "facto_request_errors_total{route=\"%s\",status=\"other\"} %llu\n",
                               srv_route_names[r], v);
        }
    srv_buf_str(b, "# HELP facto_request_duration_seconds Time from a request's first byte to its answer's last.\n"
                   "# TYPE facto_request_duration_seconds histogram\n");
    for (int r = 0; r < R_COUNT; r++) {
        unsigned long long cum = 0;
        for (size_t k = 0; k <= B_COUNT; k++) {
            cum += atomic_load(&mt->hist[r][k]);
            if (k < B_COUNT)
                srv_buf_printf(b, "facto_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                               srv_route_names[r], srv_buckets[k], cum);
            else
                srv_buf_printf(b, "facto_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                               srv_route_names[r], cum);
        }
        srv_buf_printf(b, "facto_request_duration_seconds_sum{route=\"%s\"} %.9f\n", srv_route_names[r],
                       atomic_load(&mt->sum_ns[r]) * 1e-9);
        srv_buf_printf(b, "facto_request_duration_seconds_count{route=\"%s\"} %llu\n", srv_route_names[r], cum);
    }
    srv_buf_str(b, "# HELP facto_model_info The model being served: kind, task and the file's checksum (XXH64).\n"
                   "# TYPE facto_model_info gauge\n");
    const char *task = m->task == FACTO_TASK_BINARY ? "binary" : m->task == FACTO_TASK_RANKING ? "ranking" : "regression";
    srv_buf_str(b, "facto_model_info{kind=");
    srv_buf_json_str(b, m->kind);
    srv_buf_printf(b, ",task=\"%s\",checksum=\"%s\",path=", task, m->checksum);
    srv_buf_json_str(b, s->model_path);
    srv_buf_str(b, "} 1\n");
    srv_buf_printf(b,
                   "# HELP facto_model_load_seconds Seconds the model being served took to load.\n"
                   "# TYPE facto_model_load_seconds gauge\nfacto_model_load_seconds %.6f\n"
                   "# HELP facto_model_loaded_timestamp_seconds When the model being served was loaded (Unix time).\n"
                   "# TYPE facto_model_loaded_timestamp_seconds gauge\nfacto_model_loaded_timestamp_seconds %.3f\n"
                   "# HELP facto_model_reloads_total Reloads (SIGHUP, POST /admin/reload) by result.\n"
                   "# TYPE facto_model_reloads_total counter\n"
                   "facto_model_reloads_total{result=\"ok\"} %llu\nfacto_model_reloads_total{result=\"refused\"} %llu\n"
                   "# HELP facto_requests_in_flight Requests being read or answered.\n"
                   "# TYPE facto_requests_in_flight gauge\nfacto_requests_in_flight %d\n"
                   "# HELP facto_start_timestamp_seconds When the server started (Unix time).\n"
                   "# TYPE facto_start_timestamp_seconds gauge\nfacto_start_timestamp_seconds %.3f\n",
                   m->load_seconds, m->loaded_at, atomic_load(&mt->reloads_ok), atomic_load(&mt->reloads_failed),
                   atomic_load(&s->in_flight), s->started_at);
    if (s->events)
        srv_events_metrics(s->events, b);
}

static void srv_count(srv *s, const srv_req *r)
{
    size_t k = S_COUNT - 1;
    for (size_t i = 0; i + 1 < S_COUNT; i++)
        if (srv_statuses[i] == r->status)
            k = i;
    atomic_fetch_add(&s->met.requests[r->route][k], 1);
    uint64_t ns = srv_mono_ns() - r->t0;
    double sec = ns * 1e-9;
    size_t bk = B_COUNT;
    for (size_t i = 0; i < B_COUNT; i++)
        if (sec <= srv_buckets[i]) {
            bk = i;
            break;
        }
    atomic_fetch_add(&s->met.hist[r->route][bk], 1);
    atomic_fetch_add(&s->met.sum_ns[r->route], ns);
}

/* ---- dispatch -------------------------------------------------------------------- */

static void srv_ctx_free(void *ctx) { facto_ctx_free(ctx); }

/* The calling worker thread's ctx, reset for a new request (one threads
 * setting, no error); NULL when out of memory. */
static facto_ctx *srv_thread_ctx(srv *s)
{
    facto_ctx *ctx = pthread_getspecific(s->ctx_key);
    if (ctx) {
        fct_ctx_reset(ctx);
        return ctx;
    }
    ctx = facto_ctx_new();
    if (!ctx)
        return NULL;
    facto_ctx_set_threads(ctx, 1);
    if (pthread_setspecific(s->ctx_key, ctx) != 0) {
        facto_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* "PREFIX-N" (prefix as 8 hex digits, N in decimal), as "%08llx-%llu" writes it. */
static void srv_request_id(char out[48], unsigned long long prefix, unsigned long long n)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--) {
        out[i] = hex[prefix & 15];
        prefix >>= 4;
    }
    out[8] = '-';
    char dec[24];
    int nd = 0;
    do {
        dec[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    for (int i = 0; i < nd; i++)
        out[9 + i] = dec[nd - 1 - i];
    out[9 + nd] = '\0';
}

static enum MHD_Result srv_dispatch(srv *s, struct MHD_Connection *conn, srv_req *r, const char *url,
                                    const char *method)
{
    srv_answer a = {0};
    char rid[48];
    srv_request_id(rid, s->id_prefix, (unsigned long long)atomic_fetch_add(&s->next_id, 1));
    srv_call c = {0};
    c.method = method;
    c.request_id = rid;
    c.arg = srv_arg;
    c.conn = conn;
    c.max_instances = s->o.max_instances;
    c.max_k = s->o.max_k;
    c.events = s->events;
    c.log_impressions = s->o.log_impressions;
    c.events_dir = s->events ? s->o.events_dir : NULL;
    const char *allow = NULL;
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, is_post = strcmp(method, "POST") == 0;

    if (r->bad_escape) {
        if (r->bad_escape == 2)
            srv_error(&a, &c, 400, "bad_request", "the URL holds %%00 (a NUL byte), which no id or value may hold");
        else
            srv_error(&a, &c, 400, "bad_request",
                      "the URL holds a bad %%-escape ('%%' must be followed by two hex digits, as %%20)");
        return srv_send(conn, r, &a, NULL);
    }
    const char *dup = srv_repeated_arg(conn);
    if (dup) {
        srv_error(&a, &c, 400, "bad_request", "the query names '%.40s' more than once", dup);
        return srv_send(conn, r, &a, NULL);
    }
    if (r->route == R_PING || r->route == R_PAGE) {
        /* no key: the page holds no data and asks for the key itself */
        if (!is_get) {
            allow = "GET, HEAD";
            srv_error(&a, &c, 405, "method_not_allowed", "%.20s %s: use GET", method, url);
        } else if (r->route == R_PAGE) {
            srv_route_page(&c, &a);
        } else {
            a.status = 200;
            a.content_type = "application/json";
            srv_buf_str(&a.body, "{\"status\": \"ok\"}\n");
        }
        return srv_send(conn, r, &a, allow);
    }
    if (!srv_authorized(s, conn)) {
        srv_error(&a, &c, 401, "unauthorized", "this route needs the header Authorization: Bearer <API key>");
        return srv_send(conn, r, &a, NULL);
    }
    if (r->too_large) {
        srv_error(&a, &c, 413, "body_too_large", "the body is larger than %zu bytes (--max-body-bytes)",
                  s->o.max_body_bytes);
        return srv_send(conn, r, &a, NULL);
    }
    static const char *const allows[R_COUNT] = {"GET, HEAD", "POST",      "GET, POST", "GET, HEAD", "GET, HEAD",
                                                "POST",      "POST",      "GET, HEAD", "GET, HEAD", "GET, HEAD", NULL};
    int ok_method = 0;
    switch (r->route) {
    case R_INVOCATIONS:
    case R_EVENTS:
    case R_RELOAD: ok_method = is_post; break;
    case R_RECOMMENDATIONS: ok_method = is_get || is_post; break;
    case R_SIMILAR:
    case R_USERS:
    case R_EVENTS_STATS:
    case R_METRICS: ok_method = is_get; break;
    default: break;
    }
    if (r->route == R_OTHER) {
        srv_error(&a, &c, 404, "not_found",
                  "no route %.200s: the routes are /ping, /invocations, /recommendations, /similar-items, /metrics, "
                  "/admin/reload, /events, /events/stats, /users and / (the page)",
                  url);
        return srv_send(conn, r, &a, NULL);
    }
    if (!ok_method) {
        srv_error(&a, &c, 405, "method_not_allowed", "%.20s %s: use %s", method, url, allows[r->route]);
        return srv_send(conn, r, &a, allows[r->route]);
    }
    facto_ctx *ctx = srv_thread_ctx(s);
    if (!ctx) {
        srv_error(&a, &c, 503, "out_of_memory", "no memory for the request");
        return srv_send(conn, r, &a, NULL);
    }
    c.ctx = ctx;
    if (r->route == R_RELOAD) {
        if (srv_reload(s, ctx, "POST /admin/reload") != FACTO_OK) {
            srv_error(&a, &c, 500, "reload_failed", "the old model keeps serving: %s", facto_errmsg(ctx));
        } else {
            srv_model *m = srv_model_acquire(s);
            a.status = 200;
            a.content_type = "application/json";
            srv_buf_str(&a.body, "{\"status\": \"reloaded\", \"kind\": ");
            srv_buf_json_str(&a.body, m->kind);
            srv_buf_printf(&a.body, ", \"checksum\": \"%s\", \"load_seconds\": %.6f}\n", m->checksum, m->load_seconds);
            srv_model_release(m);
        }
        return srv_send(conn, r, &a, NULL);
    }
    srv_model *m = srv_model_acquire(s);
    c.m = m;
    c.body = r->body;
    c.body_len = r->len;
    c.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    c.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    switch (r->route) {
    case R_INVOCATIONS: srv_route_invocations(&c, &a); break;
    case R_RECOMMENDATIONS: srv_route_recommendations(&c, &a); break;
    case R_SIMILAR: srv_route_similar(&c, &a); break;
    case R_EVENTS: srv_route_events(&c, &a); break;
    case R_USERS: srv_route_users(&c, &a); break;
    case R_EVENTS_STATS: srv_route_events_stats(&c, &a); break;
    case R_METRICS:
        a.status = 200;
        a.content_type = "text/plain; version=0.0.4; charset=utf-8";
        srv_metrics_text(s, m, &a.body);
        break;
    default: srv_error(&a, &c, 500, "internal", "no handler for %s", url); break;
    }
    if (a.status == 0)
        srv_error(&a, &c, 500, "internal", "the route gave no answer");
    enum MHD_Result ret = srv_send(conn, r, &a, NULL);
    srv_model_release(m);
    return ret;
}

static enum MHD_Result srv_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *version, const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    (void)version;
    srv *s = cls;
    srv_req *r = srv_is_mark(*con_cls) ? NULL : *con_cls;
    if (!r) {
        const int bad_escape = *con_cls == &srv_bad_escape_marks[0] ? 1 : *con_cls == &srv_bad_escape_marks[1] ? 2 : 0;
        *con_cls = NULL;
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->bad_escape = bad_escape;
        r->t0 = srv_mono_ns();
        r->route = srv_route_of(url);
        atomic_fetch_add(&s->in_flight, 1);
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || *end || v > s->o.max_body_bytes) {
                /* refused before reading it (the connection is closed after the answer) */
                r->too_large = 1;
                return srv_dispatch(s, conn, r, url, method);
            }
        }
        /* Answer on the next call, once libmicrohttpd has read the whole
         * request (it calls again with no upload data): an answer queued
         * now, from the headers alone, makes it close the connection after
         * it ("Connection: close"), so every GET would cost a new TCP
         * connection. */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large)
            return MHD_YES;
        if (r->len + n > s->o.max_body_bytes) {
            r->too_large = 1;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *p = realloc(r->body, cap);
            if (!p)
                return MHD_NO;
            r->body = p;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    if (r->status)
        return MHD_YES; /* answered already */
    return srv_dispatch(s, conn, r, url, method);
}

static void srv_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    srv *s = cls;
    srv_req *r = *con_cls;
    if (!r || srv_is_mark(*con_cls))
        return;
    if (r->status)
        srv_count(s, r);
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- options, SageMaker's environment ------------------------------------------------ */

facto_serve_options facto_serve_options_default(void)
{
    facto_serve_options o;
    memset(&o, 0, sizeof o);
    o.port = -1;
    o.max_body_bytes = (size_t)6 << 20;
    o.max_instances = 100000;
    o.max_k = 1000;
    o.timeout_seconds = 30;
    return o;
}

/* The first facto model file (by name) in dir. */
static facto_status srv_find_model(facto_ctx *ctx, const char *dir, char *out, size_t size)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return fct_fail(ctx, FACTO_ERR_IO, "no --model given and cannot read %s (SageMaker's model folder): %s", dir,
                        strerror(errno));
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (!found && names[i]->d_name[0] != '.') {
            char path[4096];
            struct stat stt;
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            FILE *f = stat(path, &stt) == 0 && S_ISREG(stt.st_mode) ? fopen(path, "rb") : NULL;
            char magic[8];
            if (f && fread(magic, 1, 8, f) == 8 && memcmp(magic, "FACTOMDL", 8) == 0 && strlen(path) < size) {
                snprintf(out, size, "%s", path);
                found = 1;
            }
            if (f)
                fclose(f);
        }
        free(names[i]);
    }
    free(names);
    if (!found)
        return fct_fail(ctx, FACTO_ERR_IO, "no --model given and no facto model file in %s", dir);
    return fct_ok(ctx);
}

static facto_status srv_resolve(facto_ctx *ctx, srv *s)
{
    const char *sm_port = getenv("SAGEMAKER_BIND_TO_PORT");
    if (s->o.port < 0) {
        s->o.port = SRV_DEFAULT_PORT;
        if (sm_port && *sm_port) {
            char *end;
            long v = strtol(sm_port, &end, 10);
            if (*end || v < 1 || v > 65535)
                return fct_fail(ctx, FACTO_ERR_INVALID, "SAGEMAKER_BIND_TO_PORT '%.40s' is not a port (1-65535)",
                                sm_port);
            s->o.port = (int)v;
        }
    }
    if (s->o.port > 65535)
        return fct_fail(ctx, FACTO_ERR_INVALID, "port %d is not 0-65535", s->o.port);
    if (!s->o.bind)
        s->o.bind = sm_port && *sm_port ? "0.0.0.0" : "127.0.0.1";
    if (s->o.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->o.threads = n > 0 ? (int)n : 1;
    }
    if (s->o.max_body_bytes == 0 || s->o.max_instances < 1 || s->o.max_k < 1)
        return fct_fail(ctx, FACTO_ERR_INVALID, "max_body_bytes, max_instances and max_k must be positive");
    if (s->o.api_key && !*s->o.api_key)
        return fct_fail(ctx, FACTO_ERR_INVALID, "the API key is empty");
    if (s->o.model_path) {
        s->model_path = s->o.model_path;
    } else {
        const char *dir = getenv("SM_MODEL_DIR");
        facto_status st = srv_find_model(ctx, dir && *dir ? dir : "/opt/ml/model", s->model_path_buf,
                                         sizeof s->model_path_buf);
        if (st != FACTO_OK)
            return st;
        s->model_path = s->model_path_buf;
    }
    return fct_ok(ctx);
}

static int srv_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) ||
               (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* ---- run ----------------------------------------------------------------------------- */

facto_status facto_serve_run(facto_ctx *ctx, const facto_serve_options *opts)
{
    if (!opts)
        return fct_fail(ctx, FACTO_ERR_INVALID, "serve: no options");
    srv *s = calloc(1, sizeof *s);
    if (!s)
        return fct_fail(ctx, FACTO_ERR_NOMEM, "serve: out of memory");
    s->o = *opts;
    s->log_ctx = ctx;
    pthread_mutex_init(&s->model_lock, NULL);
    pthread_mutex_init(&s->reload_lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    if (pthread_key_create(&s->ctx_key, srv_ctx_free) != 0) {
        pthread_mutex_destroy(&s->model_lock);
        pthread_mutex_destroy(&s->reload_lock);
        pthread_mutex_destroy(&s->log_lock);
        free(s);
        return fct_fail(ctx, FACTO_ERR_NOMEM, "serve: no thread-specific key left");
    }
    s->started_at = srv_now();
    s->id_prefix = ((unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20)) & 0xffffffffull;
    facto_status st = srv_resolve(ctx, s);

    /* the address */
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    if (st == FACTO_OK) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
        if (inet_pton(AF_INET, s->o.bind, &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
            a4->sin_port = htons((uint16_t)s->o.port);
        } else if (inet_pton(AF_INET6, s->o.bind, &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons((uint16_t)s->o.port);
        } else {
            st = fct_fail(ctx, FACTO_ERR_INVALID, "bind address '%.100s' is not an IPv4 or IPv6 address", s->o.bind);
        }
    }
    /* the socket, bound before the model is loaded: a port in use is said
     * at once, in our words, not after a long load in libmicrohttpd's */
    int lfd = -1;
    if (st == FACTO_OK) {
        socklen_t alen = addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        int one = 1;
        lfd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            bind(lfd, (struct sockaddr *)&addr, alen) != 0 || listen(lfd, 1024) != 0) {
            int e = errno;
            st = fct_fail(ctx, FACTO_ERR_IO, "cannot listen on %s port %d: %s%s", s->o.bind, s->o.port, strerror(e),
                          e == EADDRINUSE ? " (another program holds the port: pick another with --port)"
                          : e == EADDRNOTAVAIL ? " (not an address of this machine)" : "");
            if (lfd >= 0)
                close(lfd);
            lfd = -1;
        }
    }
    int bound_port = s->o.port; /* with --port 0, the one the kernel chose */
    if (lfd >= 0) {
        struct sockaddr_storage got;
        socklen_t glen = sizeof got;
        if (getsockname(lfd, (struct sockaddr *)&got, &glen) == 0)
            bound_port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                          : ((struct sockaddr_in *)&got)->sin_port);
    }
    if (st == FACTO_OK) {
        st = srv_model_load(ctx, s, &s->current);
        if (st == FACTO_OK)
            fct_log(ctx, FACTO_LOG_INFO, "loaded %s: %s model, checksum %s, %.3f s", s->model_path, s->current->kind,
                    s->current->checksum, s->current->load_seconds);
    }
    if (st == FACTO_OK && s->o.events_dir) {
        if (s->o.events_fsync_ms < 0)
            st = fct_fail(ctx, FACTO_ERR_INVALID, "events_fsync_ms %d is negative", s->o.events_fsync_ms);
        else
            st = srv_events_open(ctx, s->o.events_dir, s->o.events_fsync_ms, s->o.events_rotate_bytes, &s->events);
        if (st == FACTO_OK)
            fct_log(ctx, FACTO_LOG_INFO, "event log: %s (fsync %s%.0d%s, new file past %llu bytes)",
                    srv_events_file(s->events), s->o.events_fsync_ms ? "every " : "always", s->o.events_fsync_ms,
                    s->o.events_fsync_ms ? " ms" : "",
                    (unsigned long long)(s->o.events_rotate_bytes ? s->o.events_rotate_bytes : (uint64_t)64 << 20));
    }
    if (st == FACTO_OK && !s->o.api_key && !srv_is_loopback((struct sockaddr *)&addr))
        fct_log(ctx, FACTO_LOG_WARN,
                "warning: listening on %s without --api-key-file: anyone who can reach this address can use every "
                "route",
                s->o.bind);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);

    if (st == FACTO_OK) {
        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
        if (addr.ss_family == AF_INET6)
            flags |= MHD_USE_IPv6;
        s->d = MHD_start_daemon(flags, (uint16_t)s->o.port, NULL, NULL, srv_handler, s, MHD_OPTION_LISTEN_SOCKET,
                                (MHD_socket)lfd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->o.threads,
                                MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout_seconds, MHD_OPTION_NOTIFY_COMPLETED,
                                srv_completed, s, MHD_OPTION_URI_LOG_CALLBACK, srv_uri_seen, s, MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_LISTEN_BACKLOG_SIZE,
                                1024u, MHD_OPTION_END);
        if (!s->d)
            st = fct_fail(ctx, FACTO_ERR_IO, "cannot serve on %s port %d: the HTTP server did not start",
                          s->o.bind, s->o.port);
    }
    if (!s->d && lfd >= 0)
        close(lfd); /* libmicrohttpd took it only when it started */
    if (st == FACTO_OK) {
        int port = bound_port;
        fct_log(ctx, FACTO_LOG_INFO, "listening on %s port %d, %d threads", s->o.bind, port, s->o.threads);
        if (s->o.on_ready)
            s->o.on_ready(s->o.bind, port, s->o.user_data);
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0)
                continue;
            if (sig == SIGHUP) {
                facto_ctx *rctx = facto_ctx_new();
                if (rctx) {
                    srv_reload(s, rctx, "SIGHUP");
                    facto_ctx_free(rctx);
                }
                continue;
            }
            fct_log(ctx, FACTO_LOG_INFO, "%s: no new connections; finishing %d requests in flight",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&s->in_flight));
            break;
        }
        /* stop accepting, let requests in flight finish, then stop */
        MHD_socket lsock = MHD_quiesce_daemon(s->d);
        if (lsock != MHD_INVALID_SOCKET)
            close(lsock);
        double until = srv_now() + SRV_DRAIN_SECONDS;
        while (atomic_load(&s->in_flight) > 0 && srv_now() < until) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(s->d);
        if (s->events)
            fct_log(ctx, FACTO_LOG_INFO, "event log synced and closed");
        fct_log(ctx, FACTO_LOG_INFO, "stopped");
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    srv_events_close(s->events);
    srv_model_release(s->current);
    pthread_mutex_destroy(&s->model_lock);
    pthread_mutex_destroy(&s->reload_lock);
    pthread_mutex_destroy(&s->log_lock);
    pthread_key_delete(s->ctx_key); /* the workers ended with MHD_stop_daemon: their ctxs are freed */
    free(s);
    return st == FACTO_OK ? fct_ok(ctx) : st;
}
