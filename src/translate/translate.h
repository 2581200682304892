/* OpenAI <-> upstream translation for the gateway (serve); src/translate/.
 *
 * Requests: the client's OpenAI body becomes an Ollama-native body
 * (/api/chat, /api/generate, /api/embed) or, for OpenAI-compatible
 * upstreams, the same body with "model" rewritten and stream usage forced on.
 * Responses: the upstream body is fed in any split and turned into what the
 * client must see now (OpenAI SSE chunks) or, for non-streaming clients, one
 * OpenAI object at the end; on the way the stream is tapped for the first
 * token, token counts, Ollama's durations, the finish reason and errors.
 *
 * Field mapping, error mapping and the differences from LiteLLM are
 * documented in docs/translation.md. Nothing here logs, and error messages
 * never contain prompt or response text. */
#ifndef TOLLGATE_TRANSLATE_TRANSLATE_H
#define TOLLGATE_TRANSLATE_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum { TR_CHAT, TR_COMPLETION, TR_EMBEDDING } tr_kind;
/* Upstream dialect: Ollama native (/api/chat, /api/generate, /api/embed) or
 * OpenAI-compatible (/chat/completions, /completions, /embeddings). */
typedef enum { TR_SRC_OLLAMA, TR_SRC_OPENAI } tr_source;

/* OpenAI error shape parts; empty param/code/type are written as null. */
typedef struct {
    int status;
    char message[512];
    char type[48];
    char param[48];
    char code[48];
} tr_error;

typedef struct {
    bool stream;        /* client asked "stream": true */
    bool include_usage; /* client asked stream_options.include_usage */
    /* Estimate of the prompt tokens by tr_count_tokens_estimate (chat: plus
     * 3 per message and 3 for the reply, OpenAI's recipe); to be used only
     * when the backend reports nothing. */
    uint64_t prompt_tokens_estimate;
    /* Addition: the client asked encoding_format "base64" for embeddings
     * (openai-node does by default); the Ollama translation encodes the
     * float32 vectors itself. */
    bool embed_base64;
} tr_request_info;

/* Client's OpenAI body -> upstream body in out (appended). upstream_model is
 * the part after "ollama/" etc. Returns 0, or -1 with err filled (400
 * invalid_request_error; the message names the field, param is set). */
int tr_build_request(tr_kind kind, tr_source src, const char *body, size_t len, const char *upstream_model,
                     buf *out, tr_request_info *info, tr_error *err);
/* The same for a body the caller already parsed; takes ownership of root
 * (it is modified and released). Saves the gateway a second parse. */
typedef struct json_t json_t;
int tr_build_request_parsed(tr_kind kind, tr_source src, json_t *root, const char *upstream_model, buf *out,
                            tr_request_info *info, tr_error *err);

/* Routing without a parse tree: when body is a JSON object that jansson
 * accepts (no flags) and its "model" is a string without escapes shorter
 * than cap, copies it into model and returns true. False means "ask
 * jansson" (invalid JSON, no or odd model, duplicate "model" keys). */
bool tr_request_model(const char *body, size_t len, char *model, size_t cap);

/* The upstream path for kind/src, to append to api_base: "/api/chat",
 * "/api/generate", "/api/embed", "/chat/completions", "/completions",
 * "/embeddings". */
const char *tr_upstream_path(tr_kind kind, tr_source src);

typedef struct {
    bool token_seen;  /* a non-empty token (content, reasoning or tool call)
                         was seen; the feed that saw the first one returned
                         TR_EV_FIRST_TOKEN */
    bool done;        /* final chunk seen (Ollama done:true; OpenAI [DONE]) */
    bool failed;      /* upstream error in-band, malformed data, truncation */
    bool have_usage;  /* backend reported token counts */
    uint64_t prompt_tokens, completion_tokens;
    int64_t load_ns, prompt_eval_ns, eval_ns, total_ns; /* Ollama native only */
    char finish_reason[24];
    char error[256]; /* upstream error message when failed (never prompt text) */
    /* Addition: tr_count_tokens_estimate over the generated text (content,
     * reasoning, tool-call arguments), for when have_usage is false. */
    uint64_t completion_tokens_estimate;
    /* Addition: when failed, the HTTP status to answer a non-streaming client
     * with (the error body is then in out), and the LiteLLM-style class. */
    int error_status;
    const char *error_class; /* static string, e.g. "Ollama.APIConnectionError" */
} tr_stats;

typedef struct tr_stream tr_stream;

/* client_model: the alias to echo in "model" (the model_name the client
 * asked for). Returns NULL on allocation failure. The response id is
 * "chatcmpl-<24 hex>" / "cmpl-<24 hex>", created = now (unix seconds). */
