#include "serve/generation.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct gw_holder {
    /* The mutex orders a worker's "read current, take a reference" against
     * a swap that drops the holder's reference; the fast path is the
     * atomic compare with the worker's own gateway. */
    pthread_mutex_t mu;
    _Atomic(gateway *) cur;
};

typedef struct gw_worker {
    gw_holder *h;
    struct event_base *base;
    int index;
    gw_thread *t;    /* for the current gateway, as of this worker's last request */
    gw_thread *dead; /* let go of, freed at the next request (not inside a callback) */
} gw_worker;

gw_holder *gw_holder_new(gateway *g)
{
    gw_holder *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    atomic_init(&h->cur, g);
    return h;
}

void gw_holder_free(gw_holder *h)
{
    if (!h)
        return;
    gateway_unref(atomic_load(&h->cur));
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void gw_holder_swap(gw_holder *h, gateway *g)
{
    pthread_mutex_lock(&h->mu);
    gateway *old = atomic_exchange(&h->cur, g);
    pthread_mutex_unlock(&h->mu);
    gateway_unref(old);
}

gateway *gw_holder_current(gw_holder *h) { return atomic_load(&h->cur); }

void gateway_unref(gateway *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1)
        gateway_free(g);
}

static gw_thread *thread_new(gw_worker *w, gateway *g)
{
    gw_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->g = g;
    t->index = w->index;
    t->w = w;
    t->refs = 1; /* the worker's */
    t->up = upstream_pool_new(w->base);
    t->shard = metrics_shard_get(g->metrics, w->index);
    t->rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)time(NULL) << 16) ^ (uint64_t)(w->index + 1) * 0xBF58476D1CE4E5B9ULL ^
             (uint64_t)(uintptr_t)g;
    if (!t->up) {
        free(t);
        return NULL;
    }
    return t;
}

static void thread_free(gw_thread *t)
{
    upstream_pool_free(t->up);
    gateway_unref(t->g);
    free(t);
}

static void free_dead(gw_worker *w)
{
    while (w->dead) {
        gw_thread *t = w->dead;
        w->dead = t->next_dead;
        thread_free(t);
    }
}

void gw_thread_hold(gw_thread *t) { t->refs++; }

void gw_thread_drop(gw_thread *t)
{
    if (--t->refs > 0)
        return;
    /* Possibly inside one of t->up's callbacks: free it later. */
    t->next_dead = t->w->dead;
    t->w->dead = t;
}

void *gw_worker_init(int index, struct event_base *base, void *holder)
{
    gw_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->h = holder;
    w->base = base;
    w->index = index;
    pthread_mutex_lock(&w->h->mu);
    gateway *g = atomic_load(&w->h->cur);
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&w->h->mu);
    if (!(w->t = thread_new(w, g))) {
        gateway_unref(g);
        free(w);
        return NULL;
    }
    return w;
}

void gw_worker_fini(void *ctx, void *holder)
{
    (void)holder;
    gw_worker *w = ctx;
    if (!w)
        return;
    gw_thread_drop(w->t);
    free_dead(w);
    free(w);
}

gw_thread *gw_worker_thread(void *ctx)
{
    gw_worker *w = ctx;
    free_dead(w);
    if (atomic_load(&w->h->cur) == w->t->g)
        return w->t;
    pthread_mutex_lock(&w->h->mu);
    gateway *g = atomic_load(&w->h->cur);
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&w->h->mu);
    gw_thread *t = thread_new(w, g);
    if (!t) { /* out of memory: keep serving on the configuration this worker has */
        gateway_unref(g);
        return w->t;
    }
    gw_thread *old = w->t;
    w->t = t;
    gw_thread_drop(old);
    return t;
}
