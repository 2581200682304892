/* The simulator's HTTP handler: gin-like routing (404 vs 405 with Allow,
 * trailing-slash redirects), the informational endpoints, /sim/ routes, and the
 * hand-off of model requests to job.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"
#include "util/log.h"

enum { M_HEAD = 1, M_GET = 2, M_POST = 4, M_DELETE = 8 };

typedef struct {
    const char *path;
    unsigned methods;
    int ep;     /* enum sim_endpoint, or one of the R_* below */
    bool prefix; /* "/v1/models/" + one segment */
} route;

enum { R_UNSIMULATED = 100, R_SIM_STATS, R_SIM_RESET };

/* Registration order matters only for Allow (HEAD, GET, POST, DELETE). */
static const route routes[] = {
    {"/", M_HEAD | M_GET, SIM_EP_ROOT, false},
    {"/api/version", M_HEAD | M_GET, SIM_EP_VERSION, false},
    {"/api/tags", M_HEAD | M_GET, SIM_EP_TAGS, false},
    {"/api/ps", M_GET, SIM_EP_PS, false},
    {"/api/status", M_GET, SIM_EP_STATUS, false},
    {"/api/show", M_POST, SIM_EP_SHOW, false},
    {"/api/chat", M_POST, SIM_EP_CHAT, false},
    {"/api/generate", M_POST, SIM_EP_GENERATE, false},
    {"/api/embed", M_POST, SIM_EP_EMBED, false},
    {"/api/embeddings", M_POST, SIM_EP_EMBEDDINGS, false},
    {"/v1/chat/completions", M_POST, SIM_EP_V1_CHAT, false},
    {"/v1/completions", M_POST, SIM_EP_V1_COMPLETIONS, false},
    {"/v1/embeddings", M_POST, SIM_EP_V1_EMBEDDINGS, false},
    {"/v1/models", M_GET, SIM_EP_V1_MODELS, false},
    {"/v1/models/", M_GET, SIM_EP_V1_MODEL, true},
    /* Registered by Ollama, not simulated: right method -> 501. */
    {"/api/pull", M_POST, R_UNSIMULATED, false},
    {"/api/push", M_POST, R_UNSIMULATED, false},
    {"/api/create", M_POST, R_UNSIMULATED, false},
    {"/api/copy", M_POST, R_UNSIMULATED, false},
    {"/api/me", M_POST, R_UNSIMULATED, false},
    {"/api/signout", M_POST, R_UNSIMULATED, false},
    {"/api/delete", M_DELETE, R_UNSIMULATED, false},
    {"/api/blobs/", M_HEAD | M_POST, R_UNSIMULATED, true},
    {"/api/experimental/web_search", M_POST, R_UNSIMULATED, false},
    {"/api/experimental/web_fetch", M_POST, R_UNSIMULATED, false},
    {"/api/experimental/model-recommendations", M_GET, R_UNSIMULATED, false},
    {"/v1/responses", M_POST, R_UNSIMULATED, false},
    {"/v1/audio/transcriptions", M_POST, R_UNSIMULATED, false},
    {"/v1/messages", M_POST, R_UNSIMULATED, false},
    /* Not Ollama: the simulator's accounting. */
    {"/sim/stats", M_GET, R_SIM_STATS, false},
    {"/sim/reset", M_POST, R_SIM_RESET, false},
};

static const route *match(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route *r = &routes[i];
        size_t pl = strlen(r->path);
        if (r->prefix) {
            if (len > pl && !strncmp(path, r->path, pl) && !memchr(path + pl, '/', len - pl))
                return r;
        } else if (len == pl && !strncmp(path, r->path, pl)) {
            return r;
        }
    }
    return NULL;
}

static unsigned method_bit(const http_request *req)
{
    if (http_method_is(req, "GET"))
        return M_GET;
    if (http_method_is(req, "HEAD"))
        return M_HEAD;
    if (http_method_is(req, "POST"))
        return M_POST;
    if (http_method_is(req, "DELETE"))
        return M_DELETE;
    return 0;
}

