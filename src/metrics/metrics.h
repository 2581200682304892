/* Metrics registry for `tollgate serve`: LiteLLM-exact families (names, types,
 * label names, help texts, "None" for missing values, prometheus_client's
 * number formatting) plus Tollgate's own tollgate_* families.
 *
 * Threading: each worker thread owns one shard and is its only writer; the
 * record path takes no lock (single-writer relaxed atomic loads/stores) and
 * allocates only the first time a label set is seen. metrics_write may run on
 * any thread at any time and merges the shards. metrics_deployment_cooldown
 * and metrics_set_ollama_state may be called from any thread.
 *
 * Cardinality is bounded by the configuration: label values come from the
 * config, from a fixed table of status codes (others map to "4xx"/"5xx"...),
 * from at most METRICS_MAX_EXCEPTION_CLASSES exception classes (then
 * "Other"), and at most METRICS_MAX_OLLAMA_MODELS Ollama model series.
 * docs/metrics.md lists every family, its labels and when it is updated. */
#ifndef TOLLGATE_METRICS_METRICS_H
#define TOLLGATE_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define METRICS_MAX_EXCEPTION_CLASSES 48
#define METRICS_MAX_OLLAMA_MODELS 64
#define METRICS_MAX_OLLAMA_BASES 64
#define METRICS_MAX_BUCKETS 64
#define METRICS_MAX_DEPLOYMENTS 4096
/* Python's sys.maxsize: LiteLLM's value for a remaining-limit gauge with no limit. */
#define METRICS_SYS_MAXSIZE 9223372036854775807.0

typedef struct metrics_registry metrics_registry;
typedef struct metrics_shard metrics_shard; /* one per worker thread, written only by it */

typedef struct {                 /* one configured deployment (a model_list entry) */
    const char *model_group;     /* model_name: the alias clients request (requested_model / model_group labels) */
    const char *litellm_model;   /* litellm_params.model as written, e.g. "ollama/llama3.2:3b". The
                                    model / litellm_model_name labels carry it without the
                                    "<api_provider>/" prefix, as LiteLLM does ("llama3.2:3b"). */
    const char *model_id;        /* model_info.id or a generated id */
    const char *api_base;        /* e.g. "http://127.0.0.1:11434" */
    const char *api_provider;    /* "ollama", "ollama_chat", "openai", "hosted_vllm", ... */
} metrics_deployment_def;

typedef struct {
    const metrics_deployment_def *deployments;
    size_t ndeployments;
    const double *latency_buckets; /* NULL: LiteLLM's LATENCY_BUCKETS; ascending, +Inf added if absent */
    size_t nbuckets;
    const char *hashed_api_key; /* label value for hashed_api_key, NULL -> "None" */
    const char *api_key_alias;  /* NULL -> "None" */
    int nshards;                /* = worker threads */
    /* Additions to the contract (zero-initialised fields keep the defaults): */
    const char *user_id;        /* `user` label (LiteLLM: "default_user_id" with the master key); NULL -> "None" */
    bool emit_created;          /* also emit prometheus_client's <name>_created gauges (off: see docs/metrics.md) */
    const char *const *extra_groups; /* requested_model values besides the deployments' model groups: the
                                        names a wildcard group's backend lists ("ollama/gemma3:27b") */
    size_t nextra_groups;
} metrics_config;

/* Routes are label values: only these fixed strings, never client input. */
/* The routes of the gateway as the "route" label writes them, one
 * X(ENUM, "path") per route (an X-macro: the enum and the names come from
 * this one list; serve.c and native.c match request paths against the same
 * names). The MR_API_* are Ollama's native inference routes. */
#define METRICS_ROUTES(X)                                                                                              \
    X(MR_CHAT, "/chat/completions")                                                                                    \
    X(MR_CHAT_V1, "/v1/chat/completions")                                                                              \
    X(MR_COMPLETIONS, "/completions")                                                                                  \
    X(MR_COMPLETIONS_V1, "/v1/completions")                                                                            \
    X(MR_EMBEDDINGS, "/embeddings")                                                                                    \
    X(MR_EMBEDDINGS_V1, "/v1/embeddings")                                                                              \
    X(MR_OTHER, "other")                                                                                               \
    X(MR_API_CHAT, "/api/chat")                                                                                        \
    X(MR_API_GENERATE, "/api/generate")                                                                                \
    X(MR_API_EMBED, "/api/embed")                                                                                      \
    X(MR_API_EMBEDDINGS, "/api/embeddings")
#define METRICS_ROUTE_ENUM_(e, s) e,
typedef enum { METRICS_ROUTES(METRICS_ROUTE_ENUM_) MR_COUNT } metrics_route;
#undef METRICS_ROUTE_ENUM_

/* The route's label value ("other" for anything out of range). */
const char *metrics_route_name(metrics_route r);

/* Ollama's management routes passed through by the gateway (the route label
 * of tollgate_ollama_api_*), the same X-macro way: fixed strings, never
 * client input. passthru.c matches request paths against these names
 * (MA_BLOBS covers /api/blobs/<digest>). */
#define METRICS_API_ROUTES(X)                                                                                          \
    X(MA_ROOT, "/")                                                                                                    \
    X(MA_VERSION, "/api/version")                                                                                      \
    X(MA_TAGS, "/api/tags")                                                                                            \
    X(MA_PS, "/api/ps")                                                                                                \
    X(MA_SHOW, "/api/show")                                                                                            \
    X(MA_PULL, "/api/pull")                                                                                            \
    X(MA_PUSH, "/api/push")                                                                                            \
    X(MA_CREATE, "/api/create")                                                                                        \
    X(MA_COPY, "/api/copy")                                                                                            \
    X(MA_DELETE, "/api/delete")                                                                                        \
    X(MA_BLOBS, "/api/blobs")                                                                                          \
    X(MA_OTHER, "other")
