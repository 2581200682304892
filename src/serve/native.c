/* Native Ollama inference through the gateway: routing by model, a
 * byte-level "model" splice each way, and an NDJSON tap for the metrics.
 * A native_req lives from the complete client request to the last byte
 * sent (or the client going away). Everything runs on one worker thread. */
#include "serve/native.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "serve/backends.h"
#include "serve/match.h"
#include "serve/passthru.h"
#include "serve/router.h"
#include "serve/trace.h"
#include "parse/json_scan.h"
#include "translate/translate.h"
#include "util/log.h"

#define BACKPRESSURE_HIGH (1u << 20)
#define BACKPRESSURE_LOW (256u << 10)
#define MAX_ERROR_BODY (64u << 10)
#define OLLAMA_JSON "application/json; charset=utf-8"

typedef struct {
    metrics_route route; /* its name is the path */
    bool embed; /* whole JSON answer, never a stream */
    tr_kind kind; /* the OpenTelemetry operation (trace.h) */
} native_route;

static const native_route routes[] = {
    {MR_API_CHAT, false, TR_CHAT},
    {MR_API_GENERATE, false, TR_COMPLETION},
    {MR_API_EMBED, true, TR_EMBEDDING},
    {MR_API_EMBEDDINGS, true, TR_EMBEDDING},
};

typedef struct {
    gw_thread *t;
    conn *c;
    const native_route *nr;
    const gw_group *grp;
    int dep;
    char capture[256]; /* a wildcard group's part of the name (match.h) */
    char *body; /* the client's body */
    size_t body_len;
    size_t mval_off, mval_len; /* the "model" literal in body */
    bool stream;
    upstream_req *up;
    int up_status;
    int attempts;
    bool client_started, accounted;
    bool done_seen, inband_error, tok_seen;
    buf line; /* a line split across feeds */
    buf out;  /* bytes for the client (non-streaming: the whole body) */
    buf err;  /* an upstream error body */
    char ctype[128];
    int64_t t_attempt;
    char done_reason[24]; /* the final object's, for the span */
    metrics_request rec;
    otel_span span; /* OpenTelemetry (trace.h); untouched when off */
} native_req;

/* --- forwarding loops --- */

static char hop_header[64];
static const char *hop_value; /* the nonce inside hop_header */
static pthread_once_t hop_once = PTHREAD_ONCE_INIT;

static void hop_init(void)
{
    /* 96 random bits: another gateway (or this one's earlier run) never
     * guesses it, so only our own requests coming back match. */
    unsigned char r[12] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&hop_once;
        memcpy(r, &x, sizeof x);
    }
    char nonce[25];
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(nonce + 2 * i, 3, "%02x", r[i]);
    snprintf(hop_header, sizeof hop_header, "X-Tollgate-Hop: %s\r\n", nonce);
    hop_value = hop_header + 16;
}

const char *native_hop_header(void)
{
    pthread_once(&hop_once, hop_init);
    return hop_header;
}

static bool looped(const http_request *req)
{
    native_hop_header();
    const http_header *h = http_find_header(req, "x-tollgate-hop");
    return h && h->value_len == 24 && memcmp(h->value, hop_value, 24) == 0;
}

#define LOOP_MSG "forwarding loop: this request came back to the Tollgate gateway that sent it"

/* --- shared helpers --- */

void native_json_str(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)ch);
        } else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
            char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            buf_append(b, u, 6);
        } else {
            buf_putc(b, (char)ch);
        }
    }
    buf_putc(b, '"');
}

void native_error(conn *c, int status, const char *msg)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "{\"error\":");
    native_json_str(&b, msg, strlen(msg));
    buf_putc(&b, '}');
    conn_respond(c, status, OLLAMA_JSON, NULL, b.data, b.len);
    buf_free(&b);
}

static bool name_eq(const char *a, const char *b, size_t bn, bool icase)
{
    return strlen(a) == bn && (icase ? strncasecmp(a, b, bn) == 0 : memcmp(a, b, bn) == 0);
}

int native_find_group(const gateway *g, const char *name, size_t n)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < g->ngroups; i++)
            if (name_eq(g->groups[i].name, name, n, pass == 1))
                return i;
    if (n && !memchr(name, ':', n) && n < 200) {
        char full[256];
        memcpy(full, name, n);
        memcpy(full + n, ":latest", 8);
        return native_find_group(g, full, n + 7);
    }
    return -1;
}

