/* OpenAI-compatible upstream -> client: SSE events passed through with
 * "model" spliced in and the forced usage chunk removed when the client did
 * not ask for it; the stream is tapped for tokens, usage, finish reasons and
 * errors on the way. */
#include <string.h>

#include "translate/tr_int.h"

/* Notes tokens, finish reasons and usage of one OpenAI object. */
static void openai_tap(tr_stream *t, const json_t *j)
{
    json_t *choices = json_object_get(j, "choices");
    for (size_t i = 0; i < json_array_size(choices); i++) {
        json_t *ch = json_array_get(choices, i);
        json_t *d = json_object_get(ch, "delta");
        if (!d)
            d = json_object_get(ch, "message");
        size_t clen = 0, rlen = 0, r2len = 0, tlen = 0;
        const char *c = tr_str_of(json_object_get(d, "content"), &clen);
        const char *r = tr_str_of(json_object_get(d, "reasoning_content"), &rlen);
        const char *r2 = tr_str_of(json_object_get(d, "reasoning"), &r2len);
        const char *tx = tr_str_of(json_object_get(ch, "text"), &tlen);
        json_t *tcs = json_object_get(d, "tool_calls");
        bool tool = json_is_array(tcs) && json_array_size(tcs);
        if (clen || rlen || r2len || tlen || tool)
            t->st.token_seen = true;
        t->st.completion_tokens_estimate += tr_count_tokens_estimate(c, clen) + tr_count_tokens_estimate(r, rlen) +
                                            tr_count_tokens_estimate(r2, r2len) + tr_count_tokens_estimate(tx, tlen);
        for (size_t k = 0; tool && k < json_array_size(tcs); k++) {
            size_t alen;
            const char *a = tr_str_of(json_object_get(json_object_get(json_array_get(tcs, k), "function"), "arguments"),
                                   &alen);
            t->st.completion_tokens_estimate += tr_count_tokens_estimate(a, alen);
        }
        size_t flen;
        const char *f = tr_str_of(json_object_get(ch, "finish_reason"), &flen);
        if (flen) {
            tr_copy(t->st.finish_reason, sizeof t->st.finish_reason, f, flen);
            t->saw_finish = true;
        }
    }
    json_t *u = json_object_get(j, "usage");
    if (json_is_object(u)) {
        json_t *p = json_object_get(u, "prompt_tokens"), *c = json_object_get(u, "completion_tokens");
        if (json_is_integer(p) || json_is_integer(c)) {
            t->st.have_usage = true;
            t->st.prompt_tokens = json_is_integer(p) && json_integer_value(p) > 0 ? (uint64_t)json_integer_value(p) : 0;
            t->st.completion_tokens =
                json_is_integer(c) && json_integer_value(c) > 0 ? (uint64_t)json_integer_value(c) : 0;
        }
    }
}

/* Copies the object text with "model" replaced by the client's alias and,
 * when drop_usage, the "usage" member removed. SSE forbids raw newlines in
 * a data line; JSON allows them only as whitespace, so they become spaces. */
static void splice(tr_stream *t, const char *s, size_t n, bool drop_usage, bool sse, buf *out)
{
    jscan_span mv = {0}, um = {0}, uv;
    bool has_model = jscan_find(s, s + n, "model", &mv, NULL);
    bool has_usage = drop_usage && jscan_find(s, s + n, "usage", &uv, &um);
    struct edit {
        const char *p;
        size_t n;
        bool model;
    } ed[2];
    int ne = 0;
    if (has_model)
        ed[ne++] = (struct edit){mv.p, mv.n, true};
    if (has_usage)
        ed[ne++] = (struct edit){um.p, um.n, false};
    if (ne == 2 && ed[1].p < ed[0].p) {
        struct edit x = ed[0];
        ed[0] = ed[1];
        ed[1] = x;
    }
    size_t start = out->len;
    const char *p = s;
    for (int i = 0; i < ne; i++) {
        buf_append(out, p, (size_t)(ed[i].p - p));
        if (ed[i].model)
            buf_json_str(out, t->model, strlen(t->model));
        p = ed[i].p + ed[i].n;
    }
    buf_append(out, p, (size_t)(s + n - p));
    if (sse && !out->oom)
        for (size_t i = start; i < out->len; i++)
            if (out->data[i] == '\n' || out->data[i] == '\r')
                out->data[i] = ' ';
}

/* Text of an optional string member: false if present and neither null nor
 * a valid string literal. Adds its estimate; *nonempty when it has text. */
static bool fast_text(tr_stream *t, jscan_span v, bool *nonempty)
{
    if (!v.p || jscan_is(v, "null"))
        return true;
    buf_reset(&t->text);
    if (!jscan_string(v, &t->text))
        return false;
    if (t->text.len) {
        *nonempty = true;
        t->st.completion_tokens_estimate += tr_count_tokens_estimate(t->text.data, t->text.len);
    }
    return true;
}

typedef struct {
    tr_stream *t;
    bool ok;
    bool token;
} choice_ctx;

