/* The start-up probe of every configured backend: see backends.h. */
#include "serve/backends.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/passthru.h"
#include "util/log.h"
#include "util/probe.h"

/* One distinct URL asked, whatever the number of deployments behind it. */
typedef struct {
    char url[1024];
    const char *api_key;
    long timeout_ms;
    bool ollama;
    probe_err err;
    char why[256];
    bool loop;
} target;

#define BATCH 32 /* threads at once */

static void *probe_one(void *arg)
{
    target *t = arg;
    probe_opts o = {.timeout_ms = (int)t->timeout_ms, .api_key = t->ollama ? NULL : t->api_key};
    probe_resp r;
    t->err = probe_request(&o, t->url, NULL, &r);
    t->loop = t->ollama && r.status == 508 && r.body.len && strstr(r.body.data, "forwarding loop");
    switch (t->err) {
    case PROBE_OK:
        break;
    case PROBE_REFUSED:
        snprintf(t->why, sizeof t->why, "connection refused");
        break;
    case PROBE_DNS:
        snprintf(t->why, sizeof t->why, "the host name does not resolve");
        break;
    case PROBE_TIMEOUT:
        snprintf(t->why, sizeof t->why, "no answer within %.1f s", (double)t->timeout_ms / 1000);
        break;
    default:
        snprintf(t->why, sizeof t->why, "%s", r.errmsg[0] ? r.errmsg : probe_err_name(t->err));
        break;
    }
    probe_resp_free(&r);
    return NULL;
}

void backends_origin(const char *base, char *out, size_t n)
{
    const char *host = strstr(base, "://");
    size_t scheme = host ? (size_t)(host + 3 - base) : 0;
    host = host ? host + 3 : base;
    size_t auth = strcspn(host, "/?#");
    for (size_t i = auth; i > 0; i--)
        if (host[i - 1] == '@') { /* user:password@ */
            auth -= i;
            host += i;
            break;
        }
    snprintf(out, n, "%.*s%.*s", (int)scheme, base, (int)auth, host);
}

void backends_redacted(const char *base, char *out, size_t n)
{
    char origin[512];
    backends_origin(base, origin, sizeof origin);
    const char *host = strstr(base, "://");
    host = host ? host + 3 : base;
    const char *path = host + strcspn(host, "/?#");
    snprintf(out, n, "%s%.*s", origin, (int)strcspn(path, "?#"), path);
}

static int add_target(target *ts, int n, const char *url, const config_deployment *cd, bool ollama, long timeout_ms)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(ts[k].url, url) && (ollama || ts[k].api_key == cd->api_key ||
                                        (ts[k].api_key && cd->api_key && !strcmp(ts[k].api_key, cd->api_key))))
            return k;
    target *t = &ts[n];
    memset(t, 0, sizeof *t);
    snprintf(t->url, sizeof t->url, "%s", url);
    t->api_key = cd ? cd->api_key : NULL;
    t->ollama = ollama;
    t->timeout_ms = timeout_ms;
    return n;
}

int backends_probe(const gateway *g, long timeout_ms, char *err, size_t errlen)
{
    /* Targets: one per deployment at most, plus the discovery base. */
    target *ts = calloc((size_t)g->ndeps + 1, sizeof *ts);
    int *of = calloc((size_t)g->ndeps + 1, sizeof *of);
    if (!ts || !of) {
        free(ts);
        free(of);
        return 0; /* a probe is advice: skip it rather than fail */
    }
    int n = 0;
    char url[1024];
    for (int i = 0; i < g->ndeps; i++) {
        const config_deployment *cd = g->deps[i].cfg;
        bool ollama = g->deps[i].src == TR_SRC_OLLAMA;
        snprintf(url, sizeof url, "%s%s", cd->api_base, ollama ? "/api/version" : "/models");
        of[i] = add_target(ts, n, url, cd, ollama, timeout_ms);
        if (of[i] == n)
            n++;
    }
    const char *bases[1];
    if (g->ndeps == 0 && passthru_hosts(g, bases, 1) == 1) { /* discovery mode without models */
        snprintf(url, sizeof url, "%s/api/version", bases[0]);
        add_target(ts, n, url, NULL, true, timeout_ms);
        n++;
    }
    for (int at = 0; at < n; at += BATCH) {
        pthread_t tid[BATCH];
        bool started[BATCH] = {false};
        int m = n - at < BATCH ? n - at : BATCH;
        for (int k = 0; k < m; k++)
            started[k] = pthread_create(&tid[k], NULL, probe_one, &ts[at + k]) == 0;
        for (int k = 0; k < m; k++) {
            if (started[k])
                pthread_join(tid[k], NULL);
            else
                probe_one(&ts[at + k]);
        }
    }
    int down = 0;
    for (int k = 0; k < n; k++)
        if (ts[k].loop) {
            char origin[512];
            backends_origin(ts[k].url, origin, sizeof origin);
            snprintf(err, errlen,
                     "forwarding loop: the Ollama address %s is this gateway itself. Move Ollama to another port "
                     "(OLLAMA_HOST=127.0.0.1:11435 ollama serve) and point the gateway there (OLLAMA_HOST for "
                     "`tollgate serve`, or api_base in the config)",
                     origin);
            free(ts);
            free(of);
            return -1;
        }
    for (int i = 0; i < g->ndeps; i++) {
        const target *t = &ts[of[i]];
        if (t->err == PROBE_OK)
            continue;
        const config_deployment *cd = g->deps[i].cfg;
        char origin[512];
        backends_origin(cd->api_base, origin, sizeof origin);
        log_warn("deployment '%s' (%s at %s): not answering: %s", cd->model_name, cd->model, origin, t->why);
        down++;
    }
    if (g->ndeps == 0 && n == 1 && ts[0].err != PROBE_OK) {
        char origin[512];
        backends_origin(ts[0].url, origin, sizeof origin);
        log_warn("Ollama at %s: not answering: %s", origin, ts[0].why);
        down++;
    }
    free(ts);
    free(of);
    return down;
}