#define METRICS_API_ROUTE_ENUM_(e, s) e,
typedef enum { METRICS_API_ROUTES(METRICS_API_ROUTE_ENUM_) MA_COUNT } metrics_api_route;
#undef METRICS_API_ROUTE_ENUM_

/* The management route's label value ("other" for anything out of range). */
const char *metrics_api_route_name(metrics_api_route r);

typedef struct {                 /* one client request, recorded once when it ends */
    int deployment;              /* index into deployments; -1 when none was picked (unknown model, auth, bad request) */
    const char *requested_model; /* a configured model_group string, or NULL -> "other" (unknown model: NEVER client input) */
    metrics_route route;
    int status;                  /* HTTP status sent to the client */
    const char *exception_class; /* NULL on success; a static string like "Ollama.APIConnectionError" */
    int exception_status;        /* status of the exception (0 -> "None") */
    bool stream;
    uint64_t prompt_tokens, completion_tokens;
    bool tokens_exact;           /* false when counted by the gateway's rule instead of reported by the backend */
    /* CLOCK_MONOTONIC nanoseconds; 0 = did not happen */
    int64_t t_start;             /* request fully received */
    int64_t t_upstream_sent;     /* upstream request sent (LiteLLM api_call_start_time) */
    int64_t t_first_token;       /* first non-empty token seen from upstream (streams) */
    int64_t t_end;               /* last byte sent to the client / request ended */
    /* Ollama's own durations from the final chunk, ns; 0 = not reported */
    int64_t load_ns, prompt_eval_ns, eval_ns, total_ns;
    bool client_disconnected;    /* client went away before the end */
    double cost_usd;             /* litellm_spend_metric: tokens x the deployment's prices (0 when free) */
    int64_t queue_ns;            /* waited before its handling started (litellm_request_queue_time_seconds); Tollgate
                                    handles a request as soon as it is complete, so 0 */
} metrics_request;

typedef struct {                 /* one upstream attempt (retries make several per request) */
    int deployment;
    const char *requested_model; /* NULL -> the deployment's model_group */
    int status;                  /* upstream HTTP status, 0 = connection failed */
    const char *exception_class; /* NULL on success */
} metrics_attempt;

typedef struct {                 /* one entry of Ollama's /api/ps "models" */
    const char *name;
    uint64_t size;               /* bytes */
    uint64_t size_vram;          /* bytes */
    int64_t expires_at;          /* unix seconds; 0 = unknown */
} metrics_loaded_model;

/* Copies everything it needs from cfg. NULL with a message in err on bad config. */
metrics_registry *metrics_new(const metrics_config *cfg, char *err, size_t errlen);
void metrics_free(metrics_registry *r);
/* index in [0, nshards); NULL when out of range. */
metrics_shard *metrics_shard_get(metrics_registry *r, int index);
/* Proxy-level families, tokens, latency histograms, tollgate_* request families. */
void metrics_record(metrics_shard *s, const metrics_request *req);
/* tollgate_ollama_api_requests_total{route,status_code} and
 * tollgate_ollama_api_request_duration_seconds{route}: one management
 * request that ended (duration: request received -> answer complete). */
void metrics_record_ollama_api(metrics_shard *s, metrics_api_route route, int status, int64_t duration_ns);
/* litellm_deployment_{success,failure,total}_*, litellm_deployment_state 0/1. */
void metrics_record_attempt(metrics_shard *s, const metrics_attempt *a);
/* litellm_deployment_{successful,failed}_fallbacks: after requested_model's
 * deployments failed, fallback_model (both configured group names) was tried;
 * ok = it answered. exception_* are those of the original failure. */
void metrics_record_fallback(metrics_shard *s, const char *requested_model, const char *fallback_model, bool ok,
                             int exception_status, const char *exception_class);
/* litellm_in_flight_requests: HTTP requests being handled. Any thread. */
void metrics_in_flight_add(metrics_registry *r, int delta);
/* litellm_deployment_state = 2 and litellm_deployment_cooled_down += 1. Any thread. */
void metrics_deployment_cooldown(metrics_registry *r, int deployment, int exception_status);
/* tollgate_requests_in_flight for the deployment (-1: ignored). Owner thread only. */
void metrics_inflight_add(metrics_shard *s, int deployment, int delta);
/* Ollama state from the /api/ps poller (any thread): replaces what is known
 * about api_base. Model names come from Ollama, so at most
 * METRICS_MAX_OLLAMA_MODELS model series exist at once (extra ones dropped). */
void metrics_set_ollama_state(metrics_registry *r, const char *api_base, bool up, const metrics_loaded_model *models,
                              size_t n);
/* Merge all shards and append text format 0.0.4 exposition to out. Safe
 * concurrently with recording on other threads; scrapes are serialised. */
void metrics_write(metrics_registry *r, buf *out);
/* tollgate_otel_dropped_spans_total (a label-less counter; src/otel counts,
 * the gateway passes otel_dropped_spans()). Appended to out. */
void metrics_write_otel(buf *out, uint64_t dropped_spans);

/* "Content-Type" for the exposition, as prometheus_client sends it. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
