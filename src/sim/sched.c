#include "sim/sched.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "sim/gen.h"

enum { M_UNLOADED, M_LOADING, M_LOADED };

typedef struct {
    int state;
    int64_t ready_at;    /* monotonic, while loading */
    int64_t expires_at;  /* monotonic, when idle; INT64_MAX = forever */
    int64_t expires_wall_sec; /* wall clock of expires_at, for /api/ps */
    long expires_wall_nsec;
    bool expires_set;
    int64_t keep_alive;
    int parallel, busy;
    int refs;            /* holding + waiting: a model with refs never expires */
    int load_waiters;
    sim_wait *head, *tail;
} model_rt;

struct sim_sched {
    sim_sched_cfg cfg;
    pthread_mutex_t mu;
    int n;
    sim_model_info *info;
    model_rt *rt;
    int64_t loader_free_at; /* one load at a time */
    int load_waiters;       /* across models, bounded by max_queue */
};

void sim_model_normalize(const char *name, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return;
    /* A ':' after the last '/' is a tag separator. */
    bool tagged = false;
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '/')
            break;
        if (name[i - 1] == ':') {
            tagged = true;
            break;
        }
    }
    snprintf(out, cap, "%.*s%s", (int)len, name, tagged ? "" : ":latest");
}

typedef struct {
    const char *prefix, *family;
    int embed_dim;
    bool embedding;
} family_rule;

static const family_rule rules[] = {
    {"nomic-embed", "nomic-bert", 768, true}, {"all-minilm", "bert", 384, true},  {"mxbai-embed", "bert", 1024, true},
    {"bge", "bert", 1024, true},             {"llama", "llama", 3072, false},    {"gemma3", "gemma3", 1152, false},
    {"gemma", "gemma", 2048, false},         {"qwen3", "qwen3", 1024, false},    {"qwen", "qwen2", 896, false},
};

static void describe(sim_model_info *mi, int index, int64_t now_sec)
{
    const family_rule *r = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0] && !r; i++)
        if (!strncasecmp(mi->name, rules[i].prefix, strlen(rules[i].prefix)))
            r = &rules[i];
    mi->embedding = r ? r->embedding : (strstr(mi->name, "embed") != NULL);
    mi->embed_dim = r ? r->embed_dim : 1024;
    if (r) {
        snprintf(mi->family, sizeof mi->family, "%s", r->family);
    } else {
        size_t k = 0;
        while (mi->name[k] && isalpha((unsigned char)mi->name[k]) && k + 1 < sizeof mi->family) {
            mi->family[k] = (char)tolower((unsigned char)mi->name[k]);
            k++;
        }
        mi->family[k] = '\0';
        if (!k)
            snprintf(mi->family, sizeof mi->family, "llama");
    }
    /* Parameter size from a tag such as "3b" or "0.5b"; else a default. */
    const char *tag = strrchr(mi->name, ':');
    double params = mi->embedding ? 137e6 : 3.2e9;
    if (tag) {
        char *end;
        double v = strtod(tag + 1, &end);
        if (end != tag + 1 && v > 0 && (*end == 'b' || *end == 'B') && end[1] == '\0')
            params = v * 1e9;
        else if (end != tag + 1 && v > 0 && (*end == 'm' || *end == 'M') && end[1] == '\0')
            params = v * 1e6;
    }
    if (params >= 1e9)
        snprintf(mi->param_size, sizeof mi->param_size, "%.*fB", params < 10e9 && params != (int64_t)(params / 1e9) * 1e9 ? 1 : 0, params / 1e9);
    else
        snprintf(mi->param_size, sizeof mi->param_size, "%.0fM", params / 1e6);
    snprintf(mi->quant, sizeof mi->quant, "%s", mi->embedding ? "F16" : "Q4_K_M");
    /* Q4_K_M is ~4.85 bits per weight; F16 is 2 bytes. */
    mi->size = mi->embedding ? (int64_t)(params * 2) : (int64_t)(params * 0.606);
    uint64_t h = sim_hash(SIM_HASH_INIT, mi->name, strlen(mi->name));
    for (int i = 0; i < 4; i++) {
        h = sim_hash(h, "digest", 6);
        snprintf(mi->digest + i * 16, 17, "%016llx", (unsigned long long)h);
    }
    mi->context_length = mi->embedding ? 2048 : 131072;
    mi->num_ctx = mi->embedding ? 2048 : 4096;
    /* Listed newest first in the order given: one hour apart. */
    mi->modified_sec = now_sec - 3600 * (index + 1);
    mi->modified_nsec = (long)(h % 1000000000);
}

