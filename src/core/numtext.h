/*
 * numtext.h — numbers as text, the same in every process locale. Every
 * number libfacto reads from or writes to text (data files, model
 * hyperparameters, JSON, the CLI through facto_format_float and
 * facto_parse_number) goes through here: strtod / strtof / snprintf run
 * under a C locale object installed with uselocale() for the duration of
 * the call, so an application that called setlocale(LC_ALL, "de_DE.UTF-8")
 * still reads and writes "0.5", never "0,5". Thread-safe (uselocale is
 * per thread). O(length of the text).
 */
#ifndef FACTO_CORE_NUMTEXT_H
#define FACTO_CORE_NUMTEXT_H

#include <stdarg.h>
#include <stddef.h>

/* strtod / strtof in the C locale: same contract as the C functions
 * (end pointer, errno ERANGE on overflow), except that a hexadecimal
 * number ("0x10", "-0X1p3") is not read: *end = text, 0 returned. */
double fct_strtod(const char *text, char **end);
float fct_strtof(const char *text, char **end);
/* 1 when the whole text is a number (strtod syntax, C locale), else 0. */
int fct_parse_double(const char *text, double *out);
/* "%.*g" of v in the C locale; snprintf's result. */
int fct_format_double(char *buf, size_t size, int digits, double v);
/* The shortest "%.{1..9}g" text that strtof reads back as exactly v
 * ("0.1", "1e-05", "3.4028235e+38"); "nan", "inf", "-inf" when not
 * finite. buf must hold 32 bytes. Returns the length. */
int fct_format_float_short(char *buf, size_t size, float v);
/* The same text by snprintf and strtof alone (fct_format_float_short
 * computes it in integers where the float allows: the tests compare). */
int fct_format_float_short_ref(char *buf, size_t size, float v);
/* vsnprintf in the C locale ("0.5", never "0,5", whatever the program's
 * locale): vsnprintf's result. */
int fct_vformat(char *buf, size_t size, const char *fmt, va_list ap);
/* The shortest "%.{1..17}g" text that strtod reads back as exactly v. */
int fct_format_double_short(char *buf, size_t size, double v);

#endif /* FACTO_CORE_NUMTEXT_H */
