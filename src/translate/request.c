/* Client OpenAI request body -> upstream request body. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "translate/tr_int.h"

const char *tr_upstream_path(tr_kind kind, tr_source src)
{
    if (src == TR_SRC_OLLAMA) {
        switch (kind) {
        case TR_CHAT: return "/api/chat";
        case TR_COMPLETION: return "/api/generate";
        case TR_EMBEDDING: return "/api/embed";
        }
    } else {
        switch (kind) {
        case TR_CHAT: return "/chat/completions";
        case TR_COMPLETION: return "/completions";
        case TR_EMBEDDING: return "/embeddings";
        }
    }
    return "/";
}

/* Present and not null. */
static json_t *get(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_null(v) ? NULL : v;
}

static bool is_int(json_t *v)
{
    if (json_is_integer(v))
        return true;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return d == floor(d) && fabs(d) < 9e15;
    }
    return false;
}

static long long int_of(json_t *v)
{
    return json_is_integer(v) ? (long long)json_integer_value(v) : (long long)json_real_value(v);
}

/* Validates the optional number k and copies it into opts under ok. */
static int map_number(json_t *root, const char *k, json_t *opts, const char *ok, tr_error *err)
{
    json_t *v = get(root, k);
    if (!v)
        return 0;
    if (!json_is_number(v)) {
        tr_bad_request(err, k, "%s must be a number", k);
        return -1;
    }
    json_object_set(opts, ok, v);
    return 0;
}

static int map_int(json_t *root, const char *k, json_t *opts, const char *ok, long long min, tr_error *err)
{
    json_t *v = get(root, k);
    if (!v)
        return 0;
    if (!is_int(v) || int_of(v) < min) {
        tr_bad_request(err, k, "%s must be an integer >= %lld", k, min);
        return -1;
    }
    json_object_set_new(opts, ok, json_integer(int_of(v)));
    return 0;
}

static int map_stop(json_t *root, json_t *opts, tr_error *err)
{
    json_t *v = get(root, "stop");
    if (!v)
        return 0;
    if (json_is_string(v)) {
        json_t *a = json_array();
        json_array_append(a, v);
        json_object_set_new(opts, "stop", a);
        return 0;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (!json_is_string(json_array_get(v, i))) {
                tr_bad_request(err, "stop", "stop must be a string or an array of strings");
                return -1;
            }
        }
        json_object_set(opts, "stop", v);
        return 0;
    }
    tr_bad_request(err, "stop", "stop must be a string or an array of strings");
    return -1;
}

/* Ollama option names a client may send at the top level (LiteLLM passes
 * provider-specific parameters through the same way). */
static const char *const ollama_opts[] = {"top_k",    "min_p",    "typical_p", "repeat_penalty", "repeat_last_n",
                                          "num_ctx",  "num_keep", "mirostat",  "mirostat_eta",   "mirostat_tau",
                                          "num_gpu",  "num_thread", "num_batch", "main_gpu",     NULL};

/* OpenAI sampling fields -> Ollama "options". */
static json_t *build_options(json_t *root, tr_error *err)
{
    json_t *opts = json_object();
    json_t *given = get(root, "options"); /* extra_body passthrough */
    if (given) {
        if (!json_is_object(given)) {
            tr_bad_request(err, "options", "options must be an object");
            goto fail;
        }
        json_object_update(opts, given);
    }
    for (int i = 0; ollama_opts[i]; i++)
        if (map_number(root, ollama_opts[i], opts, ollama_opts[i], err))
            goto fail;
    /* max_completion_tokens is the newer name; it wins over max_tokens. */
    if (map_int(root, "max_tokens", opts, "num_predict", 0, err) ||
        map_int(root, "max_completion_tokens", opts, "num_predict", 0, err) ||
        map_number(root, "temperature", opts, "temperature", err) || map_number(root, "top_p", opts, "top_p", err) ||
        map_int(root, "seed", opts, "seed", -0x7fffffffffffffffLL, err) ||
        map_number(root, "presence_penalty", opts, "presence_penalty", err) ||
        map_number(root, "frequency_penalty", opts, "frequency_penalty", err) || map_stop(root, opts, err))
        goto fail;
    return opts;
fail:
    json_decref(opts);
    return NULL;
}

