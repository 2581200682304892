/* Registry construction and the record path. See metrics.h for the contract
 * and exposition.c for the scrape. */
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics_internal.h"

/* LiteLLM's LATENCY_BUCKETS (litellm/types/integrations/prometheus.py). */
static const double latency_buckets[] = {0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0,  1.5,  2.0,   2.5,   3.0,
                                         3.5,   4.0,     4.5,    5.0,   5.5,  6.0, 6.5, 7.0,  7.5,  8.0,   8.5,   9.0,
                                         9.5,   10.0,    15.0,   20.0,  25.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0};
/* prometheus_client Histogram.DEFAULT_BUCKETS. */
static const double default_buckets[] = {.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.5, 5.0, 7.5, 10.0};
/* Tollgate's own: per-token times of local models are 1-100 ms. */
static const double tpot_buckets[] = {0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
                                      0.075, 0.1,    0.15,  0.2,    0.3,  0.5,   1.0,  2.5};
static const double load_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
                                      300.0};
static const double tps_buckets[] = {1.0,  2.5,   5.0,   10.0,  15.0,  20.0,   30.0,   40.0,  50.0, 75.0,
                                     100.0, 150.0, 200.0, 300.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0};

/* Status codes that keep their own label value; others map to "4xx" etc.,
 * 0 and nonsense to "None". Bounded so a misbehaving upstream cannot add
 * series. */
static const int known_status[] = {200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401, 402, 403, 404, 405,
                                   406, 408, 409, 410, 413, 415, 422, 424, 425, 429, 499, 500, 501, 502, 503, 504, 529};
static const char *const status_names[] = {
    "None", "200", "201", "202", "204", "206", "301", "302", "304", "307", "308", "400", "401", "402", "403", "404", "405",
    "406",  "408", "409", "410", "413", "415", "422", "424", "425", "429", "499", "500", "501", "502", "503", "504",
    "529",  "1xx", "2xx", "3xx", "4xx", "5xx"};

double metrics_now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *esc_dup(const char *s)
{
    buf b;
    buf_init(&b);
    promfmt_label_value(&b, s ? s : "None");
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    if (!b.data) /* empty string */
        return strdup("");
    return b.data;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static const char *strip_provider(const char *model, const char *provider, size_t *len)
{
    /* LiteLLM's `model` / `litellm_model_name` labels carry the model after
     * get_llm_provider() took the "<provider>/" prefix off. */
    size_t pl = provider ? strlen(provider) : 0;
    if (pl && strncmp(model, provider, pl) == 0 && model[pl] == '/')
        model += pl + 1;
    *len = strlen(model);
    return model;
}

static int set_buckets(bucket_set *bs, const double *ub, size_t n, char *err, size_t errlen)
{
    bs->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(ub[i]) || (i > 0 && !(ub[i] > ub[i - 1]))) {
            snprintf(err, errlen, "histogram buckets must be strictly increasing numbers (bucket %zu)", i + 1);
            return -1;
        }
        if (isinf(ub[i]) && i + 1 != n) {
            snprintf(err, errlen, "+Inf must be the last histogram bucket");
            return -1;
        }
        if (bs->n + 1 >= METRICS_MAX_BUCKETS && !isinf(ub[i])) {
            snprintf(err, errlen, "at most %d histogram buckets", METRICS_MAX_BUCKETS - 1);
            return -1;
        }
        bs->ub[bs->n++] = ub[i];
    }
    if (bs->n == 0 || !isinf(bs->ub[bs->n - 1]))
        bs->ub[bs->n++] = INFINITY;
    for (size_t i = 0; i < bs->n; i++)
        bs->lelen[i] = (uint8_t)promfmt_float(bs->le[i], bs->ub[i]);
    return 0;
}

static int group_find(const metrics_registry *r, const char *name)
{
    if (!name)
        return -1;
    size_t mask = r->group_idx_cap - 1;
    for (size_t i = str_hash(name) & mask;; i = (i + 1) & mask) {
        uint32_t v = r->group_idx[i];
        if (!v)
            return -1;
        if (strcmp(r->group_raw[v - 1], name) == 0)
            return (int)v - 1;
    }
}

