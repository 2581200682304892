/* tollgate top: /metrics text -> top_snap, and quantiles between snapshots. */
#include "top/snap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/expo.h"

/* upstream model -> model group, learnt from families that carry both
 * labels, for the TTFT histogram that has only `model`. */
typedef struct {
    char upstream[TOP_NAME], group[TOP_NAME];
} alias;

typedef struct {
    top_snap *s;
    alias aliases[TOP_MAX_MODELS];
    int naliases;
} parse_ctx;

static top_model *model_at(top_snap *s, const char *name)
{
    for (int i = 0; i < s->nmodels; i++)
        if (!strcmp(s->models[i].name, name))
            return &s->models[i];
    if (s->nmodels == TOP_MAX_MODELS)
        return NULL;
    top_model *m = &s->models[s->nmodels++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}

static void hist_add(top_hist *h, const expo_sample *x)
{
    char le[64];
    if (expo_label(x, "le", le, sizeof le) != 0)
        return;
    double b = strtod(le, NULL); /* "+Inf" parses as infinity */
    int i = 0;
    while (i < h->n && h->le[i] < b)
        i++;
    if (i < h->n && h->le[i] == b) {
        h->cum[i] += x->value;
        return;
    }
    if (h->n == TOP_MAX_BUCKETS)
        return;
    memmove(&h->le[i + 1], &h->le[i], (size_t)(h->n - i) * sizeof h->le[0]);
    memmove(&h->cum[i + 1], &h->cum[i], (size_t)(h->n - i) * sizeof h->cum[0]);
    h->le[i] = b;
    h->cum[i] = x->value;
    h->n++;
}

static void learn_alias(parse_ctx *c, const expo_sample *x, const char *group)
{
    char up[TOP_NAME];
    if (expo_label(x, "model", up, sizeof up) != 0)
        return;
    for (int i = 0; i < c->naliases; i++)
        if (!strcmp(c->aliases[i].upstream, up))
            return;
    if (c->naliases == TOP_MAX_MODELS)
        return;
    snprintf(c->aliases[c->naliases].upstream, TOP_NAME, "%s", up);
    snprintf(c->aliases[c->naliases].group, TOP_NAME, "%s", group);
    c->naliases++;
}

static void gateway_sample(const expo_sample *x, void *ud)
{
    parse_ctx *c = ud;
    char name[TOP_NAME];
    if (expo_is(x, "tollgate_requests_in_flight")) {
        top_model *m = expo_label(x, "model_group", name, sizeof name) == 0 ? model_at(c->s, name) : NULL;
        if (m)
            m->in_flight += x->value;
        return;
    }
    if (expo_is(x, "tollgate_ollama_up")) {
        c->s->ollama_up = (isnan(c->s->ollama_up) ? 0 : c->s->ollama_up) + x->value;
        return;
    }
    int size = expo_is(x, "tollgate_ollama_loaded_model_size_bytes");
    int vram = expo_is(x, "tollgate_ollama_loaded_model_vram_bytes");
    int exp = expo_is(x, "tollgate_ollama_loaded_model_expires_at_seconds");
    if (size || vram || exp) {
        char base[TOP_NAME];
        if (expo_label(x, "model", name, sizeof name) || expo_label(x, "api_base", base, sizeof base))
            return;
        top_snap *s = c->s;
        top_loaded *l = NULL;
        for (int i = 0; i < s->nloaded && !l; i++)
            if (!strcmp(s->loaded[i].model, name) && !strcmp(s->loaded[i].api_base, base))
                l = &s->loaded[i];
        if (!l && s->nloaded < TOP_MAX_LOADED) {
            l = &s->loaded[s->nloaded++];
            memset(l, 0, sizeof *l);
            snprintf(l->model, sizeof l->model, "%s", name);
            snprintf(l->api_base, sizeof l->api_base, "%s", base);
        }
        if (l)
            *(size ? &l->size : vram ? &l->vram : &l->expires_at) = x->value;
        return;
    }
    if (expo_label(x, "requested_model", name, sizeof name) != 0)
        return;
    top_model *m;
    if (expo_is(x, "litellm_proxy_total_requests_metric_total")) {
        if ((m = model_at(c->s, name)))
            m->requests += x->value;
    } else if (expo_is(x, "litellm_proxy_failed_requests_metric_total")) {
        if ((m = model_at(c->s, name)))
            m->failures += x->value;
    } else if (expo_is(x, "litellm_input_tokens_metric_total")) {
        if ((m = model_at(c->s, name)))
            m->tokens_in += x->value;
        learn_alias(c, x, name);
    } else if (expo_is(x, "litellm_output_tokens_metric_total")) {
        if ((m = model_at(c->s, name)))
            m->tokens_out += x->value;
    } else if (expo_is(x, "litellm_request_total_latency_metric_bucket")) {
        if ((m = model_at(c->s, name)))
            hist_add(&m->latency, x);
        learn_alias(c, x, name);
    }
}

/* Second pass: TTFT is labelled with the upstream model only. */
static void ttft_sample(const expo_sample *x, void *ud)
{
    parse_ctx *c = ud;
    char up[TOP_NAME];
    if (!expo_is(x, "litellm_llm_api_time_to_first_token_metric_bucket") ||
        expo_label(x, "model", up, sizeof up) != 0)
        return;
    const char *group = up;
    for (int i = 0; i < c->naliases; i++)
        if (!strcmp(c->aliases[i].upstream, up))
            group = c->aliases[i].group;
    top_model *m = model_at(c->s, group);
    if (m)
        hist_add(&m->ttft, x);
}

static void gpu_sample(const expo_sample *x, void *ud)
{
    top_snap *s = ud;
    if (expo_is(x, "tollgate_gpu_nvml_up")) {
        s->nvml_up = x->value;
        return;
    }
    static const char *const fields[] = {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
                                         "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE"};
    int f = -1;
    for (int i = 0; i < 5 && f < 0; i++)
        if (expo_is(x, fields[i]))
            f = i;
    char id[16];
    if (f < 0 || expo_label(x, "gpu", id, sizeof id) != 0)
        return;
    top_gpu *g = NULL;
    for (int i = 0; i < s->ngpus && !g; i++)
        if (!strcmp(s->gpus[i].id, id))
            g = &s->gpus[i];
    if (!g) {
        if (s->ngpus == TOP_MAX_GPUS)
            return;
        g = &s->gpus[s->ngpus++];
        snprintf(g->id, sizeof g->id, "%s", id);
        if (expo_label(x, "modelName", g->name, sizeof g->name) != 0)
            g->name[0] = '\0';
        g->util = g->fb_used = g->fb_free = g->temp = g->power = NAN;
    }
    double *dst[] = {&g->util, &g->fb_used, &g->fb_free, &g->temp, &g->power};
    *dst[f] = x->value;
}

void top_snap_parse(top_snap *s, const char *gateway, size_t glen, const char *gpu, size_t gpulen)
{
    s->nmodels = s->nloaded = s->ngpus = 0;
    s->ollama_up = s->nvml_up = NAN;
    if (gateway) {
        parse_ctx c = {.s = s};
        expo_each(gateway, glen, gateway_sample, &c);
        expo_each(gateway, glen, ttft_sample, &c);
    }
    if (gpu)
        expo_each(gpu, gpulen, gpu_sample, s);
}

const top_model *top_snap_model(const top_snap *s, const char *name)
{
    for (int i = 0; s && i < s->nmodels; i++)
        if (!strcmp(s->models[i].name, name))
            return &s->models[i];
    return NULL;
}

/* Cumulative count at bound le in h (0 when h lacks it). */
static double cum_at(const top_hist *h, double le)
{
    for (int i = 0; h && i < h->n; i++)
        if (h->le[i] == le)
            return h->cum[i];
    return 0;
}

double top_hist_count(const top_hist *cur, const top_hist *prev)
{
    if (cur->n == 0)
        return 0;
    double inf = cur->le[cur->n - 1];
    return cur->cum[cur->n - 1] - cum_at(prev, inf);
}

double top_hist_quantile(double q, const top_hist *cur, const top_hist *prev)
{
    /* As PromQL's histogram_quantile: find the bucket holding rank q*count,
     * interpolate linearly inside it (lower bound 0 for the first bucket);
     * the +Inf bucket answers the highest finite bound. */
    int n = cur->n;
    if (n < 2 || !isinf(cur->le[n - 1]))
        return NAN;
    double total = top_hist_count(cur, prev);
    if (total <= 0)
        return NAN;
    double rank = q * total;
    double prev_le = 0, prev_c = 0;
    for (int i = 0; i < n; i++) {
        double c = cur->cum[i] - cum_at(prev, cur->le[i]);
        if (c >= rank) {
            if (isinf(cur->le[i]))
                return cur->le[n - 2];
            if (i == 0 && cur->le[0] <= 0)
                return cur->le[0];
            return prev_le + (cur->le[i] - prev_le) * (rank - prev_c) / (c - prev_c);
        }
        prev_le = cur->le[i];
        prev_c = c;
    }
    return cur->le[n - 2];
}
