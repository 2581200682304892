#include "serve/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics/process.h"
#include "otel/otel.h"
#include "serve/proxy.h"
#include "util/buf.h"

/* LiteLLM reports DEFAULT_MODEL_CREATED_AT_TIME for every model. */
#define MODEL_CREATED 1677610602

static void model_obj(buf *b, const char *name)
{
    buf_puts(b, "{\"id\":");
    buf_json_str(b, name, strlen(name));
    buf_printf(b, ",\"object\":\"model\",\"created\":%d,\"owned_by\":\"openai\"}", MODEL_CREATED);
}

/* The names /v1/models lists: every model_name (a wildcard's pattern too,
 * as LiteLLM does), then the names the wildcard groups' backends list (as
 * LiteLLM's check_provider_endpoint does), without repeats. i-th, or NULL. */
static const char *listed_model(const gateway *g, size_t i)
{
    if (i < (size_t)g->ngroups)
        return g->groups[i].name;
    return i - (size_t)g->ngroups < g->nlisted ? g->listed[i - (size_t)g->ngroups] : NULL;
}

/* "x" when "x:latest" is listed too: a label, not a model to list. */
static bool short_form(const gateway *g, const char *name)
{
    char full[600];
    if (strchr(name, ':') || (size_t)snprintf(full, sizeof full, "%s:latest", name) >= sizeof full)
        return false;
    for (size_t i = 0; i < g->nlisted; i++)
        if (!strcmp(g->listed[i], full))
            return true;
    return false;
}

static bool is_group(const gateway *g, const char *name, size_t len)
{
    for (int i = 0; i < g->ngroups; i++)
        if (strlen(g->groups[i].name) == len && memcmp(g->groups[i].name, name, len) == 0)
            return true;
    return false;
}

void admin_models(gw_thread *t, conn *c, const char *id, size_t id_len)
{
    gateway *g = t->g;
    buf b;
    buf_init(&b);
    if (id) {
        const char *name;
        for (size_t i = 0; (name = listed_model(g, i)); i++) {
            if (strlen(name) == id_len && memcmp(name, id, id_len) == 0) {
                model_obj(&b, name);
                conn_respond(c, 200, "application/json", NULL, b.data, b.len);
                buf_free(&b);
                return;
            }
        }
        buf_free(&b);
        tr_error e = {.status = 404, .type = "invalid_request_error", .param = "model", .code = "model_not_found"};
        snprintf(e.message, sizeof e.message, "The model '%.*s' does not exist", (int)(id_len > 100 ? 100 : id_len),
                 id);
        proxy_respond_error(c, &e);
        return;
    }
    buf_puts(&b, "{\"data\":[");
    const char *name;
    for (size_t i = 0; (name = listed_model(g, i)); i++) {
        if (i >= (size_t)g->ngroups && (is_group(g, name, strlen(name)) || short_form(g, name)))
            continue;
        if (i)
            buf_putc(&b, ',');
        model_obj(&b, name);
    }
    buf_puts(&b, "],\"object\":\"list\"}");
    conn_respond(c, 200, "application/json", NULL, b.data, b.len);
    buf_free(&b);
}

void admin_liveliness(conn *c) { conn_respond(c, 200, "application/json", NULL, "\"I'm alive!\"", 12); }

void admin_readiness(gw_thread *t, conn *c)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "{\"status\":\"healthy\",\"db\":\"Not connected\",\"cache\":null,\"litellm_version\":\"tollgate-" TOLLGATE_VERSION
                 "\",\"success_callbacks\":[");
    config *cfg = t->g->cfg;
    for (size_t i = 0; i < cfg->ncallbacks; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_json_str(&b, cfg->callbacks[i], strlen(cfg->callbacks[i]));
    }
    buf_puts(&b, "],\"use_aiohttp_transport\":false}");
    conn_respond(c, 200, "application/json", NULL, b.data, b.len);
    buf_free(&b);
}

void admin_metrics(gw_thread *t, conn *c)
{
    buf b;
    buf_init(&b);
    metrics_write(t->g->metrics, &b);
    metrics_write_otel(&b, otel_dropped_spans(t->g->otel));
    process_metrics_write(&b);
    if (b.oom) {
        buf_free(&b);
        conn_respond(c, 500, "text/plain; charset=utf-8", NULL, "out of memory\n", 14);
        return;
    }
    conn_respond(c, 200, METRICS_CONTENT_TYPE, NULL, b.data, b.len);
    buf_free(&b);
}

/* --- /health: one probe per deployment, answered when all are back --- */

typedef struct health_req health_req;
typedef struct {
    health_req *h;
    int dep;
    int status;
    buf body;
    bool done, ok;
    char error[256];
} health_probe;

struct health_req {
    gw_thread *t;
    conn *c;
    int pending;
    int n;
    health_probe *probes;
    upstream_req **ups;
};

static void health_free(health_req *h)
{
    for (int i = 0; i < h->n; i++) {
        if (h->ups[i])
            upstream_cancel(h->ups[i]);
        buf_free(&h->probes[i].body);
    }
    free(h->probes);
    free(h->ups);
    gw_thread_drop(h->t);
    free(h);
}

static void health_gone(conn *c, void *arg)
{
    (void)c;
    health_free(arg);
}

static void endpoint_json(buf *b, const gw_deployment *d, const health_probe *p)
{
    /* LiteLLM lists litellm_params minus secrets, plus the error. */
    const config_deployment *cd = d->cfg;
    buf_puts(b, "{\"model\":");
    buf_json_str(b, cd->model, strlen(cd->model));
    buf_puts(b, ",\"api_base\":");
    buf_json_str(b, cd->api_base, strlen(cd->api_base));
    buf_puts(b, ",\"model_id\":");
    buf_json_str(b, cd->model_id, strlen(cd->model_id));
    if (!p->ok) {
        buf_puts(b, ",\"error\":");
        buf_json_str(b, p->error, strlen(p->error));
    }
    buf_putc(b, '}');
}