/* The group's index, added (with its hash entry) when new; -1 when out of memory. */
static int group_add(metrics_registry *r, const char *name)
{
    int g = group_find(r, name);
    if (g >= 0)
        return g;
    g = (int)r->ngroups++;
    r->group_raw[g] = strdup(name);
    r->group_esc[g] = esc_dup(name);
    if (!r->group_raw[g] || !r->group_esc[g])
        return -1;
    size_t mask = r->group_idx_cap - 1, j = str_hash(name) & mask;
    while (r->group_idx[j])
        j = (j + 1) & mask;
    r->group_idx[j] = (uint32_t)g + 1;
    return g;
}

/* Two deployments share a series when the labels the projection shows are
 * equal. Compared on the escaped values, which are equal iff the raw are. */
static bool same_proj(const dep_info *a, const dep_info *b, enum proj pj)
{
    switch (pj) {
    case PJ_MODEL:
        return strcmp(a->model, b->model) == 0;
    case PJ_OVH:
        return strcmp(a->group, b->group) == 0 && strcmp(a->provider, b->provider) == 0 &&
               strcmp(a->api_base, b->api_base) == 0 && strcmp(a->model, b->model) == 0;
    case PJ_DEP:
        return strcmp(a->model, b->model) == 0 && strcmp(a->model_id, b->model_id) == 0 &&
               strcmp(a->api_base, b->api_base) == 0 && strcmp(a->provider, b->provider) == 0;
    case PJ_TG:
        return strcmp(a->group, b->group) == 0 && strcmp(a->model, b->model) == 0 &&
               strcmp(a->model_id, b->model_id) == 0 && strcmp(a->api_base, b->api_base) == 0;
    default:
        return true;
    }
}

static metrics_shard *shard_new(metrics_registry *r)
{
    metrics_shard *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->r = r;
    s->idx_cap = 1024;
    s->idx = calloc(s->idx_cap, sizeof *s->idx);
    s->inflight = calloc(r->ndep ? r->ndep : 1, sizeof *s->inflight);
    if (!s->idx || !s->inflight) {
        free(s->idx);
        free((void *)s->inflight);
        free(s);
        return NULL;
    }
    return s;
}

static void shard_free(metrics_shard *s)
{
    if (!s)
        return;
    size_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        free((void *)s->chunks[i / SHARD_CHUNK][i % SHARD_CHUNK].buckets);
    for (size_t c = 0; c < SHARD_MAX_CHUNKS && s->chunks[c]; c++)
        free(s->chunks[c]);
    free(s->idx);
    free((void *)s->inflight);
    free(s);
}