static int check_n(json_t *root, const char *k, tr_error *err)
{
    json_t *v = get(root, k);
    if (!v)
        return 0;
    if (!is_int(v) || int_of(v) < 1) {
        tr_bad_request(err, k, "%s must be an integer >= 1", k);
        return -1;
    }
    if (int_of(v) > 1) {
        tr_bad_request(err, k, "%s > 1 is not supported by Ollama backends", k);
        return -1;
    }
    return 0;
}

/* reasoning_effort -> think, following Ollama's own /v1 mapping. */
static int map_think(json_t *root, json_t *out, tr_error *err)
{
    json_t *think = get(root, "think");
    if (think) {
        if (!json_is_boolean(think) && !json_is_string(think)) {
            tr_bad_request(err, "think", "think must be a boolean or a string");
            return -1;
        }
        json_object_set(out, "think", think);
        return 0;
    }
    json_t *re = get(root, "reasoning_effort");
    json_t *r = get(root, "reasoning");
    if (!re && json_is_object(r))
        re = get(r, "effort");
    if (!re)
        return 0;
    if (!json_is_string(re)) {
        tr_bad_request(err, "reasoning_effort", "reasoning_effort must be a string");
        return -1;
    }
    const char *s = json_string_value(re);
    if (!strcmp(s, "none"))
        json_object_set_new(out, "think", json_false());
    else if (!strcmp(s, "minimal"))
        json_object_set_new(out, "think", json_string("low"));
    else if (!strcmp(s, "low") || !strcmp(s, "medium") || !strcmp(s, "high") || !strcmp(s, "max"))
        json_object_set(out, "think", re);
    else if (!strcmp(s, "xhigh") || !strcmp(s, "ultra"))
        json_object_set_new(out, "think", json_string("max"));
    else {
        tr_bad_request(err, "reasoning_effort",
                       "reasoning_effort must be one of none, minimal, low, medium, high, max");
        return -1;
    }
    return 0;
}

static int map_format(json_t *root, json_t *out, tr_error *err)
{
    json_t *rf = get(root, "response_format");
    if (!rf)
        return 0;
    json_t *type = json_is_object(rf) ? json_object_get(rf, "type") : NULL;
    const char *t = json_is_string(type) ? json_string_value(type) : "";
    if (!strcmp(t, "text"))
        return 0;
    if (!strcmp(t, "json_object")) {
        json_object_set_new(out, "format", json_string("json"));
        return 0;
    }
    if (!strcmp(t, "json_schema")) {
        json_t *js = json_object_get(rf, "json_schema");
        json_t *schema = json_is_object(js) ? json_object_get(js, "schema") : NULL;
        if (!json_is_object(schema)) {
            tr_bad_request(err, "response_format", "response_format.json_schema.schema must be an object");
            return -1;
        }
        json_object_set(out, "format", schema);
        return 0;
    }
    tr_bad_request(err, "response_format", "response_format.type must be one of text, json_object, json_schema");
    return -1;
}

/* Ollama fields a client may send through as they are. */
static void pass_through(json_t *root, json_t *out)
{
    static const char *const keys[] = {"keep_alive", "truncate", "shift", NULL};
    for (int i = 0; keys[i]; i++) {
        json_t *v = get(root, keys[i]);
        if (v)
            json_object_set(out, keys[i], v);
    }
}

static uint64_t estimate_str(json_t *s)
{
    return json_is_string(s) ? tr_count_tokens_estimate(json_string_value(s), json_string_length(s)) : 0;
}

/* "data:image/png;base64,XXXX" -> "XXXX"; http(s) URLs are refused because
 * Ollama takes only inline base64 images. */
static const char *image_data(const char *url, size_t *n)
{
    if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8))
        return NULL;
    if (!strncmp(url, "data:", 5)) {
        const char *comma = strchr(url, ',');
        if (!comma || !strstr(url, ";base64"))
            return NULL;
        *n = strlen(comma + 1);
        return comma + 1;
    }
    *n = strlen(url);
    return url;
}

