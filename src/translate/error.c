/* Error bodies and LiteLLM-style exception classes. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "translate/tr_int.h"

/* LiteLLM writes "<provider with first letter upper-cased>.<ExceptionClass>"
 * (research/litellm.md §1.7); the class follows its status mapping
 * (BadRequestError for 400 ... ServiceUnavailableError for 503, and
 * APIConnectionError when no HTTP status came back). Every combination is a
 * string literal so the metrics code can keep the pointer. */
#define PREFIXED(P, e, s) P "." s,
#define CLASSES(P) {TR_EXC_CLASSES(PREFIXED, P)}
#define BARE(a, e, s) s,

static const char *const bare[TR_EXC_COUNT] = {TR_EXC_CLASSES(BARE, ~)};

const char *tr_exc_name(tr_exc c) { return (unsigned)c < TR_EXC_COUNT ? bare[c] : bare[TR_EXC_API]; }

static const struct {
    const char *provider;
    const char *classes[TR_EXC_COUNT];
} providers[] = {
    {"ollama", CLASSES("Ollama")},
    {"ollama_chat", CLASSES("Ollama")},
    {"openai", CLASSES("Openai")}, /* also the fallback for unknown providers */
    {"hosted_vllm", CLASSES("Hosted_vllm")},
    {"vllm", CLASSES("Vllm")},
    {"llamafile", CLASSES("Llamafile")},
    {"lm_studio", CLASSES("Lm_studio")},
    {"openai_like", CLASSES("Openai_like")},
    {"custom_openai", CLASSES("Custom_openai")},
    {"text-completion-openai", CLASSES("Text-completion-openai")},
};

static int class_for_status(int status)
{
    if (status <= 0)
        return TR_EXC_CONNECTION;
    switch (status) {
    case 400: return TR_EXC_BAD_REQUEST;
    case 401: return TR_EXC_AUTH;
    case 403: return TR_EXC_PERMISSION;
    case 404: return TR_EXC_NOT_FOUND;
    case 408: return TR_EXC_TIMEOUT;
    case 422: return TR_EXC_UNPROCESSABLE;
    case 429: return TR_EXC_RATE_LIMIT;
    case 503: return TR_EXC_UNAVAILABLE;
    case 504: return TR_EXC_TIMEOUT;
    default: return status >= 500 ? TR_EXC_INTERNAL : TR_EXC_API;
    }
}

static const char *const *classes_of(const char *provider)
{
    for (size_t i = 0; provider && i < sizeof providers / sizeof providers[0]; i++)
        if (!strcmp(providers[i].provider, provider))
            return providers[i].classes;
    return providers[2].classes;
}

const char *tr_exception_class(const char *provider, int status)
{
    return classes_of(provider)[class_for_status(status)];
}

int tr_client_status(int upstream_status)
{
    return upstream_status >= 400 && upstream_status <= 599 ? upstream_status : 500;
}

static const char *type_for_status(int status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
    }
}

static void str_or_null(buf *out, const char *s)
{
    if (s && *s)
        buf_json_str(out, s, strlen(s));
    else
        buf_puts(out, "null");
}

void tr_error_body(const tr_error *e, buf *out)
{
    buf_puts(out, "{\"error\":{\"message\":");
    buf_json_str(out, e->message, strlen(e->message));
    buf_puts(out, ",\"type\":");
    buf_json_str(out, e->type[0] ? e->type : type_for_status(e->status),
                 strlen(e->type[0] ? e->type : type_for_status(e->status)));
    buf_puts(out, ",\"param\":");
    str_or_null(out, e->param);
    buf_puts(out, ",\"code\":");
    str_or_null(out, e->code);
    buf_puts(out, "}}");
}

static bool mentions_context_window(const char *m)
{
    return strcasestr(m, "context length") || strcasestr(m, "context window") ||
           strcasestr(m, "maximum context") || strcasestr(m, "exceeds the context");
}

static void copy_field(char *dst, size_t cap, const json_t *v)
{
    if (json_is_string(v))
        tr_copy(dst, cap, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        snprintf(dst, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

const char *tr_upstream_error(tr_source src, const char *provider, int status, const char *body, size_t len,
                              buf *out_body)
{
    if (!provider)
        provider = src == TR_SRC_OLLAMA ? "ollama" : "openai";
    tr_error e;
    memset(&e, 0, sizeof e);
    e.status = tr_client_status(status);
    json_t *root = body && len ? json_loadb(body, len, JSON_ALLOW_NUL, NULL) : NULL;
    json_t *error = json_is_object(root) ? json_object_get(root, "error") : NULL;
    if (error && !json_is_null(error)) {
        /* Ollama: {"error":"text"}; OpenAI: {"error":{"message",...}}. */
        tr_error_message(error, e.message, sizeof e.message);
        if (json_is_object(error)) {
            copy_field(e.type, sizeof e.type, json_object_get(error, "type"));
            copy_field(e.param, sizeof e.param, json_object_get(error, "param"));
            copy_field(e.code, sizeof e.code, json_object_get(error, "code"));
        }
    } else if (json_is_object(root) && json_is_string(json_object_get(root, "detail"))) {
        copy_field(e.message, sizeof e.message, json_object_get(root, "detail")); /* FastAPI servers */
    } else if (status <= 0) {
        snprintf(e.message, sizeof e.message, "could not connect to the upstream%s%.*s", len ? ": " : "",
                 (int)(len < 400 ? len : 400), body ? body : "");
    } else if (len) {
        tr_copy(e.message, sizeof e.message, body, len); /* plain text, e.g. "404 page not found" */
    } else {
        snprintf(e.message, sizeof e.message, "upstream answered HTTP %d", status);
    }
    json_decref(root);
    if (!e.code[0])
        snprintf(e.code, sizeof e.code, "%d", e.status); /* LiteLLM's code is the status, as a string */
    int cls = class_for_status(status);
    if (cls == TR_EXC_BAD_REQUEST && mentions_context_window(e.message))
        cls = TR_EXC_CONTEXT_WINDOW;
    tr_error_body(&e, out_body);
    return classes_of(provider)[cls];
}
