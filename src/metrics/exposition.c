/* The scrape: merge every shard's series by key, add the registry-level
 * series, sort, and write text format 0.0.4 the way prometheus_client's
 * generate_latest does (HELP/TYPE per family even without samples, counter
 * names with _total, label names sorted, `le` among them, buckets then
 * _count then _sum, Python float formatting). */
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "metrics/metrics_internal.h"

#define ROUTE_NAME(e, s) s,
static const char *const route_names[NROUTES] = {METRICS_ROUTES(ROUTE_NAME)};
#undef ROUTE_NAME

const char *metrics_route_name(metrics_route r)
{
    return route_names[(unsigned)r < NROUTES ? (unsigned)r : MR_OTHER];
}

#define API_ROUTE_NAME(e, s) s,
static const char *const api_route_names[MA_COUNT] = {METRICS_API_ROUTES(API_ROUTE_NAME)};
#undef API_ROUTE_NAME

const char *metrics_api_route_name(metrics_api_route r)
{
    return api_route_names[(unsigned)r < MA_COUNT ? (unsigned)r : MA_OTHER];
}

typedef struct {
    uint64_t key;
    double value;
    double created; /* 0 = unknown */
    uint64_t *b;    /* histogram buckets, non-cumulative */
} merged;

typedef struct {
    merged *m;
    size_t n, cap;
    uint32_t *idx; /* index + 1 */
    size_t idx_cap;
    uint64_t *arena;
    size_t arena_used, arena_cap;
} merge_set;

static size_t mhash(uint64_t k, size_t mask)
{
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 32;
    return (size_t)k & mask;
}

/* Capacity is fixed up front (the caller counts), so no growth here. */
static merged *merge_get(merge_set *ms, uint64_t key, size_t nb)
{
    size_t mask = ms->idx_cap - 1;
    size_t j = mhash(key, mask);
    for (; ms->idx[j]; j = (j + 1) & mask)
        if (ms->m[ms->idx[j] - 1].key == key)
            return &ms->m[ms->idx[j] - 1];
    if (ms->n >= ms->cap || ms->arena_used + nb > ms->arena_cap)
        return NULL;
    merged *e = &ms->m[ms->n];
    e->key = key;
    e->value = 0;
    e->created = 0;
    e->b = nb ? ms->arena + ms->arena_used : NULL;
    ms->arena_used += nb;
    ms->idx[j] = (uint32_t)++ms->n;
    return e;
}

static void merge_created(merged *e, double c)
{
    if (c > 0 && (e->created == 0 || c < e->created))
        e->created = c;
}

static int cmp_merged(const void *a, const void *b)
{
    uint64_t x = ((const merged *)a)->key, y = ((const merged *)b)->key;
    return x < y ? -1 : x > y;
}

static const char *label_value(const metrics_registry *r, enum lk k, uint64_t key)
{
    unsigned d = KEY_DEP(key);
    const dep_info *di = d < r->ndep ? &r->dep[d] : NULL;
    switch (k) {
    case LK_HASHED_KEY:
        return r->hashed_key;
    case LK_ALIAS:
        return r->alias;
    case LK_USER:
        return r->user;
    case LK_REQUESTED_MODEL:
        return KEY_GRP(key) <= r->ngroups ? r->group_esc[KEY_GRP(key)] : "None";
    case LK_MODEL:
    case LK_LITELLM_MODEL_NAME:
        return di ? di->model : "None";
    case LK_MODEL_ID:
        return di ? di->model_id : "None";
    case LK_API_BASE:
        return di ? di->api_base : "None";
    case LK_API_PROVIDER:
        return di ? di->provider : "None";
    case LK_MODEL_GROUP:
        return di ? di->group : "None";
    case LK_GROUP_AS_MODEL:
        return KEY_GRP(key) <= r->ngroups ? r->group_esc[KEY_GRP(key)] : "None";
    case LK_FALLBACK_MODEL:
        return KEY_DEP(key) <= r->ngroups ? r->group_esc[KEY_DEP(key)] : "None";
    case LK_ROUTE:
        return metrics_route_name((metrics_route)KEY_ROUTE(key));
    case LK_API_ROUTE:
        return metrics_api_route_name((metrics_api_route)KEY_ROUTE(key));
    case LK_STATUS_CODE:
    case LK_EXC_STATUS:
        return KEY_ST(key) < r->nstatus ? r->status_str[KEY_ST(key)] : "None";
    case LK_EXC_CLASS:
        return KEY_CLS(key) < NCLS && r->cls_esc[KEY_CLS(key)] ? r->cls_esc[KEY_CLS(key)] : "None";
    case LK_SOURCE:
        return KEY_ST(key) ? "estimated" : "backend";
    default: /* end_user, team, team_alias, user_email: never known here */
        return "None";
    }
}