metrics_registry *metrics_new(const metrics_config *cfg, char *err, size_t errlen)
{
    if (!cfg || cfg->nshards < 1 || cfg->nshards > 4096) {
        snprintf(err, errlen, "metrics: nshards must be between 1 and 4096");
        return NULL;
    }
    if (cfg->ndeployments > METRICS_MAX_DEPLOYMENTS || (cfg->ndeployments && !cfg->deployments)) {
        snprintf(err, errlen, "metrics: at most %d deployments", METRICS_MAX_DEPLOYMENTS);
        return NULL;
    }
    for (size_t i = 0; i < cfg->ndeployments; i++) {
        if (!cfg->deployments[i].model_group || !cfg->deployments[i].litellm_model) {
            snprintf(err, errlen, "metrics: deployment %zu has no model_group or model", i + 1);
            return NULL;
        }
    }
    metrics_registry *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "metrics: out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->cls_mu, NULL);
    pthread_mutex_init(&r->ol_mu, NULL);
    pthread_mutex_init(&r->write_mu, NULL);
    r->emit_created = cfg->emit_created;
    r->ndep = cfg->ndeployments;

    const double *lat = cfg->latency_buckets ? cfg->latency_buckets : latency_buckets;
    size_t nlat = cfg->latency_buckets ? cfg->nbuckets : sizeof latency_buckets / sizeof *latency_buckets;
    if (set_buckets(&r->bsets[BS_LATENCY], lat, nlat, err, errlen) < 0)
        goto fail_quiet;
    set_buckets(&r->bsets[BS_DEFAULT], default_buckets, sizeof default_buckets / sizeof *default_buckets, err, errlen);
    set_buckets(&r->bsets[BS_TPOT], tpot_buckets, sizeof tpot_buckets / sizeof *tpot_buckets, err, errlen);
    set_buckets(&r->bsets[BS_LOAD], load_buckets, sizeof load_buckets / sizeof *load_buckets, err, errlen);
    set_buckets(&r->bsets[BS_TPS], tps_buckets, sizeof tps_buckets / sizeof *tps_buckets, err, errlen);

    /* status slots: 0 = "None", then the known codes, then the classes */
    r->nstatus = (unsigned)(sizeof status_names / sizeof *status_names);
    for (unsigned i = 0; i < r->nstatus; i++)
        r->status_str[i] = status_names[i];
    unsigned nknown = (unsigned)(sizeof known_status / sizeof *known_status);
    for (int code = 100; code < 600; code++)
        r->status_slot[code] = (uint8_t)(1 + nknown + (unsigned)(code / 100 - 1));
    for (unsigned i = 0; i < nknown; i++)
        r->status_slot[known_status[i]] = (uint8_t)(1 + i);
    r->cls_raw[CLS_NONE] = strdup("None");
    r->cls_esc[CLS_NONE] = strdup("None");
    r->cls_raw[CLS_OTHER] = strdup("Other");
    r->cls_esc[CLS_OTHER] = strdup("Other");

    r->hashed_key = esc_dup(cfg->hashed_api_key);
    r->alias = esc_dup(cfg->api_key_alias);
    r->user = esc_dup(cfg->user_id);
    if (!r->hashed_key || !r->alias || !r->user || !r->cls_raw[CLS_NONE] || !r->cls_esc[CLS_NONE] ||
        !r->cls_raw[CLS_OTHER] || !r->cls_esc[CLS_OTHER])
        goto fail;

    /* model groups, in config order, and a hash index over them */
    size_t n = r->ndep, ng = n + cfg->nextra_groups;
    r->dep = calloc(n ? n : 1, sizeof *r->dep);
    r->group_raw = calloc(ng + 1, sizeof *r->group_raw);
    r->group_esc = calloc(ng + 1, sizeof *r->group_esc);
    r->group_idx_cap = 16;
    while (r->group_idx_cap < 2 * (ng + 1))
        r->group_idx_cap *= 2;
    r->group_idx = calloc(r->group_idx_cap, sizeof *r->group_idx);
    r->dep_state = calloc(n ? n : 1, sizeof *r->dep_state);
    r->cooled = calloc((n ? n : 1) * NSTATUS_MAX, sizeof *r->cooled);
    r->cooled_created = calloc((n ? n : 1) * NSTATUS_MAX, sizeof *r->cooled_created);
    if (!r->dep || !r->group_raw || !r->group_esc || !r->group_idx || !r->dep_state || !r->cooled ||
        !r->cooled_created)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const metrics_deployment_def *d = &cfg->deployments[i];
        dep_info *di = &r->dep[i];
        atomic_init(&r->dep_state[i], -1);
        int g = group_add(r, d->model_group);
        if (g < 0)
            goto fail;
        di->grp = (unsigned)g;
        size_t ml;
        const char *m = strip_provider(d->litellm_model, d->api_provider, &ml);
        di->group = esc_dup(d->model_group);
        di->model = esc_dup(m);
        di->model_id = esc_dup(d->model_id);
        di->api_base = esc_dup(d->api_base);
        di->provider = esc_dup(d->api_provider);
        if (!di->group || !di->model || !di->model_id || !di->api_base || !di->provider)
            goto fail;
        for (int pj = 0; pj < NPJ; pj++) {
            di->canon[pj] = (uint16_t)i;
            for (size_t j = 0; j < i; j++) {
                if (same_proj(&r->dep[j], di, (enum proj)pj)) {
                    di->canon[pj] = (uint16_t)j;
                    break;
                }
            }
        }
    }
    for (size_t i = 0; i < cfg->nextra_groups; i++)
        if (group_add(r, cfg->extra_groups[i]) < 0)
            goto fail;
    r->group_esc[r->ngroups] = strdup("other");
    if (!r->group_esc[r->ngroups])
        goto fail;

    r->nshards = cfg->nshards;
    r->shards = calloc((size_t)r->nshards, sizeof *r->shards);
    if (!r->shards)
        goto fail;
    for (int i = 0; i < r->nshards; i++)
        if (!(r->shards[i] = shard_new(r)))
            goto fail;
    return r;
