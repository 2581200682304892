/* Internals of the translator (src/translate/); not part of the public
 * API and not included from outside the module. The core (stream.c) owns
 * the stream state, errors and feed/finish; each upstream dialect (ollama.c,
 * openai.c) plugs in through a tr_dialect table; request.c and fast.c build
 * upstream requests; error.c maps errors; util.c has the shared helpers. */
#ifndef TOLLGATE_TRANSLATE_TR_INT_H
#define TOLLGATE_TRANSLATE_TR_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "parse/json_scan.h"
#include "parse/ndjson.h"
#include "parse/sse.h"
#include "translate/translate.h"
#include "util/buf.h"

/* Compact JSON writer for jansson values. Numbers are written the way a
 * person wrote them where possible: integers as integers, reals with the
 * shortest text that reads back as the same double ("0.7", not jansson's
 * "0.69999999999999996"), integral reals keep a ".0". */
void tr_json_dump(buf *b, const json_t *v);
void tr_json_real(buf *b, double v);
void tr_json_u64(buf *b, unsigned long long v);

/* ---- byte-level fast paths (fast.c) ---- */

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
const char *tr_str_of(const json_t *v, size_t *n);

/* ---- the response stream: the core (stream.c) and the dialects ---- */

/* A streamed line is one token, but Ollama's final /api/generate line
 * carries "context" (the prompt's token ids), so allow megabytes. Whole
 * non-streaming bodies (embeddings) may be much larger. */
#define MAX_STREAM_LINE (16u << 20)
#define MAX_BODY (256u << 20)

typedef struct tr_dialect tr_dialect;

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
    bool saw_finish; /* OpenAI: a finish_reason came */
    bool error_sent;
    bool object_sent; /* non-streaming: the response object went out */
    const tr_dialect *d;
    buf *out; /* output of the feed or finish in progress */
};

/* One upstream dialect: how its response body is read and completed. The
 * core calls these with t->out set to the caller's output buffer. */
struct tr_dialect {
    /* Upstream body bytes (any split); translated output goes to t->out.
     * Returns 0, or -1 having failed the stream (tr_fail). */
    int (*feed)(tr_stream *t, const char *data, size_t len);
    /* The body ended and the stream has not failed: finish the last unit
     * (if not done yet) and, for a non-streaming client, write the whole
     * response object to out. Leaving the stream neither done nor failed
     * makes the core fail it as truncated. */
    void (*finish)(tr_stream *t, buf *out);
};
extern const tr_dialect tr_dialect_ollama; /* ollama.c: /api/chat, /api/generate (NDJSON), /api/embed */
extern const tr_dialect tr_dialect_openai; /* openai.c: SSE or one body, passed through */

/* Marks the stream failed (in_band: the upstream reported it); a streaming
 * client gets one error event. Returns -1. */
int tr_fail(tr_stream *t, const char *msg, bool in_band);
/* Parses one upstream JSON object (a line, an event or a whole body). Not an
 * object, or an in-band {"error": ...}: fails the stream, stores tr_fail's
 * result in *rc and returns NULL. what names the unit in the message. */
json_t *tr_load_object(tr_stream *t, const char *s, size_t len, const char *what, int *rc);
/* Keeps a whole (non-streamed) body in t->body, up to MAX_BODY. Returns 0,
 * or -1 having failed the stream. */
int tr_buffer_body(tr_stream *t, const char *data, size_t len);

#endif