static int map_content(json_t *content, size_t mi, json_t *msg, uint64_t *est, tr_error *err)
{
    if (!content) {
        json_object_set_new(msg, "content", json_string(""));
        return 0;
    }
    if (json_is_string(content)) {
        json_object_set(msg, "content", content);
        *est += estimate_str(content);
        return 0;
    }
    if (!json_is_array(content)) {
        tr_bad_request(err, "messages", "messages[%zu].content must be a string, an array of parts or null", mi);
        return -1;
    }
    buf text;
    buf_init(&text);
    json_t *images = NULL;
    for (size_t j = 0; j < json_array_size(content); j++) {
        json_t *part = json_array_get(content, j);
        json_t *type = json_is_object(part) ? json_object_get(part, "type") : NULL;
        const char *t = json_is_string(type) ? json_string_value(type) : "";
        if (!strcmp(t, "text") || !strcmp(t, "input_text")) {
            json_t *s = json_object_get(part, "text");
            if (!json_is_string(s)) {
                tr_bad_request(err, "messages", "messages[%zu].content[%zu].text must be a string", mi, j);
                goto fail;
            }
            if (text.len)
                buf_putc(&text, '\n');
            buf_append(&text, json_string_value(s), json_string_length(s));
        } else if (!strcmp(t, "image_url")) {
            json_t *iu = json_object_get(part, "image_url");
            json_t *u = json_is_object(iu) ? json_object_get(iu, "url") : iu;
            size_t n = 0;
            const char *d = json_is_string(u) ? image_data(json_string_value(u), &n) : NULL;
            if (!d) {
                tr_bad_request(err, "messages",
                               "messages[%zu].content[%zu].image_url must be a base64 data: URL "
                               "(Ollama backends do not fetch image URLs)",
                               mi, j);
                goto fail;
            }
            if (!images)
                images = json_array();
            json_array_append_new(images, json_stringn(d, n));
        } else {
            char tn[33];
            tr_copy(tn, sizeof tn, t, strlen(t));
            tr_bad_request(err, "messages", "messages[%zu].content[%zu]: part type '%s' is not supported", mi, j, tn);
            goto fail;
        }
    }
    json_object_set_new(msg, "content", json_stringn(text.len ? text.data : "", text.len));
    *est += tr_count_tokens_estimate(text.data ? text.data : "", text.len);
    if (images)
        json_object_set_new(msg, "images", images);
    buf_free(&text);
    return 0;
fail:
    json_decref(images);
    buf_free(&text);
    return -1;
}

static int map_tool_calls(json_t *tcs, size_t mi, json_t *msg, tr_error *err)
{
    if (!json_is_array(tcs)) {
        tr_bad_request(err, "messages", "messages[%zu].tool_calls must be an array", mi);
        return -1;
    }
    json_t *out = json_array();
    for (size_t j = 0; j < json_array_size(tcs); j++) {
        json_t *tc = json_array_get(tcs, j);
        json_t *fn = json_is_object(tc) ? json_object_get(tc, "function") : NULL;
        json_t *name = json_is_object(fn) ? json_object_get(fn, "name") : NULL;
        json_t *args = json_is_object(fn) ? json_object_get(fn, "arguments") : NULL;
        json_t *argobj = NULL;
        if (json_is_string(args))
            argobj = json_loadb(json_string_value(args), json_string_length(args), 0, NULL);
        else if (json_is_object(args))
            argobj = json_incref(args);
        else if (!args || json_is_null(args))
            argobj = json_object();
        if (!json_is_string(name) || !json_is_object(argobj)) {
            json_decref(argobj);
            json_decref(out);
            tr_bad_request(err, "messages",
                           "messages[%zu].tool_calls[%zu] needs function.name and JSON-object function.arguments",
                           mi, j);
            return -1;
        }
        json_t *f = json_object();
        json_object_set(f, "name", name);
        json_object_set_new(f, "arguments", argobj);
        json_t *o = json_object();
        json_t *id = json_object_get(tc, "id");
        if (json_is_string(id))
            json_object_set(o, "id", id);
        json_object_set_new(o, "function", f);
        json_array_append_new(out, o);
    }
    json_object_set_new(msg, "tool_calls", out);
    return 0;
}

