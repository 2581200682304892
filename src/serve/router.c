#include "serve/router.h"

#include <time.h>

int64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*: per-thread, no lock, good enough for load spreading. */
static uint64_t next_rand(gw_thread *t)
{
    uint64_t x = t->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static bool cooling(const gw_deployment *d, int64_t now)
{
    return atomic_load_explicit(&d->cooldown_until_ns, memory_order_relaxed) > now;
}

int router_pick(gw_thread *t, const gw_group *grp, int avoid)
{
    gateway *g = t->g;
    if (grp->ndeps == 1)
        return grp->deps[0];
    int64_t now = gw_now_ns();
    int cand[64], n = 0;
    for (int i = 0; i < grp->ndeps && n < 64; i++) {
        int di = grp->deps[i];
        if (di != avoid && !cooling(&g->deps[di], now))
            cand[n++] = di;
    }
    if (n == 0) {
        /* Everything is cooling down (or only the failed one is left):
         * try the one whose cooldown ends first rather than refuse. */
        int best = grp->deps[0];
        for (int i = 1; i < grp->ndeps; i++) {
            int di = grp->deps[i];
            if (di != avoid && atomic_load(&g->deps[di].cooldown_until_ns) < atomic_load(&g->deps[best].cooldown_until_ns))
                best = di;
        }
        return best;
    }
    switch (g->cfg->routing_strategy) {
    case ROUTING_LEAST_BUSY: {
        int best = cand[0];
        for (int i = 1; i < n; i++)
            if (atomic_load_explicit(&g->deps[cand[i]].in_flight, memory_order_relaxed) <
                atomic_load_explicit(&g->deps[best].in_flight, memory_order_relaxed))
                best = cand[i];
        return best;
    }
    case ROUTING_LATENCY_BASED: {
        /* Unsampled deployments first, so each gets measured. */
        int best = -1;
        long long best_lat = 0;
        for (int i = 0; i < n; i++) {
            long long lat = atomic_load_explicit(&g->deps[cand[i]].ewma_latency_ns, memory_order_relaxed);
            if (lat == 0)
                return cand[i];
            if (best < 0 || lat < best_lat) {
                best = cand[i];
                best_lat = lat;
            }
        }
        return best;
    }
    default: {
        /* simple-shuffle: weighted by rpm (or tpm) when configured. */
        double total = 0, w[64];
        for (int i = 0; i < n; i++) {
            const config_deployment *cd = g->deps[cand[i]].cfg;
            w[i] = cd->rpm > 0 ? (double)cd->rpm : cd->tpm > 0 ? (double)cd->tpm : 1.0;
            total += w[i];
        }
        double r = (double)(next_rand(t) >> 11) / 9007199254740992.0 * total;
        for (int i = 0; i < n; i++) {
            if (r < w[i])
                return cand[i];
            r -= w[i];
        }
        return cand[n - 1];
    }
    }
}

void router_acquire(gw_thread *t, int dep)
{
    metrics_inflight_add(t->shard, dep, 1);
    atomic_fetch_add_explicit(&t->g->deps[dep].in_flight, 1, memory_order_relaxed);
}

void router_release(gw_thread *t, int dep)
{
    metrics_inflight_add(t->shard, dep, -1);
    atomic_fetch_sub_explicit(&t->g->deps[dep].in_flight, 1, memory_order_relaxed);
}

bool router_retryable(int status) { return status == 0 || status == 408 || status == 429 || status >= 500; }

bool router_report(gateway *g, gw_deployment *d, bool ok, int status, int64_t latency_ns)
{
    if (ok) {
        long long old = atomic_load_explicit(&d->ewma_latency_ns, memory_order_relaxed);
        long long nv = old == 0 ? latency_ns : (old * 7 + latency_ns) / 8;
        atomic_store_explicit(&d->ewma_latency_ns, nv, memory_order_relaxed);
        return false;
    }
    /* Cooldowns only make sense when the group has somewhere else to go;
     * a single deployment stays in rotation, as LiteLLM's v2 rules do. */
    if (g->groups[d->group].ndeps < 2)
        return false;
    int64_t now = gw_now_ns();
    long long start = atomic_load(&d->fail_window_start_ns);
    if (now - start > 60LL * 1000000000LL) {
        atomic_store(&d->fail_window_start_ns, now);
        atomic_store(&d->fails_in_window, 0);
    }
    int fails = atomic_fetch_add(&d->fails_in_window, 1) + 1;
    /* 429 and non-retryable statuses (401, 404) cool down at once. */
    bool now_cool = status == 429 || status == 401 || status == 404 || fails > g->allowed_fails;
    if (!now_cool || cooling(d, now))
        return false;
    atomic_store(&d->cooldown_until_ns, now + g->cooldown_ns);
    atomic_store(&d->fails_in_window, 0);
    return true;
}
