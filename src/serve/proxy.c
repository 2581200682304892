/* The request path. A proxy_req lives from the complete client request to
 * the last byte sent (or the client going away); it owns the upstream
 * request and the stream translator. Everything runs on one worker thread. */
#include "serve/proxy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics/promfmt.h"
#include "serve/backends.h"
#include "serve/fallback.h"
#include "serve/match.h"
#include "serve/router.h"
#include "serve/trace.h"
#include "util/buf.h"
#include "util/log.h"

/* Pause the upstream when this much is waiting for a slow client. */
#define BACKPRESSURE_HIGH (1u << 20)
#define BACKPRESSURE_LOW (256u << 10)
#define MAX_ERROR_BODY (64u << 10)

typedef struct {
    gw_thread *t;
    conn *c;
    tr_kind kind;
    metrics_route route;
    const gw_group *grp;    /* the group being tried: the requested one, then fallbacks */
    const gw_group *orig;   /* the group the client asked for */
    int fb_next;            /* next entry of the fallback list to try */
    int fb_status;          /* the failure that started the fallbacks (status, class) */
    const char *fb_class;
    int dep;                /* current deployment index */
    json_t *root;           /* the parsed body, used up by the first attempt */
    char *body;             /* the client's body, kept for retries */
    size_t body_len;
    tr_request_info info;
    tr_stream *ts;
    upstream_req *up;
    int up_status;
    int attempts;
    bool client_started;    /* response head sent to the client */
    bool accounted;         /* metrics recorded */
    buf out;
    buf err;
    int64_t t_attempt;
    int fallbacks;          /* fallback groups tried (x-litellm-attempted-fallbacks) */
    char call_id[40];       /* x-litellm-call-id: a random UUID */
    char capture[256];      /* wildcard groups: what the client's name had in place of the '*' */
    metrics_request rec;
    otel_span span;         /* OpenTelemetry (trace.h); untouched when off */
} proxy_req;

#define STREAM_HEADERS "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"

/* The requested_model label of the group being tried: for the requested
 * one, what account() records (a wildcard group's pattern, or a name its
 * backend lists); for a fallback group its name. */
static const char *grp_label(const proxy_req *p)
{
    return p->grp == p->orig ? p->rec.requested_model : p->grp->name;
}

static void access_log(const proxy_req *p)
{
    const metrics_request *r = &p->rec;
    double ttft = r->t_first_token ? (double)(r->t_first_token - r->t_start) / 1e6 : -1;
    double dur = (double)(r->t_end - r->t_start) / 1e6;
    log_info("POST %s model=%s status=%d tokens=%llu/%llu%s ttft_ms=%.1f ms=%.1f%s", metrics_route_name(p->route),
             r->requested_model ? r->requested_model : "other", r->status, (unsigned long long)r->prompt_tokens,
             (unsigned long long)r->completion_tokens, r->tokens_exact ? "" : "~", ttft, dur,
             r->client_disconnected ? " client_gone" : "");
}

static void req_free(proxy_req *p)
{
    metrics_in_flight_add(p->t->g->metrics, -1);
    if (p->up)
        upstream_cancel(p->up);
    if (p->ts)
        tr_stream_free(p->ts);
    json_decref(p->root);
    buf_free(&p->out);
    buf_free(&p->err);
    free(p->body);
    gw_thread_drop(p->t); /* may free the configuration this request ran on (generation.h) */
    free(p);
}

/* One metrics record and one log line. Called before the last byte goes
 * to the client, so a client that reads /metrics as soon as its response
 * is complete always finds its request counted. */
