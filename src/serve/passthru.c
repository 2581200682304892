/* Management pass-through to Ollama hosts, and the merged model lists. */
#include "serve/passthru.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/match.h"
#include "serve/native.h"
#include "parse/json_scan.h"
#include "util/log.h"

#define BACKPRESSURE_HIGH (1u << 20)
#define BACKPRESSURE_LOW (256u << 10)
/* A non-NDJSON answer is sent with Content-Length when it ends within this
 * many bytes; a larger one, or any NDJSON (pull progress), streams. */
#define BUFFER_LIMIT (1u << 20)
#define MAX_LIST_BODY (64u << 20)
#define MAX_HOSTS 64
#define OLLAMA_JSON "application/json; charset=utf-8"

/* --- metrics: requests and latency per management route --- */

static metrics_api_route api_route(const http_request *req)
{
    for (int r = 0; r < MA_BLOBS; r++) /* the routes before /api/blobs are whole paths */
        if (http_path_is(req, metrics_api_route_name((metrics_api_route)r)))
            return (metrics_api_route)r;
    if (req->path_len > 11 && !memcmp(req->target, "/api/blobs/", 11) && !memchr(req->target + 11, '/', req->path_len - 11))
        return MA_BLOBS;
    return MA_OTHER;
}

static void record(gw_thread *t, metrics_api_route route, int status, int64_t t0)
{
    metrics_record_ollama_api(t->shard, route, status, gw_now_ns() - t0);
}

/* --- hosts --- */

int passthru_hosts(const gateway *g, const char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < g->ndeps && n < cap; i++) {
        if (g->deps[i].src != TR_SRC_OLLAMA)
            continue;
        const char *b = g->deps[i].cfg->api_base;
        bool seen = false;
        for (int k = 0; k < n && !seen; k++)
            seen = strcmp(out[k], b) == 0;
        if (!seen)
            out[n++] = b;
    }
    if (n == 0 && g->native_base && cap > 0)
        out[n++] = g->native_base;
    return n;
}

/* --- one request, one host, answer streamed through --- */

typedef struct {
    gw_thread *t;
    conn *c;
    metrics_api_route route;
    int64_t t0;
    upstream_req *up;
    int status;
    char ctype[128];
    bool stream, started;
    buf out;
    char base[256];
} pt_req;

static void pt_free(pt_req *p)
{
    if (p->up)
        upstream_cancel(p->up);
    buf_free(&p->out);
    gw_thread *t = p->t;
    free(p);
    gw_thread_drop(t); /* held from forward: the configuration outlives the request (generation.h) */
}

static void pt_gone(conn *c, void *arg)
{
    (void)c;
    pt_req *p = arg;
    p->c = NULL;
    record(p->t, p->route, 499, p->t0);
    pt_free(p);
}

static void pt_drain(conn *c, void *arg)
{
    (void)c;
    pt_req *p = arg;
    if (p->up)
        upstream_pause(p->up, false);
}

static void pt_status(upstream_req *r, int status, void *ud)
{
    pt_req *p = ud;
    p->status = status;
    snprintf(p->ctype, sizeof p->ctype, "%s", upstream_content_type(r));
    p->stream = strstr(p->ctype, "ndjson") != NULL;
}

static bool pt_data(upstream_req *r, const char *data, size_t len, void *ud)
{
    (void)r;
    pt_req *p = ud;
    buf_append(&p->out, data, len);
    if (!p->stream && p->out.len <= BUFFER_LIMIT)
        return false;
    if (!p->started) {
        p->started = true;
        conn_stream_begin(p->c, p->status, p->ctype[0] ? p->ctype : NULL, NULL);
    }
    conn_stream_write(p->c, p->out.data, p->out.len);
    buf_reset(&p->out);
    if (conn_pending_output(p->c) > BACKPRESSURE_HIGH) {
        conn_set_drain_cb(p->c, BACKPRESSURE_LOW, pt_drain, p);
        return true;
    }
    return false;
}

static void pt_done(upstream_req *r, enum upstream_result res, const char *msg, void *ud)
{
    (void)r;
    pt_req *p = ud;
    p->up = NULL;
    /* Counted before the last byte, so a client reading /metrics right
     * after its answer finds it. */
    record(p->t, p->route, res == UP_OK ? p->status : p->started || p->status > 0 ? p->status : res == UP_E_TIMEOUT ? 504 : 502,
           p->t0);
    if (res != UP_OK) {
        if (p->started || p->status > 0) {
            if (p->started && p->out.len)
                conn_stream_write(p->c, p->out.data, p->out.len);
            conn_abort(p->c); /* the host's connection broke: so does the client's */
        } else {
            char m[512];
            snprintf(m, sizeof m, "cannot reach Ollama at %s (%s)", p->base, msg);
            native_error(p->c, res == UP_E_TIMEOUT ? 504 : 502, m);
        }
    } else if (p->started) {
        if (p->out.len)
            conn_stream_write(p->c, p->out.data, p->out.len);
        conn_stream_end(p->c);
    } else {
        conn_respond(p->c, p->status, p->ctype[0] ? p->ctype : NULL, NULL, p->out.data ? p->out.data : "",
                     p->out.len);
    }
    pt_free(p);
}