void sim_log_request(sim_ctx *ctx, const char *method, const char *path, const char *model, int status, long prompt,
                     long completion, int64_t dur_ns)
{
    if (ctx->cfg.quiet)
        return;
    log_info("%s %s model=%s status=%d prompt_tokens=%ld completion_tokens=%ld duration_ms=%.3f", method, path,
             model && *model ? model : "-", status, prompt, completion, (double)dur_ns / 1e6);
}

static void plain(conn *c, int status, const char *ctype, const char *extra, const char *body)
{
    conn_respond(c, status, ctype, extra, body, strlen(body));
}

static void details(buf *b, const sim_model_info *mi, bool lengths)
{
    buf_printf(b, "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"%s\",\"families\":[\"%s\"],"
                  "\"parameter_size\":\"%s\",\"quantization_level\":\"%s\"",
               mi->family, mi->family, mi->param_size, mi->quant);
    if (lengths)
        buf_printf(b, ",\"context_length\":%d,\"embedding_length\":%d", mi->context_length, mi->embed_dim);
    buf_putc(b, '}');
}

static void capabilities(buf *b, const sim_model_info *mi)
{
    buf_puts(b, mi->embedding ? "\"capabilities\":[\"embedding\"]" : "\"capabilities\":[\"completion\",\"tools\"]");
}

static void local_time(buf *b, int64_t sec, long nsec)
{
    char t[80];
    size_t n = sim_fmt_time(t, sizeof t, sec, nsec, false);
    buf_putc(b, '"');
    buf_append(b, t, n);
    buf_putc(b, '"');
}