bool native_group_served(const gateway *g, int group)
{
    const gw_group *grp = &g->groups[group];
    for (int i = 0; i < grp->ndeps; i++)
        if (g->deps[grp->deps[i]].src == TR_SRC_OLLAMA)
            return true;
    return false;
}

/* A deployment of the group that speaks Ollama, by the router's choice when
 * it picked one, else the first such one that is not `avoid`. */
static int pick_native(gw_thread *t, const gw_group *grp, int avoid)
{
    gateway *g = t->g;
    int d = router_pick(t, grp, avoid);
    if (d >= 0 && g->deps[d].src == TR_SRC_OLLAMA)
        return d;
    int fallback = -1;
    for (int i = 0; i < grp->ndeps; i++) {
        int k = grp->deps[i];
        if (g->deps[k].src != TR_SRC_OLLAMA)
            continue;
        if (k != avoid)
            return k;
        fallback = k;
    }
    return fallback;
}

/* --- request lifetime --- */

static void req_free(native_req *p)
{
    if (p->up)
        upstream_cancel(p->up);
    buf_free(&p->line);
    buf_free(&p->out);
    buf_free(&p->err);
    free(p->body);
    gw_thread *t = p->t;
    free(p);
    metrics_in_flight_add(t->g->metrics, -1);
    gw_thread_drop(t); /* may free the configuration this request ran on (generation.h) */
}

static void account(native_req *p)
{
    if (p->accounted)
        return;
    p->accounted = true;
    gw_thread *t = p->t;
    p->rec.t_end = gw_now_ns();
    if (p->dep >= 0)
        router_release(t, p->dep);
    metrics_record(t->shard, &p->rec);
    /* Ollama's sampling parameters live in "options" (num_predict is the
     * max_tokens of the span), so that object is what the span reads. */
    static const char *const okey[] = {"options"};
    jscan_span opts[1] = {{0}};
    jscan_object(p->body, p->body + p->body_len, okey, 1, opts);
    tr_stats st = {0};
    snprintf(st.finish_reason, sizeof st.finish_reason, "%s", p->done_reason);
    trace_end(t, &(trace_facts){p->nr->kind, &p->rec, &st, opts[0].p && opts[0].p[0] == '{' ? opts[0].p : NULL,
                                opts[0].n}, &p->span);
    const metrics_request *r = &p->rec;
    double ttft = r->t_first_token ? (double)(r->t_first_token - r->t_start) / 1e6 : -1;
    log_info("POST %s model=%s status=%d tokens=%llu/%llu ttft_ms=%.1f ms=%.1f%s", metrics_route_name(p->nr->route),
             r->requested_model ? r->requested_model : "other", r->status, (unsigned long long)r->prompt_tokens,
             (unsigned long long)r->completion_tokens, ttft, (double)(r->t_end - r->t_start) / 1e6,
             r->client_disconnected ? " client_gone" : "");
}

static void finish(native_req *p)
{
    account(p);
    req_free(p);
}

/* A request the gateway answers itself, recorded as failed. */
static void reject(gw_thread *t, conn *c, const native_route *nr, const char *requested_model, int status,
                   const char *exc_class, const char *msg)
{
    int64_t now = gw_now_ns();
    metrics_request rec = {.deployment = -1, .requested_model = requested_model, .route = nr->route,
                           .status = status, .exception_class = exc_class, .exception_status = status,
                           .t_start = now, .t_end = now};
    metrics_record(t->shard, &rec);
    native_error(c, status, msg);
    log_info("POST %s model=%s status=%d %s", metrics_route_name(nr->route), requested_model ? requested_model : "other", status,
             exc_class);
}

/* --- the tap --- */

static bool nonempty(jscan_span v)
{
    if (!v.p || v.n < 2)
        return false;
    if (v.p[0] == '"')
        return v.n > 2;
    if (v.p[0] == '[')
        return jscan_ws(v.p + 1, v.p + v.n) < v.p + v.n - 1;
    return false;
}

