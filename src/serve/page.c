/*
 * page.c — the routes of the page for people (docs/serving.md, "The page"):
 *
 *   GET /                  the page: src/serve/page.html, one file of HTML,
 *                          CSS and JavaScript, turned into a C array at build
 *                          time (cmake/embed.cmake), so the server reads no
 *                          file at run time; no API key needed
 *   GET /users             ?prefix=P&limit=N: up to N (default 20, at most
 *                          100) training user ids starting with P, in the
 *                          model's order, for the page's suggestions
 *   GET /events/stats      the event log's click-through rate by position and
 *                          by item popularity decile: the numbers `facto
 *                          events stats` prints, from the same library calls
 *                          (facto_events_read, _position_ctr,
 *                          _popularity_ctr)
 *
 * Cost: / copies the page (< 30 KB); /users scans the user ids (O(users));
 * /events/stats reads the whole log (O(log size) time and memory).
 */
#include "serve/serve.h"

#include <stdlib.h>
#include <string.h>

/* generated from page.html at build time */
extern const char srv_page_html[];
extern const size_t srv_page_html_len;

#define SRV_STATS_POSITIONS 20
#define SRV_STATS_MAX_POSITIONS 1000
#define SRV_STATS_BINS 10
#define SRV_USERS_DEFAULT 20
#define SRV_USERS_MAX 100

void srv_route_page(const srv_call *c, srv_answer *a)
{
    (void)c;
    a->status = 200;
    a->content_type = "text/html; charset=utf-8";
    srv_buf_add(&a->body, srv_page_html, srv_page_html_len);
}

/* An integer from 1 to max, or 0. */
static int srv_small_int(const char *t, int max)
{
    char *end;
    long v = strtol(t, &end, 10);
    return (*t && !*end && v >= 1 && v <= max) ? (int)v : 0;
}

void srv_route_users(const srv_call *c, srv_answer *a)
{
    const facto_idmap *users = facto_model_users(c->m->model);
    const char *prefix = c->arg(c->conn, "prefix"), *lt = c->arg(c->conn, "limit");
    int limit = lt ? srv_small_int(lt, SRV_USERS_MAX) : SRV_USERS_DEFAULT;
    if (limit == 0) {
        srv_error(a, c, 400, "bad_limit", "limit '%.40s' is not an integer from 1 to %d", lt, SRV_USERS_MAX);
        return;
    }
    if (!users) {
        srv_error(a, c, 400, "unsupported", "this %s model has no user ids", c->m->kind);
        return;
    }
    char pb[FACTO_MAX_ID_LEN + 1];
    const char *why = "";
    if (prefix && !srv_id_read(prefix, pb, 1, &why)) {
        srv_error(a, c, 400, "bad_id", "the prefix %s", why);
        return;
    }
    prefix = prefix ? pb : "";
    size_t pl = strlen(prefix);
    int32_t n = facto_idmap_size(users);
    a->status = 200;
    a->content_type = "application/json";
    srv_buf *b = &a->body;
    srv_buf_printf(b, "{\"request_id\": ");
    srv_buf_json_str(b, c->request_id);
    srv_buf_printf(b, ", \"n_users\": %d, \"users\": [", (int)n);
    int out = 0;
    for (int32_t u = 0; u < n && out < limit; u++) {
        const char *id = facto_idmap_name(users, u);
        if (id && strncmp(id, prefix, pl) == 0) {
            if (out++)
                srv_buf_str(b, ", ");
            srv_buf_json_id(b, id);
        }
    }
    srv_buf_str(b, "]}\n");
}

static void srv_json_ratio(srv_buf *b, int64_t num, int64_t den)
{
    if (den > 0)
        srv_buf_printf(b, "%.6g", (double)num / (double)den);
    else
        srv_buf_str(b, "null");
}

