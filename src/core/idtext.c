/*
 * idtext.c — ids as JSON-safe text (facto_id_escape in facto.h). Ids are
 * the data's own bytes; JSON strings must be UTF-8. Valid UTF-8 (RFC 3629:
 * no overlong forms, no surrogates, at most U+10FFFF) is kept as it is; a
 * backslash becomes two; every other byte becomes the four characters
 * "\xHH" (lowercase hex). Reading back: "\\" is one backslash, "\xHH" one
 * byte, so two different ids never print alike. O(length).
 */
#include "internal.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the byte at s
 * does not start one. s is NUL-terminated. */
static int fct_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

size_t facto_id_escape(const char *id, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(id ? id : "");
    size_t o = 0;
#define FCT_PUT(ch)                                                                                                    \
    do {                                                                                                               \
        if (o + 1 < size)                                                                                              \
            out[o] = (char)(ch);                                                                                       \
        o++;                                                                                                           \
    } while (0)
    while (*s) {
        int n = fct_utf8_len(s);
        if (n == 1 && *s == '\\') {
            FCT_PUT('\\');
            FCT_PUT('\\');
        } else if (n > 0) {
            for (int i = 0; i < n; i++)
                FCT_PUT(s[i]);
        } else {
            n = 1;
            FCT_PUT('\\');
            FCT_PUT('x');
            FCT_PUT(hex[*s >> 4]);
            FCT_PUT(hex[*s & 15]);
        }
        s += n;
    }
#undef FCT_PUT
    if (size > 0)
        out[o < size ? o : size - 1] = '\0';
    return o;
}

static int fct_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t facto_id_unescape(const char *text, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t o = 0;
    while (*s) {
        unsigned char b = *s++;
        if (b == '\\') {
            if (*s == '\\') {
                s++;
            } else if (*s == 'x' && fct_hex_digit(s[1]) >= 0 && fct_hex_digit(s[2]) >= 0) {
                b = (unsigned char)(fct_hex_digit(s[1]) * 16 + fct_hex_digit(s[2]));
                s += 3;
                if (b == 0)
                    return FACTO_ID_BAD_ESCAPE; /* an id holds no NUL */
            } else {
                return FACTO_ID_BAD_ESCAPE;
            }
        }
        if (o + 1 < size)
            out[o] = (char)b;
        o++;
    }
    if (size > 0)
        out[o < size ? o : size - 1] = '\0';
    return o;
}
