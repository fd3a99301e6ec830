/*
 * cmd_events.c — `facto events stats --events-dir D [--plot FILE.svg]`:
 * what an event log (facto serve --events-dir) says about display bias:
 * click-through rate by position (with the propensities CTR(p)/CTR(1))
 * and by item popularity decile (popularity = times the log shows the
 * item), as a table on stdout and, with --plot, as an SVG chart written by
 * hand (two panels, axes, ticks, labels) through the atomic output. Also
 * cli_events_read, the one way the CLI reads a log (train, eval). Cost:
 * the reader's, O(log size).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLI_EV_MAX_POSITIONS 1000
#define CLI_EV_BINS 10

int cli_events_read(facto_ctx *ctx, const char *dir, facto_events **out)
{
    facto_status st = facto_events_read(ctx, dir, out);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    facto_events_counts n;
    facto_events_get_counts(*out, &n);
    if (n.torn_lines > 0)
        fprintf(stderr,
                "facto: note: %s: %lld torn last line%s skipped (written when the server was killed mid-write)\n",
                dir, (long long)n.torn_lines, n.torn_lines == 1 ? "" : "s");
    if (n.duplicate_impressions > 0)
        fprintf(stderr,
                "facto: note: %s: %lld repeated impression%s skipped (a request_id already logged: a client's "
                "retry; the first one counts)\n",
                dir, (long long)n.duplicate_impressions, n.duplicate_impressions == 1 ? "" : "s");
    return 0;
}

enum { OPT_DIR = 256, OPT_PLOT, OPT_POSITIONS, OPT_JSON };

static const struct option cli_events_opts[] = {{"events-dir", required_argument, NULL, OPT_DIR},
                                                {"plot", required_argument, NULL, OPT_PLOT},
                                                {"max-positions", required_argument, NULL, OPT_POSITIONS},
                                                {"help", no_argument, NULL, 'h'},
                                                {NULL, 0, NULL, 0}};

static void cli_events_help(const char *verb)
{
    printf("Usage: %s stats --events-dir DIR [OPTIONS]\n\n"
           "What an event log (facto serve --events-dir) says about display bias: click-through rate\n"
           "by position (items shown at position p, and how many of them were clicked: a click with\n"
           "the same request_id and item) with the propensity CTR(p)/CTR(1), and by item popularity\n"
           "decile, popularity being how often the log shows the item (least shown tenth first).\n\n"
           "  --events-dir DIR     the folder of events-*.jsonl files (required)\n"
           "  --plot FILE.svg      also draw both as an SVG chart (default: none)\n"
           "  --max-positions N    positions in the table and chart (default 20)\n"
           "  -h, --help           this text\n"
           "\nThe propensities are unbiased when the logged slates were shuffled (items placed\n"
           "independently of their relevance); docs/serving.md says more.\n"
           "Exit codes: 0 ok, 1 usage, 2 data or I/O error, 3 internal error.\n",
           verb);
}

static double cli_ratio(int64_t a, int64_t b) { return b > 0 ? (double)a / (double)b : 0.0; }

/* A table's CTR: 5 decimals, or "-" where nothing was shown (undefined, as /events/stats' null). */
static const char *cli_ctr_text(char *buf, size_t size, int64_t clicked, int64_t shown)
{
    if (shown <= 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.5f", cli_ratio(clicked, shown));
    return buf;
}

/* ---- SVG --------------------------------------------------------------------------- */

/* A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, >= v. */
static double cli_nice_max(double v)
{
    if (!(v > 0))
        return 1.0;
    double p = pow(10.0, floor(log10(v)));
    double steps[] = {1, 2, 2.5, 5, 10};
    for (int i = 0; i < 5; i++)
        if (steps[i] * p >= v * 1.0000001)
            return steps[i] * p;
    return 10 * p;
}

typedef struct cli_panel {
    double x0, y0, w, h; /* plot area, SVG units */
    double ymax;
} cli_panel;

static void cli_svg_axes(FILE *f, const cli_panel *p, const char *title, const char *xlabel, const char *ylabel)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
            p->x0 + p->w / 2, p->y0 - 18, title);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n", p->x0, p->y0 + p->h,
            p->x0 + p->w, p->y0 + p->h);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n", p->x0, p->y0, p->x0,
            p->y0 + p->h);
    for (int t = 0; t <= 5; t++) {
        double v = p->ymax * t / 5, y = p->y0 + p->h - p->h * t / 5;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", p->x0 + 1, y,
                p->x0 + p->w, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.3g</text>\n", p->x0 - 6,
                y + 4, v);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">%s</text>\n", p->x0 + p->w / 2,
            p->y0 + p->h + 38, xlabel);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
            "transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
            p->x0 - 48, p->y0 + p->h / 2, p->x0 - 48, p->y0 + p->h / 2, ylabel);
}

