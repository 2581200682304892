/* One reading of the gateway's and the GPU exporter's /metrics, reduced to
 * what 'tollgate top' shows, and the arithmetic between two readings
 * (rates over the refresh interval, histogram quantiles). Internal to
 * src/top. */
#ifndef TOLLGATE_TOP_SNAP_H
#define TOLLGATE_TOP_SNAP_H

#include <stddef.h>

#define TOP_MAX_MODELS 32
#define TOP_MAX_BUCKETS 48
#define TOP_MAX_LOADED 32
#define TOP_MAX_GPUS 16
#define TOP_NAME 96

/* A histogram summed over all series of one model: cumulative counts per
 * upper bound (le), bounds ascending, +Inf last. */
typedef struct {
    double le[TOP_MAX_BUCKETS];
    double cum[TOP_MAX_BUCKETS];
    int n;
} top_hist;

typedef struct {
    char name[TOP_NAME]; /* the model group (requested_model) */
    double requests, failures, tokens_in, tokens_out, in_flight;
    top_hist latency, ttft;
} top_model;

typedef struct {
    char model[TOP_NAME], api_base[TOP_NAME];
    double size, vram, expires_at; /* bytes, bytes, unix seconds (0 = unknown) */
} top_loaded;

typedef struct {
    char id[16], name[TOP_NAME];
    double util, fb_used, fb_free, temp, power; /* %, MiB, MiB, C, W; NaN = not reported */
} top_gpu;

typedef struct {
    double t;                  /* probe_now() when read */
    int gateway_ok, gpu_ok;    /* the /metrics GETs succeeded */
    char gateway_err[192], gpu_err[192];
    top_model models[TOP_MAX_MODELS];
    int nmodels;
    top_loaded loaded[TOP_MAX_LOADED];
    int nloaded;
    double ollama_up; /* tollgate_ollama_up summed; NaN when absent */
    top_gpu gpus[TOP_MAX_GPUS];
    int ngpus;
    double nvml_up; /* tollgate_gpu_nvml_up; NaN when absent */
} top_snap;

/* Fills s from the two exposition texts (either may be NULL: not read). */
void top_snap_parse(top_snap *s, const char *gateway, size_t glen, const char *gpu, size_t gpulen);
/* The model named name in s, or NULL. */
const top_model *top_snap_model(const top_snap *s, const char *name);
/* Prometheus' histogram_quantile over the observations between prev and cur
 * (prev NULL: since the counters began). NaN when there are none. */
double top_hist_quantile(double q, const top_hist *cur, const top_hist *prev);
/* Observations in cur minus prev (prev may be NULL). */
double top_hist_count(const top_hist *cur, const top_hist *prev);

#endif