static const upstream_callbacks pt_callbacks = {pt_status, pt_data, pt_done};

static void forward(gw_thread *t, conn *c, const http_request *req, const char *base, const char *body, size_t len,
                    int64_t t0)
{
    metrics_api_route route = api_route(req);
    pt_req *p = calloc(1, sizeof *p);
    if (!p) {
        record(t, route, 500, t0);
        native_error(c, 500, "out of memory");
        return;
    }
    gw_thread_hold(t); /* until pt_free */
    p->t = t;
    p->c = c;
    p->route = route;
    p->t0 = t0;
    buf_init(&p->out);
    snprintf(p->base, sizeof p->base, "%s", base);
    char url[2048], method[16], ctype[128] = "";
    if (req->method_len >= sizeof method || strlen(base) + req->target_len >= sizeof url) {
        record(t, route, 414, t0);
        pt_free(p);
        native_error(c, 414, "request line too long");
        return;
    }
    memcpy(method, req->method, req->method_len);
    method[req->method_len] = '\0';
    snprintf(url, sizeof url, "%s%.*s", base, (int)req->target_len, req->target);
    const http_header *h = http_find_header(req, "content-type");
    if (h && h->value_len < sizeof ctype) {
        memcpy(ctype, h->value, h->value_len);
        ctype[h->value_len] = '\0';
    }
    bool with_body = len > 0 || !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "DELETE");
    upstream_opts o = {.url = url, .method = method, .body = with_body ? (body ? body : "") : NULL,
                       .body_len = with_body ? len : 0, .content_type = ctype[0] ? ctype : NULL,
                       .extra_headers = native_hop_header()};
    conn_set_close_cb(c, pt_gone, p);
    p->up = upstream_start(t->up, &o, &pt_callbacks, p);
    if (!p->up) {
        conn_set_close_cb(c, NULL, NULL);
        record(t, route, 502, t0);
        pt_free(p);
        native_error(c, 502, "could not start the request to Ollama");
    }
}

/* --- merged /api/tags and /api/ps --- */

typedef struct list_req list_req;
typedef struct {
    list_req *l;
    upstream_req *up;
    int status;
    bool ok;
    buf body;
} list_host;

struct list_req {
    gw_thread *t;
    conn *c;
    metrics_api_route route;
    int64_t t0;
    int nhosts, pending;
    list_host h[MAX_HOSTS];
};

static void list_free(list_req *l)
{
    for (int i = 0; i < l->nhosts; i++) {
        if (l->h[i].up)
            upstream_cancel(l->h[i].up);
        buf_free(&l->h[i].body);
    }
    gw_thread *t = l->t;
    free(l);
    gw_thread_drop(t); /* held from merged_list */
}

static void list_gone(conn *c, void *arg)
{
    (void)c;
    list_req *l = arg;
    record(l->t, l->route, 499, l->t0);
    list_free(l);
}

typedef struct {
    jscan_span *v;
    size_t n, cap;
} span_list;

static void collect(void *ud, size_t i, jscan_span el)
{
    (void)i;
    span_list *s = ud;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        jscan_span *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = el;
}

/* "name" and "model" spans of one list entry. */
static bool entry_names(jscan_span el, jscan_span *name, jscan_span *model)
{
    static const char *const keys[] = {"name", "model"};
    jscan_span v[2];
    if (!jscan_object(el.p, el.p + el.n, keys, 2, v) || !v[0].p || v[0].p[0] != '"')
        return false;
    *name = v[0];
    *model = v[1];
    return true;
}

/* An installed name matches a deployment's model the way Ollama looks it
 * up: case-insensitive, the tag defaulting to "latest". */
static bool model_matches(jscan_span lit, const char *want)
{
    buf s;
    buf_init(&s);
    bool ok = jscan_string(lit, &s);
    size_t wl = strlen(want);
    bool eq = ok && s.len == wl && strncasecmp(s.data, want, wl) == 0;
    if (ok && !eq && !strchr(want, ':') && s.len == wl + 7)
        eq = strncasecmp(s.data, want, wl) == 0 && strncasecmp(s.data + wl, ":latest", 7) == 0;
    buf_free(&s);
    return eq;
}