sim_sched *sim_sched_new(const sim_sched_cfg *cfg, const char *const *names, int n)
{
    sim_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (s->cfg.num_parallel < 1)
        s->cfg.num_parallel = 1;
    s->info = calloc((size_t)(n > 0 ? n : 1), sizeof *s->info);
    s->rt = calloc((size_t)(n > 0 ? n : 1), sizeof *s->rt);
    if (!s->info || !s->rt)
        goto fail;
    pthread_mutex_init(&s->mu, NULL);
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len == 0 || len >= sizeof s->info[0].name - 8)
            continue;
        char norm[sizeof s->info[0].name];
        sim_model_normalize(names[i], len, norm, sizeof norm);
        if (sim_sched_find(s, norm, strlen(norm)) >= 0)
            continue;
        sim_model_info *mi = &s->info[s->n];
        snprintf(mi->name, sizeof mi->name, "%s", norm);
        describe(mi, s->n, (int64_t)now);
        model_rt *rt = &s->rt[s->n];
        rt->parallel = mi->embedding ? 1 : s->cfg.num_parallel;
        rt->keep_alive = s->cfg.keep_alive_ns;
        s->n++;
    }
    if (s->n == 0) {
        pthread_mutex_destroy(&s->mu);
        goto fail;
    }
    return s;
fail:
    free(s->info);
    free(s->rt);
    free(s);
    return NULL;
}

void sim_sched_free(sim_sched *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->info);
    free(s->rt);
    free(s);
}

int sim_sched_model_count(const sim_sched *s) { return s->n; }
const sim_model_info *sim_sched_model(const sim_sched *s, int i) { return &s->info[i]; }

int sim_sched_find(const sim_sched *s, const char *name, size_t len)
{
    char norm[128];
    if (len == 0 || len >= sizeof norm - 8)
        return -1;
    sim_model_normalize(name, len, norm, sizeof norm);
    for (int i = 0; i < s->n; i++)
        if (!strcasecmp(s->info[i].name, norm))
            return i;
    return -1;
}

static void go_idle(model_rt *rt, int64_t now);

/* Applies what happened since the last look: a load finished (maybe with
 * nobody left waiting for it), an idle model's keep-alive ran out. */
static void refresh(sim_sched *s, model_rt *rt, int64_t now)
{
    (void)s;
    if (rt->state == M_LOADING && now >= rt->ready_at) {
        rt->state = M_LOADED;
        go_idle(rt, rt->ready_at);
    }
    if (rt->state == M_LOADED && rt->refs == 0 && rt->expires_set && now >= rt->expires_at) {
        rt->state = M_UNLOADED;
        rt->expires_set = false;
    }
}

static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

enum sim_acquire sim_sched_acquire(sim_sched *s, int m, int64_t keep_alive, sim_wait *w, int64_t now,
                                   int64_t *delay_ns, struct event_base *base,
                                   void (*cb)(int, short, void *), void *arg)
{
    model_rt *rt = &s->rt[m];
    enum sim_acquire res;
    pthread_mutex_lock(&s->mu);
    refresh(s, rt, now);
    if (w->phase == SIM_WAIT_LOAD) {
        /* Back from waiting for the load: give the queue place back. */
        w->phase = SIM_WAIT_IDLE;
        rt->load_waiters--;
        s->load_waiters--;
        rt->refs--;
    }
    if (keep_alive != SIM_KA_UNSET)
        rt->keep_alive = keep_alive;
    if (rt->state == M_UNLOADED) {
        /* The request that finds the model unloaded starts its load, queued
         * behind any other load in progress (one loader, FIFO). */
        if (s->load_waiters >= s->cfg.max_queue) {
            res = SIM_BUSY;
            goto out;
        }
        if (keep_alive == SIM_KA_UNSET)
            rt->keep_alive = s->cfg.keep_alive_ns;
        int64_t start = s->loader_free_at > now ? s->loader_free_at : now;
        rt->ready_at = sat_add(start, s->cfg.load_ns);
        s->loader_free_at = rt->ready_at;
        rt->state = rt->ready_at > now ? M_LOADING : M_LOADED;
        rt->expires_set = false;
    }
    if (rt->state == M_LOADING) {
        if (s->load_waiters >= s->cfg.max_queue) {
            res = SIM_BUSY;
            goto out;
        }
        w->phase = SIM_WAIT_LOAD;
        rt->load_waiters++;
        s->load_waiters++;
        rt->refs++;
        *delay_ns = rt->ready_at - now;
        res = SIM_LOADING;
        goto out;
    }
    rt->refs++;
    if (rt->busy < rt->parallel && !rt->head) {
        rt->busy++;
        w->phase = SIM_WAIT_HOLD;
        res = SIM_GO;
        goto out;
    }
    if (!w->wake)
        w->wake = event_new(base, -1, 0, cb, arg);
    if (!w->wake) {
        rt->refs--;
        res = SIM_BUSY;
        goto out;
    }
    w->phase = SIM_WAIT_SLOT;
    w->next = NULL;
    if (rt->tail)
        rt->tail->next = w;
    else
        rt->head = w;
    rt->tail = w;
    res = SIM_WAIT;
out:
    pthread_mutex_unlock(&s->mu);
    return res;
}