static void account(proxy_req *p)
{
    if (p->accounted)
        return;
    p->accounted = true;
    gw_thread *t = p->t;
    p->rec.t_end = gw_now_ns();
    if (p->dep >= 0 && !p->rec.exception_class && p->rec.status < 400) {
        const config_deployment *cd = t->g->deps[p->dep].cfg;
        p->rec.cost_usd = (double)p->rec.prompt_tokens * cd->input_cost_per_token +
                          (double)p->rec.completion_tokens * cd->output_cost_per_token;
    }
    if (p->dep >= 0)
        router_release(t, p->dep);
    metrics_record(t->shard, &p->rec);
    trace_end(t, &(trace_facts){p->kind, &p->rec, p->ts ? tr_stream_stats(p->ts) : NULL, p->body, p->body_len},
              &p->span);
    access_log(p);
}

/* Ends the request: accounted (if not yet) and freed. */
static void finish(proxy_req *p)
{
    account(p);
    req_free(p);
}

static void fill_usage(proxy_req *p)
{
    if (!p->ts)
        return;
    const tr_stats *st = tr_stream_stats(p->ts);
    p->rec.load_ns = st->load_ns;
    p->rec.prompt_eval_ns = st->prompt_eval_ns;
    p->rec.eval_ns = st->eval_ns;
    p->rec.total_ns = st->total_ns;
    if (st->have_usage) {
        p->rec.prompt_tokens = st->prompt_tokens;
        p->rec.completion_tokens = st->completion_tokens;
        p->rec.tokens_exact = true;
    } else {
        p->rec.prompt_tokens = p->info.prompt_tokens_estimate;
        p->rec.completion_tokens = st->completion_tokens_estimate;
        p->rec.tokens_exact = false;
    }
}

void proxy_respond_error(conn *c, const tr_error *e)
{
    buf b;
    buf_init(&b);
    tr_error_body(e, &b);
    conn_respond(c, e->status, "application/json", NULL, b.data, b.len);
    buf_free(&b);
}

static void send_error(proxy_req *p, int status, const char *type, const char *msg)
{
    tr_error e = {.status = status};
    snprintf(e.message, sizeof e.message, "%s", msg);
    snprintf(e.type, sizeof e.type, "%s", type);
    proxy_respond_error(p->c, &e);
}

static void on_client_gone(conn *c, void *arg)
{
    (void)c;
    proxy_req *p = arg;
    /* Cancelling closes the upstream connection: Ollama stops generating. */
    p->c = NULL;
    p->rec.client_disconnected = true;
    p->rec.status = 499;
    p->rec.exception_status = 499;
    if (!p->rec.exception_class)
        p->rec.exception_class = "ClientDisconnected";
    fill_usage(p);
    finish(p);
}

static void ms_str(char *out, int64_t ns)
{
    promfmt_float(out, ns > 0 ? (double)ns / 1e6 : 0.0);
}

/* LiteLLM's response headers (common_request_processing.py get_custom_headers).
 * Streams send them before the usage is known, so without a cost; the
 * duration is then the time to the response head. */
static void litellm_headers(proxy_req *p, bool final, char *out, size_t n)
{
    const gw_deployment *d = &p->t->g->deps[p->dep];
    int64_t now = gw_now_ns();
    char base[512], dur[PROMFMT_FLOAT_MAX], ovh[PROMFMT_FLOAT_MAX], cost[PROMFMT_FLOAT_MAX + 40] = "";
    backends_redacted(d->cfg->api_base, base, sizeof base); /* no credentials */
    ms_str(dur, now - p->rec.t_start);
    ms_str(ovh, p->rec.t_upstream_sent - p->rec.t_start);
    if (final) {
        char v[PROMFMT_FLOAT_MAX];
        promfmt_float(v, p->rec.cost_usd);
        snprintf(cost, sizeof cost, "x-litellm-response-cost: %s\r\n", v);
    }
    snprintf(out, n,
             "%sx-litellm-call-id: %s\r\nx-litellm-model-id: %s\r\nx-litellm-model-api-base: %s\r\n"
             "%sx-litellm-response-duration-ms: %s\r\nx-litellm-overhead-duration-ms: %s\r\n"
             "x-litellm-attempted-retries: %d\r\nx-litellm-attempted-fallbacks: %d\r\nx-litellm-version: %s\r\n",
             final ? "" : STREAM_HEADERS, p->call_id, d->cfg->model_id, base, cost, dur, ovh,
             p->attempts > 0 ? p->attempts - 1 : 0, p->fallbacks, TOLLGATE_VERSION);
}