/* Appends el with the values of name and model replaced by alias. */
static void put_renamed(buf *out, jscan_span el, jscan_span name, jscan_span model, const char *alias)
{
    jscan_span cut[2] = {name, model};
    if (model.p && model.p < name.p) {
        cut[0] = model;
        cut[1] = name;
    }
    const char *at = el.p;
    for (int i = 0; i < 2; i++) {
        if (!cut[i].p)
            continue;
        buf_append(out, at, (size_t)(cut[i].p - at));
        native_json_str(out, alias, strlen(alias));
        at = cut[i].p + cut[i].n;
    }
    buf_append(out, at, (size_t)(el.p + el.n - at));
}

static void list_answer(list_req *l)
{
    gateway *g = l->t->g;
    const char *bases[MAX_HOSTS];
    passthru_hosts(g, bases, MAX_HOSTS);
    span_list lists[MAX_HOSTS] = {{0}};
    int ok_hosts = 0;
    for (int i = 0; i < l->nhosts; i++) {
        list_host *h = &l->h[i];
        jscan_span arr;
        if (!h->ok || !h->body.len || !jscan_find(h->body.data, h->body.data + h->body.len, "models", &arr, NULL))
            continue;
        ok_hosts++;
        if (arr.p[0] == '[')
            jscan_array_each(arr.p, arr.p + arr.n, collect, &lists[i]);
    }
    if (!ok_hosts) {
        record(l->t, l->route, 502, l->t0);
        native_error(l->c, 502, "no Ollama host answered");
        goto out;
    }
    buf out;
    buf_init(&out);
    buf_puts(&out, "{\"models\":[");
    bool first = true;
    if (g->discovered) {
        for (int i = 0; i < l->nhosts; i++)
            for (size_t k = 0; k < lists[i].n; k++) {
                jscan_span el = lists[i].v[k], nm, md;
                if (!entry_names(el, &nm, &md))
                    continue;
                bool dup = false;
                for (int j = 0; j <= i && !dup; j++)
                    for (size_t q = 0; q < (j == i ? k : lists[j].n) && !dup; q++) {
                        jscan_span n2, m2;
                        dup = entry_names(lists[j].v[q], &n2, &m2) && n2.n == nm.n && !memcmp(n2.p, nm.p, nm.n);
                    }
                if (dup)
                    continue;
                if (!first)
                    buf_putc(&out, ',');
                first = false;
                buf_append(&out, el.p, el.n);
            }
    } else {
        for (int gi = 0; gi < g->ngroups; gi++) {
            const gw_group *grp = &g->groups[gi];
            bool found = false;
            for (int di = 0; di < grp->ndeps && !found; di++) {
                const gw_deployment *d = &g->deps[grp->deps[di]];
                if (d->src != TR_SRC_OLLAMA)
                    continue;
                for (int hi = 0; hi < l->nhosts && !found; hi++) {
                    if (strcmp(bases[hi], d->cfg->api_base) != 0)
                        continue;
                    for (size_t k = 0; k < lists[hi].n && !found; k++) {
                        jscan_span nm, md;
                        if (!entry_names(lists[hi].v[k], &nm, &md) || !model_matches(nm, d->cfg->upstream_model))
                            continue;
                        found = true;
                        if (!first)
                            buf_putc(&out, ',');
                        first = false;
                        put_renamed(&out, lists[hi].v[k], nm, md, grp->name);
                    }
                }
            }
        }
    }
    buf_puts(&out, "]}");
    record(l->t, l->route, 200, l->t0);
    conn_respond(l->c, 200, OLLAMA_JSON, NULL, out.data, out.len);
    buf_free(&out);
out:
    for (int i = 0; i < l->nhosts; i++)
        free(lists[i].v);
    list_free(l);
}

static void list_status(upstream_req *r, int status, void *ud)
{
    (void)r;
    ((list_host *)ud)->status = status;
}

static bool list_data(upstream_req *r, const char *data, size_t len, void *ud)
{
    (void)r;
    list_host *h = ud;
    if (h->body.len + len <= MAX_LIST_BODY)
        buf_append(&h->body, data, len);
    return false;
}

static void list_done(upstream_req *r, enum upstream_result res, const char *msg, void *ud)
{
    (void)r;
    list_host *h = ud;
    h->up = NULL;
    h->ok = res == UP_OK && h->status == 200;
    if (!h->ok)
        log_warn("Ollama list request failed (%s, status %d)", res == UP_OK ? "HTTP" : msg, h->status);
    list_req *l = h->l;
    if (--l->pending == 0) {
        conn_set_close_cb(l->c, NULL, NULL);
        list_answer(l);
    }
}

static const upstream_callbacks list_callbacks = {list_status, list_data, list_done};

