/* Internals shared by translate_*.c; not part of the public API. */
#ifndef TOLLGATE_SERVE_TRANSLATE_INT_H
#define TOLLGATE_SERVE_TRANSLATE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "serve/translate.h"
#include "util/buf.h"

/* Compact JSON writer for jansson values. Numbers are written the way a
 * person wrote them where possible: integers as integers, reals with the
 * shortest text that reads back as the same double ("0.7", not jansson's
 * "0.69999999999999996"), integral reals keep a ".0". */
void tj_dump(buf *b, const json_t *v);
void tj_real(buf *b, double v);
void tj_u64(buf *b, unsigned long long v);

/* Byte-level scanning of JSON text that jansson already accepted: used to
 * splice a field ("model") without re-serialising the whole object, so the
 * client sees the upstream's bytes otherwise unchanged. */
typedef struct {
    const char *p;
    size_t n;
} tj_span;
/* In the object text [obj, end), finds the top-level member "key". val is
 * the value's span; member spans the member plus one separating comma, i.e.
 * what to cut to remove it. Returns false when absent or not an object. */
bool tj_find(const char *obj, const char *end, const char *key, tj_span *val, tj_span *member);
/* One pass over the object text [obj, end): vals[i] gets the value span of
 * keys[i] (p NULL when absent). Checks the member structure and that only
 * whitespace follows the closing brace; nested values are only skipped. */
bool tj_scan(const char *obj, const char *end, const char *const *keys, size_t nkeys, tj_span *vals);
/* Decodes the JSON string literal lit (with its quotes) into out, checking
 * it the way jansson does (escapes, control characters, UTF-8, surrogate
 * pairs). Returns false when lit is not a valid string literal. */
bool tj_string(tj_span lit, buf *out);
/* Given the text of a JSON array, calls back with each element's span. */
typedef void (*tj_elem_cb)(void *ud, size_t index, tj_span elem);
bool tj_array_each(const char *arr, const char *end, tj_elem_cb cb, void *ud);

/* 24 lower-case hex chars + NUL: unique per process (counter) and hard to
 * guess across processes (seeded from time, pid and an address). */
void tr_make_id(char out[25]);

/* Copies at most cap-1 bytes of s into dst, NUL-terminated, cutting at a
 * UTF-8 character boundary. */
void tr_copy(char *dst, size_t cap, const char *s, size_t n);

/* Fills err as a 400 invalid_request_error. */
void tr_bad_request(tr_error *err, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Extracts the message of an upstream error JSON value: a string, or an
 * object's "message" (OpenAI), or the JSON text. */
void tr_error_message(const json_t *error, char *dst, size_t cap);

#endif