static uint64_t u64_of(jscan_span v)
{
    uint64_t x = 0;
    for (size_t i = 0; v.p && i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
        x = x * 10 + (uint64_t)(v.p[i] - '0');
    return x;
}

enum { K_MODEL, K_MESSAGE, K_RESPONSE, K_THINKING, K_DONE, K_ERROR, K_PEC, K_EC, K_LOAD, K_PED, K_ED, K_TOTAL,
       K_TOOLS, K_EMBEDS, K_EMBED1, K_DONE_REASON, NKEYS };
static const char *const tap_keys[NKEYS] = {
    "model", "message", "response", "thinking", "done", "error", "prompt_eval_count", "eval_count",
    "load_duration", "prompt_eval_duration", "eval_duration", "total_duration", "tool_calls", "embeddings",
    "embedding", "done_reason"};

/* One JSON object of the answer (a line, or a whole body): tapped, then
 * appended to out with "model" replaced by what the client sent. A line
 * the scanner does not accept passes unchanged (ollama-js skips it). */
static void tap_object(native_req *p, const char *s, size_t n)
{
    jscan_span v[NKEYS];
    if (!jscan_object(s, s + n, tap_keys, NKEYS, v)) {
        buf_append(&p->out, s, n);
        return;
    }
    if (v[K_ERROR].p)
        p->inband_error = true;
    if (!p->tok_seen) {
        bool tok = nonempty(v[K_RESPONSE]) || nonempty(v[K_THINKING]) || nonempty(v[K_TOOLS]);
        if (!tok && v[K_MESSAGE].p) {
            static const char *const mk[] = {"content", "thinking", "tool_calls"};
            jscan_span m[3];
            if (jscan_object(v[K_MESSAGE].p, v[K_MESSAGE].p + v[K_MESSAGE].n, mk, 3, m))
                tok = nonempty(m[0]) || nonempty(m[1]) || nonempty(m[2]);
        }
        if (tok) {
            p->tok_seen = true;
            if (p->stream)
                p->rec.t_first_token = gw_now_ns();
        }
    }
    bool final = p->nr->embed ? (v[K_EMBEDS].p || v[K_EMBED1].p) : jscan_is(v[K_DONE], "true");
    if (final && !v[K_ERROR].p) {
        p->done_seen = true;
        p->rec.prompt_tokens = u64_of(v[K_PEC]);
        p->rec.completion_tokens = u64_of(v[K_EC]);
        p->rec.tokens_exact = true;
        p->rec.load_ns = (int64_t)u64_of(v[K_LOAD]);
        p->rec.prompt_eval_ns = (int64_t)u64_of(v[K_PED]);
        p->rec.eval_ns = (int64_t)u64_of(v[K_ED]);
        p->rec.total_ns = (int64_t)u64_of(v[K_TOTAL]);
        jscan_span dr = v[K_DONE_REASON];
        /* Ollama's fixed words ("stop", "length", "load"...): only a bare
         * word goes into the span. */
        p->done_reason[0] = '\0';
        if (dr.p && dr.n >= 3 && dr.n - 2 < sizeof p->done_reason && dr.p[0] == '"') {
            size_t k = 0;
            while (k < dr.n - 2 && ((dr.p[1 + k] >= 'a' && dr.p[1 + k] <= 'z') || dr.p[1 + k] == '_'))
                k++;
            if (k == dr.n - 2)
                snprintf(p->done_reason, sizeof p->done_reason, "%.*s", (int)k, dr.p + 1);
        }
    }
    jscan_span m = v[K_MODEL];
    if (m.p && m.p[0] == '"' && !(m.n == p->mval_len && !memcmp(m.p, p->body + p->mval_off, m.n))) {
        buf_append(&p->out, s, (size_t)(m.p - s));
        buf_append(&p->out, p->body + p->mval_off, p->mval_len);
        buf_append(&p->out, m.p + m.n, (size_t)(s + n - (m.p + m.n)));
    } else {
        buf_append(&p->out, s, n);
    }
}

/* Splits the answer into lines (any chunk split); complete lines are
 * tapped and go out with their "\n". */
static void tap_feed(native_req *p, const char *data, size_t len)
{
    buf_append(&p->line, data, len);
    size_t at = 0;
    for (;;) {
        const char *nl = memchr(p->line.data + at, '\n', p->line.len - at);
        if (!nl)
            break;
        size_t end = (size_t)(nl - p->line.data);
        size_t e = end;
        if (e > at && p->line.data[e - 1] == '\r')
            e--;
        if (e > at)
            tap_object(p, p->line.data + at, e - at);
        buf_append(&p->out, p->line.data + e, end + 1 - e);
        at = end + 1;
    }
    if (at) {
        memmove(p->line.data, p->line.data + at, p->line.len - at);
        p->line.len -= at;
    }
}

static void tap_end(native_req *p)
{
    if (p->line.len) {
        tap_object(p, p->line.data, p->line.len);
        buf_reset(&p->line);
    }
}

/* --- upstream callbacks --- */

static void on_client_gone(conn *c, void *arg)
{
    (void)c;
    native_req *p = arg;
    p->c = NULL;
    p->rec.client_disconnected = true;
    p->rec.status = 499;
    p->rec.exception_status = 499;
    if (!p->rec.exception_class)
        p->rec.exception_class = "ClientDisconnected";
    finish(p);
}

static void on_drain(conn *c, void *arg)
{
    (void)c;
    native_req *p = arg;
    if (p->up)
        upstream_pause(p->up, false);
}

static void begin_client(native_req *p)
{
    if (p->client_started)
        return;
    p->client_started = true;
    conn_stream_begin(p->c, 200, p->ctype[0] ? p->ctype : "application/x-ndjson", NULL);
}

static bool start_attempt(native_req *p);

static void up_status(upstream_req *r, int status, void *ud)
{
    native_req *p = ud;
    p->up_status = status;
    snprintf(p->ctype, sizeof p->ctype, "%s", upstream_content_type(r));
}

static bool up_data(upstream_req *r, const char *data, size_t len, void *ud)
{
    (void)r;
    native_req *p = ud;
    if (p->up_status != 200) {
        if (p->err.len < MAX_ERROR_BODY)
            buf_append(&p->err, data, len);
        return false;
    }
    tap_feed(p, data, len);
    if (p->stream && p->out.len) {
        begin_client(p);
        conn_stream_write(p->c, p->out.data, p->out.len);
        buf_reset(&p->out);
        if (conn_pending_output(p->c) > BACKPRESSURE_HIGH) {
            conn_set_drain_cb(p->c, BACKPRESSURE_LOW, on_drain, p);
            return true;
        }
    }
    return false;
}

/* The attempt failed before anything reached the client: retry on another
 * deployment, or answer. body NULL: the gateway's own message. */
static void attempt_failed(native_req *p, int status, const char *exc_class, int client_status, const char *msg,
                           const char *body, size_t body_len, const char *ctype)
{
    gateway *g = p->t->g;
    gw_deployment *d = &g->deps[p->dep];
    metrics_attempt a = {.deployment = p->dep, .requested_model = p->rec.requested_model, .status = status,
                         .exception_class = exc_class};
    metrics_record_attempt(p->t->shard, &a);
    if (router_report(g, d, false, status, 0))
        metrics_deployment_cooldown(g->metrics, p->dep, status);
    p->rec.exception_class = exc_class;
    p->rec.exception_status = status ? status : client_status;
    if (router_retryable(status) && p->attempts <= g->num_retries && !atomic_load(&g->stopping)) {
        int prev = p->dep;
        router_release(p->t, prev);
        p->dep = pick_native(p->t, p->grp, prev);
        if (start_attempt(p))
            return;
    }
    p->rec.status = client_status;
    account(p);
    if (body)
        conn_respond(p->c, client_status, ctype && *ctype ? ctype : OLLAMA_JSON, NULL, body, body_len);
    else
        native_error(p->c, client_status, msg);
    finish(p);
}

static void up_done(upstream_req *r, enum upstream_result res, const char *msg, void *ud)
{
    (void)r;
    native_req *p = ud;
    p->up = NULL;
    gateway *g = p->t->g;
    gw_deployment *d = &g->deps[p->dep];
    if (res != UP_OK && !p->client_started && !p->out.len && p->up_status <= 0) {
        char m[512], base[256];
        backends_redacted(d->cfg->api_base, base, sizeof base); /* the client sees it: no credentials */
        if (res == UP_E_TIMEOUT)
            snprintf(m, sizeof m, "%s did not answer in time for model '%s' (%s)", base, p->grp->name, msg);
        else
            snprintf(m, sizeof m, "cannot reach Ollama at %s for model '%s' (%s)", base, p->grp->name,
                     msg);
        attempt_failed(p, 0, res == UP_E_TIMEOUT ? d->exc_timeout : d->exc_connect, res == UP_E_TIMEOUT ? 504 : 502,
                       m, NULL, 0, NULL);
        return;
    }
    if (res == UP_OK && p->up_status != 200) {
        const char *exc = tr_exception_class(d->cfg->provider_name, p->up_status);
        char ctype[128];
        snprintf(ctype, sizeof ctype, "%s", p->ctype);
        buf body = p->err;
        buf_init(&p->err);
        attempt_failed(p, p->up_status, exc, p->up_status, NULL, body.data ? body.data : "", body.len, ctype);
        buf_free(&body);
        return;
    }
    /* A 200 answer (maybe cut). */
    if (res == UP_OK)
        tap_end(p);
    bool ok = res == UP_OK && p->done_seen && !p->inband_error;
    metrics_attempt a = {.deployment = p->dep, .requested_model = p->rec.requested_model, .status = ok ? 200 : 500,
                         .exception_class = ok ? NULL : d->exc_stream};
    metrics_record_attempt(p->t->shard, &a);
    if (router_report(g, d, ok, ok ? 200 : 500, gw_now_ns() - p->t_attempt) && !ok)
        metrics_deployment_cooldown(g->metrics, p->dep, 500);
    p->rec.status = ok ? 200 : 500;
    p->rec.exception_class = NULL; /* an earlier attempt's failure was retried away */
    p->rec.exception_status = 0;
    if (!ok) {
        p->rec.exception_class = res == UP_E_TIMEOUT ? d->exc_timeout : d->exc_stream;
        p->rec.exception_status = 500;
    }
    account(p);
    if (res != UP_OK) {
        /* Ollama's connection broke: so does the client's, as it would
         * have without the gateway. */
        if (p->out.len && p->stream) {
            begin_client(p);
            conn_stream_write(p->c, p->out.data, p->out.len);
        }
        conn_abort(p->c);
        p->c = NULL;
    } else if (p->stream) {
        begin_client(p);
        if (p->out.len)
            conn_stream_write(p->c, p->out.data, p->out.len);
        conn_stream_end(p->c);
    } else {
        conn_respond(p->c, 200, p->ctype[0] ? p->ctype : OLLAMA_JSON, NULL, p->out.data ? p->out.data : "",
                     p->out.len);
    }
    finish(p);
}

static const upstream_callbacks callbacks = {up_status, up_data, up_done};

static bool start_attempt(native_req *p)
{
    gateway *g = p->t->g;
    if (p->dep < 0)
        return false;
    gw_deployment *d = &g->deps[p->dep];
    const config_deployment *cd = d->cfg;
    p->attempts++;
    router_acquire(p->t, p->dep);
    p->rec.deployment = p->dep;
    /* The client's bytes with the "model" value replaced. */
    buf ub;
    buf_init(&ub);
    buf_append(&ub, p->body, p->mval_off);
    char wild[512];
    const char *umodel = match_upstream_model(p->grp, cd, p->capture, wild, sizeof wild);
    native_json_str(&ub, umodel, strlen(umodel));
    buf_append(&ub, p->body + p->mval_off + p->mval_len, p->body_len - p->mval_off - p->mval_len);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", cd->api_base, metrics_route_name(p->nr->route));
    char traceparent[TRACE_HEADER_MAX], extra[64 + TRACE_HEADER_MAX];
    trace_upstream_header(g, &p->span, traceparent);
    snprintf(extra, sizeof extra, "%s%s", native_hop_header(), traceparent);
    upstream_opts o = {
        .url = url,
        .body = ub.data,
        .body_len = ub.len,
        .bearer = cd->api_key,
        .timeout_ms = p->stream && d->stream_timeout_ms ? d->stream_timeout_ms : d->timeout_ms,
        .extra_headers = extra,
    };
    p->up_status = 0;
    p->ctype[0] = '\0';
    buf_reset(&p->err);
    buf_reset(&p->line);
    buf_reset(&p->out);
    p->done_seen = p->inband_error = p->tok_seen = false;
    p->t_attempt = gw_now_ns();
    p->rec.t_upstream_sent = p->t_attempt;
    p->up = upstream_start(p->t->up, &o, &callbacks, p);
    buf_free(&ub);
    return p->up != NULL;
}

static void infer(gw_thread *t, conn *c, const http_request *req, const native_route *nr, const char *body, size_t len)
{
    gateway *g = t->g;
    int64_t t0 = gw_now_ns();
    if (len == 0) {
        reject(t, c, nr, NULL, 400, "BadRequestError", "missing request body");
        return;
    }
    if (!jscan_valid(body, len, false)) {
        json_error_t jerr;
        json_t *root = json_loadb(body, len, 0, &jerr);
        bool obj = root && json_is_object(root);
        json_decref(root);
        if (!obj) {
            reject(t, c, nr, NULL, 400, "BadRequestError", root ? "request body is not a JSON object" : jerr.text);
            return;
        }
    }
    static const char *const keys[] = {"model", "stream"};
    jscan_span v[2];
    if (!jscan_object(body, body + len, keys, 2, v)) {
        reject(t, c, nr, NULL, 400, "BadRequestError", "request body is not a JSON object with one \"model\"");
        return;
    }
    buf name;
    buf_init(&name);
    if (!v[0].p || v[0].p[0] != '"' || !jscan_string(v[0], &name) || name.len == 0) {
        buf_free(&name);
        /* Ollama's own answers (research/ollama.md §3.1). */
        if (nr->route == MR_API_GENERATE || nr->route == MR_API_EMBED)
            reject(t, c, nr, NULL, 404, "NotFoundError", "model '' not found");
        else
            reject(t, c, nr, NULL, 400, "BadRequestError", "model is required");
        return;
    }
    /* Ollama's name rules for model_names, then wildcard groups (match.h). */
    gw_match mt = {.group = native_find_group(g, name.data, name.len)};
    int gi = mt.group >= 0 ? mt.group : match_wildcard(g, name.data, name.len, &mt);
    if (gi >= 0 && mt.label == NULL) {
        mt.label = g->groups[gi].name;
        mt.capture[0] = '\0';
    }
    if (gi < 0 || !native_group_served(g, gi)) {
        buf m;
        buf_init(&m);
        buf_puts(&m, "model ");
        native_json_str(&m, name.data, name.len > 200 ? 200 : name.len);
        if (gi < 0)
            buf_puts(&m, " not found, try pulling it first");
        else
            buf_puts(&m, " is not served by an Ollama backend; use /v1/chat/completions for it");
        buf_putc(&m, '\0');
        /* The client's string goes into the message, never into a label. */
        reject(t, c, nr, gi < 0 ? NULL : mt.label, gi < 0 ? 404 : 400,
               gi < 0 ? "NotFoundError" : "BadRequestError", m.data);
        buf_free(&m);
        buf_free(&name);
        return;
    }
    buf_free(&name);
    native_req *p = calloc(1, sizeof *p);
    if (!p || !(p->body = malloc(len))) {
        free(p);
        reject(t, c, nr, mt.label, 500, "InternalServerError", "out of memory");
        return;
    }
    metrics_in_flight_add(g->metrics, 1); /* until req_free, as a proxied request */
    gw_thread_hold(t);                    /* until req_free */
    memcpy(p->body, body, len);
    p->body_len = len;
    p->mval_off = (size_t)(v[0].p - body);
    p->mval_len = v[0].n;
    p->stream = !nr->embed && !jscan_is(v[1], "false");
    p->t = t;
    p->c = c;
    p->nr = nr;
    p->grp = &g->groups[gi];
    buf_init(&p->line);
    buf_init(&p->out);
    buf_init(&p->err);
    p->rec.requested_model = mt.label;
    memcpy(p->capture, mt.capture, sizeof p->capture);
    p->rec.route = nr->route;
    p->rec.stream = p->stream;
    p->rec.t_start = t0;
    trace_begin(g, req, t0, &p->span);
    p->dep = pick_native(t, p->grp, -1);
    conn_set_close_cb(c, on_client_gone, p);
    if (!start_attempt(p)) {
        p->rec.status = 500;
        p->rec.exception_class = "InternalServerError";
        p->rec.exception_status = 500;
        account(p);
        native_error(c, 500, "could not start the upstream request");
        finish(p);
    }
}

void native_handle(gw_thread *t, conn *c, const http_request *req, const char *body, size_t len)
{
    if (looped(req)) {
        native_error(c, 508, LOOP_MSG);
        return;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (http_path_is(req, metrics_route_name(routes[i].route)) && http_method_is(req, "POST")) {
            infer(t, c, req, &routes[i], body, len);
            return;
        }
    passthru_handle(t, c, req, body, len);
}
