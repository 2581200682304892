#include "sim/stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sim/gen.h"

typedef struct {
    atomic_long requests, prompt_tokens, completion_tokens, cancelled, in_flight, queued;
    atomic_long faults[SIM_FAULT_COUNT];
} counters;

#define TRACEPARENTS_KEPT 64
#define TRACEPARENT_MAX 64

struct sim_stats {
    int n;
    counters total;
    counters *model;
    atomic_long endpoints[SIM_EP_COUNT];
    /* The last traceparent headers received (a ring; rare, so a lock). */
    pthread_mutex_t tp_mu;
    char tp[TRACEPARENTS_KEPT][TRACEPARENT_MAX + 1];
    unsigned long tp_n; /* received since the reset; the newest is tp[(tp_n - 1) % KEPT] */
};

static const char *const ep_paths[SIM_EP_COUNT] = {
    "/",
    "/api/version",
    "/api/tags",
    "/api/ps",
    "/api/show",
    "/api/chat",
    "/api/generate",
    "/api/embed",
    "/api/embeddings",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/models",
    "/v1/models/{model}",
    "/api/status",
    "other",
};

const char *sim_endpoint_path(enum sim_endpoint ep) { return ep < SIM_EP_COUNT ? ep_paths[ep] : "other"; }

sim_stats *sim_stats_new(int nmodels)
{
    sim_stats *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->model = calloc((size_t)(nmodels > 0 ? nmodels : 1), sizeof *st->model);
    if (!st->model) {
        free(st);
        return NULL;
    }
    st->n = nmodels;
    pthread_mutex_init(&st->tp_mu, NULL);
    return st;
}

void sim_stats_free(sim_stats *st)
{
    if (!st)
        return;
    pthread_mutex_destroy(&st->tp_mu);
    free(st->model);
    free(st);
}

static void zero(counters *c)
{
    atomic_store(&c->requests, 0);
    atomic_store(&c->prompt_tokens, 0);
    atomic_store(&c->completion_tokens, 0);
    atomic_store(&c->cancelled, 0);
    for (int k = 0; k < SIM_FAULT_COUNT; k++)
        atomic_store(&c->faults[k], 0);
}

void sim_stats_reset(sim_stats *st)
{
    zero(&st->total);
    for (int i = 0; i < st->n; i++)
        zero(&st->model[i]);
    for (int i = 0; i < SIM_EP_COUNT; i++)
        atomic_store(&st->endpoints[i], 0);
    pthread_mutex_lock(&st->tp_mu);
    st->tp_n = 0;
    pthread_mutex_unlock(&st->tp_mu);
}

void sim_stats_traceparent(sim_stats *st, const char *v, size_t n)
{
    if (n > TRACEPARENT_MAX)
        n = TRACEPARENT_MAX;
    pthread_mutex_lock(&st->tp_mu);
    char *slot = st->tp[st->tp_n++ % TRACEPARENTS_KEPT];
    memcpy(slot, v, n);
    slot[n] = '\0';
    pthread_mutex_unlock(&st->tp_mu);
}

#define ADD(field, v)                                                                                              \
    do {                                                                                                           \
        atomic_fetch_add_explicit(&st->total.field, (v), memory_order_relaxed);                                    \
        if (m >= 0 && m < st->n)                                                                                   \
            atomic_fetch_add_explicit(&st->model[m].field, (v), memory_order_relaxed);                             \
    } while (0)

void sim_stats_endpoint(sim_stats *st, enum sim_endpoint ep)
{
    atomic_fetch_add_explicit(&st->endpoints[ep < SIM_EP_COUNT ? ep : SIM_EP_OTHER], 1, memory_order_relaxed);
}

void sim_stats_request(sim_stats *st, int m) { ADD(requests, 1); }

void sim_stats_served(sim_stats *st, int m, long prompt, long completion)
{
    ADD(prompt_tokens, prompt);
    ADD(completion_tokens, completion);
}

void sim_stats_cancelled(sim_stats *st, int m) { ADD(cancelled, 1); }
void sim_stats_fault(sim_stats *st, int m, enum sim_fault_kind k) { ADD(faults[k < SIM_FAULT_COUNT ? k : 0], 1); }
void sim_stats_in_flight(sim_stats *st, int m, int delta) { ADD(in_flight, delta); }
void sim_stats_queued(sim_stats *st, int m, int delta) { ADD(queued, delta); }

static void put_counters(buf *out, counters *c)
{
    buf_printf(out, "\"requests\":%ld,\"prompt_tokens\":%ld,\"completion_tokens\":%ld,\"cancelled\":%ld,\"in_flight\":%ld,"
                    "\"queued\":%ld,\"faults\":{",
               atomic_load(&c->requests), atomic_load(&c->prompt_tokens), atomic_load(&c->completion_tokens),
               atomic_load(&c->cancelled), atomic_load(&c->in_flight), atomic_load(&c->queued));
    for (int k = 1; k < SIM_FAULT_COUNT; k++)
        buf_printf(out, "%s\"%s\":%ld", k > 1 ? "," : "", sim_fault_name((enum sim_fault_kind)k), atomic_load(&c->faults[k]));
    buf_putc(out, '}');
}

void sim_stats_json(sim_stats *st, const sim_sched *sched, buf *out)
{
    buf_putc(out, '{');
    put_counters(out, &st->total);
    buf_puts(out, ",\"endpoints\":{");
    for (int i = 0; i < SIM_EP_COUNT; i++)
        buf_printf(out, "%s\"%s\":%ld", i ? "," : "", ep_paths[i], atomic_load(&st->endpoints[i]));
    buf_puts(out, "},\"models\":{");
    for (int i = 0; i < st->n; i++) {
        const sim_model_info *mi = sim_sched_model(sched, i);
        if (i)
            buf_putc(out, ',');
        sim_json_str(out, mi->name, strlen(mi->name));
        buf_puts(out, ":{");
        put_counters(out, &st->model[i]);
        buf_putc(out, '}');
    }
    buf_puts(out, "},\"traceparents\":[");
    pthread_mutex_lock(&st->tp_mu);
    unsigned long first = st->tp_n > TRACEPARENTS_KEPT ? st->tp_n - TRACEPARENTS_KEPT : 0;
    for (unsigned long i = first; i < st->tp_n; i++) {
        const char *v = st->tp[i % TRACEPARENTS_KEPT];
        if (i > first)
            buf_putc(out, ',');
        sim_json_str(out, v, strlen(v));
    }
    pthread_mutex_unlock(&st->tp_mu);
    buf_puts(out, "]}");
}
