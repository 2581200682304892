/* Request bodies into sim_job, with the status codes and messages Ollama
 * answers for bad input (research/ollama.md §3). Decoder messages follow
 * Go's wording; the position-dependent parts are approximations. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sim/internal.h"

static int fail(sim_err *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(sim_err *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *go_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
    }
}

static int type_error(sim_err *err, const char *strct, const char *field, const json_t *v, const char *want)
{
    err->status = 400;
    snprintf(err->msg, sizeof err->msg, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", go_type(v),
             strct, field, want);
    return -1;
}

/* Body -> JSON object, with Go's decoder messages. empty_msg differs:
 * native handlers say "missing request body", the /v1 middleware "EOF". */
static json_t *decode(const char *body, size_t len, const char *strct, bool v1, sim_err *err)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len) {
        fail(err, 400, "%s", v1 ? "EOF" : "missing request body");
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!root) {
        size_t pos = je.position > 0 ? (size_t)je.position - 1 : 0;
        if (pos >= len || json_error_code(&je) == json_error_premature_end_of_input) {
            fail(err, 400, "%s", "unexpected EOF");
        } else {
            char c[8];
            unsigned char b = (unsigned char)body[pos];
            if (b >= 0x20 && b < 0x7f && b != '\'')
                snprintf(c, sizeof c, "'%c'", b);
            else
                snprintf(c, sizeof c, "'\\x%02x'", b);
            fail(err, 400, "invalid character %s looking for beginning of value", c);
        }
        return NULL;
    }
    if (!json_is_object(root)) {
        err->status = 400;
        snprintf(err->msg, sizeof err->msg, "json: cannot unmarshal %s into Go value of type %s", go_type(root), strct);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Optional string field; *out stays NULL when absent or null. */
static int get_str(json_t *o, const char *key, const char *strct, const char **out, size_t *len, sim_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (len)
        *len = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return type_error(err, strct, key, v, "string");
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return 0;
}

static int get_bool(json_t *o, const char *key, const char *strct, bool *out, sim_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return type_error(err, strct, key, v, "bool");
    *out = json_is_true(v);
    return 0;
}

/* keep_alive: seconds as a number, or a Go duration string. */
static int get_keep_alive(json_t *o, sim_job *j, sim_err *err)
{
    json_t *v = json_object_get(o, "keep_alive");
    j->keep_alive = SIM_KA_UNSET;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_number(v)) {
        double s = json_number_value(v);
        j->keep_alive = s < 0 ? -1 : s * 1e9 >= 9.2e18 ? INT64_MAX : (int64_t)(s * 1e9);
        return 0;
    }
    if (json_is_string(v)) {
        int64_t ns;
        if (sim_parse_duration(json_string_value(v), false, &ns) != 0) {
            err->status = 400;
            snprintf(err->msg, sizeof err->msg, "time: missing unit in duration \"%.200s\"", json_string_value(v));
            return -1;
        }
        j->keep_alive = ns < 0 ? -1 : ns;
        return 0;
    }
    return fail(err, 400, "json: cannot unmarshal %s into Go struct field .keep_alive of type string", go_type(v));
}

/* A fault named by a field wins over a marker in the text. */
static int get_fault_field(json_t *o, sim_job *j, sim_err *err)
{
    json_t *v = json_object_get(o, "tollgate_fault");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) ||
        sim_fault_parse(json_string_value(v), json_string_length(v), &j->fault) != 0)
        return fail(err, 400, "%s", "tollgate_fault must be one of 500, 503, 429, hang, cut[:N], malformed[:N], slow[:MS], error[:N], context");
    return 0;
}

/* options: num_predict and tollgate_fault matter; a wrong type of a known
 * numeric option is Ollama's 500. */
static int get_options(json_t *o, sim_job *j, int *num_predict, sim_err *err)
{
    json_t *opts = json_object_get(o, "options");
    if (!opts || json_is_null(opts))
        return 0;
    if (!json_is_object(opts))
        return fail(err, 400, "json: cannot unmarshal %s into Go struct field .options of type map[string]interface {}",
                    go_type(opts));
    json_t *np = json_object_get(opts, "num_predict");
    if (np && !json_is_null(np)) {
        if (!json_is_number(np))
            return fail(err, 500, "%s", "option \"num_predict\" must be of type integer");
        *num_predict = (int)fmax(-2e9, fmin(2e9, json_number_value(np)));
    }
    return get_fault_field(opts, j, err);
}