static int cli_events_svg(facto_ctx *ctx, const char *path, const char *dir, const int64_t *shown,
                          const int64_t *clicked, int n_pos, const int64_t *bshown, const int64_t *bclicked,
                          const int64_t *bitems)
{
    facto_output *out = NULL;
    facto_status st = facto_output_open(ctx, path, 0, &out);
    if (st != FACTO_OK)
        return cli_fail(ctx, st, 0);
    FILE *f = facto_output_stream(out);
    double W = 960, H = 420;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"sans-serif\">\n"
            "<title>Click-through rate by position and by item popularity</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            W, H, W, H);
    /* left: CTR by position, a line with points */
    double top = 0;
    for (int p = 0; p < n_pos; p++)
        top = fmax(top, cli_ratio(clicked[p], shown[p]));
    cli_panel a = {80, 50, 360, 290, cli_nice_max(top)};
    cli_svg_axes(f, &a, "CTR by position", "position shown", "click-through rate");
    double step = n_pos > 1 ? a.w / (n_pos - 1) : 0;
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    for (int p = 0; p < n_pos; p++)
        fprintf(f, "%s%.1f,%.1f", p ? " " : "", a.x0 + (n_pos > 1 ? step * p : a.w / 2),
                a.y0 + a.h - a.h * cli_ratio(clicked[p], shown[p]) / a.ymax);
    fprintf(f, "\"/>\n");
    int every = n_pos > 20 ? (n_pos + 19) / 20 : 1;
    for (int p = 0; p < n_pos; p++) {
        double x = a.x0 + (n_pos > 1 ? step * p : a.w / 2), y = a.y0 + a.h - a.h * cli_ratio(clicked[p], shown[p]) / a.ymax;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1f77b4\"><title>position %d: %lld of %lld clicked</title></circle>\n",
                x, y, p + 1, (long long)clicked[p], (long long)shown[p]);
        if (p % every == 0)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%d</text>\n", x,
                    a.y0 + a.h + 16, p + 1);
    }
    /* right: CTR by popularity decile, bars */
    top = 0;
    for (int b = 0; b < CLI_EV_BINS; b++)
        top = fmax(top, cli_ratio(bclicked[b], bshown[b]));
    cli_panel r = {560, 50, 360, 290, cli_nice_max(top)};
    cli_svg_axes(f, &r, "CTR by item popularity decile", "popularity decile (times shown; 1 = least shown)",
                 "click-through rate");
    double bw = r.w / CLI_EV_BINS;
    for (int b = 0; b < CLI_EV_BINS; b++) {
        double v = cli_ratio(bclicked[b], bshown[b]), hgt = r.h * v / r.ymax;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ff7f0e\">"
                "<title>decile %d: %lld items, %lld of %lld shown clicked</title></rect>\n",
                r.x0 + bw * b + 3, r.y0 + r.h - hgt, bw - 6, hgt, b + 1, (long long)bitems[b],
                (long long)bclicked[b], (long long)bshown[b]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%d</text>\n",
                r.x0 + bw * b + bw / 2, r.y0 + r.h + 16, b + 1);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">events: ", 80.0, H - 14);
    for (const char *s = dir; *s; s++) { /* the folder name, escaped */
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
    fprintf(f, "</text>\n</svg>\n");
    st = facto_output_commit(ctx, out);
    return st == FACTO_OK ? 0 : cli_fail(ctx, st, 0);
}

