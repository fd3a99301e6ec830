/*
 * numtext.c — locale-free number text (numtext.h): one C locale object,
 * made once, installed with uselocale() around each strtod / snprintf and
 * the previous thread locale put back. Shortest round-trip output finds
 * the fewest significant digits: for a float, by exact 128-bit integer
 * arithmetic where its integers fit in 126 bits (values of ordinary size;
 * zero, subnormals and the far ends of the range take the other path), else by
 * snprintf and strtof, a binary search over 1..9 (3-4 conversions); for a
 * double, 1..17 in turn. O(digits) per number.
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

/* ---- the shortest float text in integer arithmetic ------------------------------------
 *
 * What fct_format_float_short prints, computed exactly without snprintf and
 * strtof (each call of those costs about a microsecond; the server writes
 * ten scores an answer): a normal float v = M 2^E (M < 2^24) and a decimal
 * N 10^Q are compared as integers of at most 126 bits, after both are
 * scaled by 2^max(0, 2 - E) 10^max(0, -Q). p digits: N is v / 10^Q rounded
 * half to even (as glibc's printf rounds an exact tie); the text reads back
 * when N 10^Q lies within half a gap of v (a tie goes to the even mantissa,
 * as strtof rounds; below a power of two the gap is half as wide). Values
 * whose integers would not fit (|v| beyond about 1e+-20, subnormals, zero)
 * take the snprintf path. The text is then "%.{p}g"'s, laid out here. */

__extension__ typedef unsigned __int128 fct_u128;

static int fct_bits128(fct_u128 x)
{
    int n = 0;
    while (x >> 64) {
        x >>= 64;
        n += 64;
    }
    return n + (x ? 64 - __builtin_clzll((unsigned long long)x) : 0);
}

static fct_u128 fct_pow10_128(int n)
{
    static const uint64_t p10[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
                                     100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
                                     1000000000000ull, 10000000000000ull, 100000000000000ull,
                                     1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
                                     1000000000000000000ull, 10000000000000000000ull};
    return n < 20 ? (fct_u128)p10[n] : (fct_u128)p10[19] * p10[n - 19]; /* n <= 38 */
}

/* x * 10^n when it fits in 126 bits, else 0 (x > 0). */
static fct_u128 fct_mul10n(fct_u128 x, int n)
{
    if (n <= 0)
        return x;
    if (n > 38)
        return 0;
    if (fct_bits128(x) + 4 * n > 126 && fct_bits128(x) + fct_bits128(fct_pow10_128(n)) > 126)
        return 0;
    return x * fct_pow10_128(n);
}

/* x * 2^n when it fits in 126 bits, else 0 (x > 0). */
static fct_u128 fct_shl(fct_u128 x, int n)
{
    if (n <= 0)
        return x;
    if (fct_bits128(x) + n > 126)
        return 0;
    return x << n;
}

/* M 2^E rounded to p significant digits: N (p digits) and the decimal
 * exponent X of N's first digit; 0 when out of the exact range. */
static int fct_float_digits(uint32_t M, int E, int p, double approx, uint64_t *N, int *X)
{
    int x = (int)floor(log10(approx));
    const fct_u128 lo10 = fct_pow10_128(p - 1), hi10 = lo10 * 10;
    for (int tries = 0; tries < 4; tries++) {
        const int q = x - p + 1;
        fct_u128 num = fct_mul10n(fct_shl(M, E), -q), den = fct_mul10n(fct_shl(1, -E), q);
        if (!num || !den)
            return 0;
        fct_u128 f = !(num >> 64) && !(den >> 64) ? (fct_u128)((uint64_t)num / (uint64_t)den) : num / den;
        if (f >= hi10) {
            x++;
            continue;
        }
        if (f < lo10) {
            x--;
            continue;
        }
        const fct_u128 rem = num - f * den;
        if (2 * rem > den || (2 * rem == den && (f & 1)))
            f++;
        if (f == hi10) {
            f = lo10;
            x++;
        }
        *N = (uint64_t)f;
        *X = x;
        return 1;
    }
    return 0;
}