static json_t *map_messages(json_t *msgs, uint64_t *est, tr_error *err)
{
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(msgs); i++) {
        json_t *m = json_array_get(msgs, i);
        if (!json_is_object(m)) {
            tr_bad_request(err, "messages", "messages[%zu] must be an object", i);
            goto fail;
        }
        json_t *role = json_object_get(m, "role");
        if (!json_is_string(role)) {
            tr_bad_request(err, "messages", "messages[%zu].role must be a string", i);
            goto fail;
        }
        const char *r = json_string_value(role);
        /* Ollama's templates know system/user/assistant/tool only. */
        if (!strcmp(r, "developer"))
            r = "system";
        else if (!strcmp(r, "function"))
            r = "tool";
        json_t *msg = json_object();
        json_array_append_new(out, msg);
        json_object_set_new(msg, "role", json_string(r));
        if (map_content(get(m, "content"), i, msg, est, err))
            goto fail;
        json_t *tcs = get(m, "tool_calls");
        if (tcs && map_tool_calls(tcs, i, msg, err))
            goto fail;
        json_t *tcid = get(m, "tool_call_id");
        if (json_is_string(tcid))
            json_object_set(msg, "tool_call_id", tcid);
        json_t *name = get(m, "name");
        if (json_is_string(name) && !strcmp(r, "tool"))
            json_object_set(msg, "tool_name", name);
        *est += 3; /* per-message overhead, OpenAI's counting recipe */
    }
    *est += 3; /* the reply is primed with <|start|>assistant<|message|> */
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int map_tools(json_t *root, json_t *out, tr_error *err)
{
    json_t *choice = get(root, "tool_choice");
    if (json_is_string(choice) && !strcmp(json_string_value(choice), "none"))
        return 0; /* Ollama has no tool_choice: "none" = do not offer tools */
    json_t *tools = get(root, "tools");
    if (tools) {
        if (!json_is_array(tools)) {
            tr_bad_request(err, "tools", "tools must be an array");
            return -1;
        }
        if (json_array_size(tools))
            json_object_set(out, "tools", tools);
        return 0;
    }
    json_t *fns = get(root, "functions"); /* deprecated OpenAI form */
    if (fns) {
        if (!json_is_array(fns)) {
            tr_bad_request(err, "functions", "functions must be an array");
            return -1;
        }
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(fns); i++)
            json_array_append_new(a, json_pack("{s:s,s:O}", "type", "function", "function", json_array_get(fns, i)));
        json_object_set_new(out, "tools", a);
    }
    return 0;
}

