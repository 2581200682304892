/* Internals shared by translate_*.c; not part of the public API. */
#ifndef TOLLGATE_SERVE_TRANSLATE_INT_H
#define TOLLGATE_SERVE_TRANSLATE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "parse/ndjson.h"
#include "parse/sse.h"
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

/* ---- byte-level fast paths (translate_fast.c) ---- */

/* The text is one JSON object or array that jansson accepts (with
 * JSON_ALLOW_NUL when allow_nul). False also when unsure (very long numbers,
 * deep nesting): the caller then asks jansson. */
bool tj_valid(const char *s, size_t n, bool allow_nul);
/* tr_build_request for an OpenAI-compatible upstream without a jansson tree:
 * the client's bytes with the "model" value replaced (and the usage chunk
 * requested when streaming). Returns 1 when done, 0 (out unchanged) when the
 * jansson path must decide (errors, duplicate keys of interest, rare
 * shapes). */
int tr_fast_openai_request(tr_kind kind, const char *body, size_t len, const char *model, buf *out,
                           tr_request_info *info);
/* The stats tap of a whole non-streaming OpenAI body without a jansson tree.
 * Returns 1 when done (stats updated), 0 (stats unchanged) when the jansson
 * path must decide. */
int tr_fast_openai_body(tr_stream *t, const char *s, size_t n);
/* Tests and the fuzz target set this to force the jansson paths. */
extern bool tr_fast_disabled;

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

/* String value and its length ("" and 0 when v is not a string). */
const char *tj_str_of(const json_t *v, size_t *n);
/* The span's bytes equal lit. */
bool tj_span_is(tj_span v, const char *lit);

/* ---- the response stream, shared by translate_stream.c (core, Ollama
 * native, embeddings) and translate_openai.c (OpenAI-compatible). */

/* A streamed line is one token, but Ollama's final /api/generate line
 * carries "context" (the prompt's token ids), so allow megabytes. Whole
 * non-streaming bodies (embeddings) may be much larger. */
#define MAX_STREAM_LINE (16u << 20)
#define MAX_BODY (256u << 20)

struct tr_stream {
    tr_kind kind;
    tr_source src;
    tr_request_info info;
    const char *provider;
    tr_stats st;
    char id[40];
    long long created;
    char *model;
    ndjson *nd;
    sse_parser *sse;
    buf pre;       /* 'data: {"id":..,"object":..,"created":..,"model":..,"choices":[' */
    buf body;      /* non-streaming bodies (OpenAI upstream, embeddings) */
    buf content;   /* non-streaming Ollama: concatenated text */
    buf reasoning; /* non-streaming Ollama: concatenated thinking */
    buf tools;     /* OpenAI tool_calls elements, comma-separated */
    buf tmp;
    buf text;  /* decoded token text on the fast path */
    buf text2; /* decoded thinking text on the fast path */
    size_t ntools;
    bool role_sent;  /* chat: the role went out in a delta */
    bool tok_seen;   /* the first non-empty token was seen */
    bool saw_finish; /* OpenAI: a finish_reason came */
    bool error_sent;
    bool object_sent; /* non-streaming: the response object went out */
    buf *out; /* output of the feed in progress */
};

/* Marks the stream failed (in_band: the upstream reported it); a streaming
 * client gets one error event. Returns -1. */
int trs_fail(tr_stream *t, const char *msg, bool in_band);
/* Parses one upstream JSON object (a line, an event or a whole body). Not an
 * object, or an in-band {"error": ...}: fails the stream, stores trs_fail's
 * result in *rc and returns NULL. what names the unit in the message. */
json_t *trs_load_object(tr_stream *t, const char *s, size_t len, const char *what, int *rc);
/* sse_event_cb for OpenAI-compatible streams (ud = tr_stream). */
int trs_openai_event(void *ud, const sse_event *ev);
/* A whole OpenAI-compatible body for a non-streaming client. */
int trs_openai_body_finish(tr_stream *t, buf *out);


/* Byte-level JSON helpers shared by translate_json.c and translate_fast.c. */
const char *tj_ws(const char *p, const char *e);           /* skips JSON whitespace */
int tj_hexval(char c);                                      /* 0..15, or -1 */
long tj_hex4(const char *p, const char *e);                 /* 4 hex digits, or -1 */
size_t tj_utf8_len(const unsigned char *p, const unsigned char *e); /* valid UTF-8 sequence length (jansson's rules), or 0 */

#endif