static void fast_choice(void *ud, size_t i, jscan_span el)
{
    static const char *const ch_keys[] = {"delta", "finish_reason", "text", "message"};
    static const char *const d_keys[] = {"content", "reasoning_content", "reasoning", "tool_calls"};
    choice_ctx *c = ud;
    jscan_span v[4], d[4];
    (void)i;
    if (!c->ok)
        return;
    if (!jscan_object(el.p, el.p + el.n, ch_keys, 4, v) || v[3].p) {
        c->ok = false;
        return;
    }
    if (v[0].p && (!jscan_object(v[0].p, v[0].p + v[0].n, d_keys, 4, d) || (d[3].p && !jscan_is(d[3], "null")))) {
        c->ok = false;
        return;
    }
    if (v[0].p)
        c->ok = fast_text(c->t, d[0], &c->token) && fast_text(c->t, d[1], &c->token) &&
                fast_text(c->t, d[2], &c->token);
    c->ok = c->ok && fast_text(c->t, v[2], &c->token);
    if (c->ok && v[1].p && !jscan_is(v[1], "null")) {
        buf_reset(&c->t->text);
        if (!jscan_string(v[1], &c->t->text)) {
            c->ok = false;
            return;
        }
        if (c->t->text.len) {
            tr_copy(c->t->st.finish_reason, sizeof c->t->st.finish_reason, c->t->text.data, c->t->text.len);
            c->t->saw_finish = true;
        }
    }
}

/* The hot path for OpenAI-compatible chunks: text deltas with no usage
 * numbers, errors or tool calls are tapped by scanning bytes (like the
 * Ollama fast path). Returns false, having changed nothing, to let the
 * jansson path handle the event. Stats are only committed on success. */
static bool openai_fast_event(tr_stream *t, const sse_event *ev)
{
    static const char *const keys[] = {"error", "usage", "choices"};
    jscan_span v[3];
    if (ev->type_len != 7 || memcmp(ev->type, "message", 7))
        return false;
    if (!jscan_object(ev->data, ev->data + ev->data_len, keys, 3, v) || (v[0].p && !jscan_is(v[0], "null")) ||
        (v[1].p && !jscan_is(v[1], "null")) || !v[2].p)
        return false;
    tr_stats saved = t->st;
    bool saved_finish = t->saw_finish;
    choice_ctx c = {t, true, false};
    if (!jscan_array_each(v[2].p, v[2].p + v[2].n, fast_choice, &c) || !c.ok) {
        t->st = saved;
        t->saw_finish = saved_finish;
        return false;
    }
    if (c.token)
        t->st.token_seen = true;
    buf_puts(t->out, "data: ");
    splice(t, ev->data, ev->data_len, !t->info.include_usage, true, t->out);
    buf_puts(t->out, "\n\n");
    return true;
}

static int openai_event(void *ud, const sse_event *ev)
{
    tr_stream *t = ud;
    if (t->st.done || t->st.failed)
        return 1;
    if (ev->data_len == 6 && !memcmp(ev->data, "[DONE]", 6)) {
        t->st.done = true;
        buf_puts(t->out, "data: [DONE]\n\n");
        return 1;
    }
    if (openai_fast_event(t, ev))
        return 0;
    json_t *j = json_loadb(ev->data, ev->data_len, JSON_ALLOW_NUL, NULL);
    bool is_error_event = ev->type_len == 5 && !memcmp(ev->type, "error", 5);
    if (!json_is_object(j)) {
        json_decref(j);
        if (is_error_event)
            return tr_fail(t, "the upstream sent an error event", true);
        return tr_fail(t, "malformed event from the upstream (not a JSON object)", false);
    }
    json_t *err = json_object_get(j, "error");
    if ((err && !json_is_null(err)) || is_error_event) {
        char msg[256];
        tr_error_message(err ? err : j, msg, sizeof msg);
        json_decref(j);
        return tr_fail(t, msg, true);
    }
    openai_tap(t, j);
    json_t *choices = json_object_get(j, "choices");
    bool usage_only = json_is_array(choices) && !json_array_size(choices) && json_is_object(json_object_get(j, "usage"));
    json_decref(j);
    if (!t->info.include_usage && usage_only)
        return 0; /* the gateway asked for it, the client did not */
    buf_puts(t->out, "data: ");
    splice(t, ev->data, ev->data_len, !t->info.include_usage, true, t->out);
    buf_puts(t->out, "\n\n");
    return 0;
}

static int openai_body_finish(tr_stream *t, buf *out)
{
    const char *s = t->body.data ? t->body.data : "";
    if (tr_fast_openai_body(t, s, t->body.len)) {
        t->st.done = true;
        splice(t, s, t->body.len, false, false, out);
        return 0;
    }
    int rc;
    json_t *j = tr_load_object(t, s, t->body.len, "response", &rc);
    if (!j)
        return rc;
    openai_tap(t, j);
    json_decref(j);
    t->st.done = true;
    splice(t, s, t->body.len, false, false, out);
    return 0;
}


/* ---- the dialect ------------------------------------------------------- */

static int openai_feed(tr_stream *t, const char *data, size_t len)
{
    if (!t->info.stream)
        return tr_buffer_body(t, data, len);
    if (!t->sse && !(t->sse = sse_new(MAX_STREAM_LINE, openai_event, t)))
        return tr_fail(t, "out of memory", false);
    if (sse_feed(t->sse, data, len) == SSE_E_TOO_BIG)
        return tr_fail(t, "event from the upstream is too big", false);
    return 0;
}

static void openai_finish(tr_stream *t, buf *out)
{
    if (t->st.done)
        return;
    if (!t->info.stream) {
        (void)openai_body_finish(t, out);
        return;
    }
    if (t->sse)
        (void)sse_finish(t->sse);
    /* Tolerate servers that end after the finish (and usage) chunk without
     * "data: [DONE]"; Ollama's /v1 ends a failed stream without a finish
     * chunk, which stays a failure. */
    if (!t->st.done && !t->st.failed && t->saw_finish) {
        t->st.done = true;
        buf_puts(out, "data: [DONE]\n\n");
    }
}

const tr_dialect tr_dialect_openai = {openai_feed, openai_finish};