static int build_ollama(tr_kind kind, json_t *root, const char *model, json_t *out, tr_request_info *info,
                        tr_error *err)
{
    json_object_set_new(out, "model", json_string(model));
    if (kind == TR_EMBEDDING) {
        json_t *input = get(root, "input");
        if (!input) {
            tr_bad_request(err, "input", "missing required field: input");
            return -1;
        }
        if (json_is_string(input)) {
            info->prompt_tokens_estimate = estimate_str(input);
        } else if (json_is_array(input) && json_array_size(input)) {
            for (size_t i = 0; i < json_array_size(input); i++) {
                json_t *s = json_array_get(input, i);
                if (!json_is_string(s)) {
                    tr_bad_request(err, "input",
                                   json_is_array(s) || json_is_integer(s)
                                       ? "input: token arrays are not supported by Ollama backends"
                                       : "input must be a string or an array of strings");
                    return -1;
                }
                info->prompt_tokens_estimate += estimate_str(s);
            }
        } else {
            tr_bad_request(err, "input", "input must be a string or a non-empty array of strings");
            return -1;
        }
        json_object_set(out, "input", input);
        json_t *ef = get(root, "encoding_format");
        if (ef) {
            const char *s = json_is_string(ef) ? json_string_value(ef) : "";
            if (!strcasecmp(s, "base64"))
                info->embed_base64 = true;
            else if (strcasecmp(s, "float")) {
                tr_bad_request(err, "encoding_format", "encoding_format must be 'float' or 'base64'");
                return -1;
            }
        }
        json_t *dims = json_object();
        int rc = map_int(root, "dimensions", dims, "dimensions", 1, err);
        json_object_update(out, dims);
        json_decref(dims);
        if (rc)
            return -1;
        pass_through(root, out);
        json_t *opts = get(root, "options");
        if (opts) {
            if (!json_is_object(opts)) {
                tr_bad_request(err, "options", "options must be an object");
                return -1;
            }
            json_object_set(out, "options", opts);
        }
        return 0;
    }

    if (check_n(root, "n", err))
        return -1;
    if (kind == TR_CHAT) {
        json_t *msgs = get(root, "messages");
        if (!msgs) {
            tr_bad_request(err, "messages", "missing required field: messages");
            return -1;
        }
        if (!json_is_array(msgs) || !json_array_size(msgs)) {
            tr_bad_request(err, "messages", "messages must be a non-empty array");
            return -1;
        }
        json_t *m = map_messages(msgs, &info->prompt_tokens_estimate, err);
        if (!m)
            return -1;
        json_object_set_new(out, "messages", m);
    } else {
        if (check_n(root, "best_of", err))
            return -1;
        json_t *echo = get(root, "echo");
        if (json_is_true(echo)) {
            tr_bad_request(err, "echo", "echo is not supported by Ollama backends");
            return -1;
        }
        json_t *p = get(root, "prompt");
        if (json_is_array(p) && json_array_size(p) == 1 && json_is_string(json_array_get(p, 0)))
            p = json_array_get(p, 0);
        if (!p) {
            tr_bad_request(err, "prompt", "missing required field: prompt");
            return -1;
        }
        if (!json_is_string(p)) {
            tr_bad_request(err, "prompt",
                           json_is_array(p) ? "prompt: token arrays and batches of prompts are not supported by "
                                              "Ollama backends"
                                            : "prompt must be a string");
            return -1;
        }
        json_object_set(out, "prompt", p);
        info->prompt_tokens_estimate = estimate_str(p);
        json_t *suffix = get(root, "suffix");
        if (suffix) {
            if (!json_is_string(suffix)) {
                tr_bad_request(err, "suffix", "suffix must be a string");
                return -1;
            }
            json_object_set(out, "suffix", suffix);
        }
        json_t *raw = get(root, "raw");
        if (json_is_boolean(raw))
            json_object_set(out, "raw", raw);
    }
    /* Ollama streams by default: always say which one we want. */
    json_object_set_new(out, "stream", json_boolean(info->stream));
    if (map_format(root, out, err) || (kind == TR_CHAT && map_tools(root, out, err)) || map_think(root, out, err))
        return -1;
    pass_through(root, out);
    json_t *opts = build_options(root, err);
    if (!opts)
        return -1;
    if (json_object_size(opts))
        json_object_set_new(out, "options", opts);
    else
        json_decref(opts);
    return 0;
}

static void estimate_openai(tr_kind kind, json_t *root, tr_request_info *info)
{
    if (kind == TR_CHAT) {
        json_t *msgs = get(root, "messages");
        for (size_t i = 0; i < json_array_size(msgs); i++) {
            json_t *c = json_object_get(json_array_get(msgs, i), "content");
            info->prompt_tokens_estimate += estimate_str(c) + 3;
            for (size_t j = 0; j < json_array_size(c); j++)
                info->prompt_tokens_estimate += estimate_str(json_object_get(json_array_get(c, j), "text"));
        }
        info->prompt_tokens_estimate += 3;
    } else {
        json_t *in = get(root, kind == TR_COMPLETION ? "prompt" : "input");
        info->prompt_tokens_estimate = estimate_str(in);
        for (size_t j = 0; j < json_array_size(in); j++)
            info->prompt_tokens_estimate += estimate_str(json_array_get(in, j));
    }
}