void srv_route_events_stats(const srv_call *c, srv_answer *a)
{
    if (!c->events_dir) {
        srv_error(a, c, 404, "no_event_log", "the server keeps no event log: start it with --events-dir DIR");
        return;
    }
    const char *mt = c->arg(c->conn, "max_positions");
    int max_pos = mt ? srv_small_int(mt, SRV_STATS_MAX_POSITIONS) : SRV_STATS_POSITIONS;
    if (max_pos == 0) {
        srv_error(a, c, 400, "bad_max_positions", "max_positions '%.40s' is not an integer from 1 to %d", mt,
                  SRV_STATS_MAX_POSITIONS);
        return;
    }
    facto_events *ev = NULL;
    facto_events_counts n = {0};
    int64_t *shown = calloc((size_t)max_pos * 2, sizeof *shown), *clicked = shown ? shown + max_pos : NULL;
    int64_t bitems[SRV_STATS_BINS] = {0}, bshown[SRV_STATS_BINS] = {0}, bclicked[SRV_STATS_BINS] = {0};
    int64_t bmin[SRV_STATS_BINS] = {0}, bmax[SRV_STATS_BINS] = {0};
    int n_pos = 0;
    if (!shown) {
        srv_error(a, c, 503, "out_of_memory", "no memory for %d positions", max_pos);
        return;
    }
    facto_status st = facto_events_read(c->ctx, c->events_dir, &ev);
    if (st == FACTO_ERR_EMPTY) {
        st = FACTO_OK; /* a log with no event yet: all counts 0 */
    } else if (st == FACTO_OK) {
        facto_events_get_counts(ev, &n);
        if (n.impressions > 0) {
            st = facto_events_position_ctr(c->ctx, ev, max_pos, shown, clicked, &n_pos);
            if (st == FACTO_OK)
                st = facto_events_popularity_ctr(c->ctx, ev, SRV_STATS_BINS, bitems, bshown, bclicked, bmin, bmax);
        }
    }
    if (st == FACTO_ERR_NOMEM) {
        srv_error_status(a, c, st);
        goto done;
    }
    if (st != FACTO_OK) { /* the server's own log is at fault, not the request */
        srv_error(a, c, 500, "event_log_unreadable", "%s", facto_errmsg(c->ctx));
        goto done;
    }
    a->status = 200;
    a->content_type = "application/json";
    srv_buf *b = &a->body;
    srv_buf_str(b, "{\"request_id\": ");
    srv_buf_json_str(b, c->request_id);
    srv_buf_printf(b,
                   ", \"log_impressions\": %s, \"counts\": {\"files\": %lld, \"events\": %lld, \"impressions\": %lld, "
                   "\"shown\": %lld, \"clicks\": %lld, \"purchases\": %lld, \"ratings\": %lld, \"torn_lines\": %lld, "
                   "\"duplicate_impressions\": %lld}, \"positions\": [",
                   c->log_impressions ? "true" : "false", (long long)n.files, (long long)n.lines,
                   (long long)n.impressions, (long long)n.shown, (long long)n.clicks, (long long)n.purchases,
                   (long long)n.ratings, (long long)n.torn_lines, (long long)n.duplicate_impressions);
    for (int p = 0; p < n_pos; p++) {
        srv_buf_printf(b, "%s{\"position\": %d, \"shown\": %lld, \"clicked\": %lld, \"ctr\": ", p ? ", " : "", p + 1,
                       (long long)shown[p], (long long)clicked[p]);
        srv_json_ratio(b, clicked[p], shown[p]);
        srv_buf_str(b, ", \"propensity\": ");
        /* CTR(p) / CTR(1), as facto events stats prints it */
        if (shown[0] > 0 && clicked[0] > 0 && shown[p] > 0)
            srv_buf_printf(b, "%.6g", ((double)clicked[p] / (double)shown[p]) / ((double)clicked[0] / (double)shown[0]));
        else
            srv_buf_str(b, "null");
        srv_buf_str(b, "}");
    }
    srv_buf_str(b, "], \"popularity\": [");
    for (int d = 0; n.impressions > 0 && d < SRV_STATS_BINS; d++) {
        srv_buf_printf(b,
                       "%s{\"decile\": %d, \"items\": %lld, \"min_shown\": %lld, \"max_shown\": %lld, \"shown\": %lld, "
                       "\"clicked\": %lld, \"ctr\": ",
                       d ? ", " : "", d + 1, (long long)bitems[d], (long long)bmin[d], (long long)bmax[d],
                       (long long)bshown[d], (long long)bclicked[d]);
        srv_json_ratio(b, bclicked[d], bshown[d]);
        srv_buf_str(b, "}");
    }
    srv_buf_str(b, "]}\n");
done:
    facto_events_free(ev);
    free(shown);
}