static void health_answer(health_req *h)
{
    gateway *g = h->t->g;
    buf b;
    buf_init(&b);
    int healthy = 0;
    for (int i = 0; i < h->n; i++)
        healthy += h->probes[i].ok;
    buf_puts(&b, "{\"healthy_endpoints\":[");
    for (int i = 0, k = 0; i < h->n; i++)
        if (h->probes[i].ok) {
            if (k++)
                buf_putc(&b, ',');
            endpoint_json(&b, &g->deps[h->probes[i].dep], &h->probes[i]);
        }
    buf_puts(&b, "],\"unhealthy_endpoints\":[");
    for (int i = 0, k = 0; i < h->n; i++)
        if (!h->probes[i].ok) {
            if (k++)
                buf_putc(&b, ',');
            endpoint_json(&b, &g->deps[h->probes[i].dep], &h->probes[i]);
        }
    /* "status" is not LiteLLM's; the guide's check expects it. */
    buf_printf(&b, "],\"healthy_count\":%d,\"unhealthy_count\":%d,\"status\":\"%s\"}", healthy, h->n - healthy,
               healthy == h->n ? "healthy" : "unhealthy");
    conn_respond(h->c, 200, "application/json", NULL, b.data, b.len);
    buf_free(&b);
    health_free(h);
}

static void probe_status(upstream_req *r, int status, void *ud)
{
    (void)r;
    ((health_probe *)ud)->status = status;
}

static bool probe_data(upstream_req *r, const char *data, size_t len, void *ud)
{
    (void)r;
    health_probe *p = ud;
    if (p->body.len < (1u << 20))
        buf_append(&p->body, data, len);
    return false;
}

/* Ollama: the model must be in /api/tags (name or name:latest). */
static bool ollama_has_model(const char *body, size_t len, const char *model)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    bool found = false;
    json_t *models = json_object_get(root, "models"), *m;
    size_t i;
    size_t ml = strlen(model);
    json_array_foreach(models, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (!name)
            continue;
        if (!strcmp(name, model) || (strchr(model, ':') == NULL && !strncmp(name, model, ml) && !strcmp(name + ml, ":latest")))
            found = true;
    }
    json_decref(root);
    return found;
}

static void probe_done(upstream_req *r, enum upstream_result res, const char *msg, void *ud)
{
    (void)r;
    health_probe *p = ud;
    health_req *h = p->h;
    gw_deployment *d = &h->t->g->deps[p->dep];
    h->ups[p - h->probes] = NULL;
    if (res != UP_OK) {
        snprintf(p->error, sizeof p->error, "cannot reach %s: %s", d->cfg->api_base, msg);
    } else if (p->status != 200) {
        snprintf(p->error, sizeof p->error, "%s answered HTTP %d", d->cfg->api_base, p->status);
    } else if (d->src == TR_SRC_OLLAMA && !ollama_has_model(p->body.data, p->body.len, d->cfg->upstream_model)) {
        snprintf(p->error, sizeof p->error, "model '%s' is not pulled on %s: run `ollama pull %s`",
                 d->cfg->upstream_model, d->cfg->api_base, d->cfg->upstream_model);
    } else {
        p->ok = true;
    }
    p->done = true;
    if (--h->pending == 0)
        health_answer(h);
}

void admin_health(gw_thread *t, conn *c)
{
    gateway *g = t->g;
    health_req *h = calloc(1, sizeof *h);
    if (!h)
        goto oom;
    h->t = t;
    gw_thread_hold(t); /* until health_free */
    h->c = c;
    h->n = g->ndeps;
    h->probes = calloc((size_t)g->ndeps + 1, sizeof *h->probes);
    h->ups = calloc((size_t)g->ndeps + 1, sizeof *h->ups);
    if (!h->probes || !h->ups) {
        free(h->probes);
        free(h->ups);
        gw_thread_drop(t);
        free(h);
        goto oom;
    }
    if (g->ndeps == 0) {
        health_answer(h);
        return;
    }
    conn_set_close_cb(c, health_gone, h);
    static const upstream_callbacks cb = {probe_status, probe_data, probe_done};
    h->pending = g->ndeps;
    for (int i = 0; i < g->ndeps; i++) {
        health_probe *p = &h->probes[i];
        p->h = h;
        p->dep = i;
        buf_init(&p->body);
        char url[1024];
        snprintf(url, sizeof url, "%s%s", g->deps[i].cfg->api_base, g->deps[i].src == TR_SRC_OLLAMA ? "/api/tags" : "/models");
        upstream_opts o = {.url = url, .method = "GET", .bearer = g->deps[i].cfg->api_key, .timeout_ms = 10000,
                           .connect_timeout_ms = 3000};
        h->ups[i] = upstream_start(t->up, &o, &cb, p);
    }
    /* Probes that could not start count as failed right away. */
    for (int i = 0; i < g->ndeps; i++)
        if (!h->ups[i] && !h->probes[i].done) {
            snprintf(h->probes[i].error, sizeof h->probes[i].error, "could not start the probe");
            h->probes[i].done = true;
            if (--h->pending == 0) {
                health_answer(h);
                return;
            }
        }
    return;
oom:
    conn_respond(c, 500, "application/json", NULL, "{\"error\":{\"message\":\"out of memory\"}}", 37);
}
