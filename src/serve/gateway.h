/* State shared by the gateway's modules (internal to src/serve).
 *
 * Everything here is built once at start-up from the config and is
 * read-only afterwards, except the per-deployment counters in dep_state,
 * which worker threads update with atomics (they steer routing only; the
 * metrics live in per-thread shards). */
#ifndef TOLLGATE_SERVE_GATEWAY_H
#define TOLLGATE_SERVE_GATEWAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "metrics/metrics.h"
#include "translate/translate.h"
#include "serve/upstream.h"

struct server;

typedef struct {
    const config_deployment *cfg;
    int index;            /* metrics deployment index */
    int group;            /* index into gateway.groups */
    tr_source src;        /* dialect spoken upstream */
    const char *exc_connect;  /* "Ollama.APIConnectionError" ... built once */
    const char *exc_timeout;  /* "Ollama.Timeout" */
    const char *exc_stream;   /* "Ollama.APIError" (broke mid-stream) */
    long timeout_ms, stream_timeout_ms;
    /* Routing state, updated by all workers. */
    atomic_int in_flight;
    atomic_llong ewma_latency_ns; /* 0 = not sampled yet */
    atomic_llong cooldown_until_ns;
    atomic_llong fail_window_start_ns;
    atomic_int fails_in_window;
} gw_deployment;

typedef struct {
    const char *name;     /* model_name */
    int *deps;            /* indices into gateway.deps */
    int ndeps;
    /* Fallback groups, in order (indices into gateway.groups): fallbacks,
     * else the gateway's default_fallbacks; context_window_fallbacks for
     * context-window errors. Filled by fallback_resolve (fallback.h). */
    int *fallbacks, nfallbacks;
    int *cw_fallbacks, ncw_fallbacks;
    /* model_name with one '*' (ollama/<star>, or <star> alone): matches names that start
     * with name[0..prefix_len) and end with suffix; the part between
     * replaces the '*' of each deployment's upstream model. */
    bool wildcard;
    size_t prefix_len;
    const char *suffix;
} gw_group;

typedef struct gateway {
    config *cfg;
    gw_deployment *deps;
    int ndeps;
    gw_group *groups;
    int ngroups;
    metrics_registry *metrics;
    int num_retries;
    int allowed_fails;
    long cooldown_ns;
    size_t max_body;
    int *default_fallbacks, ndefault_fallbacks;
    int *wild, nwild;      /* wildcard groups, most specific (longest literal part) first */
    int wildcards;         /* = nwild (read by the poller) */
    char **listed;         /* discover_listed: names the wildcard groups' backends list, sorted */
    size_t nlisted;
    char *master_key_hash; /* sha256 hex of the master key: the hashed_api_key label */
    struct otel *otel;     /* OpenTelemetry export (serve/trace.h), NULL = off; process-wide */
    atomic_bool stopping; /* shutting down: no new retries or fallbacks */
    atomic_int refs;      /* the generation holder's and each gw_thread's (generation.h) */
    /* Native Ollama API (native.c, passthru.c): no --config, names follow
     * Ollama's; native_base = $OLLAMA_HOST's base then (else NULL). */
    bool discovered;
    const char *native_base;
} gateway;

/* A worker thread's state for one gateway (generation.h): the current one,
 * or an older one kept while requests that started on it are in flight. */
typedef struct gw_thread {
    gateway *g;
    int index;
    upstream_pool *up;
    metrics_shard *shard;
    uint64_t rng;
    int refs; /* the worker's while current, plus each request holding it */
    struct gw_worker *w;
    struct gw_thread *next_dead;
} gw_thread;

/* A request that outlives the handler call (proxy, /health) holds its
 * gw_thread, so the configuration it started on stays alive until it ends.
 * Worker thread only. */
void gw_thread_hold(gw_thread *t);
void gw_thread_drop(gw_thread *t);
/* serve.c */
void gateway_free(gateway *g);

int64_t gw_now_ns(void);

#endif
