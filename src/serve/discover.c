#include "serve/discover.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/probe.h"
#include "util/log.h"

/* GET url into out; returns the HTTP status, or 0 with msg on failure. */
static long http_get(const char *url, long timeout_ms, buf *out, char *msg, size_t msglen)
{
    probe_opts o = {.timeout_ms = (int)timeout_ms};
    probe_resp r;
    probe_request(&o, url, NULL, &r);
    long code = r.err == PROBE_OK || r.err == PROBE_HTTP ? r.status : 0;
    if (!code)
        snprintf(msg, msglen, "%s", r.errmsg[0] ? r.errmsg : probe_err_name(r.err));
    if (r.body.len)
        buf_append(out, r.body.data, r.body.len);
    probe_resp_free(&r);
    return code;
}

/* YAML double-quoted scalar: escape backslash and quote. */
static void yaml_str(buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(b, '\\');
        if ((unsigned char)*s >= 0x20)
            buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

config *discover_config(const char *ollama_host, int wait_s, char *err, size_t errlen)
{
    char *base = config_ollama_base(ollama_host && *ollama_host ? ollama_host : "127.0.0.1:11434");
    if (!base) {
        snprintf(err, errlen, "cannot parse OLLAMA_HOST '%s'", ollama_host);
        return NULL;
    }
    char url[1024], msg[256] = "";
    snprintf(url, sizeof url, "%s/api/tags", base);
    buf body, yaml;
    buf_init(&body);
    buf_init(&yaml);
    long code = 0;
    for (int waited = 0;; waited++) {
        buf_reset(&body);
        code = http_get(url, 2000, &body, msg, sizeof msg);
        if (code == 200 || waited >= wait_s)
            break;
        if (waited == 0)
            log_info("waiting up to %d s for Ollama at %s (%s)", wait_s, base, msg[0] ? msg : "not ready");
        sleep(1);
    }
    buf_puts(&yaml, "model_list:\n");
    int n = 0;
    if (code == 200) {
        json_t *root = json_loadb(body.data ? body.data : "", body.len, 0, NULL), *m;
        size_t i;
        json_array_foreach(json_object_get(root, "models"), i, m) {
            const char *name = json_string_value(json_object_get(m, "name"));
            if (!name || !*name)
                continue;
            /* "llama3.2:latest" is also reachable as "llama3.2", as in Ollama. */
            buf_puts(&yaml, "  - model_name: ");
            yaml_str(&yaml, name);
            buf_puts(&yaml, "\n    litellm_params:\n      model: ");
            char full[512];
            snprintf(full, sizeof full, "ollama_chat/%s", name);
            yaml_str(&yaml, full);
            buf_puts(&yaml, "\n      api_base: ");
            yaml_str(&yaml, base);
            buf_putc(&yaml, '\n');
            n++;
        }
        json_decref(root);
        log_info("discovered %d models from Ollama at %s", n, base);
    } else {
        log_warn("Ollama at %s did not answer (%s%s); serving no models. Start it with `ollama serve` "
                 "(or `tollgate sim`) and restart, or pass --config litellm_config.yaml",
                 base, code ? "HTTP status " : "", code ? "!= 200" : msg);
    }
    buf_puts(&yaml, "litellm_settings:\n  callbacks: [\"prometheus\"]\n");
    config *cfg = n ? config_load_string(yaml.data, yaml.len, "(discovered from Ollama)", NULL, NULL, err, errlen)
                    : config_new_default();
    if (!cfg && !n)
        snprintf(err, errlen, "out of memory");
    buf_free(&body);
    buf_free(&yaml);
    free(base);
    return cfg;
}

/* --- wildcard groups: the names their backends list --- */

bool discover_wildcard(const char *pattern, size_t *prefix_len, const char **suffix)
{
    const char *star = strchr(pattern, '*');
    if (!star || strchr(star + 1, '*'))
        return false;
    *prefix_len = (size_t)(star - pattern);
    *suffix = star + 1;
    return true;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The requested name for upstream model name m, when the deployment's
 * upstream pattern (the part after the provider, e.g. "*") matches it. */
static void add_listed(char ***out, size_t *n, const config_deployment *cd, const char *m)
{
    size_t gp, up;
    const char *gs, *us;
    if (*n >= DISCOVER_MAX_LISTED || !discover_wildcard(cd->model_name, &gp, &gs) ||
        !discover_wildcard(cd->upstream_model, &up, &us))
        return;
    size_t ml = strlen(m), ul = strlen(us);
    if (ml < up + ul || strncmp(m, cd->upstream_model, up) || strcmp(m + ml - ul, us))
        return;
    int cap = (int)(ml - up - ul);
    size_t len = gp + (size_t)cap + strlen(gs) + 1;
    char *name = malloc(len), **grown = realloc(*out, (*n + 1) * sizeof **out);
    if (!name || !grown) {
        free(name);
        if (grown)
            *out = grown;
        return;
    }
    *out = grown;
    snprintf(name, len, "%.*s%.*s%s", (int)gp, cd->model_name, cap, m + up, gs);
    (*out)[(*n)++] = name;
}

char **discover_listed(const config *cfg, size_t *n)
{
    char **out = NULL;
    *n = 0;
    for (size_t i = 0; i < cfg->ndeployments; i++) {
        const config_deployment *cd = &cfg->deployments[i];
        size_t pl;
        const char *sfx;
        if (!discover_wildcard(cd->model_name, &pl, &sfx))
            continue;
        bool ollama = cd->provider == PROVIDER_OLLAMA || cd->provider == PROVIDER_OLLAMA_CHAT;
        char url[1024], msg[256];
        snprintf(url, sizeof url, "%s%s", cd->api_base, ollama ? "/api/tags" : "/models");
        buf body;
        buf_init(&body);
        if (http_get(url, 3000, &body, msg, sizeof msg) == 200) {
            json_t *root = json_loadb(body.data ? body.data : "", body.len, 0, NULL), *m;
            size_t k;
            json_array_foreach(json_object_get(root, ollama ? "models" : "data"), k, m) {
                const char *name = json_string_value(json_object_get(m, ollama ? "name" : "id"));
                if (!name || !*name)
                    continue;
                add_listed(&out, n, cd, name);
                size_t nl = strlen(name);
                if (ollama && nl > 7 && !strcmp(name + nl - 7, ":latest")) {
                    char short_name[512];
                    snprintf(short_name, sizeof short_name, "%.*s", (int)(nl - 7), name);
                    add_listed(&out, n, cd, short_name);
                }
            }
            json_decref(root);
        } else {
            log_warn("%s: cannot list the models of wildcard group %s (%s)", url, cd->model_name, msg);
        }
        buf_free(&body);
    }
    if (*n)
        qsort(out, *n, sizeof *out, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (w && !strcmp(out[w - 1], out[i]))
            free(out[i]);
        else
            out[w++] = out[i];
    }
    *n = w;
    return out;
}

void discover_listed_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* --- /api/ps poller --- */

struct discover_poller {
    gateway *g;
    int interval_s;
    char *watch_base;
    atomic_bool changed;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void poll_once(gateway *g)
{
    for (int i = 0; i < g->ndeps; i++) {
        const gw_deployment *d = &g->deps[i];
        if (d->src != TR_SRC_OLLAMA)
            continue;
        bool seen = false;
        for (int k = 0; k < i; k++)
            if (g->deps[k].src == TR_SRC_OLLAMA && !strcmp(g->deps[k].cfg->api_base, d->cfg->api_base))
                seen = true;
        if (seen)
            continue;
        char url[1024], msg[256];
        snprintf(url, sizeof url, "%s/api/ps", d->cfg->api_base);
        buf body;
        buf_init(&body);
        long code = http_get(url, 3000, &body, msg, sizeof msg);
        metrics_loaded_model models[64];
        size_t n = 0;
        json_t *root = code == 200 ? json_loadb(body.data ? body.data : "", body.len, 0, NULL) : NULL;
        json_t *m;
        size_t k;
        json_array_foreach(json_object_get(root, "models"), k, m) {
            if (n == 64)
                break;
            const char *name = json_string_value(json_object_get(m, "name"));
            if (!name)
                continue;
            metrics_loaded_model *lm = &models[n++];
            memset(lm, 0, sizeof *lm);
            lm->name = name; /* copied by the registry; root is alive */
            lm->size = (uint64_t)json_integer_value(json_object_get(m, "size"));
            lm->size_vram = (uint64_t)json_integer_value(json_object_get(m, "size_vram"));
            const char *exp = json_string_value(json_object_get(m, "expires_at"));
            struct tm tm = {0};
            if (exp && strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm))
                lm->expires_at = (int64_t)timegm(&tm);
        }
        metrics_set_ollama_state(g->metrics, d->cfg->api_base, code == 200, models, n);
        json_decref(root);
        buf_free(&body);
    }
}

/* Does Ollama's /api/tags still list exactly the models being served? */
static void watch_tags(discover_poller *p)
{
    char url[1024], msg[256];
    snprintf(url, sizeof url, "%s/api/tags", p->watch_base);
    buf body;
    buf_init(&body);
    if (http_get(url, 3000, &body, msg, sizeof msg) == 200) {
        json_t *root = json_loadb(body.data ? body.data : "", body.len, 0, NULL), *m;
        size_t i, n = 0;
        bool same = true;
        json_array_foreach(json_object_get(root, "models"), i, m) {
            const char *name = json_string_value(json_object_get(m, "name"));
            if (!name || !*name)
                continue;
            n++;
            bool found = false;
            for (int k = 0; k < p->g->ngroups && !found; k++)
                found = strcmp(p->g->groups[k].name, name) == 0;
            same = same && found;
        }
        if (!same || n != (size_t)p->g->ngroups)
            atomic_store(&p->changed, true);
        json_decref(root);
    }
    buf_free(&body);
}

/* Do the wildcard groups' backends still list the same names? */
static void watch_listed(discover_poller *p)
{
    size_t n;
    char **names = discover_listed(p->g->cfg, &n);
    bool same = n == p->g->nlisted;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(names[i], p->g->listed[i]) == 0;
    if (!same)
        atomic_store(&p->changed, true);
    discover_listed_free(names, n);
}

bool discover_poller_models_changed(discover_poller *p) { return p && atomic_load(&p->changed); }

static void *poller_main(void *arg)
{
    discover_poller *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_unlock(&p->mu);
        if (p->watch_base && !atomic_load(&p->changed))
            watch_tags(p);
        if (p->g->wildcards && !atomic_load(&p->changed))
            watch_listed(p);
        poll_once(p->g);
        pthread_mutex_lock(&p->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += p->interval_s;
        while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

discover_poller *discover_poller_start(gateway *g, int interval_s, const char *watch_base)
{
    discover_poller *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->g = g;
    p->interval_s = interval_s;
    atomic_init(&p->changed, false);
    if (watch_base && !(p->watch_base = strdup(watch_base))) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->tid, NULL, poller_main, p) != 0) {
        free(p->watch_base);
        free(p);
        return NULL;
    }
    return p;
}

void discover_poller_stop(discover_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->tid, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->watch_base);
    free(p);
}
