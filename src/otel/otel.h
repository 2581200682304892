/* OpenTelemetry export for the gateway: one GenAI server span per request
 * (plus an optional CLIENT child span for the upstream call) and the GenAI
 * semantic-convention metrics, sent over OTLP/HTTP (protobuf or JSON).
 *
 * The contract with the request path:
 *   - otel_start() at request start: continues a client's W3C traceparent or
 *     starts a trace, draws the span ids and takes the sampling decision.
 *   - the gateway fills the rest of the otel_span (plain data, no pointers)
 *     and calls otel_submit() once at the end of the request, sampled or not
 *     (unsampled spans feed the metrics only). otel_submit() copies the span
 *     into a fixed-size per-worker ring and never blocks, allocates or makes
 *     a system call; a full ring drops the span and counts it.
 *   - one exporter thread drains the rings, batches, encodes and POSTs.
 *
 * Never content: the span has no field for prompt, response, tool or key
 * text, so none can be exported whatever the settings.
 *
 * A NULL otel* means "OpenTelemetry is off"; every function below accepts
 * it, so callers need no checks of their own. */
#ifndef TOLLGATE_OTEL_OTEL_H
#define TOLLGATE_OTEL_OTEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTEL_TRACE_ID_LEN 16
#define OTEL_SPAN_ID_LEN 8
#define OTEL_TRACEPARENT_LEN 55  /* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define OTEL_TRACESTATE_MAX 512  /* W3C: propagate at least 512 chars */
#define OTEL_MODEL_MAX 128
#define OTEL_FINISH_MAX 4        /* finish reasons kept per span */

enum otel_op { OTEL_OP_CHAT = 0, OTEL_OP_TEXT_COMPLETION, OTEL_OP_EMBEDDINGS };

/* ---- W3C trace context ------------------------------------------------ */

typedef struct {
    uint8_t trace_id[OTEL_TRACE_ID_LEN];
    uint8_t span_id[OTEL_SPAN_ID_LEN]; /* the caller's span: our parent */
    uint8_t flags;                     /* bit 0: sampled */
} otel_traceparent;

/* Parses a traceparent header value strictly per W3C Trace Context level 1:
 * version 00 is exactly 55 chars of lowercase hex fields; a higher version
 * (not ff) may be longer, the extra part starting with '-', and only its
 * first four fields are read; all-zero trace or parent ids are invalid.
 * Leading/trailing spaces and tabs (HTTP OWS) are ignored. Returns 0 or -1
 * (the caller then starts a new trace and must ignore tracestate). */
int otel_traceparent_parse(const char *s, size_t len, otel_traceparent *out);
/* Writes version 00 text plus a NUL into out (56 bytes). Only the sampled
 * flag is carried. Returns OTEL_TRACEPARENT_LEN. */
int otel_traceparent_format(const uint8_t trace_id[OTEL_TRACE_ID_LEN], const uint8_t span_id[OTEL_SPAN_ID_LEN],
                            uint8_t flags, char out[OTEL_TRACEPARENT_LEN + 1]);

/* New random ids (never all zero), from a per-thread xoshiro256** seeded
 * once per thread from getrandom(2). */
void otel_new_trace_id(uint8_t id[OTEL_TRACE_ID_LEN]);
void otel_new_span_id(uint8_t id[OTEL_SPAN_ID_LEN]);

/* ---- The span the gateway fills --------------------------------------- */

/* Absent values: -1 for integers, NAN for the doubles named "when given",
 * a negative number for timings, "" for strings, 0 for server_port. */
typedef struct {
    uint8_t trace_id[OTEL_TRACE_ID_LEN];
    uint8_t span_id[OTEL_SPAN_ID_LEN];
    uint8_t parent_span_id[OTEL_SPAN_ID_LEN];
    bool has_parent;  /* parent_span_id came from the client's traceparent */
    bool sampled;     /* export the span; otherwise it only feeds metrics */
    uint8_t flags;    /* W3C trace flags as propagated */
    char tracestate[OTEL_TRACESTATE_MAX + 1];

    uint64_t start_ns, end_ns; /* unix epoch nanoseconds */

    /* CLIENT child span for the upstream call; its id goes into the
     * upstream traceparent (otel_upstream_traceparent). */
    bool has_client_span;
    uint8_t client_span_id[OTEL_SPAN_ID_LEN];
    uint64_t client_start_ns, client_end_ns;

    enum otel_op op;
    char provider[32];        /* gen_ai.provider.name: "ollama", "openai" */
    char request_model[OTEL_MODEL_MAX];
    char response_model[OTEL_MODEL_MAX];
    char server_address[256]; /* the backend (server.address) */
    uint16_t server_port;
    char http_route[64];      /* e.g. "/v1/chat/completions" */
    int http_status;          /* http.response.status_code, 0 = none */
    char error_type[64];      /* "" = success; else error.type, status ERROR */

    int64_t max_tokens;       /* gen_ai.request.max_tokens */
    double temperature;       /* gen_ai.request.temperature */
    double top_p;             /* gen_ai.request.top_p */
    int64_t input_tokens;     /* gen_ai.usage.input_tokens */
    int64_t output_tokens;    /* gen_ai.usage.output_tokens */
    char finish_reasons[OTEL_FINISH_MAX][24];
    uint8_t n_finish_reasons;

    bool stream;              /* tollgate.stream */
    double ttft_s;            /* tollgate.time_to_first_token_s */
    double queue_wait_s;      /* tollgate.queue_wait_s */
    double load_s;            /* tollgate.ollama.load_duration_s */
    double prompt_eval_s;     /* tollgate.ollama.prompt_eval_duration_s */
    double eval_s;            /* tollgate.ollama.eval_duration_s */
} otel_span;