static void set_counts(sim_job *j, int prompt_tokens, int num_predict, uint64_t seed)
{
    const sim_model_info *mi = sim_sched_model(j->ctx->sched, j->model);
    int cap = SIM_MAX_PREDICT(mi->num_ctx);
    j->prompt_tokens = prompt_tokens;
    j->seed = seed;
    if (num_predict > 0) {
        /* A limit: exactly that many tokens, done_reason "length". */
        j->visible = j->eval_count = num_predict < cap ? num_predict : cap;
        j->length = true;
    } else {
        /* A natural stop: the visible tokens plus the EOS token, which
         * eval_count includes (ollama.md §5). */
        j->visible = j->ctx->cfg.max_tokens_default < cap ? j->ctx->cfg.max_tokens_default : cap - 1;
        j->eval_count = j->visible + 1;
        j->length = false;
    }
}

/* Unknown model: chat/generate (and /v1) say 'name', the embedding
 * handlers "name" with a hint (ollama.md §3.1). */
static int find_model(sim_job *j, const char *name, size_t len, bool pull_hint, sim_err *err)
{
    j->model = name ? sim_sched_find(j->ctx->sched, name, len) : -1;
    if (j->model >= 0)
        return 0;
    if (pull_hint)
        return fail(err, 404, "model \"%s\" not found, try pulling it first", name ? name : "");
    return fail(err, 404, "model '%s' not found", name ? name : "");
}

/* Message content: a string, or on /v1 an array of parts (each part counts
 * as its own message, as Ollama splits them). Adds to *tokens and *seed and
 * remembers the last text for the fault marker. */
static int message_content(json_t *msg, bool v1, int *tokens, uint64_t *seed, const char **last, size_t *last_len,
                           sim_err *err)
{
    json_t *content = json_object_get(msg, "content");
    if (json_is_string(content)) {
        const char *s = json_string_value(content);
        size_t n = json_string_length(content);
        *tokens += SIM_CHAT_PER_MESSAGE + sim_count_tokens(s, n);
        *seed = sim_hash(*seed, s, n);
        *last = s;
        *last_len = n;
        return 0;
    }
    if (v1 && json_is_array(content)) {
        size_t i;
        json_t *part;
        json_array_foreach(content, i, part)
        {
            json_t *text = json_object_get(part, "text");
            *tokens += SIM_CHAT_PER_MESSAGE;
            if (json_is_string(text)) {
                *tokens += sim_count_tokens(json_string_value(text), json_string_length(text));
                *seed = sim_hash(*seed, json_string_value(text), json_string_length(text));
                *last = json_string_value(text);
                *last_len = json_string_length(text);
            }
        }
        return 0;
    }
    if (!content || json_is_null(content)) {
        if (v1 && !json_object_get(msg, "tool_calls"))
            return fail(err, 400, "%s", "invalid message content type: <nil>");
        *tokens += SIM_CHAT_PER_MESSAGE;
        return 0;
    }
    if (v1)
        return fail(err, 400, "invalid message content type: %s", go_type(content));
    return type_error(err, "ChatRequest", "messages.content", content, "string");
}

static int parse_chat(sim_job *j, json_t *o, sim_err *err)
{
    const char *strct = "ChatRequest", *model;
    size_t mlen;
    if (get_str(o, "model", strct, &model, &mlen, err) || get_bool(o, "stream", strct, &j->stream, err) ||
        get_keep_alive(o, j, err))
        return -1;
    json_t *msgs = json_object_get(o, "messages");
    if (msgs && !json_is_null(msgs) && !json_is_array(msgs))
        return type_error(err, strct, "messages", msgs, "[]api.Message");
    if (j->v1 && json_array_size(msgs) == 0)
        return fail(err, 400, "%s", "[] is too short - 'messages'");
    if (!model || !*model)
        return fail(err, 400, "%s", "model is required");
    if (find_model(j, model, mlen, false, err))
        return -1;
    j->model_echo = strdup(model);
    if (sim_sched_model(j->ctx->sched, j->model)->embedding)
        return fail(err, 400, "\"%s\" does not support chat", model);
    int num_predict = -1;
    if (j->v1) {
        json_t *mt = json_object_get(o, "max_tokens");
        if (json_is_number(mt))
            num_predict = (int)fmax(-2e9, fmin(2e9, json_number_value(mt)));
        json_t *so = json_object_get(o, "stream_options");
        j->include_usage = json_is_true(json_object_get(so, "include_usage"));
        if (get_fault_field(o, j, err))
            return -1;
    } else if (get_options(o, j, &num_predict, err)) {
        return -1;
    }
    if (json_array_size(msgs) == 0) {
        j->load_only = true;
        j->unload = j->keep_alive == 0;
        return 0;
    }
    int tokens = SIM_CHAT_BOS + SIM_CHAT_ASSISTANT;
    uint64_t seed = SIM_HASH_INIT;
    const char *last = NULL;
    size_t last_len = 0;
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        if (!json_is_object(m))
            return type_error(err, strct, "messages", m, "api.Message");
        if (message_content(m, j->v1, &tokens, &seed, &last, &last_len, err))
            return -1;
    }
    if (j->fault.kind == SIM_FAULT_NONE && last)
        sim_fault_find(last, last_len, &j->fault);
    set_counts(j, tokens, num_predict, seed);
    return 0;
}

