/* Internals shared by the simulator's files (not a public API):
 *   sim.c      flags, environment, startup banner, main
 *   route.c    the HTTP handler: routing, 404/405, info endpoints, /sim/ routes
 *   request.c  request bodies (native and /v1) into a sim_job, with
 *              Ollama's validation errors
 *   job.c      one request's life: faults, scheduling, timers, streaming
 *   render.c   the bytes: NDJSON / SSE chunks, final bodies, errors */
#ifndef TOLLGATE_SIM_INTERNAL_H
#define TOLLGATE_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "net/server.h"
#include "sim/fault.h"
#include "sim/gen.h"
#include "sim/sched.h"
#include "sim/stats.h"
#include "util/buf.h"

#define SIM_OLLAMA_VERSION "0.33.0-rc2"
/* Ollama bounds generation to 10 x num_ctx tokens (ollama.md §2.1). */
#define SIM_MAX_PREDICT(num_ctx) (10 * (num_ctx))

typedef struct {
    const char *host;
    int port, threads;
    int64_t ttft_ns, token_ns, load_ns, keep_alive_ns;
    int num_parallel, max_queue, max_tokens_default;
    bool quiet;
    bool fixed_clock; /* answers carry SIM_FIXED_EPOCH and durations from the timing flags */
} sim_config;

/* --fixed-clock's instant: 2026-01-01T00:00:00Z. */
#define SIM_FIXED_EPOCH 1767225600LL

typedef struct {
    sim_config cfg;
    sim_sched *sched;
    sim_stats *stats;
} sim_ctx;

/* Per worker thread (conn_thread_ctx). */
typedef struct {
    sim_ctx *ctx;
    buf scratch;
    uint64_t rng;
} sim_thread;

typedef struct {
    int status;
    char msg[256];
} sim_err;

typedef struct sim_job {
    sim_ctx *ctx;
    conn *c;
    enum sim_endpoint ep;
    bool v1, stream, include_usage, raw;
    bool load_only, unload; /* empty prompt: load, or with keep_alive 0 unload */
    bool counted;           /* served tokens already added to /sim/stats */
    bool started;           /* stream head sent */
    bool fault_fired;
    int model;
    char *model_echo;       /* the request's model string, as sent */
    int prompt_tokens, visible, eval_count;
    bool length;            /* done_reason "length" */
    uint64_t seed;
    sim_fault fault;
    int64_t keep_alive;     /* SIM_KA_UNSET when absent */
    /* embeddings */
    int n_inputs, dimensions;
    uint64_t *input_seeds;
    bool base64;
    /* times, monotonic ns */
    int64_t t0, t_runner, t_slot, t_first;
    int64_t token_ns;
    int emitted;            /* visible tokens sent so far */
    bool queued;            /* counted in stats "queued" */
    struct event *timer;
    sim_wait wait;
    /* /v1 */
    int id_num;
    int64_t created;
} sim_job;

int64_t sim_now_mono(void);
int64_t sim_now_wall(void);
/* Unix seconds for an answer's "created" (SIM_FIXED_EPOCH with --fixed-clock). */
int64_t sim_created_sec(const sim_ctx *ctx);

/* route.c: the server_handler_fn; ud is the sim_ctx. */
void sim_handler(conn *c, const http_request *req, const char *body, size_t len, void *ud);

/* request.c: fills j from the body; returns 0, or -1 with err set. */
int sim_parse_request(sim_job *j, const char *body, size_t len, sim_err *err);
/* POST /api/show body -> model index or -1 with err set. */
int sim_parse_show(sim_ctx *ctx, const char *body, size_t len, sim_err *err);

/* manage.c: /api/pull, /api/push, /api/create, /api/copy, /api/delete, /api/blobs/:digest (path
 * is the route's path). False when path is none of them. */
bool sim_manage(sim_ctx *ctx, conn *c, const http_request *req, const char *path, const char *body, size_t len);

/* job.c */
sim_job *sim_job_new(sim_ctx *ctx, conn *c, enum sim_endpoint ep);
void sim_job_free(sim_job *j);
/* Takes over the job: answers now or later, frees it when done. */
void sim_job_run(sim_job *j);

/* render.c */
void sim_render_token(sim_job *j, buf *out, int i);
void sim_render_malformed(sim_job *j, buf *out);
/* The final chunk(s) of a stream, or the whole non-stream body. */
void sim_render_final(sim_job *j, buf *out, int64_t now);
void sim_render_load(sim_job *j, buf *out, const char *reason);
void sim_render_embed(sim_job *j, buf *out, int64_t now);
/* Mid-stream error: Ollama's {"error":...} line, or on /v1 the empty
 * chunk it degrades to. */
void sim_render_stream_error(sim_job *j, buf *out);
/* An error response in the right shape (native or OpenAI). stream_path:
 * the native stream path sends "application/json" without charset. */
void sim_respond_error(conn *c, bool v1, bool stream_path, int status, const char *msg);
void sim_respond_json(conn *c, bool v1, int status, buf *body);
const char *sim_stream_ctype(const sim_job *j);

void sim_log_request(sim_ctx *ctx, const char *method, const char *path, const char *model, int status, long prompt,
                     long completion, int64_t dur_ns);

#endif