/* Sets every field to "absent" (see above) and op to chat. */
void otel_span_init(otel_span *sp);
/* Bounded copy into a fixed field: truncates on a UTF-8 boundary. */
void otel_span_str(char *dst, size_t dst_size, const char *src, size_t len);

/* ---- Configuration ---------------------------------------------------- */

/* getenv-like lookup, so tests can inject an environment. */
typedef const char *(*otel_getenv_fn)(void *ud, const char *name);

typedef struct {
    bool litellm_callback;  /* litellm_settings.callbacks contains "otel" */
    int workers;            /* producer threads: worker_index < workers */
    otel_getenv_fn getenv;  /* NULL: getenv(3) */
    void *getenv_ud;
} otel_settings;

typedef struct otel otel;

/* Reads the OTEL_* environment (docs/otel.md lists every variable) and, if
 * export is configured, starts the exporter thread. *out is NULL when
 * nothing is configured or OTEL_SDK_DISABLED=true. Returns 0, or -1 with a
 * message in err (bad endpoint URL, grpc protocol, ...); the caller decides
 * whether that stops the program. Non-fatal problems (a malformed number,
 * header pair, sampler) fall back to the default and are described in
 * warn (may be NULL), one per line. Call curl_global_init() first. */
int otel_new(const otel_settings *s, otel **out, char *err, size_t err_len, char *warn, size_t warn_len);
/* Stops the exporter: drains the rings, POSTs what is queued and the
 * metrics once within a 2 s deadline (no retries; what fails is counted
 * as dropped), and joins the thread. Later submits are dropped and
 * counted; otel_get_stats still works. Idempotent. */
void otel_shutdown(otel *o);
/* One line for the start-up banner: where spans and metrics go, e.g.
 * "traces to http://c:4318/v1/traces (http/protobuf), metrics to
 * http://c:4318/v1/metrics (http/protobuf)". URLs are shown without
 * userinfo, query or fragment; headers are never shown (they may carry
 * credentials). "" when o is NULL. */
void otel_describe(const otel *o, char *out, size_t n);
/* otel_shutdown() if not done yet, then frees everything. */
void otel_free(otel *o);

/* Request start: initializes *sp (otel_span_init), continues
 * traceparent/tracestate (either may be NULL) or starts a new trace; draws
 * span_id (and client_span_id when want_client), decides sampling
 * (OTEL_TRACES_SAMPLER), sets start_ns = now_ns. A tracestate is kept only
 * with a valid traceparent, only if printable ASCII, and cut to whole
 * entries within OTEL_TRACESTATE_MAX. With o == NULL the ids are still
 * drawn and the client's sampled flag passed on, but sampled is false. */
void otel_start(const otel *o, const char *traceparent, size_t tp_len, const char *tracestate, size_t ts_len,
                bool want_client, uint64_t now_ns, otel_span *sp);
/* The traceparent to send upstream: the CLIENT span's id when there is one,
 * else the server span's. Returns OTEL_TRACEPARENT_LEN. */
int otel_upstream_traceparent(const otel_span *sp, char out[OTEL_TRACEPARENT_LEN + 1]);

/* End of request: copies *sp into ring worker_index. Lock-free, wait-free,
 * never blocks. Returns 0, or -1 when dropped (ring full, bad index, o off). */
int otel_submit(otel *o, int worker_index, const otel_span *sp);

typedef struct {
    uint64_t dropped_spans;  /* ring full + queue full + failed batches */
    uint64_t exported_spans; /* accepted by the collector (2xx) */
    uint64_t export_errors;  /* failed POSTs (traces and metrics) */
    uint64_t retries;        /* POSTs retried after 429/502/503/504/conn */
    uint64_t metric_exports; /* metric POSTs accepted */
} otel_stats;

/* tollgate_otel_dropped_spans_total. 0 when o is NULL. */
uint64_t otel_dropped_spans(const otel *o);
void otel_get_stats(const otel *o, otel_stats *st);

#endif