static int parse_generate(sim_job *j, json_t *o, sim_err *err)
{
    const char *strct = j->v1 ? "CompletionRequest" : "GenerateRequest", *model, *prompt = NULL, *system = NULL;
    size_t mlen, plen = 0, slen = 0;
    if (get_str(o, "model", strct, &model, &mlen, err) || get_bool(o, "stream", strct, &j->stream, err) ||
        get_keep_alive(o, j, err) || get_str(o, "system", strct, &system, &slen, err) ||
        get_bool(o, "raw", strct, &j->raw, err))
        return -1;
    json_t *pv = json_object_get(o, "prompt");
    if (pv && !json_is_null(pv)) {
        if (!json_is_string(pv))
            return j->v1 ? fail(err, 400, "%s", "invalid type for 'prompt' field") : type_error(err, strct, "prompt", pv, "string");
        prompt = json_string_value(pv);
        plen = json_string_length(pv);
    }
    if (find_model(j, model, mlen, false, err))
        return -1;
    j->model_echo = strdup(model);
    if (sim_sched_model(j->ctx->sched, j->model)->embedding)
        return fail(err, 400, "\"%s\" does not support generate", model);
    if (j->raw && system)
        return fail(err, 400, "%s", "raw mode does not support template, system, or context");
    int num_predict = -1;
    if (j->v1) {
        json_t *mt = json_object_get(o, "max_tokens");
        if (json_is_number(mt))
            num_predict = (int)fmax(-2e9, fmin(2e9, json_number_value(mt)));
        j->include_usage = json_is_true(json_object_get(json_object_get(o, "stream_options"), "include_usage"));
        if (get_fault_field(o, j, err))
            return -1;
    } else if (get_options(o, j, &num_predict, err)) {
        return -1;
    }
    if (!prompt || !*prompt) {
        if (!j->v1) {
            j->load_only = true;
            j->unload = j->keep_alive == 0;
            return 0;
        }
        prompt = "";
    }
    int tokens;
    if (j->raw) {
        tokens = 1 + sim_count_tokens(prompt, plen);
    } else {
        tokens = SIM_CHAT_BOS + SIM_CHAT_ASSISTANT + SIM_CHAT_PER_MESSAGE + sim_count_tokens(prompt, plen);
        if (system)
            tokens += SIM_CHAT_PER_MESSAGE + sim_count_tokens(system, slen);
    }
    uint64_t seed = sim_hash(SIM_HASH_INIT, prompt, plen);
    if (j->fault.kind == SIM_FAULT_NONE)
        sim_fault_find(prompt, plen, &j->fault);
    set_counts(j, tokens, num_predict, seed);
    return 0;
}

static int add_input(sim_job *j, const char *s, size_t n)
{
    j->input_seeds[j->n_inputs++] = sim_hash(SIM_HASH_INIT, s, n);
    j->prompt_tokens += sim_count_tokens(s, n) + SIM_EMBED_EXTRA;
    if (j->fault.kind == SIM_FAULT_NONE)
        sim_fault_find(s, n, &j->fault);
    return 0;
}

