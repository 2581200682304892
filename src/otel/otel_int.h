/* Internals of src/otel shared between its files and the unit tests. */
#ifndef TOLLGATE_OTEL_INT_H
#define TOLLGATE_OTEL_INT_H

#include <stdatomic.h>

#include "otel/otel.h"
#include "util/buf.h"

/* ---- configuration (otel_config.c) ------------------------------------ */

#define OTEL_URL_MAX 1024
#define OTEL_MAX_HEADERS 16
#define OTEL_MAX_RESOURCE 32

typedef struct {
    char key[128];
    char value[2048];
} otel_kv;

enum otel_protocol { OTEL_PROTO_PROTOBUF = 0, OTEL_PROTO_JSON };

enum otel_sampler {
    OTEL_SAMPLER_ALWAYS_ON = 0,
    OTEL_SAMPLER_ALWAYS_OFF,
    OTEL_SAMPLER_RATIO,
    OTEL_SAMPLER_PARENT_ON,
    OTEL_SAMPLER_PARENT_OFF,
    OTEL_SAMPLER_PARENT_RATIO,
};

typedef struct {
    bool traces_on, metrics_on;
    char traces_url[OTEL_URL_MAX];
    char metrics_url[OTEL_URL_MAX];
    enum otel_protocol traces_protocol, metrics_protocol;
    otel_kv traces_headers[OTEL_MAX_HEADERS];
    int n_traces_headers;
    otel_kv metrics_headers[OTEL_MAX_HEADERS];
    int n_metrics_headers;
    otel_kv resource[OTEL_MAX_RESOURCE]; /* service.name first */
    int n_resource;
    enum otel_sampler sampler;
    double ratio;           /* traceidratio argument, 0..1 */
    int schedule_delay_ms;  /* OTEL_BSP_SCHEDULE_DELAY */
    int max_queue;          /* OTEL_BSP_MAX_QUEUE_SIZE */
    int batch_max;          /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE */
    int export_interval_ms; /* OTEL_METRIC_EXPORT_INTERVAL */
    int timeout_ms;         /* OTEL_EXPORTER_OTLP_TIMEOUT */
} otel_config;

/* Fills c from the environment of s. Returns 1 when export is configured,
 * 0 when it is off, -1 with err set on a fatal misconfiguration. */
int otel_config_load(otel_config *c, const otel_settings *s, char *err, size_t err_len, char *warn, size_t warn_len);
/* Parses a W3C-baggage-style "k=v,k=v" list (values percent-decoded) into
 * out[*n..max); bad pairs are skipped and described in warn. header: keys
 * must be HTTP tokens and values free of control characters. */
void otel_kv_parse(const char *s, bool header, otel_kv *out, int *n, int max, buf *warn);
/* 0 when url is an http:// or https:// URL with a host and no control
 * characters or spaces, else -1. */
int otel_url_check(const char *url);

/* ---- sampling (otel_trace.c) ------------------------------------------ */

bool otel_sample(const otel_config *c, const otel_traceparent *parent, const uint8_t trace_id[OTEL_TRACE_ID_LEN]);
/* Replaces invalid UTF-8 in the NUL-terminated s with '?', in place. */
void otel_utf8_clean(char *s);

/* ---- single-producer single-consumer ring (otel.c) -------------------- */

typedef struct {
    _Alignas(64) _Atomic size_t head; /* written by the producer only */
    _Alignas(64) _Atomic size_t tail; /* written by the consumer only */
    _Alignas(64) _Atomic uint64_t dropped;
    size_t mask;
    otel_span *slots;
} otel_ring;

int otel_ring_init(otel_ring *r, size_t cap); /* cap rounded up to 2^k */
void otel_ring_free(otel_ring *r);
bool otel_ring_push(otel_ring *r, const otel_span *sp); /* false: full, counted */
bool otel_ring_pop(otel_ring *r, otel_span *out);

/* ---- attributes: the one place spans and series become key/values ----- */

enum otel_attr_type { OTEL_A_STR, OTEL_A_INT, OTEL_A_DOUBLE, OTEL_A_BOOL, OTEL_A_STRS };

typedef struct {
    const char *key;
    enum otel_attr_type type;
    const char *s;      /* STR */
    int64_t i;          /* INT, BOOL */
    double d;           /* DOUBLE */
    const char *const *strs; /* STRS */
    int n_strs;
} otel_attr;

#define OTEL_SPAN_ATTRS_MAX 32
const char *otel_op_name(enum otel_op op);
/* "{gen_ai.operation.name} {gen_ai.request.model}" (GenAI span name). */
#define OTEL_SPAN_NAME_MAX (24 + OTEL_MODEL_MAX)
void otel_span_name(const otel_span *sp, char out[OTEL_SPAN_NAME_MAX]);
/* Span.flags: W3C flags plus the OTLP "is remote parent" bits. */
uint32_t otel_span_flags(const otel_span *sp, bool client);
/* Attributes of the SERVER span (client == false) or the CLIENT span. */
int otel_span_attrs(const otel_span *sp, bool client, otel_attr *out);

/* ---- metrics aggregation (otel_metrics.c) ----------------------------- */

typedef struct otel_metrics otel_metrics;

enum otel_instr { OTEL_M_DURATION = 0, OTEL_M_TTFT, OTEL_M_TPOT, OTEL_M_TOKENS, OTEL_M_COUNT };

typedef struct {
    const char *name, *unit, *description;
    const double *bounds;
    int n_bounds;
} otel_instr_info;

const otel_instr_info *otel_instr(enum otel_instr m);

#define OTEL_HIST_MAX 17
typedef struct {
    uint64_t count;
    double sum, min, max;
    uint64_t buckets[OTEL_HIST_MAX + 1];
} otel_hist;

/* One data point to encode: instrument m with attributes attrs. */
typedef struct {
    enum otel_instr m;
    const otel_hist *h;
    otel_attr attrs[10];
    int n_attrs;
} otel_point;

otel_metrics *otel_metrics_new(int max_series, uint64_t start_ns);
void otel_metrics_free(otel_metrics *m);
void otel_metrics_record(otel_metrics *m, const otel_span *sp);
uint64_t otel_metrics_start_ns(const otel_metrics *m);
/* Calls fn for each non-empty data point, grouped by instrument. */
void otel_metrics_each(const otel_metrics *m, enum otel_instr instr, void (*fn)(void *ud, const otel_point *p),
                       void *ud);
bool otel_metrics_empty(const otel_metrics *m);

/* ---- encoders (otel_pb.c, otel_json.c) -------------------------------- */

/* ExportTraceServiceRequest for spans[0..n) (the sampled ones) */
void otel_pb_traces(buf *b, const otel_config *c, const otel_span *spans, size_t n);
void otel_json_traces(buf *b, const otel_config *c, const otel_span *spans, size_t n);
/* ExportMetricsServiceRequest, cumulative, time = now_ns */
void otel_pb_metrics(buf *b, const otel_config *c, const otel_metrics *m, uint64_t now_ns);
void otel_json_metrics(buf *b, const otel_config *c, const otel_metrics *m, uint64_t now_ns);

#define OTEL_SCOPE_NAME "tollgate"

#endif
