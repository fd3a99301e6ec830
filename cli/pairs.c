/*
 * pairs.c — the `user item` pairs reader of pairs.h: a bounded line reader,
 * the delimiter told from the first data line, fields cut in place with
 * blanks and one pair of double quotes removed, and the header line
 * skipped. Shared by predict (pairs to score) and recommend (pairs to
 * leave out). O(line) per pair, no allocation but the line buffer.
 */
#include "pairs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

long cli_read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int c, nul = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (c == '\0')
            nul = 1;
        if (n + 1 >= cap)
            return -2;
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return -1;
    while (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return nul ? -3 : (long)n;
}

/* A header line such as "userId,movieId,rating": its first field names the user column. */
static int cli_is_header(const char *field)
{
    return strcasecmp(field, "user") == 0 || strcasecmp(field, "userid") == 0 || strcasecmp(field, "user_id") == 0;
}

/* The pairs file's delimiter, fixed by its first data line: "::" (code ':'),
 * tab, comma, semicolon or '|' when the line holds one, else runs of blanks
 * (code ' '). Ids may then hold spaces ("Ann Lee,Up"). */
static char cli_pairs_delim(const char *line)
{
    if (strstr(line, "::"))
        return ':';
    static const char cands[] = {'\t', ',', ';', '|'};
    for (size_t i = 0; i < sizeof cands; i++)
        if (strchr(line, cands[i]))
            return cands[i];
    return ' ';
}

/* Cut the next field of *p in place at `delim`; surrounding blanks and one
 * pair of double quotes are removed. NULL when no field is left. */
static char *cli_next_field(char **p, char delim)
{
    char *s = *p;
    if (!s)
        return NULL;
    if (delim == ' ')
        while (*s == ' ' || *s == '\t')
            s++;
    if (!*s && delim == ' ')
        return NULL;
    char *end = delim == ' ' ? s + strcspn(s, " \t") : delim == ':' ? strstr(s, "::") : strchr(s, delim);
    if (end && *end) {
        *end = '\0';
        *p = end + (delim == ':' ? 2 : 1);
    } else {
        *p = NULL;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

int cli_pairs_open(cli_pairs_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->from_stdin = strcmp(path, "-") == 0;
    r->name = r->from_stdin ? "<stdin>" : path;
    struct stat pre;
    if (!r->from_stdin && stat(path, &pre) == 0 && S_ISDIR(pre.st_mode)) {
        cli_error("%s: is a directory, not a file of 'user item' pairs", path);
        return FACTO_EXIT_DATA;
    }
    r->f = r->from_stdin ? stdin : fopen(path, "rb");
    if (!r->f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return FACTO_EXIT_DATA;
    }
    r->line = malloc(CLI_LINE_MAX);
    if (!r->line) {
        cli_pairs_close(r);
        cli_error("out of memory");
        return FACTO_EXIT_INTERNAL;
    }
    /* A .fds data set file: only a regular file is sniffed (a pipe's bytes
     * would be lost), then rewound for the text reader when it is not one.
     * A whole file of 1-7 bytes that begin the magic is a truncated one (the
     * reader says so). */
    unsigned char head[8];
    struct stat sb;
    int regular = !r->from_stdin && fstat(fileno(r->f), &sb) == 0 && S_ISREG(sb.st_mode);
    size_t got = regular ? fread(head, 1, sizeof head, r->f) : 0;
    if (got > 0 && memcmp(head, "FACTOFDS", got) == 0) {
        facto_ctx *ctx = facto_ctx_new();
        facto_status st = ctx ? facto_dataset_read(ctx, path, NULL, &r->ds, NULL) : FACTO_ERR_NOMEM;
        int rc = st == FACTO_OK ? 0 : ctx ? cli_fail(ctx, st, 0) : FACTO_EXIT_INTERNAL;
        facto_ctx_free(ctx);
        if (rc != 0) {
            cli_pairs_close(r);
            return rc;
        }
        return 0;
    }
    if (regular)
        rewind(r->f);
    return 0;
}

/* One line (`got` bytes, or a reader's error code): 1 with a pair, 0 for a
 * line without one, minus an exit code. */
static int cli_pairs_line(cli_pairs_reader *r, long got, char **user, char **item)
{
    if (got == -2 || got == -3) {
        cli_error(got == -2 ? "%s:%lld: the line is longer than 64 KiB; is this a file of 'user item' pairs?"
                            : "%s:%lld: line holds a NUL byte (binary or compressed data?)",
                  r->name, r->lineno);
        return -FACTO_EXIT_DATA;
    }
    char *p = r->line;
    if (r->lineno == 1 && got >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    char *q = p;
    while (*q == ' ' || *q == '\t')
        q++;
    if (*q == '\0' || *q == '#')
        return 0;
    if (!r->delim)
        r->delim = cli_pairs_delim(q);
    char shown[80];
    snprintf(shown, sizeof shown, "%s", q);
    *user = cli_next_field(&p, r->delim);
    *item = *user ? cli_next_field(&p, r->delim) : NULL;
    if (!*user || !*item || !**user || !**item) {
        cli_error("%s:%lld: expected 'user item', got '%s'", r->name, r->lineno, shown);
        return -FACTO_EXIT_DATA;
    }
    if (r->n_pairs == 0 && cli_is_header(*user))
        return 0;
    r->n_pairs++;
    return 1;
}

/* The next pair of a .fds data set. */
static int cli_pairs_next_fds(cli_pairs_reader *r, char **user, char **item)
{
    const int64_t *row_ptr;
    const int32_t *items;
    facto_dataset_csr(r->ds, &row_ptr, &items, NULL, NULL);
    while (r->du < facto_dataset_n_users(r->ds) && r->dk >= row_ptr[r->du + 1])
        r->du++;
    if (r->du >= facto_dataset_n_users(r->ds))
        return 0;
    /* Borrowed names: the callers only read them. */
    *user = (char *)facto_idmap_name(facto_dataset_users(r->ds), r->du);
    *item = (char *)facto_idmap_name(facto_dataset_items(r->ds), items[r->dk]);
    r->dk++;
    r->n_pairs++;
    r->lineno = r->n_pairs;
    return 1;
}

int cli_pairs_next(cli_pairs_reader *r, char **user, char **item)
{
    if (r->ds)
        return cli_pairs_next_fds(r, user, item);
    long got;
    errno = 0;
    while ((got = cli_read_line(r->f, r->line, CLI_LINE_MAX)) != -1) {
        r->lineno++;
        int rc = cli_pairs_line(r, got, user, item);
        if (rc != 0)
            return rc;
    }
    if (ferror(r->f)) {
        cli_error("%s:%lld: read error: %s", r->name, r->lineno + 1, strerror(errno));
        return -FACTO_EXIT_DATA;
    }
    return 0;
}

void cli_pairs_close(cli_pairs_reader *r)
{
    if (r->f && !r->from_stdin)
        fclose(r->f);
    free(r->line);
    facto_dataset_free(r->ds);
    r->f = NULL;
    r->line = NULL;
    r->ds = NULL;
}