tr_stream *tr_stream_new(tr_kind kind, tr_source src, const tr_request_info *info, const char *client_model);

/* Addition: the provider name used for stats.error_class ("ollama" by
 * default for TR_SRC_OLLAMA, "openai" for TR_SRC_OPENAI). Not copied: the
 * string must outlive t (a config string does). */
void tr_stream_set_provider(tr_stream *t, const char *provider);

/* Events reported by tr_stream_feed (a bit mask). */
enum {
    TR_EV_FIRST_TOKEN = 1, /* this feed saw the first non-empty token: the caller timestamps it */
};

/* Feed upstream response body bytes (any split). Appends to out what must go
 * to the client now: SSE events when the client streams
 * ("data: {...}\n\n", then "data: [DONE]\n\n" at the end); nothing for
 * non-streaming clients until finish. Returns the TR_EV_* events of this
 * feed (0 for none), or -1 on an upstream error or malformed data
 * (stats.failed set; a streaming client gets "data: {"error":{...}}\n\n"
 * in out and never [DONE]). Bytes after the final chunk are ignored. */
int tr_stream_feed(tr_stream *t, const char *data, size_t len, buf *out);

/* Upstream body ended. Non-streaming clients: appends the whole OpenAI
 * response object (chat.completion / text_completion / embedding list with
 * usage). Returns 0, or -1 when the upstream ended without its final chunk
 * or failed earlier (stats.failed; a streaming client gets an error event if
 * it has not had one, a non-streaming client an OpenAI error body to send
 * with stats.error_status). */
int tr_stream_finish(tr_stream *t, buf *out);
tr_stats *tr_stream_stats(tr_stream *t);
void tr_stream_free(tr_stream *t);

/* LiteLLM's exception class names, one X(arg, NAME, "ClassName") per class
 * (an X-macro: the enum, the bare names and the "<Provider>.<Class>"
 * tables in error.c are all expanded from this one list). */
#define TR_EXC_CLASSES(X, A)                                                                                           \
    X(A, BAD_REQUEST, "BadRequestError")                                                                               \
    X(A, AUTH, "AuthenticationError")                                                                                  \
    X(A, PERMISSION, "PermissionDeniedError")                                                                          \
    X(A, NOT_FOUND, "NotFoundError")                                                                                   \
    X(A, TIMEOUT, "Timeout")                                                                                           \
    X(A, UNPROCESSABLE, "UnprocessableEntityError")                                                                    \
    X(A, RATE_LIMIT, "RateLimitError")                                                                                 \
    X(A, INTERNAL, "InternalServerError")                                                                              \
    X(A, UNAVAILABLE, "ServiceUnavailableError")                                                                       \
    X(A, API, "APIError")                                                                                              \
    X(A, CONNECTION, "APIConnectionError")                                                                             \
    X(A, CONTEXT_WINDOW, "ContextWindowExceededError")

#define TR_EXC_ENUM_(a, e, s) TR_EXC_##e,
typedef enum { TR_EXC_CLASSES(TR_EXC_ENUM_, ~) TR_EXC_COUNT } tr_exc;
#undef TR_EXC_ENUM_

/* The bare class name ("BadRequestError"); static string. */
const char *tr_exc_name(tr_exc c);

/* Upstream answered with an error status: appends the OpenAI error body for
 * the client to out_body and returns the LiteLLM-style exception_class
 * ("Ollama.NotFoundError", "Openai.RateLimitError", ...; static strings).
 * body may be Ollama's {"error":"..."}, OpenAI's {"error":{...}}, or text.
 * status <= 0 means the connection failed (refused, reset, timeout before a
 * status): "<Provider>.APIConnectionError", answer the client with 500. */
const char *tr_upstream_error(tr_source src, const char *provider, int status, const char *body, size_t len,
                              buf *out_body);

/* Addition: the status the gateway answers with for an upstream status
 * (the same status; 500 for status <= 0). */
int tr_client_status(int upstream_status);

/* Addition: "<Provider>.<Class>" for an upstream HTTP status (<= 0:
 * APIConnectionError). Static string. */
const char *tr_exception_class(const char *provider, int status);

/* A gateway-side error in the OpenAI shape:
 * {"error":{"message":..,"type":..,"param":..,"code":..}} (appended). */
void tr_error_body(const tr_error *e, buf *out);

/* The gateway's documented token estimate (docs/translation.md): each run of
 * ASCII letters counts 1 + len/10, each run of digits ceil(len/3), each other
 * visible ASCII character 1, each non-ASCII code point 1; whitespace 0. */
uint64_t tr_count_tokens_estimate(const char *text, size_t len);

#endif