static void go_idle(model_rt *rt, int64_t now)
{
    if (rt->refs > 0 || rt->state != M_LOADED)
        return;
    rt->expires_set = true;
    rt->expires_at = rt->keep_alive < 0 ? INT64_MAX : sat_add(now, rt->keep_alive);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (rt->keep_alive < 0) {
        /* Go: time.Now().Add(MaxInt64), centuries ahead. */
        rt->expires_wall_sec = (int64_t)ts.tv_sec + INT64_MAX / 1000000000;
        rt->expires_wall_nsec = ts.tv_nsec + (long)(INT64_MAX % 1000000000);
    } else {
        rt->expires_wall_sec = (int64_t)ts.tv_sec + rt->keep_alive / 1000000000;
        rt->expires_wall_nsec = ts.tv_nsec + (long)(rt->keep_alive % 1000000000);
    }
    if (rt->keep_alive == 0)
        rt->state = M_UNLOADED;
}

void sim_sched_leave(sim_sched *s, int m, sim_wait *w, int64_t now)
{
    model_rt *rt = &s->rt[m];
    pthread_mutex_lock(&s->mu);
    switch (w->phase) {
    case SIM_WAIT_IDLE: break;
    case SIM_WAIT_LOAD:
        rt->load_waiters--;
        s->load_waiters--;
        rt->refs--;
        break;
    case SIM_WAIT_SLOT: {
        sim_wait **pp = &rt->head, *prev = NULL;
        while (*pp && *pp != w) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            *pp = w->next;
            if (rt->tail == w)
                rt->tail = prev;
        }
        rt->refs--;
        break;
    }
    case SIM_WAIT_HOLD:
        rt->refs--;
        if (rt->head) {
            /* Hand the slot straight to the next waiter: busy stays. */
            sim_wait *next = rt->head;
            rt->head = next->next;
            if (!rt->head)
                rt->tail = NULL;
            next->phase = SIM_WAIT_HOLD;
            event_active(next->wake, 0, 0);
        } else {
            rt->busy--;
        }
        break;
    }
    w->phase = SIM_WAIT_IDLE;
    refresh(s, rt, now);
    go_idle(rt, now);
    pthread_mutex_unlock(&s->mu);
}

void sim_sched_unload(sim_sched *s, int m, int64_t now)
{
    model_rt *rt = &s->rt[m];
    pthread_mutex_lock(&s->mu);
    refresh(s, rt, now);
    rt->keep_alive = 0;
    if (rt->state != M_UNLOADED && rt->refs == 0) {
        rt->state = M_UNLOADED;
        rt->expires_set = false;
    }
    pthread_mutex_unlock(&s->mu);
}

int sim_sched_ps(sim_sched *s, sim_ps_entry *out, int max, int64_t now_mono, int64_t now_wall_ns)
{
    int k = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n && k < max; i++) {
        model_rt *rt = &s->rt[i];
        refresh(s, rt, now_mono);
        if (rt->state == M_UNLOADED)
            continue;
        sim_ps_entry *e = &out[k++];
        e->model = i;
        e->loading = rt->state == M_LOADING;
        if (rt->expires_set) {
            e->expires_sec = rt->expires_wall_sec;
            e->expires_nsec = rt->expires_wall_nsec;
        } else {
            /* Never idle yet: now + the session duration, recomputed. */
            int64_t ka = rt->keep_alive < 0 ? INT64_MAX : rt->keep_alive;
            e->expires_sec = now_wall_ns / 1000000000 + ka / 1000000000;
            e->expires_nsec = (long)(now_wall_ns % 1000000000) + (long)(ka % 1000000000);
        }
        e->expires_sec += e->expires_nsec / 1000000000;
        e->expires_nsec %= 1000000000;
    }
    pthread_mutex_unlock(&s->mu);
    /* Latest expiry first (insertion sort: a handful of models). */
    for (int i = 1; i < k; i++) {
        sim_ps_entry t = out[i];
        int j = i - 1;
        while (j >= 0 && (out[j].expires_sec < t.expires_sec ||
                          (out[j].expires_sec == t.expires_sec && out[j].expires_nsec < t.expires_nsec))) {
            out[j + 1] = out[j];
            j--;
        }
        out[j + 1] = t;
    }
    return k;
}

int sim_sched_queued(sim_sched *s, int m)
{
    pthread_mutex_lock(&s->mu);
    int q = s->rt[m].load_waiters;
    for (sim_wait *w = s->rt[m].head; w; w = w->next)
        q++;
    pthread_mutex_unlock(&s->mu);
    return q;
}
