#include "metrics/promfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Python's repr(float) is the shortest digit string that reads back to the
 * same double, written in fixed notation when the decimal exponent is in
 * [-4, 16) and as d.ddde+XX otherwise; fixed notation always has a dot. */
static size_t py_repr_digits(char *out, int neg, const char *digits, size_t nd, int decpt)
{
    char *p = out;
    if (neg)
        *p++ = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *p++ = '0';
            *p++ = '.';
            for (int i = 0; i < -decpt; i++)
                *p++ = '0';
            memcpy(p, digits, nd);
            p += nd;
        } else if ((size_t)decpt < nd) {
            memcpy(p, digits, (size_t)decpt);
            p += decpt;
            *p++ = '.';
            memcpy(p, digits + decpt, nd - (size_t)decpt);
            p += nd - (size_t)decpt;
        } else {
            memcpy(p, digits, nd);
            p += nd;
            for (size_t i = nd; i < (size_t)decpt; i++)
                *p++ = '0';
            *p++ = '.';
            *p++ = '0';
        }
    } else {
        *p++ = digits[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, nd - 1);
            p += nd - 1;
        }
        int e = decpt - 1;
        p += sprintf(p, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* Shortest round-trip digits of |v| > 0: the correctly rounded p-digit form
 * round-trips for every p at or above the shortest. Sums of measured
 * latencies usually need 16 or 17 digits, so those are tried first; only
 * numbers that fit in 15 go on to a binary search. */
static bool round_trips(char *tmp, size_t cap, double v, int p)
{
    snprintf(tmp, cap, "%.*e", p - 1, v);
    return strtod(tmp, NULL) == v;
}

static void shortest_digits(double v, char *digits, size_t *nd, int *decpt)
{
    char tmp[40];
    int lo = 1, hi = 15;
    if (!round_trips(tmp, sizeof tmp, v, 16)) {
        lo = hi = 17;
    } else if (!round_trips(tmp, sizeof tmp, v, 15)) {
        lo = hi = 16;
    }
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (round_trips(tmp, sizeof tmp, v, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(tmp, sizeof tmp, "%.*e", lo - 1, v);
    /* tmp is "d[.ddd]e[+-]XX" */
    size_t n = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    int e = atoi(s + 1);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *nd = n;
    *decpt = e + 1;
}

/* floatToGoString: Python's repr, except that a positive number with more
 * than six digits before the dot switches to "d.ddd" + "e+0" + (dot-1),
 * after stripping trailing '0' and '.' from the mantissa. The "e+0" is
 * literal, so 1.2e10 prints as "1.2e+010", exactly like prometheus_client. */
static size_t go_munge(char *out, size_t len, double v)
{
    if (!(v > 0))
        return len;
    const char *dotp = memchr(out, '.', len);
    if (!dotp)
        return len;
    size_t dot = (size_t)(dotp - out);
    if (dot <= 6)
        return len;
    char m[PROMFMT_FLOAT_MAX];
    size_t n = 0;
    m[n++] = out[0];
    m[n++] = '.';
    memcpy(m + n, out + 1, dot - 1);
    n += dot - 1;
    memcpy(m + n, out + dot + 1, len - dot - 1);
    n += len - dot - 1;
    while (n > 0 && (m[n - 1] == '0' || m[n - 1] == '.'))
        n--;
    memcpy(out, m, n);
    return n + (size_t)sprintf(out + n, "e+0%zu", dot - 1);
}

size_t promfmt_uint(char *out, uint64_t v)
{
    if (v >= (1ULL << 53))
        return promfmt_float(out, (double)v);
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < nd / 2; i++) {
        char t = digits[i];
        digits[i] = digits[nd - 1 - i];
        digits[nd - 1 - i] = t;
    }
    memcpy(out, digits, nd);
    out[nd] = '.';
    out[nd + 1] = '0';
    out[nd + 2] = '\0';
    return nd <= 6 ? nd + 2 : go_munge(out, nd + 2, 1.0);
}

size_t promfmt_float(char *out, double v)
{
    if (isnan(v))
        return (size_t)sprintf(out, "NaN");
    if (isinf(v))
        return (size_t)sprintf(out, v > 0 ? "+Inf" : "-Inf");
    if (v == 0)
        return (size_t)sprintf(out, signbit(v) ? "-0.0" : "0.0");
    if (v > 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v)
        return promfmt_uint(out, (uint64_t)v); /* counts: skip the digit search */
    char digits[24];
    size_t nd;
    int decpt;
    shortest_digits(fabs(v), digits, &nd, &decpt);
    size_t len = py_repr_digits(out, v < 0, digits, nd, decpt);
    return go_munge(out, len, v);
}

void promfmt_label_value(buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = NULL;
        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '\n')
            esc = "\\n";
        else if (*s == '"')
            esc = "\\\"";
        if (!esc)
            continue;
        buf_append(b, run, (size_t)(s - run));
        buf_append(b, esc, 2);
        run = s + 1;
    }
    buf_append(b, run, (size_t)(s - run));
}

void promfmt_help(buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = NULL;
        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '\n')
            esc = "\\n";
        if (!esc)
            continue;
        buf_append(b, run, (size_t)(s - run));
        buf_append(b, esc, 2);
        run = s + 1;
    }
    buf_append(b, run, (size_t)(s - run));
}