fail:
    snprintf(err, errlen, "metrics: out of memory");
fail_quiet:
    metrics_free(r);
    return NULL;
}

void metrics_free(metrics_registry *r)
{
    if (!r)
        return;
    for (int i = 0; r->shards && i < r->nshards; i++)
        shard_free(r->shards[i]);
    free(r->shards);
    for (size_t i = 0; r->dep && i < r->ndep; i++) {
        dep_info *di = &r->dep[i];
        free(di->group);
        free(di->model);
        free(di->model_id);
        free(di->api_base);
        free(di->provider);
    }
    free(r->dep);
    for (size_t i = 0; i <= r->ngroups; i++) {
        if (r->group_raw)
            free(r->group_raw[i]);
        if (r->group_esc)
            free(r->group_esc[i]);
    }
    free(r->group_raw);
    free(r->group_esc);
    free(r->group_idx);
    free((void *)r->dep_state);
    free((void *)r->cooled);
    free((void *)r->cooled_created);
    for (int i = 0; i < NCLS; i++) {
        free(r->cls_raw[i]);
        free(r->cls_esc[i]);
    }
    for (size_t i = 0; i < r->nbases; i++) {
        for (size_t j = 0; j < r->bases[i]->nmodels; j++)
            free(r->bases[i]->models[j].name);
        free(r->bases[i]->base);
        free(r->bases[i]);
    }
    free(r->hashed_key);
    free(r->alias);
    free(r->user);
    pthread_mutex_destroy(&r->cls_mu);
    pthread_mutex_destroy(&r->ol_mu);
    pthread_mutex_destroy(&r->write_mu);
    free(r);
}

metrics_shard *metrics_shard_get(metrics_registry *r, int index)
{
    if (!r || index < 0 || index >= r->nshards)
        return NULL;
    return r->shards[index];
}

/* ---- record path ------------------------------------------------------ */

static inline size_t key_hash(uint64_t k, size_t mask)
{
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 32;
    return (size_t)k & mask;
}

static inline series *series_at(metrics_shard *s, size_t i) { return &s->chunks[i / SHARD_CHUNK][i % SHARD_CHUNK]; }

static bool idx_grow(metrics_shard *s)
{
    size_t ncap = s->idx_cap * 2;
    uint32_t *nidx = calloc(ncap, sizeof *nidx);
    if (!nidx)
        return false;
    size_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        size_t j = key_hash(series_at(s, i)->key, ncap - 1);
        while (nidx[j])
            j = (j + 1) & (ncap - 1);
        nidx[j] = (uint32_t)i + 1;
    }
    free(s->idx);
    s->idx = nidx;
    s->idx_cap = ncap;
    return true;
}

/* Finds or creates the series for key. Creation fills the series in and
 * then publishes it with a release store of n, so the scraper never sees a
 * half-made series. NULL only when memory or the series cap runs out. */