/* A version 4 UUID from the worker's generator. */
static void make_call_id(gw_thread *t, char *out, size_t n)
{
    unsigned char b[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t x = t->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        t->rng = x;
        x *= 0x2545F4914F6CDD1DULL;
        memcpy(b + i, &x, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void on_drain(conn *c, void *arg)
{
    (void)c;
    proxy_req *p = arg;
    if (p->up)
        upstream_pause(p->up, false);
}

static bool start_attempt(proxy_req *p);

static void up_status(upstream_req *r, int status, void *ud)
{
    (void)r;
    proxy_req *p = ud;
    p->up_status = status;
    if (status == 200) {
        p->ts = tr_stream_new(p->kind, p->t->g->deps[p->dep].src, &p->info, p->grp->name);
        if (!p->ts)
            p->up_status = -1;
        else
            tr_stream_set_provider(p->ts, p->t->g->deps[p->dep].cfg->provider_name);
    }
}

static bool up_data(upstream_req *r, const char *data, size_t len, void *ud)
{
    (void)r;
    proxy_req *p = ud;
    if (p->up_status != 200) {
        if (p->err.len < MAX_ERROR_BODY)
            buf_append(&p->err, data, len);
        return false;
    }
    if (!p->ts)
        return false;
    int ev = tr_stream_feed(p->ts, data, len, &p->out);
    if (ev > 0 && (ev & TR_EV_FIRST_TOKEN) && !p->rec.t_first_token)
        p->rec.t_first_token = gw_now_ns();
    if (p->info.stream && p->out.len) {
        if (!p->client_started) {
            p->client_started = true;
            char h[1536];
            litellm_headers(p, false, h, sizeof h);
            conn_stream_begin(p->c, 200, "text/event-stream", h);
        }
        conn_stream_write(p->c, p->out.data, p->out.len);
        buf_reset(&p->out);
        if (conn_pending_output(p->c) > BACKPRESSURE_HIGH) {
            conn_set_drain_cb(p->c, BACKPRESSURE_LOW, on_drain, p);
            return true;
        }
    }
    return false;
}

/* The requested group's retries are spent: try its next fallback group.
 * Returns true when an attempt on one was started. */
static bool next_fallback(proxy_req *p, int status, const char *exc_class)
{
    gateway *g = p->t->g;
    if (p->fallbacks == 0) {
        p->fb_status = status;
        p->fb_class = exc_class;
    } else {
        metrics_record_fallback(p->t->shard, p->orig->name, p->grp->name, false, p->fb_status, p->fb_class);
    }
    int n;
    const int *list = fallback_list(g, p->orig, p->fb_status, p->fb_class, &n);
    while (p->fb_next < n && !atomic_load(&g->stopping)) {
        const gw_group *next = &g->groups[list[p->fb_next++]];
        router_release(p->t, p->dep);
        p->grp = next;
        p->attempts = 0; /* each group gets its own retries */
        p->fallbacks++;
        p->dep = router_pick(p->t, next, -1);
        log_debug("falling back from %s to %s after %s", p->orig->name, next->name, exc_class ? exc_class : "?");
        if (start_attempt(p))
            return true;
        /* could not even start: the request was answered or will be below */
        return false;
    }
    return false;
}

/* The attempt failed before anything reached the client: retry elsewhere
 * or answer with an error. */
static void attempt_failed(proxy_req *p, int status, const char *exc_class, int client_status, const char *type,
                           const char *msg, const char *body, size_t body_len)
{
    gateway *g = p->t->g;
    gw_deployment *d = &g->deps[p->dep];
    metrics_attempt a = {.deployment = p->dep, .requested_model = grp_label(p), .status = status,
                         .exception_class = exc_class};
    metrics_record_attempt(p->t->shard, &a);
    if (router_report(g, d, false, status, 0))
        metrics_deployment_cooldown(g->metrics, p->dep, status);
    p->rec.exception_class = exc_class;
    p->rec.exception_status = status ? status : client_status;
    if (router_retryable(status) && p->attempts <= g->num_retries && !atomic_load(&g->stopping)) {
        int prev = p->dep;
        router_release(p->t, prev);
        p->dep = router_pick(p->t, p->grp, prev);
        log_debug("retrying %s on deployment %s after %s", p->grp->name, g->deps[p->dep].cfg->model_id, exc_class);
        if (start_attempt(p))
            return;
    }
    if (p->c && next_fallback(p, status ? status : client_status, exc_class))
        return;
    p->rec.status = client_status;
    account(p);
    if (body) {
        conn_respond(p->c, client_status, "application/json", NULL, body, body_len);
    } else {
        send_error(p, client_status, type, msg);
    }
    finish(p);
}

static void up_done(upstream_req *r, enum upstream_result res, const char *msg, void *ud)
{
    (void)r;
    proxy_req *p = ud;
    p->up = NULL;
    gateway *g = p->t->g;
    gw_deployment *d = &g->deps[p->dep];
    int64_t now = gw_now_ns();

    if (res != UP_OK && !p->client_started) {
        char m[512];
        const char *exc = res == UP_E_TIMEOUT ? d->exc_timeout : d->exc_connect;
        if (res == UP_E_CONNECT)
            snprintf(m, sizeof m,
                     "cannot reach %s for model '%s' (%s). Is the backend running (for Ollama: `ollama serve`), "
                     "and is api_base right in the config?",
                     d->cfg->api_base, p->grp->name, msg);
        else if (res == UP_E_TIMEOUT)
            snprintf(m, sizeof m, "%s did not answer in time for model '%s' (%s); raise timeout/stream_timeout if the model is slow to load",
                     d->cfg->api_base, p->grp->name, msg);
        else
            snprintf(m, sizeof m, "connection to %s broke for model '%s': %s", d->cfg->api_base, p->grp->name, msg);
        attempt_failed(p, 0, exc, res == UP_E_TIMEOUT ? 504 : 502, "api_error", m, NULL, 0);
        return;
    }
    if (res == UP_OK && p->up_status != 200 && !p->client_started) {
        buf body;
        buf_init(&body);
        int status = p->up_status > 0 ? p->up_status : 502;
        const char *exc = tr_upstream_error(d->src, d->cfg->provider_name, status, p->err.data ? p->err.data : "",
                                            p->err.len, &body);
        attempt_failed(p, status, exc, status, "api_error", NULL, body.data, body.len);
        buf_free(&body);
        return;
    }

    /* A 200 upstream: finish the translation. */
    int frc = p->ts ? tr_stream_finish(p->ts, &p->out) : -1;
    bool ok = res == UP_OK && frc == 0 && !tr_stream_stats(p->ts)->failed;
    fill_usage(p);
    metrics_attempt a = {.deployment = p->dep, .requested_model = grp_label(p), .status = ok ? 200 : 500,
                         .exception_class = ok ? NULL : d->exc_stream};
    metrics_record_attempt(p->t->shard, &a);
    if (router_report(g, d, ok, ok ? 200 : 500, now - p->t_attempt) && !ok)
        metrics_deployment_cooldown(g->metrics, p->dep, 500);
    p->rec.status = ok ? 200 : p->info.stream ? 500 : 502;
    /* Earlier attempts that failed over to this one left their exception on
     * the record; the request's outcome is this attempt's. Those attempts
     * stay counted in litellm_deployment_failure_responses only. */
    p->rec.exception_class = ok ? NULL : d->exc_stream;
    p->rec.exception_status = ok ? 0 : p->rec.status;
    if (p->fallbacks)
        metrics_record_fallback(p->t->shard, p->orig->name, p->grp->name, ok, p->fb_status, p->fb_class);
    account(p);
    if (p->info.stream) {
        if (!p->client_started) {
            p->client_started = true;
            char h[1536];
            litellm_headers(p, false, h, sizeof h);
            conn_stream_begin(p->c, 200, "text/event-stream", h);
        }
        if (p->out.len)
            conn_stream_write(p->c, p->out.data, p->out.len);
        conn_stream_end(p->c);
    } else if (ok) {
        char h[1536];
        litellm_headers(p, true, h, sizeof h);
        conn_respond(p->c, 200, "application/json", h, p->out.data, p->out.len);
    } else {
        const tr_stats *st = tr_stream_stats(p->ts);
        char m[400];
        snprintf(m, sizeof m, "upstream %s failed mid-response: %s", d->cfg->api_base,
                 st->error[0] ? st->error : (msg && *msg ? msg : "response ended early"));
        send_error(p, 502, "api_error", m);
    }
    finish(p);
}

static const upstream_callbacks callbacks = {up_status, up_data, up_done};

static bool start_attempt(proxy_req *p)
{
    gateway *g = p->t->g;
    gw_deployment *d = &g->deps[p->dep];
    const config_deployment *cd = d->cfg;
    p->attempts++;
    router_acquire(p->t, p->dep);
    p->rec.deployment = p->dep;

    buf ub;
    buf_init(&ub);
    tr_error e = {0};
    /* The first attempt reuses the parse done for routing; a retry parses
     * the body again since building the upstream body modifies the tree. */
    json_t *root = p->root;
    p->root = NULL;
    /* A wildcard group's deployment: the client's part replaces its '*'. */
    char wild_model[512];
    const char *umodel = match_upstream_model(p->grp, cd, p->capture, wild_model, sizeof wild_model);
    int brc = root ? tr_build_request_parsed(p->kind, d->src, root, umodel, &ub, &p->info, &e)
                   : tr_build_request(p->kind, d->src, p->body, p->body_len, umodel, &ub, &p->info, &e);
    if (brc != 0) {
        buf_free(&ub);
        p->rec.status = e.status ? e.status : 400;
        p->rec.exception_class = tr_exc_name(TR_EXC_BAD_REQUEST);
        p->rec.exception_status = p->rec.status;
        account(p);
        e.status = p->rec.status;
        proxy_respond_error(p->c, &e);
        finish(p);
        return true;
    }
    p->rec.stream = p->info.stream;
    char url[1024];
    snprintf(url, sizeof url, "%s%s", cd->api_base, tr_upstream_path(p->kind, d->src));
    char traceparent[TRACE_HEADER_MAX];
    trace_upstream_header(g, &p->span, traceparent);
    upstream_opts o = {
        .url = url,
        .body = ub.data,
        .body_len = ub.len,
        .bearer = cd->api_key,
        .extra_headers = traceparent[0] ? traceparent : NULL,
        .timeout_ms = p->info.stream && d->stream_timeout_ms ? d->stream_timeout_ms : d->timeout_ms,
    };
    p->up_status = 0;
    buf_reset(&p->err);
    if (p->ts) {
        tr_stream_free(p->ts);
        p->ts = NULL;
    }
    p->t_attempt = gw_now_ns();
    if (!p->rec.t_upstream_sent || p->attempts > 1)
        p->rec.t_upstream_sent = p->t_attempt;
    p->up = upstream_start(p->t->up, &o, &callbacks, p);
    buf_free(&ub);
    return p->up != NULL;
}

void proxy_reject(gw_thread *t, conn *c, metrics_route route, const char *requested_model, int status,
                  const char *type, const char *code, const char *exc_class, const char *fmt, ...)
{
    tr_error e = {.status = status};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.code, sizeof e.code, "%s", code ? code : "");
    int64_t now = gw_now_ns();
    metrics_request rec = {.deployment = -1, .requested_model = requested_model, .route = route, .status = status,
                           .exception_class = exc_class, .exception_status = status, .t_start = now, .t_end = now};
    metrics_record(t->shard, &rec); /* before the answer, like account() */
    proxy_respond_error(c, &e);
    log_info("POST %s model=%s status=%d %s", metrics_route_name(route), requested_model ? requested_model : "other", status,
             exc_class);
}

static void list_groups(const gateway *g, char *out, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < g->ngroups && at + 4 < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%s", i ? ", " : "", g->groups[i].name);
    if (at >= n)
        out[n - 1] = '\0';
}

void proxy_handle(gw_thread *t, conn *c, const http_request *req, tr_kind kind, metrics_route route, const char *body,
                  size_t len)
{
    gateway *g = t->g;
    int64_t t0 = gw_now_ns();
    /* Only the model name is needed to route; the translator parses the
     * body fully for the chosen deployment. */
    char fast_model[256];
    json_error_t jerr;
    json_t *root = NULL;
    const char *model = NULL;
    if (tr_request_model(body, len, fast_model, sizeof fast_model)) {
        model = fast_model; /* no tree: the first attempt builds from the bytes */
        goto route;
    }
    root = json_loadb(body, len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        proxy_reject(t, c, route, NULL, 400, "invalid_request_error", "invalid_json", tr_exc_name(TR_EXC_BAD_REQUEST),
                     "request body is not a JSON object: %s (line %d, column %d)", root ? "not an object" : jerr.text,
                     jerr.line, jerr.column);
        return;
    }
    model = json_string_value(json_object_get(root, "model"));
    if (!model) {
        json_decref(root);
        proxy_reject(t, c, route, NULL, 400, "invalid_request_error", "missing_model", tr_exc_name(TR_EXC_BAD_REQUEST),
                     "'model' is required: a string naming one of the configured models");
        return;
    }
route:;
    gw_match mt;
    int gi = match_group(g, model, strlen(model), &mt);
    if (gi < 0) {
        char names[600];
        list_groups(g, names, sizeof names);
        /* The client's string goes into the message, never into a label. */
        char shown[128];
        snprintf(shown, sizeof shown, "%.100s", model);
        json_decref(root);
        proxy_reject(t, c, route, NULL, 400, "invalid_request_error", "model_not_found", tr_exc_name(TR_EXC_BAD_REQUEST),
                     "Invalid model name passed in model=%s. Call `/v1/models` to view available models. Valid models: %s",
                     shown, names[0] ? names : "(none configured)");
        return;
    }
    proxy_req *p = calloc(1, sizeof *p);
    if (!p || !(p->body = malloc(len + 1))) {
        free(p);
        json_decref(root);
        proxy_reject(t, c, route, g->groups[gi].name, 500, "api_error", NULL, tr_exc_name(TR_EXC_INTERNAL), "out of memory");
        return;
    }
    metrics_in_flight_add(g->metrics, 1); /* until req_free */
    gw_thread_hold(t);                    /* until req_free */
    memcpy(p->body, body, len);
    p->body[len] = '\0';
    p->body_len = len;
    p->root = root;
    p->t = t;
    p->c = c;
    p->kind = kind;
    p->route = route;
    p->grp = p->orig = &g->groups[gi];
    buf_init(&p->out);
    buf_init(&p->err);
    p->rec.requested_model = mt.label;
    memcpy(p->capture, mt.capture, sizeof p->capture);
    p->rec.route = route;
    make_call_id(t, p->call_id, sizeof p->call_id);
    p->rec.t_start = t0;
    trace_begin(g, req, t0, &p->span);
    p->dep = router_pick(t, p->grp, -1);
    conn_set_close_cb(c, on_client_gone, p);
    if (!start_attempt(p)) {
        p->rec.status = 500;
        p->rec.exception_class = tr_exc_name(TR_EXC_INTERNAL);
        p->rec.exception_status = 500;
        account(p);
        send_error(p, 500, "api_error", "could not start the upstream request");
        finish(p);
    }
}