static int cli_events_stats(int argc, char **argv)
{
    const char *verb = argv[0];
    const char *dir = NULL, *plot = NULL;
    int max_pos = 20, rc = 0, c;
    cli_getopt_begin();
    while (rc == 0 && (c = cli_getopt(verb, argc, argv, "h", cli_events_opts)) != -1) {
        switch (c) {
        case 'h': cli_events_help(verb); return FACTO_EXIT_OK;
        case OPT_DIR: dir = optarg; break;
        case OPT_PLOT: plot = optarg; break;
        case OPT_POSITIONS: rc = cli_arg_int(verb, "--max-positions", optarg, 1, CLI_EV_MAX_POSITIONS, &max_pos); break;
        default: return FACTO_EXIT_USAGE;
        }
    }
    if (rc)
        return rc;
    if (!dir)
        return cli_usage(verb, "missing --events-dir DIR");
    facto_ctx *ctx = cli_ctx_new();
    if (!ctx)
        return FACTO_EXIT_INTERNAL;
    facto_events *ev = NULL;
    int64_t shown[CLI_EV_MAX_POSITIONS], clicked[CLI_EV_MAX_POSITIONS];
    int64_t bitems[CLI_EV_BINS], bshown[CLI_EV_BINS], bclicked[CLI_EV_BINS], bmin[CLI_EV_BINS], bmax[CLI_EV_BINS];
    int n_pos = 0;
    facto_status st;
    if ((rc = cli_events_read(ctx, dir, &ev)) != 0)
        goto done;
    facto_events_counts n;
    facto_events_get_counts(ev, &n);
    printf("events: %lld file%s, %lld event%s: %lld impression%s (%lld item%s shown), %lld click%s, %lld purchase%s, "
           "%lld rating%s; %lld torn line%s, %lld repeated impression%s skipped\n",
           (long long)n.files, cli_plural(n.files), (long long)n.lines, cli_plural(n.lines), (long long)n.impressions,
           cli_plural(n.impressions), (long long)n.shown, cli_plural(n.shown), (long long)n.clicks,
           cli_plural(n.clicks), (long long)n.purchases, cli_plural(n.purchases), (long long)n.ratings,
           cli_plural(n.ratings), (long long)n.torn_lines, cli_plural(n.torn_lines),
           (long long)n.duplicate_impressions, cli_plural(n.duplicate_impressions));
    if (n.impressions == 0) {
        printf("no impressions: no click-through rate to show\n");
        goto done;
    }
    if ((st = facto_events_position_ctr(ctx, ev, max_pos, shown, clicked, &n_pos)) != FACTO_OK ||
        (st = facto_events_popularity_ctr(ctx, ev, CLI_EV_BINS, bitems, bshown, bclicked, bmin, bmax)) != FACTO_OK) {
        rc = cli_fail(ctx, st, 0);
        goto done;
    }
    double ctr1 = cli_ratio(clicked[0], shown[0]);
    printf("\nCTR by position (clicked = a click with the impression's request_id and item)\n");
    printf("%8s %10s %10s %10s %11s\n", "position", "shown", "clicked", "ctr", "propensity");
    for (int p = 0; p < n_pos; p++) {
        double ctr = cli_ratio(clicked[p], shown[p]);
        char ctr_text[32];
        printf("%8d %10lld %10lld %10s ", p + 1, (long long)shown[p], (long long)clicked[p],
               cli_ctr_text(ctr_text, sizeof ctr_text, clicked[p], shown[p]));
        if (ctr1 > 0 && shown[p] > 0)
            printf("%11.4f\n", ctr / ctr1);
        else
            printf("%11s\n", "-");
    }
    printf("\nCTR by item popularity decile (popularity = times the log shows the item; 1 = least shown)\n");
    printf("%6s %7s %15s %10s %10s %10s\n", "decile", "items", "times shown", "shown", "clicked", "ctr");
    for (int b = 0; b < CLI_EV_BINS; b++) {
        char range[48];
        snprintf(range, sizeof range, "%lld-%lld", (long long)bmin[b], (long long)bmax[b]);
        char ctr_text[32];
        printf("%6d %7lld %15s %10lld %10lld %10s\n", b + 1, (long long)bitems[b], bitems[b] ? range : "-",
               (long long)bshown[b], (long long)bclicked[b],
               cli_ctr_text(ctr_text, sizeof ctr_text, bclicked[b], bshown[b]));
    }
    if (plot && (rc = cli_events_svg(ctx, plot, dir, shown, clicked, n_pos, bshown, bclicked, bitems)) == 0)
        fprintf(stderr, "facto: chart written to %s\n", plot);
done:
    facto_events_free(ev);
    facto_ctx_free(ctx);
    return rc;
}

int cli_cmd_events(int argc, char **argv)
{
    const char *verb = argv[0];
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_events_help(verb);
        return argc < 2 ? cli_usage(verb, "missing the action: stats") : FACTO_EXIT_OK;
    }
    if (strcmp(argv[1], "stats") != 0)
        return cli_usage(verb, "unknown action '%s': the action is stats", argv[1]);
    char name[128];
    snprintf(name, sizeof name, "%s stats", verb);
    argv[1] = name;
    return cli_events_stats(argc - 1, argv + 1);
}
