/*
 * delimited.h — the line-level pieces of the delimited ratings reader
 * (read_ratings.c) that other delimited readers share (propensity.c): the
 * delimiter detection of a first line, the in-place field splitter (quotes,
 * "::", runs of blanks), the exact decimal parse and the quoting of a field
 * in a message. O(line bytes) each.
 */
#ifndef FACTO_DELIMITED_H
#define FACTO_DELIMITED_H

#include "../core/internal.h"

#include <stddef.h>
#include <stdint.h>

/* The dialect's code for the two-byte delimiter "::" (never a data byte we split on). */
#define FACTO_DELIM_DCOLON '\x01'

/* A field: a span of the (mutable) line, NUL-terminated in place. */
typedef struct fct_field {
    char *s;
    size_t n;
} fct_field;

typedef struct fct_fields {
    fct_field *f; /* [cap], malloc'd; the caller frees f */
    int n, cap;
} fct_fields;

/* Space other than a line end. */
int fct_is_space(char c);
/* A line that holds only blanks or starts (after blanks) with '#': the delimited readers skip it. */
int fct_is_blank_or_comment(const char *line, size_t len);
/* A field for a message: at most 40 bytes then "...", control bytes as \xNN;
 * size >= 4 * 40 + 4. */
void fct_show(char *dst, size_t size, const char *s, size_t n);
/* The whole field as a number (exact for plain decimals, else strtod); 0 when it is not one. */
int fct_ratings_number(const char *s, size_t n, double *v);
/* The delimiter of a first line that needs `need` columns: "::" (FACTO_DELIM_DCOLON),
 * tab, comma, semicolon, or ' ' (runs of blanks). */
char fct_detect_delim(const char *line, size_t len, int need);
/* Split `line` in place by delim into fs (trimmed fields; "quoted" fields may hold the
 * delimiter). FACTO_ERR_PARSE "PATH:LINE: ..." for a bad quote; FACTO_ERR_NOMEM. */
facto_status fct_split_line(facto_ctx *ctx, const char *path, int64_t lineno, char *line, size_t len, char delim,
                            fct_fields *fs);

#endif /* FACTO_DELIMITED_H */