static int build_openai(tr_kind kind, json_t *root, const char *model, tr_request_info *info, tr_error *err)
{
    const char *need = kind == TR_CHAT ? "messages" : kind == TR_COMPLETION ? "prompt" : "input";
    json_t *v = get(root, need);
    if (!v) {
        tr_bad_request(err, need, "missing required field: %s", need);
        return -1;
    }
    if (kind == TR_CHAT && (!json_is_array(v) || !json_array_size(v))) {
        tr_bad_request(err, need, "messages must be a non-empty array");
        return -1;
    }
    json_object_set_new(root, "model", json_string(model));
    if (info->stream) {
        /* Always ask for the usage chunk: the gateway needs exact counts; it
         * is removed again from the client stream if the client did not ask. */
        json_t *so = json_object_get(root, "stream_options");
        if (!json_is_object(so)) {
            so = json_object();
            json_object_set_new(root, "stream_options", so);
        }
        json_object_set_new(so, "include_usage", json_true());
    }
    estimate_openai(kind, root, info);
    return 0;
}

int tr_build_request(tr_kind kind, tr_source src, const char *body, size_t len, const char *upstream_model,
                     buf *out, tr_request_info *info, tr_error *err)
{
    if (src == TR_SRC_OPENAI && tr_fast_openai_request(kind, body, len, upstream_model, out, info)) {
        memset(err, 0, sizeof *err);
        return 0;
    }
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root) {
        memset(info, 0, sizeof *info);
        memset(err, 0, sizeof *err);
        /* Position only: jansson's text can quote bytes of the prompt. */
        tr_bad_request(err, NULL, "request body is not valid JSON (line %d, column %d)", je.line, je.column);
        return -1;
    }
    return tr_build_request_parsed(kind, src, root, upstream_model, out, info, err);
}

int tr_build_request_parsed(tr_kind kind, tr_source src, json_t *root, const char *upstream_model, buf *out,
                            tr_request_info *info, tr_error *err)
{
    memset(info, 0, sizeof *info);
    memset(err, 0, sizeof *err);
    json_t *out_obj = NULL;
    if (!json_is_object(root)) {
        tr_bad_request(err, NULL, "request body must be a JSON object");
        goto fail;
    }
    json_t *model = get(root, "model");
    if (!model) {
        tr_bad_request(err, "model", "missing required field: model");
        goto fail;
    }
    if (!json_is_string(model)) {
        tr_bad_request(err, "model", "model must be a string");
        goto fail;
    }
    json_t *stream = get(root, "stream");
    if (stream && !json_is_boolean(stream)) {
        tr_bad_request(err, "stream", "stream must be a boolean");
        goto fail;
    }
    info->stream = kind != TR_EMBEDDING && json_is_true(stream);
    json_t *so = get(root, "stream_options");
    if (so) {
        if (!json_is_object(so)) {
            tr_bad_request(err, "stream_options", "stream_options must be an object");
            goto fail;
        }
        json_t *iu = get(so, "include_usage");
        if (iu && !json_is_boolean(iu)) {
            tr_bad_request(err, "stream_options", "stream_options.include_usage must be a boolean");
            goto fail;
        }
        info->include_usage = info->stream && json_is_true(iu);
    }
    if (src == TR_SRC_OPENAI) {
        if (build_openai(kind, root, upstream_model, info, err))
            goto fail;
        tr_json_dump(out, root);
    } else {
        out_obj = json_object();
        if (build_ollama(kind, root, upstream_model, out_obj, info, err))
            goto fail;
        tr_json_dump(out, out_obj);
    }
    json_decref(out_obj);
    json_decref(root);
    if (out->oom) {
        memset(err, 0, sizeof *err);
        err->status = 500;
        snprintf(err->type, sizeof err->type, "api_error");
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    return 0;
fail:
    json_decref(out_obj);
    json_decref(root);
    return -1;
}