static series *get_series(metrics_shard *s, uint64_t key, enum bset bs)
{
    size_t mask = s->idx_cap - 1;
    size_t j = key_hash(key, mask);
    for (;; j = (j + 1) & mask) {
        uint32_t v = s->idx[j];
        if (!v)
            break;
        series *x = series_at(s, v - 1);
        if (x->key == key)
            return x;
    }
    size_t n = atomic_load_explicit(&s->n, memory_order_relaxed);
    if (n / SHARD_CHUNK >= SHARD_MAX_CHUNKS)
        return NULL;
    if ((n + 1) * 2 > s->idx_cap) {
        if (!idx_grow(s))
            return NULL;
        return get_series(s, key, bs);
    }
    if (!s->chunks[n / SHARD_CHUNK] && !(s->chunks[n / SHARD_CHUNK] = calloc(SHARD_CHUNK, sizeof(series))))
        return NULL;
    series *x = series_at(s, n);
    x->key = key;
    x->created = metrics_now_unix();
    atomic_init(&x->value, 0.0);
    if (bs != BS_NONE) {
        x->buckets = calloc(s->r->bsets[bs].n, sizeof *x->buckets);
        if (!x->buckets)
            return NULL;
    }
    s->idx[j] = (uint32_t)n + 1;
    atomic_store_explicit(&s->n, n + 1, memory_order_release);
    return x;
}

/* Single writer per shard: a relaxed load and store, no read-modify-write. */
static inline void add_relaxed(_Atomic double *p, double v)
{
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + v, memory_order_relaxed);
}

static void counter_add(metrics_shard *s, uint64_t key, double v)
{
    series *x = get_series(s, key, BS_NONE);
    if (x)
        add_relaxed(&x->value, v);
}

static void gauge_set(metrics_shard *s, uint64_t key, double v)
{
    series *x = get_series(s, key, BS_NONE);
    if (x)
        atomic_store_explicit(&x->value, v, memory_order_relaxed);
}