static void tags(sim_ctx *ctx, buf *b)
{
    buf_puts(b, "{\"models\":[");
    for (int i = 0; i < sim_sched_model_count(ctx->sched); i++) {
        const sim_model_info *mi = sim_sched_model(ctx->sched, i);
        buf_printf(b, "%s{\"name\":\"%s\",\"model\":\"%s\",\"modified_at\":", i ? "," : "", mi->name, mi->name);
        local_time(b, mi->modified_sec, mi->modified_nsec);
        buf_printf(b, ",\"size\":%lld,\"digest\":\"%s\",", (long long)mi->size, mi->digest);
        details(b, mi, true);
        buf_putc(b, ',');
        capabilities(b, mi);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
}

static void ps(sim_ctx *ctx, buf *b)
{
    sim_ps_entry e[64];
    int n = sim_sched_ps(ctx->sched, e, 64, sim_now_mono(), sim_now_wall());
    buf_puts(b, "{\"models\":[");
    for (int i = 0; i < n; i++) {
        const sim_model_info *mi = sim_sched_model(ctx->sched, e[i].model);
        /* Loaded size: weights plus KV cache and compute buffers. */
        long long size = (long long)mi->size + (long long)mi->num_ctx * 131072;
        buf_printf(b, "%s{\"name\":\"%s\",\"model\":\"%s\",\"size\":%lld,\"digest\":\"%s\",", i ? "," : "", mi->name,
                   mi->name, size, mi->digest);
        details(b, mi, false);
        buf_puts(b, ",\"expires_at\":");
        local_time(b, e[i].expires_sec, e[i].expires_nsec);
        buf_printf(b, ",\"size_vram\":%lld,\"context_length\":%d}", size, mi->num_ctx);
    }
    buf_puts(b, "]}");
}

static void show(const sim_model_info *mi, buf *b)
{
    buf_puts(b, "{\"modelfile\":");
    char mf[512];
    int n = snprintf(mf, sizeof mf,
                     "# Modelfile generated by \"ollama show\"\n# To build a new Modelfile based on this, replace FROM "
                     "with:\n# FROM %s\n\nFROM /usr/share/ollama/.ollama/models/blobs/sha256-%s\n",
                     mi->name, mi->digest);
    sim_json_str(b, mf, (size_t)n < sizeof mf ? (size_t)n : sizeof mf - 1);
    if (!mi->embedding) {
        buf_puts(b, ",\"parameters\":");
        const char *p = "stop                           \"<|eot_id|>\"";
        sim_json_str(b, p, strlen(p));
        buf_puts(b, ",\"template\":");
        const char *t = "{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}<|assistant|>";
        sim_json_str(b, t, strlen(t));
    }
    buf_putc(b, ',');
    details(b, mi, false);
    buf_printf(b, ",\"model_info\":{\"general.architecture\":\"%s\",\"general.parameter_count\":%lld,"
                  "\"%s.context_length\":%d,\"%s.embedding_length\":%d},",
               mi->family, (long long)(mi->embedding ? mi->size / 2 : (long long)(mi->size / 0.606)), mi->family,
               mi->context_length, mi->family, mi->embed_dim);
    capabilities(b, mi);
    buf_puts(b, ",\"modified_at\":");
    local_time(b, mi->modified_sec, mi->modified_nsec);
    buf_putc(b, '}');
}

static void v1_model(buf *b, const char *id, size_t idlen, const sim_model_info *mi)
{
    buf_puts(b, "{\"id\":");
    sim_json_str(b, id, idlen);
    buf_printf(b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":\"library\"}", (long long)mi->modified_sec);
}

/* Percent-decoding of one path segment (gin matches the decoded path). */
static size_t unescape(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len + 0 && (hi = (s[i + 1] | 32)) && (lo = (s[i + 2] | 32)) &&
            strchr("0123456789abcdef", hi) && strchr("0123456789abcdef", lo)) {
            int h = hi <= '9' ? hi - '0' : hi - 'a' + 10, l = lo <= '9' ? lo - '0' : lo - 'a' + 10;
            out[n++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return n;
}

static void info(sim_ctx *ctx, conn *c, const http_request *req, const route *r, const char *body, size_t len)
{
    sim_thread *t = conn_thread_ctx(c);
    buf *b = &t->scratch;
    buf_reset(b);
    int status = 200;
    const char *model = NULL;
    char id[256];
    switch (r->ep) {
    case SIM_EP_ROOT: plain(c, 200, "text/plain; charset=utf-8", NULL, "Ollama is running"); goto log;
    case SIM_EP_VERSION: buf_puts(b, "{\"version\":\"" SIM_OLLAMA_VERSION "\"}"); break;
    case SIM_EP_STATUS: buf_puts(b, "{\"cloud\":{\"disabled\":false,\"source\":\"none\"}}"); break;
    case SIM_EP_TAGS: tags(ctx, b); break;
    case SIM_EP_PS: ps(ctx, b); break;
    case SIM_EP_SHOW: {
        sim_err err;
        int m = sim_parse_show(ctx, body, len, &err);
        if (m < 0) {
            status = err.status;
            sim_respond_error(c, false, false, status, err.msg);
            goto log;
        }
        model = sim_sched_model(ctx->sched, m)->name;
        show(sim_sched_model(ctx->sched, m), b);
        break;
    }
    case SIM_EP_V1_MODELS:
        buf_puts(b, "{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < sim_sched_model_count(ctx->sched); i++) {
            const sim_model_info *mi = sim_sched_model(ctx->sched, i);
            if (i)
                buf_putc(b, ',');
            v1_model(b, mi->name, strlen(mi->name), mi);
        }
        buf_puts(b, "]}\n");
        conn_respond(c, 200, "application/json", NULL, b->data, b->len);
        goto log;
    case SIM_EP_V1_MODEL: {
        size_t pl = strlen(r->path);
        size_t n = unescape(req->target + pl, req->path_len - pl, id, sizeof id);
        int m = sim_sched_find(ctx->sched, id, n);
        model = id;
        if (m < 0) {
            char norm[300], msg[400];
            sim_model_normalize(id, n, norm, sizeof norm);
            snprintf(msg, sizeof msg, "model '%s' not found", norm);
            status = 404;
            sim_respond_error(c, true, false, 404, msg);
            goto log;
        }
        v1_model(b, id, n, sim_sched_model(ctx->sched, m));
        buf_putc(b, '\n');
        conn_respond(c, 200, "application/json", NULL, b->data, b->len);
        goto log;
    }
    default: status = 500; break;
    }
    if (b->oom) {
        status = 500;
        sim_respond_error(c, false, false, 500, "out of memory");
    } else {
        conn_respond(c, status, "application/json; charset=utf-8", NULL, b->data, b->len);
    }
log:
    sim_log_request(ctx, http_method_is(req, "HEAD") ? "HEAD" : http_method_is(req, "GET") ? "GET" : "POST", r->path, model,
                    status, 0, 0, 0);
}

static void sim_route(conn *c, const http_request *req, const char *body, size_t len, sim_ctx *ctx)
{
    const char *path = req->target;
    size_t plen = req->path_len;
    const route *r = match(path, plen);
    if (!r && plen > 1 && path[plen - 1] == '/' && match(path, plen - 1)) {
        /* gin's RedirectTrailingSlash: 301 for GET, 307 otherwise. */
        char loc[512];
        bool get = http_method_is(req, "GET");
        snprintf(loc, sizeof loc, "Location: %.*s%.*s\r\n", (int)(plen - 1 < 400 ? plen - 1 : 400), path,
                 (int)(req->target_len - plen < 100 ? req->target_len - plen : 100), path + plen);
        char html[600];
        snprintf(html, sizeof html, "<a href=\"%.*s\">Moved Permanently</a>.\n\n", (int)(plen - 1 < 400 ? plen - 1 : 400), path);
        if (get)
            plain(c, 301, "text/html; charset=utf-8", loc, html);
        else
            plain(c, 307, NULL, loc, "");
        sim_stats_endpoint(ctx->stats, SIM_EP_OTHER);
        return;
    }
    if (!r) {
        plain(c, 404, "text/plain", NULL, "404 page not found");
        sim_stats_endpoint(ctx->stats, SIM_EP_OTHER);
        return;
    }
    unsigned mb = method_bit(req);
    if (!(r->methods & mb)) {
        char allow[64] = "Allow: ";
        static const char *const names[] = {"HEAD", "GET", "POST", "DELETE"};
        bool first = true;
        for (int i = 0; i < 4; i++)
            if (r->methods & (1u << i)) {
                strcat(allow, first ? "" : ", ");
                strcat(allow, names[i]);
                first = false;
            }
        strcat(allow, "\r\n");
        plain(c, 405, "text/plain", allow, "405 method not allowed");
        sim_stats_endpoint(ctx->stats, SIM_EP_OTHER);
        return;
    }
    if (r->ep == R_SIM_STATS || r->ep == R_SIM_RESET) {
        sim_thread *t = conn_thread_ctx(c);
        buf_reset(&t->scratch);
        if (r->ep == R_SIM_RESET)
            sim_stats_reset(ctx->stats);
        sim_stats_json(ctx->stats, ctx->sched, &t->scratch);
        conn_respond(c, 200, "application/json", NULL, t->scratch.data, t->scratch.len);
        return;
    }
    if (r->ep == R_UNSIMULATED) {
        sim_stats_endpoint(ctx->stats, SIM_EP_OTHER);
        if (sim_manage(ctx, c, req, r->path, body, len))
            return;
        sim_respond_error(c, false, false, 501, "not supported by tollgate sim");
        return;
    }
    enum sim_endpoint ep = (enum sim_endpoint)r->ep;
    sim_stats_endpoint(ctx->stats, ep);
    const http_header *tp = http_find_header(req, "traceparent");
    if (tp)
        sim_stats_traceparent(ctx->stats, tp->value, tp->value_len);
    switch (ep) {
    case SIM_EP_CHAT:
    case SIM_EP_GENERATE:
    case SIM_EP_EMBED:
    case SIM_EP_EMBEDDINGS:
    case SIM_EP_V1_CHAT:
    case SIM_EP_V1_COMPLETIONS:
    case SIM_EP_V1_EMBEDDINGS: break;
    default: info(ctx, c, req, r, body, len); return;
    }
    sim_job *j = sim_job_new(ctx, c, ep);
    if (!j) {
        sim_respond_error(c, false, false, 500, "out of memory");
        return;
    }
    sim_err err = {0};
    if (sim_parse_request(j, body, len, &err) != 0) {
        /* Counted as a request (of its model when one was named) that
         * failed before any work. */
        sim_stats_request(ctx->stats, j->model);
        sim_respond_error(c, j->v1, false, err.status, err.msg);
        sim_log_request(ctx, "POST", r->path, j->model_echo, err.status, 0, 0, sim_now_mono() - j->t0);
        sim_job_free(j);
        return;
    }
    sim_job_run(j);
}

void sim_handler(conn *c, const http_request *req, const char *body, size_t len, void *ud)
{
    sim_route(c, req, body, len, ud);
}
