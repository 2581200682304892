/* Byte-level JSON scanning without a parse tree.
 *
 * jscan_valid checks that text is one JSON object or array that jansson
 * accepts; the readers below assume text already known to be valid (checked
 * by jscan_valid or accepted by jansson) and only stay in bounds otherwise.
 * Used by the translator to splice a field ("model") without re-serialising
 * the whole object, so the client sees the upstream's bytes otherwise
 * unchanged, and to read hot-path lines without building a tree. */
#ifndef TOLLGATE_PARSE_JSON_SCAN_H
#define TOLLGATE_PARSE_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* A slice of the scanned text; p is NULL for "absent". */
typedef struct {
    const char *p;
    size_t n;
} jscan_span;

/* The text is one JSON object or array that jansson accepts (with
 * JSON_ALLOW_NUL when allow_nul). False also when unsure (very long numbers,
 * deep nesting): the caller then asks jansson. */
bool jscan_valid(const char *s, size_t n, bool allow_nul);

/* In the object text [obj, end), finds the top-level member "key". val is
 * the value's span; member spans the member plus one separating comma, i.e.
 * what to cut to remove it. Returns false when absent or not an object. */
bool jscan_find(const char *obj, const char *end, const char *key, jscan_span *val, jscan_span *member);
/* One pass over the object text [obj, end): vals[i] gets the value span of
 * keys[i] (p NULL when absent). Checks the member structure and that only
 * whitespace follows the closing brace; nested values are only skipped. */
bool jscan_object(const char *obj, const char *end, const char *const *keys, size_t nkeys, jscan_span *vals);
/* Decodes the JSON string literal lit (with its quotes) into out, checking
 * it the way jansson does (escapes, control characters, UTF-8, surrogate
 * pairs). Returns false when lit is not a valid string literal. */
bool jscan_string(jscan_span lit, buf *out);
/* Given the text of a JSON array, calls back with each element's span. */
typedef void (*jscan_elem_cb)(void *ud, size_t index, jscan_span elem);
bool jscan_array_each(const char *arr, const char *end, jscan_elem_cb cb, void *ud);
/* The span's bytes equal lit. */
bool jscan_is(jscan_span v, const char *lit);

/* Lexical pieces, shared by the validator and the readers. */
const char *jscan_ws(const char *p, const char *e);                    /* skips JSON whitespace */
int jscan_hexval(char c);                                              /* 0..15, or -1 */
long jscan_hex4(const char *p, const char *e);                         /* 4 hex digits, or -1 */
size_t jscan_utf8_len(const unsigned char *p, const unsigned char *e); /* valid UTF-8 length (jansson's rules), or 0 */

#endif