static int parse_embed(sim_job *j, json_t *o, sim_err *err)
{
    bool legacy = j->ep == SIM_EP_EMBEDDINGS;
    const char *strct = legacy ? "EmbeddingRequest" : j->v1 ? "EmbedRequest" : "EmbedRequest", *model;
    size_t mlen;
    if (get_str(o, "model", strct, &model, &mlen, err) || get_keep_alive(o, j, err))
        return -1;
    if (legacy && (!model || !*model))
        return fail(err, 400, "%s", "model is required");
    if (find_model(j, model, mlen, model && *model, err))
        return -1;
    j->model_echo = strdup(model);
    int dummy = -1;
    if (j->v1) {
        if (get_fault_field(o, j, err))
            return -1;
        json_t *ef = json_object_get(o, "encoding_format");
        if (ef && !json_is_null(ef)) {
            const char *f = json_is_string(ef) ? json_string_value(ef) : "";
            if (!strcasecmp(f, "base64"))
                j->base64 = true;
            else if (strcasecmp(f, "float"))
                return fail(err, 400, "Invalid value for 'encoding_format' = %s. Supported values: ['float', 'base64'].", f);
        }
    } else if (get_options(o, j, &dummy, err)) {
        return -1;
    }
    json_t *dim = json_object_get(o, "dimensions");
    if (json_is_integer(dim) && json_integer_value(dim) > 0)
        j->dimensions = (int)json_integer_value(dim);
    json_t *in = json_object_get(o, legacy ? "prompt" : "input");
    size_t n = json_is_array(in) ? json_array_size(in) : 1;
    /* Rendering is synchronous on the worker's loop: 100,000 vectors of 768
     * floats would block it (and SIGTERM) for minutes. */
    if (n > SIM_MAX_EMBED_INPUTS)
        return fail(err, 400, "too many inputs: %zu (at most %d per request)", n, SIM_MAX_EMBED_INPUTS);
    j->input_seeds = calloc(n ? n : 1, sizeof *j->input_seeds);
    if (!j->input_seeds)
        return fail(err, 500, "%s", "out of memory");
    if (j->v1 && (!in || json_is_null(in) || (json_is_array(in) && n == 0)))
        return fail(err, 400, "%s", "invalid input");
    if (json_is_string(in)) {
        if (json_string_length(in) == 0 && !j->v1) {
            j->load_only = true; /* loads the model, returns no vectors */
            return 0;
        }
        return add_input(j, json_string_value(in), json_string_length(in));
    }
    if (!in || json_is_null(in)) {
        j->load_only = true;
        return 0;
    }
    if (!json_is_array(in) || legacy)
        return fail(err, 400, "%s", "invalid input type");
    if (n == 0) {
        j->load_only = true;
        return 0;
    }
    size_t i;
    json_t *e;
    json_array_foreach(in, i, e)
    {
        if (!json_is_string(e))
            return fail(err, 400, "%s", "invalid input type");
        add_input(j, json_string_value(e), json_string_length(e));
    }
    return 0;
}

int sim_parse_request(sim_job *j, const char *body, size_t len, sim_err *err)
{
    static const char *const structs[SIM_EP_COUNT] = {
        [SIM_EP_CHAT] = "api.ChatRequest",          [SIM_EP_GENERATE] = "api.GenerateRequest",
        [SIM_EP_EMBED] = "api.EmbedRequest",        [SIM_EP_EMBEDDINGS] = "api.EmbeddingRequest",
        [SIM_EP_V1_CHAT] = "openai.ChatCompletionRequest", [SIM_EP_V1_COMPLETIONS] = "openai.CompletionRequest",
        [SIM_EP_V1_EMBEDDINGS] = "openai.EmbedRequest",
    };
    j->model = -1;
    j->keep_alive = SIM_KA_UNSET;
    json_t *o = decode(body, len, structs[j->ep] ? structs[j->ep] : "api.Request", j->v1, err);
    if (!o)
        return -1;
    int rc;
    switch (j->ep) {
    case SIM_EP_CHAT:
    case SIM_EP_V1_CHAT: rc = parse_chat(j, o, err); break;
    case SIM_EP_GENERATE:
    case SIM_EP_V1_COMPLETIONS: rc = parse_generate(j, o, err); break;
    default: rc = parse_embed(j, o, err); break;
    }
    json_decref(o);
    return rc;
}

int sim_parse_show(sim_ctx *ctx, const char *body, size_t len, sim_err *err)
{
    json_t *o = decode(body, len, "api.ShowRequest", false, err);
    if (!o)
        return -1;
    const char *model;
    size_t mlen;
    int m = -1;
    if (get_str(o, "model", "ShowRequest", &model, &mlen, err))
        goto out;
    if (!model || !*model)
        if (get_str(o, "name", "ShowRequest", &model, &mlen, err))
            goto out;
    if (!model || !*model) {
        fail(err, 400, "%s", "model is required");
        goto out;
    }
    m = sim_sched_find(ctx->sched, model, mlen);
    if (m < 0) {
        char norm[160];
        sim_model_normalize(model, mlen, norm, sizeof norm);
        fail(err, 404, "model '%s' not found", norm);
    }
out:
    json_decref(o);
    return m;
}