static void observe(metrics_shard *s, uint64_t key, double v)
{
    enum bset bs = metrics_fams[KEY_FAM(key)].bs;
    series *x = get_series(s, key, bs);
    if (!x)
        return;
    const bucket_set *b = &s->r->bsets[bs];
    /* first bound >= v, like bisect_left in prometheus_client */
    size_t lo = 0, hi = b->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->ub[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    _Atomic uint64_t *c = &x->buckets[lo];
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
    add_relaxed(&x->value, v);
}

static unsigned status_slot(const metrics_registry *r, int code)
{
    if (code < 100 || code >= 600)
        return ST_NONE;
    return r->status_slot[code];
}

static unsigned cls_intern(metrics_registry *r, const char *c)
{
    unsigned n = atomic_load_explicit(&r->ncls, memory_order_acquire);
    for (unsigned i = 1; i <= n; i++)
        if (strcmp(r->cls_raw[i], c) == 0)
            return i;
    if (n >= METRICS_MAX_EXCEPTION_CLASSES)
        return CLS_OTHER;
    /* Slow path, once per distinct class for the life of the process. */
    pthread_mutex_lock(&r->cls_mu);
    unsigned slot = CLS_OTHER;
    n = atomic_load_explicit(&r->ncls, memory_order_relaxed);
    for (unsigned i = 1; i <= n; i++) {
        if (strcmp(r->cls_raw[i], c) == 0) {
            slot = i;
            goto out;
        }
    }
    if (n < METRICS_MAX_EXCEPTION_CLASSES) {
        char *raw = strdup(c), *esc = esc_dup(c);
        if (raw && esc) {
            slot = n + 1;
            r->cls_raw[slot] = raw;
            r->cls_esc[slot] = esc;
            atomic_store_explicit(&r->ncls, slot, memory_order_release);
        } else {
            free(raw);
            free(esc);
        }
    }
out:
    pthread_mutex_unlock(&r->cls_mu);
    return slot;
}

static unsigned cls_slot(metrics_shard *s, const char *c)
{
    if (!c)
        return CLS_NONE;
    unsigned h = (unsigned)(((uintptr_t)c >> 3) & 31);
    /* The cache is keyed by pointer (callers pass static strings) and
     * checked by content, so a reused buffer cannot pick a wrong label. */
    if (s->cls_cache[h].ptr == c && s->cls_cache[h].slot != CLS_OTHER &&
        strcmp(s->r->cls_raw[s->cls_cache[h].slot], c) == 0)
        return s->cls_cache[h].slot;
    unsigned slot = cls_intern(s->r, c);
    s->cls_cache[h].ptr = c;
    s->cls_cache[h].slot = slot;
    return slot;
}

static unsigned req_group(const metrics_registry *r, const char *requested)
{
    int g = group_find(r, requested);
    return g < 0 ? (unsigned)r->ngroups : (unsigned)g;
}

static inline double secs(int64_t ns) { return (double)ns / 1e9; }

static void record_success_tollgate(metrics_shard *s, const metrics_request *q, unsigned tg)
{
    counter_add(s, mkey(F_TG_USAGE_SOURCE, tg, 0, 0, q->tokens_exact ? 0 : 1, 0), 1);
    if (q->stream && q->t_first_token && q->t_end > q->t_first_token && q->completion_tokens > 1)
        observe(s, mkey(F_TG_TPOT, tg, 0, 0, 0, 0),
                secs(q->t_end - q->t_first_token) / (double)(q->completion_tokens - 1));
    if (q->load_ns > 0)
        observe(s, mkey(F_TG_LOAD, tg, 0, 0, 0, 0), secs(q->load_ns));
    if (q->prompt_eval_ns > 0) {
        observe(s, mkey(F_TG_PROMPT_EVAL, tg, 0, 0, 0, 0), secs(q->prompt_eval_ns));
        if (q->prompt_tokens > 0)
            observe(s, mkey(F_TG_PROMPT_TPS, tg, 0, 0, 0, 0), (double)q->prompt_tokens / secs(q->prompt_eval_ns));
    }
    if (q->eval_ns > 0) {
        observe(s, mkey(F_TG_EVAL, tg, 0, 0, 0, 0), secs(q->eval_ns));
        if (q->completion_tokens > 0)
            observe(s, mkey(F_TG_EVAL_TPS, tg, 0, 0, 0, 0), (double)q->completion_tokens / secs(q->eval_ns));
    }
    if (q->total_ns > 0 && q->t_upstream_sent && q->t_end > q->t_upstream_sent) {
        int64_t wait = (q->t_end - q->t_upstream_sent) - q->total_ns;
        observe(s, mkey(F_TG_QUEUE, tg, 0, 0, 0, 0), wait > 0 ? secs(wait) : 0.0);
    }
}

void metrics_record(metrics_shard *s, const metrics_request *q)
{
    if (!s || !q)
        return;
    metrics_registry *r = s->r;
    unsigned grp = req_group(r, q->requested_model);
    unsigned route = (unsigned)q->route < NROUTES ? (unsigned)q->route : MR_OTHER;
    int d = q->deployment >= 0 && (size_t)q->deployment < r->ndep ? q->deployment : -1;

    if (q->client_disconnected)
        counter_add(s, mkey(F_TG_DISCONNECT, KEY_NONE16, grp, route, 0, 0), 1);

    if (q->exception_class || q->status >= 400) {
        /* LiteLLM labels both status_code and exception_status with
         * str(exception.status_code). */
        unsigned st = status_slot(r, q->exception_status);
        unsigned cls = cls_slot(s, q->exception_class);
        counter_add(s, mkey(F_PROXY_FAILED, KEY_NONE16, grp, route, st, cls), 1);
        counter_add(s, mkey(F_PROXY_TOTAL, KEY_NONE16, grp, route, st, 0), 1);
        return;
    }
    counter_add(s, mkey(F_PROXY_TOTAL, KEY_NONE16, grp, route, status_slot(r, q->status ? q->status : 200), 0), 1);
    if (d < 0)
        return;
    const dep_info *di = &r->dep[d];
    unsigned md = di->canon[PJ_MODEL];
    counter_add(s, mkey(F_INPUT_TOK, md, grp, 0, 0, 0), (double)q->prompt_tokens);
    counter_add(s, mkey(F_OUTPUT_TOK, md, grp, 0, 0, 0), (double)q->completion_tokens);
    counter_add(s, mkey(F_TOTAL_TOK, md, grp, 0, 0, 0), (double)(q->prompt_tokens + q->completion_tokens));
    counter_add(s, mkey(F_SPEND, md, KEY_NONE16, 0, 0, 0), q->cost_usd > 0 ? q->cost_usd : 0.0);
    counter_add(s, mkey(F_REQUESTS, md, KEY_NONE16, 0, 0, 0), 1);
    /* No per-key limits exist: LiteLLM then sets sys.maxsize. */
    gauge_set(s, mkey(F_KEY_REMAIN_REQ, KEY_NONE16, grp, 0, 0, 0), METRICS_SYS_MAXSIZE);
    gauge_set(s, mkey(F_KEY_REMAIN_TOK, KEY_NONE16, grp, 0, 0, 0), METRICS_SYS_MAXSIZE);
    observe(s, mkey(F_QUEUE_TIME, md, grp, 0, 0, 0), q->queue_ns > 0 ? secs(q->queue_ns) : 0.0);
    if (q->t_start && q->t_end >= q->t_start)
        observe(s, mkey(F_REQ_LAT, md, grp, 0, 0, 0), secs(q->t_end - q->t_start));
    if (q->t_upstream_sent && q->t_end >= q->t_upstream_sent)
        observe(s, mkey(F_API_LAT, md, grp, 0, 0, 0), secs(q->t_end - q->t_upstream_sent));
    if (q->stream && q->t_first_token && q->t_upstream_sent && q->t_first_token >= q->t_upstream_sent)
        observe(s, mkey(F_TTFT, md, KEY_NONE16, 0, 0, 0), secs(q->t_first_token - q->t_upstream_sent));
    /* LiteLLM observes overhead only when it is non-zero ("truthy"). */
    if (q->t_start && q->t_upstream_sent > q->t_start) {
        /* No guardrails here, so both overhead families see the same value. */
        observe(s, mkey(F_OVERHEAD, di->canon[PJ_OVH], KEY_NONE16, 0, 0, 0), secs(q->t_upstream_sent - q->t_start));
        observe(s, mkey(F_OVERHEAD_GR, di->canon[PJ_OVH], KEY_NONE16, 0, 0, 0),
                secs(q->t_upstream_sent - q->t_start));
    }
    if (q->completion_tokens > 0 && q->t_start) {
        /* LiteLLM's definition: streams use time to first token, from the
         * request start, divided by all output tokens. */
        int64_t until = q->stream && q->t_first_token ? q->t_first_token : q->t_end;
        if (until >= q->t_start)
            observe(s, mkey(F_LAT_PER_TOK, di->canon[PJ_DEP], KEY_NONE16, 0, 0, 0),
                    secs(until - q->t_start) / (double)q->completion_tokens);
    }
    record_success_tollgate(s, q, di->canon[PJ_TG]);
}

void metrics_record_ollama_api(metrics_shard *s, metrics_api_route route, int status, int64_t duration_ns)
{
    if (!s)
        return;
    unsigned rt = (unsigned)route < MA_COUNT ? (unsigned)route : MA_OTHER;
    counter_add(s, mkey(F_TG_API_REQ, KEY_NONE16, KEY_NONE16, rt, status_slot(s->r, status), 0), 1);
    observe(s, mkey(F_TG_API_LAT, KEY_NONE16, KEY_NONE16, rt, 0, 0), duration_ns > 0 ? secs(duration_ns) : 0.0);
}

void metrics_record_attempt(metrics_shard *s, const metrics_attempt *a)
{
    if (!s || !a)
        return;
    metrics_registry *r = s->r;
    if (a->deployment < 0 || (size_t)a->deployment >= r->ndep)
        return;
    const dep_info *di = &r->dep[a->deployment];
    unsigned grp = a->requested_model ? req_group(r, a->requested_model) : di->grp;
    unsigned dc = di->canon[PJ_DEP];
    if (a->exception_class || a->status == 0 || a->status >= 400) {
        counter_add(s, mkey(F_DEP_FAIL, dc, grp, 0, status_slot(r, a->status), cls_slot(s, a->exception_class)), 1);
        counter_add(s, mkey(F_LLM_API_FAILED, di->canon[PJ_MODEL], KEY_NONE16, 0, 0, 0), 1);
        atomic_store_explicit(&r->dep_state[dc], 1, memory_order_relaxed);
    } else {
        counter_add(s, mkey(F_DEP_SUCC, dc, grp, 0, 0, 0), 1);
        atomic_store_explicit(&r->dep_state[dc], 0, memory_order_relaxed);
    }
    counter_add(s, mkey(F_DEP_TOTAL, dc, grp, 0, 0, 0), 1);
}

void metrics_record_fallback(metrics_shard *s, const char *requested_model, const char *fallback_model, bool ok,
                             int exception_status, const char *exception_class)
{
    if (!s)
        return;
    metrics_registry *r = s->r;
    unsigned from = req_group(r, requested_model), to = req_group(r, fallback_model);
    counter_add(s,
                mkey(ok ? F_FALLBACK_OK : F_FALLBACK_FAIL, to, from, 0, status_slot(r, exception_status),
                     cls_slot(s, exception_class)),
                1);
}

void metrics_in_flight_add(metrics_registry *r, int delta)
{
    if (r)
        atomic_fetch_add_explicit(&r->http_in_flight, delta, memory_order_relaxed);
}

void metrics_deployment_cooldown(metrics_registry *r, int deployment, int exception_status)
{
    if (!r || deployment < 0 || (size_t)deployment >= r->ndep)
        return;
    unsigned dc = r->dep[deployment].canon[PJ_DEP];
    size_t i = (size_t)dc * NSTATUS_MAX + status_slot(r, exception_status);
    atomic_store_explicit(&r->dep_state[dc], 2, memory_order_relaxed);
    /* Any thread may call this, and cooldowns are rare: a real RMW. */
    if (atomic_fetch_add_explicit(&r->cooled[i], 1, memory_order_relaxed) == 0)
        atomic_store_explicit(&r->cooled_created[i], metrics_now_unix(), memory_order_relaxed);
}

void metrics_inflight_add(metrics_shard *s, int deployment, int delta)
{
    if (!s || deployment < 0 || (size_t)deployment >= s->r->ndep)
        return;
    _Atomic int64_t *p = &s->inflight[deployment];
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + delta, memory_order_relaxed);
}

