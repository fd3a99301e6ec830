/*
 * jsonbuf.c — answer bodies of the HTTP server: a growing buffer, JSON
 * strings (ids and titles escaped; bytes that are not UTF-8 read as
 * Latin-1, so a MovieLens 100K title always gives valid JSON), floats with
 * the fewest digits that read back exactly, and a UTF-8 check for ids that
 * arrive in query strings. Cost O(output bytes).
 */
#include "serve/serve.h"

#include "core/numtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int srv_buf_grow(srv_buf *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void srv_buf_add(srv_buf *b, const char *s, size_t n)
{
    if (!srv_buf_grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void srv_buf_str(srv_buf *b, const char *s)
{
    srv_buf_add(b, s, strlen(s));
}

void srv_buf_printf(srv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = fct_vformat(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        srv_buf_add(b, small, (size_t)n);
        return;
    }
    if (!srv_buf_grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    fct_vformat(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the UTF-8 sequence at s[0..n), 0 when it is not one. */
static size_t srv_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

int srv_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = srv_utf8_seq(u + i, n - i);
        if (l == 0)
            return 0;
        i += l;
    }
    return 1;
}

void srv_buf_json_str(srv_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    srv_buf_add(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t l = srv_utf8_seq(u + i, n - i);
        if (l > 1 || (l == 1 && c >= 0x20 && c != '"' && c != '\\')) {
            run += l;
            i += l;
            continue;
        }
        srv_buf_add(b, (const char *)u + i - run, run);
        run = 0;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            srv_buf_add(b, esc, 2);
        } else {
            /* a control character, or a byte outside UTF-8 read as Latin-1 */
            snprintf(esc, sizeof esc, "\\u%04x", c);
            srv_buf_add(b, esc, 6);
        }
        i++;
    }
    srv_buf_add(b, (const char *)u + n - run, run);
    srv_buf_add(b, "\"", 1);
}

/* The shortest text that reads back as f, in the C locale, without an
 * exponent below 1e9 (numtext.h fct_format_float_short: the CLI's form, so
 * the server and `facto predict` print a score the same way). */
void srv_buf_json_float(srv_buf *b, float f)
{
    if (!isfinite(f)) {
        srv_buf_add(b, "null", 4);
        return;
    }
    char num[32];
    int n = fct_format_float_short(num, sizeof num, f);
    if (n > 0 && (size_t)n < sizeof num)
        srv_buf_add(b, num, (size_t)n);
}

void srv_buf_json_id(srv_buf *b, const char *id)
{
    char small[256];
    size_t n = facto_id_escape(id, small, sizeof small);
    if (n < sizeof small) {
        srv_buf_json_str(b, small);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    facto_id_escape(id, big, n + 1);
    srv_buf_json_str(b, big);
    free(big);
}

int srv_id_read(const char *text, char out[FACTO_MAX_ID_LEN + 1], int allow_empty, const char **why)
{
    if (!srv_utf8_valid(text, strlen(text))) {
        *why = "is not UTF-8: write each byte of an id that is not UTF-8 as \\xHH (%5CxHH in a URL), "
               "a backslash as \\\\, as the server's answers do";
        return 0;
    }
    size_t n = facto_id_unescape(text, out, FACTO_MAX_ID_LEN + 1);
    if (n == FACTO_ID_BAD_ESCAPE) {
        *why = "holds a backslash that is not \\\\ (one backslash) or \\xHH (one byte, not 00)";
        return 0;
    }
    if (n > FACTO_MAX_ID_LEN || (n == 0 && !allow_empty)) {
        *why = "is not an id of 1 to 255 bytes";
        return 0;
    }
    return 1;
}