static void sorted_labels(const fam_def *f, enum lk *out, int *n)
{
    int k = 0;
    for (int i = 0; i < f->nlabels; i++)
        out[k++] = f->labels[i];
    if (f->type == FT_HISTOGRAM)
        out[k++] = LK_LE;
    for (int i = 1; i < k; i++) {
        enum lk v = out[i];
        int j = i - 1;
        while (j >= 0 && strcmp(metrics_label_names[out[j]], metrics_label_names[v]) > 0) {
            out[j + 1] = out[j];
            j--;
        }
        out[j + 1] = v;
    }
    *n = k;
}

static void put_label(buf *b, const char *name, const char *val)
{
    if (b->len)
        buf_putc(b, ',');
    buf_puts(b, name);
    buf_append(b, "=\"", 2);
    buf_puts(b, val);
    buf_putc(b, '"');
}

static void put_num(buf *out, double v)
{
    char tmp[PROMFMT_FLOAT_MAX];
    size_t n = promfmt_float(tmp, v);
    buf_append(out, tmp, n);
}

static void put_sample(buf *out, const char *name, const char *suffix, const buf *pre, const buf *post, double v)
{
    buf_puts(out, name);
    buf_puts(out, suffix);
    if (pre->len || post->len) {
        buf_putc(out, '{');
        buf_append(out, pre->data, pre->len);
        if (pre->len && post->len)
            buf_putc(out, ',');
        buf_append(out, post->data, post->len);
        buf_putc(out, '}');
    }
    buf_putc(out, ' ');
    put_num(out, v);
    buf_putc(out, '\n');
}

static void put_header(buf *out, const char *name, const char *suffix, const char *help, const char *type)
{
    buf_append(out, "# HELP ", 7);
    buf_puts(out, name);
    buf_puts(out, suffix);
    buf_putc(out, ' ');
    promfmt_help(out, help);
    buf_append(out, "\n# TYPE ", 8);
    buf_puts(out, name);
    buf_puts(out, suffix);
    buf_putc(out, ' ');
    buf_puts(out, type);
    buf_putc(out, '\n');
}

static void render_family(const metrics_registry *r, enum fam f, const merged *e, size_t n, buf *out, buf *pre,
                          buf *post, buf *created)
{
    const fam_def *fd = &metrics_fams[f];
    static const char *const tnames[] = {"counter", "gauge", "histogram"};
    put_header(out, fd->name, fd->type == FT_COUNTER ? "_total" : "", fd->help, tnames[fd->type]);
    enum lk labels[FAM_MAX_LABELS + 1];
    int nl;
    sorted_labels(fd, labels, &nl);
    const bucket_set *bs = &r->bsets[fd->bs];
    buf_reset(created);
    for (size_t i = 0; i < n; i++) {
        buf_reset(pre);
        buf_reset(post);
        buf *t = pre;
        for (int k = 0; k < nl; k++) {
            if (labels[k] == LK_LE) {
                t = post;
                continue;
            }
            put_label(t, metrics_label_names[labels[k]], label_value(r, labels[k], e[i].key));
        }
        if (fd->type != FT_HISTOGRAM) {
            put_sample(out, fd->name, fd->type == FT_COUNTER ? "_total" : "", pre, post, e[i].value);
        } else {
            uint64_t cum = 0;
            /* The hot loop of a scrape (one line per bucket): reserve
             * the whole line once and copy the parts in place. */
            size_t namelen = strlen(fd->name);
            for (size_t bi = 0; bi < bs->n; bi++) {
                cum += e[i].b[bi];
                char num[PROMFMT_FLOAT_MAX];
                size_t nn = promfmt_uint(num, cum);
                size_t need = namelen + 8 + pre->len + 1 + 4 + bs->lelen[bi] + 1 + 1 + post->len + 2 + nn + 1;
                if (!buf_reserve(out, need))
                    return;
                char *p = out->data + out->len;
                memcpy(p, fd->name, namelen);
                p += namelen;
                memcpy(p, "_bucket{", 8);
                p += 8;
                if (pre->len) {
                    memcpy(p, pre->data, pre->len);
                    p += pre->len;
                    *p++ = ',';
                }
                memcpy(p, "le=\"", 4);
                p += 4;
                memcpy(p, bs->le[bi], bs->lelen[bi]);
                p += bs->lelen[bi];
                *p++ = '"';
                if (post->len) {
                    *p++ = ',';
                    memcpy(p, post->data, post->len);
                    p += post->len;
                }
                *p++ = '}';
                *p++ = ' ';
                memcpy(p, num, nn);
                p += nn;
                *p++ = '\n';
                *p = '\0';
                out->len = (size_t)(p - out->data);
            }
            put_sample(out, fd->name, "_count", pre, post, (double)cum);
            put_sample(out, fd->name, "_sum", pre, post, e[i].value);
        }
        if (r->emit_created && fd->type != FT_GAUGE)
            put_sample(created, fd->name, "_created", pre, post, e[i].created);
    }
    if (created->len) {
        put_header(out, fd->name, "_created", fd->help, "gauge");
        buf_append(out, created->data, created->len);
    }
}