void metrics_set_ollama_state(metrics_registry *r, const char *api_base, bool up, const metrics_loaded_model *models,
                              size_t n)
{
    if (!r || !api_base)
        return;
    char *esc = esc_dup(api_base);
    if (!esc)
        return;
    pthread_mutex_lock(&r->ol_mu);
    ol_base *b = NULL;
    for (size_t i = 0; i < r->nbases; i++) {
        if (strcmp(r->bases[i]->base, esc) == 0) {
            b = r->bases[i];
            break;
        }
    }
    if (!b) {
        if (r->nbases >= METRICS_MAX_OLLAMA_BASES || !(b = calloc(1, sizeof *b)))
            goto out;
        b->base = esc;
        esc = NULL;
        r->bases[r->nbases++] = b;
    }
    b->up = up;
    for (size_t j = 0; j < b->nmodels; j++)
        free(b->models[j].name);
    r->nolmodels -= b->nmodels;
    b->nmodels = 0;
    for (size_t j = 0; j < n && models && r->nolmodels < METRICS_MAX_OLLAMA_MODELS; j++) {
        ol_model *m = &b->models[b->nmodels];
        if (!models[j].name || !(m->name = esc_dup(models[j].name)))
            continue;
        m->size = (double)models[j].size;
        m->vram = (double)models[j].size_vram;
        m->expires = (double)models[j].expires_at;
        b->nmodels++;
        r->nolmodels++;
    }
out:
    pthread_mutex_unlock(&r->ol_mu);
    free(esc);
}

/* Kept here so both translation units agree on the compile-time check. */
_Static_assert(sizeof status_names / sizeof *status_names <= NSTATUS_MAX, "status table too big");
_Static_assert(sizeof known_status / sizeof *known_status + 6 == sizeof status_names / sizeof *status_names,
               "status names must match the known codes");
_Static_assert(NFAM < 64, "family id must fit in 6 bits");
_Static_assert(NCLS < 256, "class slot must fit in 8 bits");
