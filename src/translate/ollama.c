/* Ollama native upstream -> OpenAI client: /api/chat and /api/generate
 * (NDJSON, or one object for stream:false) translated to OpenAI chunks on
 * the fly, and /api/embed bodies. Ordinary token lines are scanned, not
 * parsed into a jansson tree (see ollama_fast_line and docs/benchmarks.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translate/tr_int.h"

/* ---- Ollama native ------------------------------------------------------ */

static int64_t i64_of(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

/* Native tool calls -> OpenAI tool_calls elements appended to b. */
static void write_tool_calls(tr_stream *t, const json_t *tcs, buf *b, bool need_comma)
{
    for (size_t i = 0; i < json_array_size(tcs); i++) {
        json_t *tc = json_array_get(tcs, i);
        json_t *fn = json_object_get(tc, "function");
        size_t nlen;
        const char *name = tr_str_of(json_object_get(fn, "name"), &nlen);
        json_t *args = json_object_get(fn, "arguments");
        if (i || need_comma)
            buf_putc(b, ',');
        /* Stream deltas carry an index; a complete message's calls do not. */
        if (t->info.stream) {
            buf_puts(b, "{\"index\":");
            tr_json_u64(b, t->ntools);
            buf_puts(b, ",\"id\":");
        } else {
            buf_puts(b, "{\"id\":");
        }
        t->ntools++;
        json_t *id = json_object_get(tc, "id");
        if (json_is_string(id)) {
            buf_json_str(b, json_string_value(id), json_string_length(id));
        } else {
            char hex[25];
            tr_make_id(hex);
            buf_printf(b, "\"call_%.8s\"", hex);
        }
        buf_puts(b, ",\"type\":\"function\",\"function\":{\"name\":");
        buf_json_str(b, name, nlen);
        buf_puts(b, ",\"arguments\":");
        buf_reset(&t->tmp);
        if (json_is_string(args))
            buf_append(&t->tmp, json_string_value(args), json_string_length(args));
        else if (args && !json_is_null(args))
            tr_json_dump(&t->tmp, args);
        else
            buf_puts(&t->tmp, "{}");
        buf_json_str(b, t->tmp.data, t->tmp.len);
        buf_puts(b, "}}");
        t->st.completion_tokens_estimate +=
            tr_count_tokens_estimate(name, nlen) + tr_count_tokens_estimate(t->tmp.data, t->tmp.len);
    }
}

static const char *finish_reason(tr_stream *t, const char *done_reason)
{
    if (!strcmp(done_reason, "length"))
        return "length";
    return t->ntools ? "tool_calls" : "stop";
}

static void write_usage_obj(tr_stream *t, buf *b)
{
    uint64_t p = t->st.have_usage ? t->st.prompt_tokens : t->info.prompt_tokens_estimate;
    uint64_t c = t->st.have_usage ? t->st.completion_tokens : t->st.completion_tokens_estimate;
    buf_puts(b, "{\"prompt_tokens\":");
    tr_json_u64(b, p);
    if (t->kind != TR_EMBEDDING) {
        buf_puts(b, ",\"completion_tokens\":");
        tr_json_u64(b, c);
    }
    buf_puts(b, ",\"total_tokens\":");
    tr_json_u64(b, p + (t->kind != TR_EMBEDDING ? c : 0));
    buf_putc(b, '}');
}

/* The streaming tail: finish chunk, optional usage chunk, [DONE]. */
static void stream_end(tr_stream *t, buf *out)
{
    if (t->kind == TR_CHAT) {
        if (!t->role_sent) { /* clients need a role somewhere */
            buf_append(out, t->pre.data, t->pre.len);
            buf_puts(out, "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
            t->role_sent = true;
        }
        buf_append(out, t->pre.data, t->pre.len);
        buf_puts(out, "{\"index\":0,\"delta\":{},\"finish_reason\":\"");
    } else {
        buf_append(out, t->pre.data, t->pre.len);
        buf_puts(out, "{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"");
    }
    buf_puts(out, t->st.finish_reason);
    buf_puts(out, "\"}]}\n\n");
    if (t->info.include_usage) {
        buf_append(out, t->pre.data, t->pre.len);
        buf_puts(out, "],\"usage\":");
        write_usage_obj(t, out);
        buf_puts(out, "}\n\n");
    }
    buf_puts(out, "data: [DONE]\n\n");
}

static void ollama_done(tr_stream *t, const json_t *j)
{
    t->st.done = true;
    t->st.total_ns = i64_of(j, "total_duration");
    t->st.load_ns = i64_of(j, "load_duration");
    t->st.prompt_eval_ns = i64_of(j, "prompt_eval_duration");
    t->st.eval_ns = i64_of(j, "eval_duration");
    /* Zero counts are omitted by Ollama (omitempty): either one present
     * means the backend counted. eval_count includes the end-of-sequence
     * token; it is reported as-is, as Ollama's /v1 layer and LiteLLM do. */
    json_t *pc = json_object_get(j, "prompt_eval_count"), *ec = json_object_get(j, "eval_count");
    if (json_is_integer(pc) || json_is_integer(ec)) {
        t->st.have_usage = true;
        t->st.prompt_tokens = json_is_integer(pc) && json_integer_value(pc) > 0 ? (uint64_t)json_integer_value(pc) : 0;
        t->st.completion_tokens = json_is_integer(ec) && json_integer_value(ec) > 0 ? (uint64_t)json_integer_value(ec) : 0;
    }
    size_t n;
    const char *dr = tr_str_of(json_object_get(j, "done_reason"), &n);
    snprintf(t->st.finish_reason, sizeof t->st.finish_reason, "%s", finish_reason(t, dr));
}

/* One token event (content c, reasoning r, tool calls tcs): note it and
 * write the client chunk, or keep it for the non-streaming object. */
static void ollama_token(tr_stream *t, const char *c, size_t clen, const char *r, size_t rlen, const json_t *tcs)
{
    if (clen || rlen || tcs) {
        t->st.token_seen = true;
        t->st.completion_tokens_estimate += tr_count_tokens_estimate(c, clen) + tr_count_tokens_estimate(r, rlen);
    }
    buf *out = t->out;
    if (t->info.stream) {
        if (t->kind == TR_CHAT && (clen || rlen || tcs)) {
            buf_append(out, t->pre.data, t->pre.len);
            buf_puts(out, t->role_sent ? "{\"index\":0,\"delta\":{\"content\":"
                                       : "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":");
            t->role_sent = true;
            buf_json_str(out, c, clen);
            if (rlen) {
                buf_puts(out, ",\"reasoning_content\":");
                buf_json_str(out, r, rlen);
            }
            if (tcs) {
                buf_puts(out, ",\"tool_calls\":[");
                write_tool_calls(t, tcs, out, false);
                buf_putc(out, ']');
            }
            buf_puts(out, "},\"finish_reason\":null}]}\n\n");
        } else if (t->kind == TR_COMPLETION && clen) {
            buf_append(out, t->pre.data, t->pre.len);
            buf_puts(out, "{\"index\":0,\"text\":");
            buf_json_str(out, c, clen);
            buf_puts(out, ",\"logprobs\":null,\"finish_reason\":null}]}\n\n");
        }
    } else {
        buf_append(&t->content, c, clen);
        buf_append(&t->reasoning, r, rlen);
        if (tcs)
            write_tool_calls(t, tcs, &t->tools, t->tools.len > 0);
    }
}

/* The hot path: an ordinary token line ({"done":false}, content and/or
 * thinking text, no error or tool calls) is handled by scanning the bytes instead
 * of building a jansson tree, which costs most of the per-token time.
 * The object structure and the text literal are checked as strictly as
 * jansson would (escapes, control characters, UTF-8); fields the gateway
 * does not use (model, created_at) are only skipped. Returns false to let
 * the jansson path decide anything else. */
static bool ollama_fast_line(tr_stream *t, const char *line, size_t len)
{
    static const char *const chat_keys[] = {"done", "error", "message"};
    static const char *const gen_keys[] = {"done", "error", "response", "thinking", "tool_calls"};
    static const char *const msg_keys[] = {"content", "thinking", "tool_calls"};
    jscan_span v[5], m[3], text, think;
    if (t->kind == TR_CHAT) {
        if (!jscan_object(line, line + len, chat_keys, 3, v) || !v[2].p ||
            !jscan_object(v[2].p, v[2].p + v[2].n, msg_keys, 3, m) || m[2].p)
            return false;
        text = m[0];
        think = m[1];
    } else {
        if (!jscan_object(line, line + len, gen_keys, 5, v) || v[4].p)
            return false;
        text = v[2];
        think = v[3];
    }
    if (!jscan_is(v[0], "false") || v[1].p || !text.p)
        return false;
    buf_reset(&t->text);
    buf_reset(&t->text2);
    if (!jscan_string(text, &t->text) || (think.p && !jscan_string(think, &t->text2)))
        return false;
    ollama_token(t, t->text.data ? t->text.data : "", t->text.len, t->text2.data ? t->text2.data : "",
                 t->text2.len, NULL);
    return true;
}

static int ollama_line(void *ud, const char *line, size_t len)
{
    tr_stream *t = ud;
    if (t->st.done || t->st.failed)
        return 1;
    if (ollama_fast_line(t, line, len))
        return 0;
    int rc;
    json_t *j = tr_load_object(t, line, len, "line", &rc);
    if (!j)
        return rc;
    size_t clen, rlen;
    const char *c, *r;
    json_t *tcs = NULL;
    if (t->kind == TR_CHAT) {
        json_t *m = json_object_get(j, "message");
        c = tr_str_of(json_object_get(m, "content"), &clen);
        r = tr_str_of(json_object_get(m, "thinking"), &rlen);
        tcs = json_object_get(m, "tool_calls");
    } else {
        c = tr_str_of(json_object_get(j, "response"), &clen);
        r = tr_str_of(json_object_get(j, "thinking"), &rlen);
        tcs = json_object_get(j, "tool_calls");
    }
    if (!json_is_array(tcs) || !json_array_size(tcs))
        tcs = NULL;
    bool done = json_is_true(json_object_get(j, "done"));
    if (!done && !json_is_false(json_object_get(j, "done"))) {
        json_decref(j);
        return tr_fail(t, "malformed line from the upstream (no \"done\" field)", false);
    }
    ollama_token(t, c, clen, r, rlen, tcs);
    if (done) {
        ollama_done(t, j);
        if (t->info.stream)
            stream_end(t, t->out);
    }
    json_decref(j);
    return done ? 1 : 0;
}

/* Non-streaming Ollama chat/generate: the OpenAI object. */
static void ollama_object(tr_stream *t, buf *out)
{
    buf_puts(out, "{\"id\":\"");
    buf_puts(out, t->id);
    buf_puts(out, t->kind == TR_CHAT ? "\",\"object\":\"chat.completion\",\"created\":"
                                     : "\",\"object\":\"text_completion\",\"created\":");
    tr_json_u64(out, (unsigned long long)t->created);
    buf_puts(out, ",\"model\":");
    buf_json_str(out, t->model, strlen(t->model));
    if (t->kind == TR_CHAT) {
        buf_puts(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        if (!t->content.len && t->ntools)
            buf_puts(out, "null");
        else
            buf_json_str(out, t->content.data ? t->content.data : "", t->content.len);
        if (t->reasoning.len) {
            buf_puts(out, ",\"reasoning_content\":");
            buf_json_str(out, t->reasoning.data, t->reasoning.len);
        }
        if (t->ntools) {
            buf_puts(out, ",\"tool_calls\":[");
            buf_append(out, t->tools.data, t->tools.len);
            buf_putc(out, ']');
        }
        buf_puts(out, "},\"finish_reason\":\"");
    } else {
        buf_puts(out, ",\"choices\":[{\"index\":0,\"text\":");
        buf_json_str(out, t->content.data ? t->content.data : "", t->content.len);
        buf_puts(out, ",\"logprobs\":null,\"finish_reason\":\"");
    }
    buf_puts(out, t->st.finish_reason);
    buf_puts(out, "\"}],\"usage\":");
    write_usage_obj(t, out);
    buf_putc(out, '}');
}

/* ---- embeddings (Ollama /api/embed) ------------------------------------- */

static void put_base64(buf *b, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], i + 1 < n ? tbl[(v >> 6) & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        buf_append(b, q, 4);
    }
    buf_putc(b, '"');
}

typedef struct {
    tr_stream *t;
    buf *out;
    const json_t *vecs;
} embed_ctx;

static void embed_elem(void *ud, size_t i, jscan_span s)
{
    embed_ctx *e = ud;
    if (i)
        buf_putc(e->out, ',');
    buf_puts(e->out, "{\"object\":\"embedding\",\"index\":");
    tr_json_u64(e->out, i);
    buf_puts(e->out, ",\"embedding\":");
    if (e->t->info.embed_base64) {
        /* OpenAI's base64 form: little-endian float32 bytes. */
        json_t *v = json_array_get(e->vecs, i);
        size_t n = json_array_size(v);
        buf *tmp = &e->t->tmp;
        buf_reset(tmp);
        for (size_t k = 0; k < n; k++) {
            float f = (float)json_number_value(json_array_get(v, k));
            unsigned char le[4];
            uint32_t u;
            memcpy(&u, &f, 4);
            le[0] = (unsigned char)u;
            le[1] = (unsigned char)(u >> 8);
            le[2] = (unsigned char)(u >> 16);
            le[3] = (unsigned char)(u >> 24);
            buf_append(tmp, le, 4);
        }
        put_base64(e->out, (const unsigned char *)(tmp->data ? tmp->data : ""), tmp->len);
    } else {
        buf_append(e->out, s.p, s.n); /* the upstream's own digits */
    }
    buf_putc(e->out, '}');
}

static int ollama_embed_finish(tr_stream *t, buf *out)
{
    json_t *j = json_loadb(t->body.data ? t->body.data : "", t->body.len, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return tr_fail(t, "malformed embedding response from the upstream", false);
    }
    json_t *err = json_object_get(j, "error");
    if (err && !json_is_null(err)) {
        char msg[256];
        tr_error_message(err, msg, sizeof msg);
        json_decref(j);
        return tr_fail(t, msg, true);
    }
    json_t *vecs = json_object_get(j, "embeddings");
    bool ok = json_is_array(vecs);
    for (size_t i = 0; ok && i < json_array_size(vecs); i++) {
        json_t *v = json_array_get(vecs, i);
        ok = json_is_array(v);
        for (size_t k = 0; ok && k < json_array_size(v); k++)
            ok = json_is_number(json_array_get(v, k));
    }
    jscan_span span;
    if (!ok || !jscan_find(t->body.data, t->body.data + t->body.len, "embeddings", &span, NULL)) {
        json_decref(j);
        return tr_fail(t, "malformed embedding response from the upstream (no embeddings array)", false);
    }
    t->st.done = true;
    t->st.total_ns = i64_of(j, "total_duration");
    t->st.load_ns = i64_of(j, "load_duration");
    json_t *pc = json_object_get(j, "prompt_eval_count");
    if (json_is_integer(pc)) {
        t->st.have_usage = true;
        t->st.prompt_tokens = json_integer_value(pc) > 0 ? (uint64_t)json_integer_value(pc) : 0;
    }
    buf_puts(out, "{\"object\":\"list\",\"data\":[");
    embed_ctx e = {t, out, vecs};
    jscan_array_each(span.p, span.p + span.n, embed_elem, &e);
    buf_puts(out, "],\"model\":");
    buf_json_str(out, t->model, strlen(t->model));
    buf_puts(out, ",\"usage\":");
    write_usage_obj(t, out);
    buf_putc(out, '}');
    json_decref(j);
    return 0;
}

/* ---- the dialect ------------------------------------------------------- */

static int ollama_feed(tr_stream *t, const char *data, size_t len)
{
    if (t->kind == TR_EMBEDDING)
        return tr_buffer_body(t, data, len);
    if (!t->nd && !(t->nd = ndjson_new(t->info.stream ? MAX_STREAM_LINE : MAX_BODY, ollama_line, t)))
        return tr_fail(t, "out of memory", false);
    if (ndjson_feed(t->nd, data, len) == NDJSON_E_TOO_LONG)
        return tr_fail(t, "line from the upstream is too long", false);
    return 0;
}

static void ollama_finish(tr_stream *t, buf *out)
{
    if (t->kind == TR_EMBEDDING) {
        if (!t->st.done)
            (void)ollama_embed_finish(t, out);
        return;
    }
    const char *line;
    size_t n;
    if (!t->st.done && t->nd && ndjson_finish(t->nd, &line, &n) == 1)
        (void)ollama_line(t, line, n);
    if (t->st.done && !t->st.failed && !t->info.stream && !t->object_sent) {
        ollama_object(t, out);
        t->object_sent = true;
    }
}

const tr_dialect tr_dialect_ollama = {ollama_feed, ollama_finish};