/* Whether strtof reads N 10^Q back as M 2^E: 1 yes, 0 no, -1 out of range. */
static int fct_float_reads_back(uint32_t M, int E, uint64_t N, int Q)
{
    const int e2 = E > 2 ? E : 2, qn = Q < 0 ? -Q : 0;
    const fct_u128 ds = fct_shl(fct_mul10n(N, Q), 2 - E);
    const fct_u128 vs = fct_mul10n(fct_shl(M, e2), qn);
    const fct_u128 up = fct_mul10n((fct_u128)1 << (e2 - 1), qn);
    const fct_u128 low = M == (1u << 23) ? fct_mul10n((fct_u128)1 << (e2 - 2), qn) : up;
    if (!ds || !vs || !up || !low)
        return -1;
    const int even = !(M & 1);
    if (ds >= vs)
        return ds - vs < up || (ds - vs == up && even);
    return vs - ds < low || (vs - ds == low && even);
}

/* "%.{p}g" of sign * N 10^(X - p + 1), N of p digits, into buf (>= 32 bytes). */
static int fct_layout_g(char *buf, int neg, uint64_t N, int p, int X)
{
    char d[24];
    for (int i = p - 1; i >= 0; i--) {
        d[i] = (char)('0' + N % 10);
        N /= 10;
    }
    int nd = p; /* digits left once trailing zeros go */
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (X < -4 || X >= p) {
        while (nd > 1 && d[nd - 1] == '0')
            nd--;
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = X < 0 ? '-' : '+';
        int ax = X < 0 ? -X : X;
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    } else if (X >= 0) {
        while (nd > X + 1 && d[nd - 1] == '0')
            nd--;
        memcpy(o, d, (size_t)(X + 1));
        o += X + 1;
        if (nd > X + 1) {
            *o++ = '.';
            memcpy(o, d + X + 1, (size_t)(nd - X - 1));
            o += nd - X - 1;
        }
    } else {
        while (nd > 1 && d[nd - 1] == '0')
            nd--;
        *o++ = '0';
        *o++ = '.';
        for (int z = 0; z < -X - 1; z++)
            *o++ = '0';
        memcpy(o, d, (size_t)nd);
        o += nd;
    }
    *o = '\0';
    return (int)(o - buf);
}

/* fct_format_float_short's text by the integer path; -1 when v is out of its range. */
static int fct_format_float_exact(char *buf, size_t size, float v)
{
    if (size < 32 || v == 0.0f || !isnormal(v))
        return -1;
    const int neg = v < 0.0f;
    const float a = neg ? -v : v;
    int e2;
    const float m = frexpf(a, &e2);
    const uint32_t M = (uint32_t)ldexpf(m, 24);
    const int E = e2 - 24;
    if (E < -120 || E > 100)
        return -1;
    /* the first p that reads back: a binary search but below a power of two
     * (fct_format_float_short_ref says why), every p in turn there */
    int lo = 1, hi = 9;
    uint64_t N = 0;
    int X = 0, have = 0;
    while (lo < hi) {
        const int p = M == (1u << 23) ? lo : (lo + hi) / 2;
        uint64_t Np;
        int Xp;
        if (!fct_float_digits(M, E, p, (double)a, &Np, &Xp))
            return -1;
        const int back = fct_float_reads_back(M, E, Np, Xp - p + 1);
        if (back < 0)
            return -1;
        if (back) {
            hi = p;
            N = Np;
            X = Xp;
            have = p;
        } else {
            lo = p + 1;
        }
    }
    int p = hi;
    if (have != p && !fct_float_digits(M, E, p, (double)a, &N, &X))
        return -1;
    if ((X < -4 || X >= p) && X >= 0 && X <= 8) { /* fct_unexponent: the plain form below 1e9 */
        p = X + 1;
        if (!fct_float_digits(M, E, p, (double)a, &N, &X))
            return -1;
    }
    return fct_layout_g(buf, neg, N, p, X);
}

/* The reference: snprintf "%.{p}g" and strtof until the text reads back. */
int fct_format_float_short_ref(char *buf, size_t size, float v)
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

int fct_format_float_short(char *buf, size_t size, float v)
{
    const int n = fct_format_float_exact(buf, size, v);
    return n >= 0 ? n : fct_format_float_short_ref(buf, size, v);
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
