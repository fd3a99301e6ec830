/*
 * numtext.c — locale-free number text (numtext.h): one C locale object,
 * made once, installed with uselocale() around each strtod / snprintf and
 * the previous thread locale put back. Shortest round-trip output finds
 * the fewest significant digits: a binary search over 1..9 for a float
 * (3-4 conversions), 1..17 in turn for a double. O(digits) per number.
 */
#include "numtext.h"

#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t fct_c_loc;
static pthread_once_t fct_c_loc_once = PTHREAD_ONCE_INIT;

static void fct_c_loc_init(void) { fct_c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static locale_t fct_use_c_locale(void)
{
    pthread_once(&fct_c_loc_once, fct_c_loc_init);
    return fct_c_loc ? uselocale(fct_c_loc) : (locale_t)0;
}

static void fct_restore_locale(locale_t old)
{
    if (old)
        uselocale(old);
}

/* 1 when strtod would read `text` as a C hexadecimal float ("0x10",
 * " -0X1p3"): data files and options hold decimal numbers, so such a field
 * is refused (as "4abc" is) rather than read as 16. */
static int fct_hex_number(const char *text)
{
    while (*text == ' ' || (*text >= '\t' && *text <= '\r'))
        text++;
    if (*text == '+' || *text == '-')
        text++;
    return text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

double fct_strtod(const char *text, char **end)
{
    if (fct_hex_number(text)) {
        if (end)
            *end = (char *)text;
        return 0.0;
    }
    locale_t old = fct_use_c_locale();
    double v = strtod(text, end);
    int e = errno;
    fct_restore_locale(old);
    errno = e;
    return v;
}

float fct_strtof(const char *text, char **end)
{
    if (fct_hex_number(text)) {
        if (end)
            *end = (char *)text;
        return 0.0f;
    }
    locale_t old = fct_use_c_locale();
    float v = strtof(text, end);
    int e = errno;
    fct_restore_locale(old);
    errno = e;
    return v;
}

int fct_parse_double(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = fct_strtod(text, &end);
    if (end == text || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

int fct_format_double(char *buf, size_t size, int digits, double v)
{
    locale_t old = fct_use_c_locale();
    int n = snprintf(buf, size, "%.*g", digits, v);
    fct_restore_locale(old);
    return n;
}

static int fct_format_nonfinite(char *buf, size_t size, double v)
{
    return snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

/* %g writes a value in exponent form when its exponent reaches the
 * precision ("2.9e+02" for 290 at 2 digits); below 1e9 the plain form is
 * what a reader expects and still round-trips (it has more digits). */
static int fct_unexponent(char *buf, size_t size, int n, double v)
{
    const char *e = strchr(buf, 'e');
    if (!e || n < 0 || (size_t)n >= size)
        return n;
    int x = atoi(e + 1);
    if (x < 0 || x > 8)
        return n;
    return snprintf(buf, size, "%.*g", x + 1, v);
}

int fct_format_float_short(char *buf, size_t size, float v)
{
    if (!isfinite(v))
        return fct_format_nonfinite(buf, size, (double)v);
    locale_t old = fct_use_c_locale();
    int n = 0, mexp;
    const float m = frexpf(v, &mexp);
    if (v == 0.0f || m == 0.5f || m == -0.5f || size < 32) {
        /* a power of two (its rounding interval is narrower below than
         * above) or a short buffer: every p in turn */
        for (int p = 1; p <= 9; p++) {
            n = snprintf(buf, size, "%.*g", p, (double)v);
            if (n < 0 || (size_t)n >= size || strtof(buf, NULL) == v)
                break;
        }
    } else {
        /* Otherwise the interval is symmetric and the nearest (p+1)-digit
         * decimal is never farther from v than the nearest p-digit one (the
         * p-digit decimals are among them): once p digits read back, every
         * larger p does, so a binary search finds the first p in 3-4
         * conversions instead of up to 9 (the same text; p = 9 always reads
         * back). */
        int lo = 1, hi = 9, last = 0;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            n = snprintf(buf, size, "%.*g", mid, (double)v);
            last = mid;
            if (strtof(buf, NULL) == v)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (last != hi) /* buf holds another p's text */
            n = snprintf(buf, size, "%.*g", hi, (double)v);
    }
    n = fct_unexponent(buf, size, n, (double)v);
    fct_restore_locale(old);
    return n;
}

int fct_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    locale_t old = fct_use_c_locale();
    int n = vsnprintf(buf, size, fmt, ap);
    fct_restore_locale(old);
    return n;
}

int fct_format_double_short(char *buf, size_t size, double v)
{
    if (!isfinite(v))
        return fct_format_nonfinite(buf, size, v);
    locale_t old = fct_use_c_locale();
    int n = 0;
    for (int p = 1; p <= 17; p++) {
        n = snprintf(buf, size, "%.*g", p, v);
        if (n < 0 || (size_t)n >= size || strtod(buf, NULL) == v)
            break;
    }
    n = fct_unexponent(buf, size, n, v);
    fct_restore_locale(old);
    return n;
}

int facto_format_float(char *buf, size_t size, float v)
{
    if (!buf || size == 0)
        return -1;
    return fct_format_float_short(buf, size, v);
}

int facto_format_double(char *buf, size_t size, double v)
{
    if (!buf || size == 0)
        return -1;
    return fct_format_double_short(buf, size, v);
}

int facto_parse_number(const char *text, double *out)
{
    return text && out ? fct_parse_double(text, out) : 0;
}