static void render_ollama(metrics_registry *r, buf *out, buf *pre, buf *post)
{
    pthread_mutex_lock(&r->ol_mu);
    buf_reset(post);
    for (enum fam f = F_OL_UP; f <= F_OL_EXPIRES; f++) {
        const fam_def *fd = &metrics_fams[f];
        put_header(out, fd->name, "", fd->help, "gauge");
        for (size_t i = 0; i < r->nbases; i++) {
            const ol_base *b = r->bases[i];
            if (f == F_OL_UP || f == F_OL_LOADED) {
                buf_reset(pre);
                put_label(pre, "api_base", b->base);
                put_sample(out, fd->name, "", pre, post, f == F_OL_UP ? (b->up ? 1 : 0) : (double)b->nmodels);
                continue;
            }
            for (size_t j = 0; j < b->nmodels; j++) {
                const ol_model *m = &b->models[j];
                double v = f == F_OL_SIZE ? m->size : f == F_OL_VRAM ? m->vram : m->expires;
                if (f == F_OL_EXPIRES && v == 0)
                    continue;
                buf_reset(pre);
                put_label(pre, "api_base", b->base);
                put_label(pre, "model", m->name);
                put_sample(out, fd->name, "", pre, post, v);
            }
        }
    }
    pthread_mutex_unlock(&r->ol_mu);
}

/* Loads every shard's series once (n with acquire, values relaxed) and
 * sums them per key; shard-level gauges and registry-level series join in. */
