/* Byte-level fast paths for the OpenAI-compatible pass-through: routing,
 * building the upstream request and reading a non-streaming response,
 * without building a jansson tree. Each path first checks the whole text
 * with jscan_valid (which accepts only what jansson accepts) and hands anything
 * unusual (errors, duplicate keys of interest, unusual shapes) back to the
 * jansson path, which stays the reference: tests/fuzz/fuzz_translate.c runs
 * both and compares them. */
#include <string.h>

#include "translate/tr_int.h"

bool tr_fast_disabled;

/* ---- small readers over validated text ---- */

static bool absent(jscan_span v) { return !v.p || jscan_is(v, "null"); }

/* The text of a string value (decoded into scratch only when it has
 * escapes); n = 0 for anything that is not a string (jansson's
 * json_string_value of a non-string). */
static const char *text_of(jscan_span v, buf *scratch, size_t *n)
{
    *n = 0;
    if (!v.p || *v.p != '"')
        return "";
    if (!memchr(v.p + 1, '\\', v.n - 2)) {
        *n = v.n - 2;
        return v.p + 1;
    }
    buf_reset(scratch);
    if (!jscan_string(v, scratch) || scratch->oom)
        return NULL;
    *n = scratch->len;
    return scratch->data ? scratch->data : "";
}

/* Adds the token estimate of a string value (0 for other types). */
static bool estimate(jscan_span v, buf *scratch, uint64_t *acc)
{
    size_t n;
    const char *s = text_of(v, scratch, &n);
    if (!s)
        return false;
    *acc += tr_count_tokens_estimate(s, n);
    return true;
}

/* An integer (jansson's json_is_integer: no fraction or exponent). */
static bool int_of(jscan_span v, long long *out)
{
    if (!v.p || !((*v.p >= '0' && *v.p <= '9') || *v.p == '-') || memchr(v.p, '.', v.n) || memchr(v.p, 'e', v.n) ||
        memchr(v.p, 'E', v.n))
        return false;
    const char *p = v.p, *e = v.p + v.n;
    bool neg = *p == '-';
    long long x = 0;
    for (p += neg; p < e; p++)
        x = x * 10 + (*p - '0'); /* at most 18 digits: jscan_valid */
    *out = neg ? -x : x;
    return true;
}

bool tr_request_model(const char *body, size_t len, char *model, size_t cap)
{
    static const char *const keys[] = {"model"};
    jscan_span v[1];
    if (tr_fast_disabled || !jscan_valid(body, len, false) || !jscan_object(body, body + len, keys, 1, v) || !v[0].p ||
        *v[0].p != '"' || v[0].n - 2 >= cap || memchr(v[0].p, '\\', v[0].n))
        return false;
    memcpy(model, v[0].p + 1, v[0].n - 2);
    model[v[0].n - 2] = '\0';
    return true;
}

/* ---- the request ---- */

typedef struct {
    buf *scratch;
    uint64_t est;
    bool ok;
} est_ctx;

static void est_part(void *ud, size_t i, jscan_span el)
{
    static const char *const keys[] = {"text"};
    est_ctx *c = ud;
    jscan_span v[1];
    (void)i;
    if (!c->ok || *el.p != '{')
        return;
    c->ok = jscan_object(el.p, el.p + el.n, keys, 1, v) && estimate(v[0], c->scratch, &c->est);
}

static void est_message(void *ud, size_t i, jscan_span el)
{
    static const char *const keys[] = {"content"};
    est_ctx *c = ud;
    jscan_span v[1];
    (void)i;
    c->est += 3;
    if (!c->ok || *el.p != '{')
        return;
    if (!jscan_object(el.p, el.p + el.n, keys, 1, v) || !estimate(v[0], c->scratch, &c->est)) {
        c->ok = false;
        return;
    }
    if (v[0].p && *v[0].p == '[')
        c->ok = jscan_array_each(v[0].p, v[0].p + v[0].n, est_part, c) && c->ok;
}

