/* Text-format helpers that reproduce prometheus_client's output byte for
 * byte: floatToGoString (Python repr with Go-style exponents for large
 * positive numbers), label value and HELP escaping. */
#ifndef TOLLGATE_METRICS_PROMFMT_H
#define TOLLGATE_METRICS_PROMFMT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define PROMFMT_FLOAT_MAX 40

/* Writes v as prometheus_client's floatToGoString does ("1.0", "0.005",
 * "+Inf", "1.5e+06"); returns the length (NUL-terminated, < PROMFMT_FLOAT_MAX). */
size_t promfmt_float(char *out, double v);
/* Same for a whole number, without going through strtod (counts, bytes). */
size_t promfmt_uint(char *out, uint64_t v);
/* Label value escaping: \ -> \\, newline -> \n, " -> \". */
void promfmt_label_value(buf *b, const char *s);
/* HELP escaping: \ -> \\, newline -> \n. */
void promfmt_help(buf *b, const char *s);

#endif
