/* OpenTelemetry spans for gateway requests: see trace.h. */
#include "serve/trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/json_scan.h"

static uint64_t unix_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void trace_begin(const gateway *g, const http_request *req, int64_t t_start, otel_span *sp)
{
    if (!g->otel)
        return;
    const http_header *tp = req ? http_find_header(req, "traceparent") : NULL;
    const http_header *ts = tp ? http_find_header(req, "tracestate") : NULL;
    /* The span starts when the request was complete, like the metrics. */
    int64_t since = gw_now_ns() - t_start;
    otel_start(g->otel, tp ? tp->value : NULL, tp ? tp->value_len : 0, ts ? ts->value : NULL, ts ? ts->value_len : 0,
               true, unix_now_ns() - (uint64_t)(since > 0 ? since : 0), sp);
}

void trace_upstream_header(const gateway *g, const otel_span *sp, char out[TRACE_HEADER_MAX])
{
    out[0] = '\0';
    if (!g->otel)
        return;
    char tp[OTEL_TRACEPARENT_LEN + 1];
    otel_upstream_traceparent(sp, tp);
    snprintf(out, TRACE_HEADER_MAX, "traceparent: %s\r\n", tp);
}

/* server.address and server.port from an api_base such as
 * "http://user:pw@host:11434/v1": the host only, never the userinfo. */
static void backend_address(const char *base, otel_span *sp)
{
    const char *h = strstr(base, "://");
    bool https = h && h - base == 5 && !strncmp(base, "https", 5);
    h = h ? h + 3 : base;
    size_t auth = strcspn(h, "/?#");
    for (size_t i = auth; i > 0; i--)
        if (h[i - 1] == '@') {
            auth -= i;
            h += i;
            break;
        }
    const char *end = h + auth, *colon = NULL;
    if (*h == '[') { /* IPv6 literal: the address without its brackets */
        const char *rb = memchr(h, ']', auth);
        if (!rb)
            return;
        otel_span_str(sp->server_address, sizeof sp->server_address, h + 1, (size_t)(rb - h - 1));
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', auth);
        otel_span_str(sp->server_address, sizeof sp->server_address, h, (size_t)((colon ? colon : end) - h));
    }
    long port = https ? 443 : 80;
    if (colon) {
        char *e = NULL;
        port = strtol(colon + 1, &e, 10);
        if (e != end || port <= 0 || port > 65535)
            port = 0;
    }
    sp->server_port = (uint16_t)port;
}

/* Parameters read from the client's body without a parse tree (only for
 * sampled spans: the metrics do not use them). */
static double number(jscan_span v)
{
    if (!v.p || v.n == 0 || v.n > 40 || !(v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')))
        return NAN;
    char tmp[48];
    memcpy(tmp, v.p, v.n);
    tmp[v.n] = '\0';
    return strtod(tmp, NULL);
}

static void request_params(const char *body, size_t len, otel_span *sp)
{
    /* num_predict: Ollama's native "options" (native.c passes that object). */
    static const char *const keys[] = {"max_tokens", "max_completion_tokens", "temperature", "top_p", "num_predict"};
    jscan_span v[5];
    const char *s = jscan_ws(body, body + len);
    if (s == body + len || *s != '{' || !jscan_object(s, body + len, keys, 5, v))
        return;
    double mt = number(v[1].p ? v[1] : v[0].p ? v[0] : v[4]);
    if (mt >= 0 && mt <= 9.2e18 && mt == floor(mt))
        sp->max_tokens = (int64_t)mt;
    sp->temperature = number(v[2]);
    sp->top_p = number(v[3]);
}

static double secs(int64_t ns) { return (double)ns / 1e9; }

void trace_end(const gw_thread *t, const trace_facts *f, otel_span *sp)
{
    const gateway *g = t->g;
    if (!g->otel)
        return;
    const metrics_request *r = f->rec;
    sp->end_ns = sp->start_ns + (uint64_t)(r->t_end > r->t_start ? r->t_end - r->t_start : 0);
    sp->op = f->kind == TR_COMPLETION ? OTEL_OP_TEXT_COMPLETION : f->kind == TR_EMBEDDING ? OTEL_OP_EMBEDDINGS : OTEL_OP_CHAT;
    if (r->requested_model)
        otel_span_str(sp->request_model, sizeof sp->request_model, r->requested_model, strlen(r->requested_model));
    if (r->deployment >= 0 && r->deployment < g->ndeps) {
        const config_deployment *cd = g->deps[r->deployment].cfg;
        /* The conventions' provider names; ollama_chat is Ollama too. */
        const char *prov = cd->provider == PROVIDER_OLLAMA || cd->provider == PROVIDER_OLLAMA_CHAT ? "ollama"
                                                                                                  : cd->provider_name;
        otel_span_str(sp->provider, sizeof sp->provider, prov, strlen(prov));
        if (r->status < 400)
            otel_span_str(sp->response_model, sizeof sp->response_model, cd->upstream_model, strlen(cd->upstream_model));
        backend_address(cd->api_base, sp);
    }
    const char *route = metrics_route_name(r->route);
    otel_span_str(sp->http_route, sizeof sp->http_route, route, strlen(route));
    sp->http_status = r->status;
    if (r->exception_class)
        otel_span_str(sp->error_type, sizeof sp->error_type, r->exception_class, strlen(r->exception_class));
    else if (r->status >= 400)
        snprintf(sp->error_type, sizeof sp->error_type, "%d", r->status);
    if (r->tokens_exact) { /* the conventions want reported counts, never estimates */
        sp->input_tokens = (int64_t)r->prompt_tokens;
        sp->output_tokens = (int64_t)r->completion_tokens;
    }
    if (f->st && f->st->finish_reason[0]) {
        otel_span_str(sp->finish_reasons[0], sizeof sp->finish_reasons[0], f->st->finish_reason,
                      strlen(f->st->finish_reason));
        sp->n_finish_reasons = 1;
    }
    sp->stream = r->stream;
    if (r->t_first_token > r->t_start)
        sp->ttft_s = secs(r->t_first_token - r->t_start);
    if (r->load_ns > 0)
        sp->load_s = secs(r->load_ns);
    if (r->prompt_eval_ns > 0)
        sp->prompt_eval_s = secs(r->prompt_eval_ns);
    if (r->eval_ns > 0)
        sp->eval_s = secs(r->eval_ns);
    /* The same estimate as tollgate_ollama_queue_wait_seconds (metrics.c). */
    if (r->total_ns > 0 && r->t_upstream_sent && r->t_end > r->t_upstream_sent) {
        int64_t wait = (r->t_end - r->t_upstream_sent) - r->total_ns;
        sp->queue_wait_s = secs(wait > 0 ? wait : 0);
    }
    if (r->t_upstream_sent >= r->t_start && r->t_upstream_sent) {
        sp->client_start_ns = sp->start_ns + (uint64_t)(r->t_upstream_sent - r->t_start);
        sp->client_end_ns = sp->end_ns;
    } else {
        sp->has_client_span = false; /* nothing was sent upstream */
    }
    if (sp->sampled && f->body)
        request_params(f->body, f->body_len, sp);
    otel_submit(g->otel, t->index, sp);
}
