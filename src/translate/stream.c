/* The translator's core: the response stream object, errors (tr_fail) and
 * feed/finish, which hand the upstream's bytes to the stream's dialect
 * (ollama.c for Ollama native, openai.c for OpenAI-compatible upstreams)
 * and report the first token as an event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "translate/tr_int.h"

tr_stream *tr_stream_new(tr_kind kind, tr_source src, const tr_request_info *info, const char *client_model)
{
    tr_stream *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->kind = kind;
    t->src = src;
    if (info)
        t->info = *info;
    if (kind == TR_EMBEDDING)
        t->info.stream = t->info.include_usage = false;
    t->provider = src == TR_SRC_OLLAMA ? "ollama" : "openai";
    t->d = src == TR_SRC_OLLAMA ? &tr_dialect_ollama : &tr_dialect_openai;
    t->model = strdup(client_model ? client_model : "");
    /* "chatcmpl-" / "cmpl-" + 24 hex (no printf: once per request) */
    const char *prefix = kind == TR_CHAT ? "chatcmpl-" : "cmpl-";
    size_t pl = strlen(prefix);
    memcpy(t->id, prefix, pl);
    tr_make_id(t->id + pl);
    t->created = (long long)time(NULL);
    if (!t->model)
        goto fail;
    if (t->info.stream) {
        buf_puts(&t->pre, "data: {\"id\":\"");
        buf_puts(&t->pre, t->id);
        buf_puts(&t->pre, kind == TR_CHAT ? "\",\"object\":\"chat.completion.chunk\",\"created\":"
                                          : "\",\"object\":\"text_completion\",\"created\":");
        tr_json_u64(&t->pre, (unsigned long long)t->created);
        buf_puts(&t->pre, ",\"model\":");
        buf_json_str(&t->pre, t->model, strlen(t->model));
        buf_puts(&t->pre, ",\"choices\":[");
        if (t->pre.oom)
            goto fail;
    }
    return t;
fail:
    tr_stream_free(t);
    return NULL;
}

void tr_stream_set_provider(tr_stream *t, const char *provider)
{
    if (provider)
        t->provider = provider;
}

void tr_stream_free(tr_stream *t)
{
    if (!t)
        return;
    ndjson_free(t->nd);
    sse_free(t->sse);
    buf_free(&t->pre);
    buf_free(&t->body);
    buf_free(&t->content);
    buf_free(&t->reasoning);
    buf_free(&t->tools);
    buf_free(&t->tmp);
    buf_free(&t->text);
    buf_free(&t->text2);
    free(t->model);
    free(t);
}

tr_stats *tr_stream_stats(tr_stream *t) { return &t->st; }

/* Marks the stream failed; a streaming client gets one error event (and
 * never [DONE]). in_band: the upstream itself reported the error. */
static int fail(tr_stream *t, const char *msg, size_t len, bool in_band)
{
    if (t->st.failed)
        return -1;
    t->st.failed = true;
    t->st.error_status = 500;
    tr_copy(t->st.error, sizeof t->st.error, msg, len);
    t->st.error_class = tr_exception_class(t->provider, in_band ? 500 : 0);
    if (t->info.stream && t->out && !t->error_sent) {
        tr_error e;
        memset(&e, 0, sizeof e);
        e.status = 500;
        memcpy(e.message, t->st.error, sizeof t->st.error);
        snprintf(e.type, sizeof e.type, "api_error");
        snprintf(e.code, sizeof e.code, "500");
        buf_puts(t->out, "data: ");
        tr_error_body(&e, t->out);
        buf_puts(t->out, "\n\n");
        t->error_sent = true;
    }
    return -1;
}

int tr_fail(tr_stream *t, const char *msg, bool in_band) { return fail(t, msg, strlen(msg), in_band); }

json_t *tr_load_object(tr_stream *t, const char *s, size_t len, const char *what, int *rc)
{
    json_t *j = json_loadb(s, len, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        char msg[96];
        snprintf(msg, sizeof msg, "malformed %s from the upstream (not a JSON object)", what);
        *rc = tr_fail(t, msg, false);
        return NULL;
    }
    json_t *err = json_object_get(j, "error");
    if (err && !json_is_null(err)) {
        char msg[256];
        tr_error_message(err, msg, sizeof msg);
        json_decref(j);
        *rc = tr_fail(t, msg, true);
        return NULL;
    }
    return j;
}

int tr_buffer_body(tr_stream *t, const char *data, size_t len)
{
    int rc = 0;
    if (t->body.len + len > MAX_BODY)
        rc = tr_fail(t, "response from the upstream is too big", false);
    else
        buf_append(&t->body, data, len);
    if (t->body.oom)
        rc = tr_fail(t, "out of memory", false);
    return rc;
}

/* ---- feed / finish ------------------------------------------------------ */

int tr_stream_feed(tr_stream *t, const char *data, size_t len, buf *out)
{
    if (t->st.failed)
        return -1;
    if (t->st.done || !len)
        return 0;
    bool seen = t->st.token_seen;
    t->out = out;
    int rc = t->d->feed(t, data, len);
    t->out = NULL;
    if (t->st.failed || rc < 0)
        return -1;
    return !seen && t->st.token_seen ? TR_EV_FIRST_TOKEN : 0;
}

static int finish_failed(tr_stream *t, buf *out)
{
    if (!t->info.stream) {
        tr_error e;
        memset(&e, 0, sizeof e);
        e.status = t->st.error_status ? t->st.error_status : 500;
        memcpy(e.message, t->st.error, sizeof t->st.error);
        snprintf(e.code, sizeof e.code, "%d", e.status);
        tr_error_body(&e, out);
    }
    return -1;
}

int tr_stream_finish(tr_stream *t, buf *out)
{
    t->out = out;
    if (!t->st.failed) {
        t->d->finish(t, out);
        if (!t->st.done && !t->st.failed)
            tr_fail(t, "the upstream ended the response before its final chunk", false);
    }
    if (t->st.failed) {
        int rc = finish_failed(t, out);
        t->out = NULL;
        return rc;
    }
    t->out = NULL;
    if (out->oom)
        return -1;
    return 0;
}
