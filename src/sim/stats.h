/* Accounting behind GET /sim/stats (not an Ollama endpoint; namespaced so it
 * never collides). Lock-free: relaxed atomic counters, so the request path
 * pays a few atomic adds. POST /sim/reset zeroes the counters; the gauges
 * (in_flight, queued) keep describing requests still in progress. */
#ifndef TOLLGATE_SIM_STATS_H
#define TOLLGATE_SIM_STATS_H

#include "sim/fault.h"
#include "sim/sched.h"
#include "util/buf.h"

enum sim_endpoint {
    SIM_EP_ROOT,
    SIM_EP_VERSION,
    SIM_EP_TAGS,
    SIM_EP_PS,
    SIM_EP_SHOW,
    SIM_EP_CHAT,
    SIM_EP_GENERATE,
    SIM_EP_EMBED,
    SIM_EP_EMBEDDINGS,
    SIM_EP_V1_CHAT,
    SIM_EP_V1_COMPLETIONS,
    SIM_EP_V1_EMBEDDINGS,
    SIM_EP_V1_MODELS,
    SIM_EP_V1_MODEL,
    SIM_EP_STATUS,
    SIM_EP_OTHER,
    SIM_EP_COUNT
};

/* The path an endpoint is reported under ("/v1/models/{model}" for one). */
const char *sim_endpoint_path(enum sim_endpoint ep);

typedef struct sim_stats sim_stats;

sim_stats *sim_stats_new(int nmodels);
void sim_stats_free(sim_stats *st);
void sim_stats_reset(sim_stats *st);

/* m is a model index, or -1 when the request named no known model (then
 * only the totals move). */
void sim_stats_endpoint(sim_stats *st, enum sim_endpoint ep);
void sim_stats_request(sim_stats *st, int m);
/* A response finished with these counts (prompt_eval_count, eval_count). */
void sim_stats_served(sim_stats *st, int m, long prompt, long completion);
void sim_stats_cancelled(sim_stats *st, int m);
void sim_stats_fault(sim_stats *st, int m, enum sim_fault_kind k);
void sim_stats_in_flight(sim_stats *st, int m, int delta);
void sim_stats_queued(sim_stats *st, int m, int delta);
/* A request carried a traceparent header (value as sent, cut at 64 bytes):
 * kept among the last 64 for /sim/stats "traceparents". */
void sim_stats_traceparent(sim_stats *st, const char *v, size_t n);

/* The /sim/stats JSON document; model names come from sched. */
void sim_stats_json(sim_stats *st, const sim_sched *sched, buf *out);

#endif