static void est_elem(void *ud, size_t i, jscan_span el)
{
    est_ctx *c = ud;
    (void)i;
    c->ok = c->ok && estimate(el, c->scratch, &c->est);
}

int tr_fast_openai_request(tr_kind kind, const char *body, size_t len, const char *model, buf *out,
                           tr_request_info *info)
{
    const char *need = kind == TR_CHAT ? "messages" : kind == TR_COMPLETION ? "prompt" : "input";
    const char *const keys[] = {"model", "stream", "stream_options", need};
    const char *const so_keys[] = {"include_usage"};
    jscan_span v[4], so[1] = {{NULL, 0}};
    const char *e = body + len;
    if (tr_fast_disabled || !jscan_valid(body, len, false) || *jscan_ws(body, e) != '{' || !jscan_object(body, e, keys, 4, v))
        return 0;
    if (!v[0].p || *v[0].p != '"' || absent(v[3]))
        return 0; /* the errors are the jansson path's */
    if (kind == TR_CHAT && (*v[3].p != '[' || *jscan_ws(v[3].p + 1, e) == ']'))
        return 0;
    bool stream = jscan_is(v[1], "true");
    if (!absent(v[1]) && !stream && !jscan_is(v[1], "false"))
        return 0;
    if (!absent(v[2])) {
        if (*v[2].p != '{' || !jscan_object(v[2].p, v[2].p + v[2].n, so_keys, 1, so))
            return 0;
        if (!absent(so[0]) && !jscan_is(so[0], "true") && !jscan_is(so[0], "false"))
            return 0;
    }
    memset(info, 0, sizeof *info);
    info->stream = kind != TR_EMBEDDING && stream;
    info->include_usage = info->stream && jscan_is(so[0], "true");

    buf scratch;
    buf_init(&scratch);
    est_ctx c = {&scratch, 0, true};
    if (kind == TR_CHAT) {
        c.ok = jscan_array_each(v[3].p, v[3].p + v[3].n, est_message, &c) && c.ok;
        c.est += 3;
    } else if (*v[3].p == '[') {
        c.ok = jscan_array_each(v[3].p, v[3].p + v[3].n, est_elem, &c) && c.ok;
    } else {
        c.ok = estimate(v[3], &scratch, &c.est);
    }
    buf_free(&scratch);
    if (!c.ok)
        return 0;
    info->prompt_tokens_estimate = c.est;

    /* The gateway always asks a streaming upstream for the usage chunk. */
    jscan_span so_edit = {NULL, 0};
    bool so_append = false;
    if (info->stream && !jscan_is(so[0], "true")) {
        if (!v[2].p)
            so_append = true;
        else if (jscan_is(v[2], "null"))
            so_edit = v[2];
        else
            return 0;
    }
    size_t start = out->len;
    const char *p = body;
    const jscan_span *first = &v[0], *second = &so_edit;
    if (so_edit.p && so_edit.p < v[0].p) {
        first = &so_edit;
        second = &v[0];
    }
    const jscan_span *ed[2] = {first, second};
    for (int i = 0; i < 2; i++) {
        if (!ed[i]->p)
            continue;
        buf_append(out, p, (size_t)(ed[i]->p - p));
        if (ed[i] == &v[0])
            buf_json_str(out, model, strlen(model));
        else
            buf_puts(out, "{\"include_usage\":true}");
        p = ed[i]->p + ed[i]->n;
    }
    if (so_append) {
        const char *close = e;
        while (close > p && close[-1] != '}')
            close--;
        close--; /* the object's closing brace */
        buf_append(out, p, (size_t)(close - p));
        buf_puts(out, ",\"stream_options\":{\"include_usage\":true}}");
    } else {
        buf_append(out, p, (size_t)(e - p));
    }
    if (out->oom) {
        out->len = start;
        return 0;
    }
    return 1;
}

/* ---- the non-streaming response ---- */

typedef struct {
    tr_stream *t;
    uint64_t est;
    bool ok;
} tap_ctx;

