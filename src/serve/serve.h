/*
 * serve.h — what the HTTP server's files share (src/serve/server.c: the
 * daemon, routing, keys, metrics, reload and shutdown; src/serve/routes.c:
 * the answers of /invocations, /recommendations and /similar-items;
 * src/serve/jsonbuf.c: answer bodies). Internal to libfacto_serve.
 *
 * A request's life: server.c reads it (headers, the body up to
 * max_body_bytes), checks the key, takes a reference to the current model
 * (srv_model_acquire), calls the route, which fills an srv_answer, queues
 * the answer and drops the reference. A route never sees libmicrohttpd:
 * it reads an srv_call and writes an srv_answer, so a new route (POST
 * /events, impression logging) is one function and one row of the table
 * in server.c.
 */
#ifndef FACTO_SERVE_H
#define FACTO_SERVE_H

#include "core/internal.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer for answer bodies. */
typedef struct srv_buf {
    char *p;
    size_t len, cap;
    int failed; /* an allocation failed: the content is incomplete */
} srv_buf;

void srv_buf_add(srv_buf *b, const char *s, size_t n);
void srv_buf_str(srv_buf *b, const char *s);
void srv_buf_printf(srv_buf *b, const char *fmt, ...) FACTO_PRINTF(2, 3);
/* s as a JSON string, quotes included: valid UTF-8 is kept, control
 * characters escaped, any other byte read as Latin-1 (titles of
 * MovieLens 100K are Latin-1). */
void srv_buf_json_str(srv_buf *b, const char *s);
/* An id as a JSON string: facto_id_escape's text (valid UTF-8 kept, a
 * backslash doubled, any other byte as \xHH), the one form every id takes
 * in the server's answers and in the event log. */
void srv_buf_json_id(srv_buf *b, const char *id);
/* An id that arrives as text (a query argument, a JSON string): valid
 * UTF-8 in facto_id_escape's form, read back with facto_id_unescape into
 * out. 1, or 0 with `why` (a phrase after "the user id ...") when the text
 * is not UTF-8, holds a bad escape, or the id is empty (unless allow_empty)
 * or longer than FACTO_MAX_ID_LEN bytes. */
int srv_id_read(const char *text, char out[FACTO_MAX_ID_LEN + 1], int allow_empty, const char **why);
/* f with the fewest digits (<= 9) that read back to it; null when not finite. */
void srv_buf_json_float(srv_buf *b, float f);
/* 1 when s[0..n) is valid UTF-8 (no overlong forms, no surrogates). */
int srv_utf8_valid(const char *s, size_t n);

/* One loaded model, shared by the requests that hold a reference. */
typedef struct srv_model {
    facto_model *model;
    atomic_int refs;
    const char *kind;     /* static storage */
    facto_task task;
    unsigned inputs;      /* FACTO_INPUT_* */
    uint64_t feature_dim; /* models that score rows; 0 when not known */
    char **titles;        /* [n_titles] or NULL */
    int32_t n_titles;
    char checksum[17];    /* the file's XXH64, hex */
    double load_seconds;
    double loaded_at;     /* Unix time */
} srv_model;

/* The event log's writer (events_log.c). */
typedef struct srv_events srv_events;

/* What a route reads. */
typedef struct srv_call {
    const char *method;
    const char *body; /* NUL-terminated copy; NULL for no body */
    size_t body_len;
    const char *content_type; /* header value or NULL */
    const char *accept;       /* header value or NULL */
    /* query argument by name (percent-decoded), or NULL */
    const char *(*arg)(void *conn, const char *name);
    void *conn;
    const char *request_id;
    const srv_model *m;
    facto_ctx *ctx;    /* this request's own */
    int max_instances, max_k;
    srv_events *events; /* the event log, or NULL (no --events-dir) */
    int log_impressions; /* the top-N routes log their answers as impressions */
    const char *events_dir; /* the event log's folder, or NULL */
} srv_call;

/* What a route writes: a status, a content type (static) and a body. */
typedef struct srv_answer {
    unsigned status;
    const char *content_type;
    srv_buf body;
    void *raw;       /* a body from facto_inference_response_write, or NULL */
    size_t raw_len;
} srv_answer;

/* An error answer: {"error": code, "detail": detail, "request_id": id}. */
void srv_error(srv_answer *a, const srv_call *c, unsigned status, const char *code, const char *fmt, ...)
    FACTO_PRINTF(5, 6);
/* An error answer from a facto status and the ctx's message: 400 for bad
 * input (PARSE, INVALID, EMPTY), 404 NOT_FOUND, 503 NOMEM, 500 otherwise. */
void srv_error_status(srv_answer *a, const srv_call *c, facto_status st);

void srv_route_invocations(const srv_call *c, srv_answer *a);
void srv_route_recommendations(const srv_call *c, srv_answer *a);
void srv_route_similar(const srv_call *c, srv_answer *a);
void srv_route_events(const srv_call *c, srv_answer *a);
/* page.c: GET / (the page, embedded at build time), GET /users?prefix=&limit=
 * (user ids for the page's suggestions), GET /events/stats (the numbers of
 * `facto events stats`, as JSON). */
void srv_route_page(const srv_call *c, srv_answer *a);
void srv_route_users(const srv_call *c, srv_answer *a);
void srv_route_events_stats(const srv_call *c, srv_answer *a);

/* Open the log in `dir` (created if missing): a new file now. fsync_ms 0:
 * fdatasync every append before it returns; N > 0: a flusher thread every
 * N ms. rotate_bytes 0: 64 MiB. Errors: FACTO_ERR_IO, FACTO_ERR_NOMEM. */
facto_status srv_events_open(facto_ctx *ctx, const char *dir, int fsync_ms, uint64_t rotate_bytes,
                             srv_events **out);
/* Sync and close (SIGTERM); NULL is a no-op. */
void srv_events_close(srv_events *e);
/* The current file's path (for the start log line). */
const char *srv_events_file(const srv_events *e);
/* Its counters as Prometheus text. */
void srv_events_metrics(srv_events *e, srv_buf *b);
/* With --log-impressions, log the n items of an answer as an impression
 * under the call's request_id (user may be NULL); 1, or 0 with an error
 * answer when the log could not be written. */
int srv_log_impression(const srv_call *c, srv_answer *a, const char *user, const facto_recommendation *rec, int n,
                       const char *route);

#endif /* FACTO_SERVE_H */