static int merge_all(metrics_registry *r, merge_set *ms)
{
    size_t nser = 0, nbuck = 0;
    size_t *counts = calloc((size_t)r->nshards, sizeof *counts);
    if (!counts)
        return -1;
    for (int si = 0; si < r->nshards; si++) {
        metrics_shard *s = r->shards[si];
        counts[si] = atomic_load_explicit(&s->n, memory_order_acquire);
        for (size_t i = 0; i < counts[si]; i++) {
            const series *x = &s->chunks[i / SHARD_CHUNK][i % SHARD_CHUNK];
            nser++;
            nbuck += r->bsets[metrics_fams[KEY_FAM(x->key)].bs].n * (x->buckets != NULL);
        }
    }
    nser += r->ndep * (2 + NSTATUS_MAX) + 1;
    ms->cap = nser;
    ms->idx_cap = 64;
    while (ms->idx_cap < 2 * nser)
        ms->idx_cap *= 2;
    ms->m = malloc(nser * sizeof *ms->m);
    ms->idx = calloc(ms->idx_cap, sizeof *ms->idx);
    ms->arena_cap = nbuck;
    ms->arena = calloc(nbuck ? nbuck : 1, sizeof *ms->arena);
    if (!ms->m || !ms->idx || !ms->arena) {
        free(counts);
        return -1;
    }
    for (int si = 0; si < r->nshards; si++) {
        metrics_shard *s = r->shards[si];
        for (size_t i = 0; i < counts[si]; i++) {
            series *x = &s->chunks[i / SHARD_CHUNK][i % SHARD_CHUNK];
            size_t nb = x->buckets ? r->bsets[metrics_fams[KEY_FAM(x->key)].bs].n : 0;
            merged *e = merge_get(ms, x->key, nb);
            if (!e)
                continue;
            double v = atomic_load_explicit(&x->value, memory_order_relaxed);
            /* Shard gauges are set, not added (the same value on each shard). */
            if (metrics_fams[KEY_FAM(x->key)].type == FT_GAUGE)
                e->value = v > e->value ? v : e->value;
            else
                e->value += v;
            for (size_t b = 0; b < nb; b++)
                e->b[b] += atomic_load_explicit(&x->buckets[b], memory_order_relaxed);
            merge_created(e, x->created);
        }
    }
    free(counts);
    merged *fl = merge_get(ms, mkey(F_IN_FLIGHT, 0, 0, 0, 0, 0), 0);
    if (fl)
        fl->value = (double)atomic_load_explicit(&r->http_in_flight, memory_order_relaxed);
    for (size_t d = 0; d < r->ndep; d++) {
        const dep_info *di = &r->dep[d];
        double inflight = 0;
        for (int si = 0; si < r->nshards; si++)
            inflight += (double)atomic_load_explicit(&r->shards[si]->inflight[d], memory_order_relaxed);
        merged *e = merge_get(ms, mkey(F_TG_INFLIGHT, di->canon[PJ_TG], 0, 0, 0, 0), 0);
        if (e)
            e->value += inflight;
        if (di->canon[PJ_DEP] != d)
            continue;
        int st = atomic_load_explicit(&r->dep_state[d], memory_order_relaxed);
        if (st >= 0 && (e = merge_get(ms, mkey(F_DEP_STATE, (unsigned)d, 0, 0, 0, 0), 0)))
            e->value = st;
        for (unsigned k = 0; k < NSTATUS_MAX; k++) {
            uint64_t c = atomic_load_explicit(&r->cooled[d * NSTATUS_MAX + k], memory_order_relaxed);
            if (c && (e = merge_get(ms, mkey(F_COOLED, (unsigned)d, 0, 0, k, 0), 0))) {
                e->value = (double)c;
                merge_created(e, atomic_load_explicit(&r->cooled_created[d * NSTATUS_MAX + k], memory_order_relaxed));
            }
        }
    }
    return 0;
}

void metrics_write(metrics_registry *r, buf *out)
{
    if (!r || !out)
        return;
    pthread_mutex_lock(&r->write_mu);
    merge_set ms = {0};
    buf pre, post, created;
    buf_init(&pre);
    buf_init(&post);
    buf_init(&created);
    if (merge_all(r, &ms) < 0) {
        out->oom = true;
        goto out;
    }
    qsort(ms.m, ms.n, sizeof *ms.m, cmp_merged);
    size_t i = 0;
    for (enum fam f = 0; f < F_OL_UP; f++) {
        size_t start = i;
        while (i < ms.n && KEY_FAM(ms.m[i].key) == f)
            i++;
        render_family(r, f, ms.m + start, i - start, out, &pre, &post, &created);
    }
    render_ollama(r, out, &pre, &post);
out:
    free(ms.m);
    free(ms.idx);
    free(ms.arena);
    buf_free(&pre);
    buf_free(&post);
    buf_free(&created);
    pthread_mutex_unlock(&r->write_mu);
}

void metrics_write_otel(buf *out, uint64_t dropped_spans)
{
    static const char name[] = "tollgate_otel_dropped_spans";
    put_header(out, name, "_total",
               "OpenTelemetry spans dropped instead of exported (queue full, collector down or refusing, "
               "unsent at shutdown)",
               "counter");
    char tmp[PROMFMT_FLOAT_MAX];
    buf_puts(out, name);
    buf_puts(out, "_total ");
    buf_append(out, tmp, promfmt_uint(tmp, dropped_spans));
    buf_putc(out, '\n');
}