static void tap_tool(void *ud, size_t i, jscan_span el)
{
    static const char *const fkeys[] = {"function"}, *const akeys[] = {"arguments"};
    tap_ctx *c = ud;
    jscan_span f[1], a[1];
    (void)i;
    if (!c->ok || *el.p != '{')
        return;
    if (!jscan_object(el.p, el.p + el.n, fkeys, 1, f)) {
        c->ok = false;
        return;
    }
    if (!f[0].p || *f[0].p != '{')
        return;
    c->ok = jscan_object(f[0].p, f[0].p + f[0].n, akeys, 1, a) && estimate(a[0], &c->t->text, &c->est);
}

static void tap_choice(void *ud, size_t i, jscan_span el)
{
    static const char *const ch_keys[] = {"delta", "message", "text", "finish_reason"};
    static const char *const d_keys[] = {"content", "reasoning_content", "reasoning", "tool_calls"};
    tap_ctx *c = ud;
    tr_stream *t = c->t;
    jscan_span v[4], d[4] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    (void)i;
    if (!c->ok || *el.p != '{')
        return;
    if (!jscan_object(el.p, el.p + el.n, ch_keys, 4, v)) {
        c->ok = false;
        return;
    }
    jscan_span dv = v[0].p ? v[0] : v[1];
    if (dv.p && *dv.p == '{' && !jscan_object(dv.p, dv.p + dv.n, d_keys, 4, d)) {
        c->ok = false;
        return;
    }
    bool token = false;
    jscan_span texts[4] = {d[0], d[1], d[2], v[2]};
    for (int k = 0; k < 4; k++) {
        size_t n;
        const char *s = text_of(texts[k], &t->text, &n);
        if (!s) {
            c->ok = false;
            return;
        }
        token |= n > 0;
        c->est += tr_count_tokens_estimate(s, n);
    }
    jscan_span tcs = d[3];
    if (tcs.p && *tcs.p == '[' && *jscan_ws(tcs.p + 1, tcs.p + tcs.n) != ']') {
        token = true;
        if (!jscan_array_each(tcs.p, tcs.p + tcs.n, tap_tool, c) || !c->ok) {
            c->ok = false;
            return;
        }
    }
    if (token)
        t->st.token_seen = true;
    size_t fn;
    const char *f = text_of(v[3], &t->text, &fn);
    if (!f) {
        c->ok = false;
        return;
    }
    if (fn) {
        tr_copy(t->st.finish_reason, sizeof t->st.finish_reason, f, fn);
        t->saw_finish = true;
    }
}

int tr_fast_openai_body(tr_stream *t, const char *s, size_t n)
{
    static const char *const keys[] = {"error", "choices", "usage"};
    static const char *const ukeys[] = {"prompt_tokens", "completion_tokens"};
    jscan_span v[3], u[2];
    if (tr_fast_disabled || !jscan_valid(s, n, true) || *jscan_ws(s, s + n) != '{' || !jscan_object(s, s + n, keys, 3, v) ||
        !absent(v[0]))
        return 0;
    if (v[2].p && *v[2].p == '{' && !jscan_object(v[2].p, v[2].p + v[2].n, ukeys, 2, u))
        return 0;
    tr_stats saved = t->st;
    bool saved_finish = t->saw_finish;
    tap_ctx c = {t, 0, true};
    if (v[1].p && *v[1].p == '[' && (!jscan_array_each(v[1].p, v[1].p + v[1].n, tap_choice, &c) || !c.ok)) {
        t->st = saved;
        t->saw_finish = saved_finish;
        return 0;
    }
    t->st.completion_tokens_estimate += c.est;
    if (v[2].p && *v[2].p == '{') {
        long long pt = 0, ct = 0;
        bool hp = int_of(u[0], &pt), hc = int_of(u[1], &ct);
        if (hp || hc) {
            t->st.have_usage = true;
            t->st.prompt_tokens = hp && pt > 0 ? (uint64_t)pt : 0;
            t->st.completion_tokens = hc && ct > 0 ? (uint64_t)ct : 0;
        }
    }
    return 1;
}