static void merged_list(gw_thread *t, conn *c, const char *path, const char *const *bases, int n, int64_t t0)
{
    metrics_api_route route = !strcmp(path, "/api/tags") ? MA_TAGS : MA_PS;
    list_req *l = calloc(1, sizeof *l);
    if (!l) {
        record(t, route, 500, t0);
        native_error(c, 500, "out of memory");
        return;
    }
    gw_thread_hold(t); /* until list_free */
    l->t = t;
    l->c = c;
    l->route = route;
    l->t0 = t0;
    l->nhosts = n;
    for (int i = 0; i < n; i++) {
        l->h[i].l = l;
        buf_init(&l->h[i].body);
    }
    conn_set_close_cb(c, list_gone, l);
    l->pending = n + 1; /* one held until every request started */
    for (int i = 0; i < n; i++) {
        char url[1024];
        snprintf(url, sizeof url, "%s%s", bases[i], path);
        upstream_opts o = {.url = url, .method = "GET", .timeout_ms = 30000, .extra_headers = native_hop_header()};
        l->h[i].up = upstream_start(t->up, &o, &list_callbacks, &l->h[i]);
        if (!l->h[i].up)
            l->pending--;
    }
    if (--l->pending == 0) {
        conn_set_close_cb(c, NULL, NULL);
        list_answer(l);
    }
}

/* --- /api/show --- */

static void show(gw_thread *t, conn *c, const http_request *req, const char *body, size_t len, const char *primary,
                 int64_t t0)
{
    gateway *g = t->g;
    static const char *const keys[] = {"model", "name"};
    jscan_span v[2];
    buf name;
    buf_init(&name);
    int which = -1;
    if (jscan_valid(body, len, false) && jscan_object(body, body + len, keys, 2, v)) {
        which = v[0].p ? 0 : v[1].p ? 1 : -1;
        if (which >= 0 && (v[which].p[0] != '"' || !jscan_string(v[which], &name)))
            which = -1;
    }
    int gi = which >= 0 ? native_find_group(g, name.data ? name.data : "", name.len) : -1;
    gw_match mt = {.group = gi};
    if (gi < 0 && which >= 0) /* a wildcard group's name (match.h) */
        gi = match_wildcard(g, name.data ? name.data : "", name.len, &mt);
    if (gi < 0 || !native_group_served(g, gi)) {
        if (which >= 0 && name.len && !g->discovered) {
            buf m;
            buf_init(&m);
            buf_printf(&m, "model '%.*s' not found", (int)(name.len > 200 ? 200 : name.len), name.data);
            record(t, MA_SHOW, 404, t0);
            native_error(c, 404, m.data);
            buf_free(&m);
        } else {
            forward(t, c, req, primary, body, len, t0); /* Ollama answers bad requests itself */
        }
        buf_free(&name);
        return;
    }
    buf_free(&name);
    const gw_group *grp = &g->groups[gi];
    const gw_deployment *d = NULL;
    for (int i = 0; i < grp->ndeps && !d; i++)
        if (g->deps[grp->deps[i]].src == TR_SRC_OLLAMA)
            d = &g->deps[grp->deps[i]];
    buf nb;
    buf_init(&nb);
    buf_append(&nb, body, (size_t)(v[which].p - body));
    char wild[512];
    const char *umodel = match_upstream_model(grp, d->cfg, mt.group >= 0 && mt.label ? mt.capture : "", wild, sizeof wild);
    native_json_str(&nb, umodel, strlen(umodel));
    buf_append(&nb, v[which].p + v[which].n, (size_t)(body + len - (v[which].p + v[which].n)));
    forward(t, c, req, d->cfg->api_base, nb.data, nb.len, t0);
    buf_free(&nb);
}

void passthru_handle(gw_thread *t, conn *c, const http_request *req, const char *body, size_t len)
{
    gateway *g = t->g;
    int64_t t0 = gw_now_ns();
    const char *bases[MAX_HOSTS];
    int n = passthru_hosts(g, bases, MAX_HOSTS);
    if (n == 0) {
        record(t, api_route(req), 404, t0);
        native_error(c, 404, "no Ollama backend is configured on this gateway: see /v1/models");
        return;
    }
    bool get = http_method_is(req, "GET"), head = http_method_is(req, "HEAD");
    bool tags = http_path_is(req, "/api/tags");
    if ((tags && (get || head)) || (http_path_is(req, "/api/ps") && get)) {
        merged_list(t, c, tags ? "/api/tags" : "/api/ps", bases, n, t0);
        return;
    }
    if (http_path_is(req, "/api/show") && http_method_is(req, "POST")) {
        show(t, c, req, body, len, bases[0], t0);
        return;
    }
    forward(t, c, req, bases[0], body, len, t0);
}
