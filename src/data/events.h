/*
 * events.h — the event log's one format (docs/serving.md, "Event log"):
 * JSON Lines files events-YYYYMMDD-HH-NNNNNN.jsonl in one folder, one
 * event an object a line:
 *   {"type":"impression","user":U,"items":[I1,I2,...],"request_id":R,"ts":T}
 *   {"type":"click"|"purchase","user":U,"item":I,"request_id":R,"ts":T}
 *   {"type":"rating","user":U,"item":I,"value":V,"request_id":R,"ts":T}
 * The checker below is shared by the server (POST /events, src/serve/) and
 * the reader (events.c), so what the server accepts is exactly what the
 * reader reads. Cost: O(event size) to check; the reader O(log size).
 */
#ifndef FACTO_DATA_EVENTS_H
#define FACTO_DATA_EVENTS_H

#include "../core/internal.h"

#include <jansson.h>

enum { FCT_EV_IMPRESSION = 0, FCT_EV_CLICK = 1, FCT_EV_PURCHASE = 2, FCT_EV_RATING = 3 };

/* The latest "ts" an event may carry: 9999-12-31 23:59:59 UTC, in seconds. */
#define FCT_EV_MAX_TS 253402300799.0

/* Most items one impression may list. */
#define FCT_EV_MAX_ITEMS 10000

/* One checked event; the strings point into the JSON or into the buffers. */
typedef struct fct_event {
    int type;
    const char *user;       /* NULL: none (an impression may have none) */
    const char *item;       /* click, purchase, rating */
    const char *request_id; /* NULL: none (an action may have none) */
    const json_t *items;    /* impression: the array of item ids */
    double value;           /* rating */
    double ts;              /* seconds since the epoch; has_ts 0: not given */
    int has_ts;
    char ubuf[32], ibuf[32], rbuf[32];
} fct_event;

/*
 * Check one event object. Ids are strings (valid UTF-8, in facto_id_escape's
 * form, of an id of 1..255 bytes without NUL) or integers (kept as their
 * decimal text); the log keeps the text, the reader interns the bytes. An impression needs
 * "items" (1..FCT_EV_MAX_ITEMS ids) and "request_id"; click and purchase
 * need "user" and "item"; rating also a finite "value"; "request_id" and
 * "ts" (seconds, 0 .. FCT_EV_MAX_TS) are optional for actions; "user" is optional
 * for impressions. Other fields are ignored. Returns 1, or 0 with `field`
 * (the bad field's name, "items[3]" for an element) and `detail` filled.
 */
int fct_event_check(const json_t *j, fct_event *e, char *field, size_t field_size, char *detail,
                    size_t detail_size);

/* 1 when an impression lists no item twice (other events: 1); else 0 with
 * the field ("items[3]") and what is wrong. For events being written: a log
 * written before this check may hold such impressions and is still read. */
int fct_event_items_distinct(const fct_event *e, char *field, size_t field_size, char *detail, size_t detail_size);

/* The event's normalized line (compact JSON, no newline; ts when given,
 * else `ts_default`), malloc'd; NULL when out of memory. */
char *fct_event_line(const fct_event *e, double ts_default);

/* The type's name ("impression", "click", ...). */
const char *fct_event_type_name(int type);
/* What a JSON value is, as a phrase for error details: "an object", "a string", "a number", "a boolean", "null". */
const char *fct_json_kind(const json_t *j);

/* A log file's name: events-YYYYMMDD-HH-NNNNNN.jsonl (UTC hour, sequence). */
#define FCT_EV_PREFIX "events-"
#define FCT_EV_SUFFIX ".jsonl"

/* What the reader keeps. Indices into the id maps; -1 for none. */
struct facto_events {
    facto_idmap *users, *items, *requests;
    /* impressions: slate s shows imp_items[imp_ptr[s] .. imp_ptr[s+1]) at positions 1, 2, ... */
    int64_t n_imp, cap_imp;
    int32_t *imp_user, *imp_req;
    int64_t *imp_ptr; /* [n_imp + 1] */
    int32_t *imp_items;
    int64_t n_shown, cap_shown;
    /* actions */
    unsigned char *req_has_imp; /* [cap_req]: 1 when an impression was read under request r */
    int64_t cap_req;
    int64_t n_act, cap_act;
    unsigned char *act_type;
    int32_t *act_user, *act_item, *act_req;
    float *act_value;
    double *act_ts;
    facto_events_counts counts;
};

/* A scorer for fct_events_ips: scores of the n items of slate s (item
 * indices of ev->items) into out; returns 0, or 1 to skip the slate
 * because the user is unknown, 2 because an item is, -1 for an error
 * (the ctx holds it). */
typedef int (*fct_slate_scorer)(void *user_data, const facto_events *ev, int64_t slate, const int32_t *items,
                                int32_t n, float *out);

/* The IPS estimate of facto_events_ips over any scorer (tests score with
 * the true relevance of a synthetic log). */
facto_status fct_events_ips(facto_ctx *ctx, const facto_events *ev, fct_slate_scorer score, void *user_data,
                            const double *propensities, int n_propensities, const facto_ips_options *opts,
                            facto_ips_result *res);

#endif /* FACTO_DATA_EVENTS_H */
