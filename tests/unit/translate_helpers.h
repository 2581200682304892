/* Shared helpers for the translation tests (not a test itself). */
#ifndef TESTS_TRANSLATE_HELPERS_H
#define TESTS_TRANSLATE_HELPERS_H

#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "util/buf.h"

/* Replaces the random id and the clock in translated output so it can be
 * compared with a fixed expectation: "chatcmpl-<hex>" -> "chatcmpl-ID",
 * "cmpl-<hex>" -> "cmpl-ID", "created":<n> -> "created":0, call_<8> ids
 * are kept (the tests give ids). */
static inline void normalize(const char *in, buf *out)
{
    buf_reset(out);
    const char *p = in;
    while (*p) {
        if (!strncmp(p, "chatcmpl-", 9) || !strncmp(p, "cmpl-", 5)) {
            size_t k = p[0] == 'c' && p[1] == 'h' ? 9 : 5, h = 0;
            buf_append(out, p, k);
            p += k;
            while (isxdigit((unsigned char)p[h]))
                h++;
            if (h == 24) { /* ours; upstream ids are kept */
                p += h;
                buf_puts(out, "ID");
            }
        } else if (!strncmp(p, "\"created\":", 10)) {
            buf_puts(out, "\"created\":0");
            p += 10;
            while (isdigit((unsigned char)*p))
                p++;
        } else {
            buf_putc(out, *p++);
        }
    }
    buf_cstr(out);
}

static inline int json_text_equal(const char *a, const char *b)
{
    json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
    int eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

#endif
