/* The otel object and its exporter thread (otel_export.c). Internal. */
#ifndef TOLLGATE_OTEL_EXPORT_H
#define TOLLGATE_OTEL_EXPORT_H

#include <pthread.h>

#include "otel/otel_int.h"

#define OTEL_MAX_SERIES 512     /* metric attribute sets before overflow */
#define OTEL_POLL_MS 20         /* how often the rings are drained: a 1024-slot ring then absorbs 50k spans/s */
#define OTEL_MAX_ATTEMPTS 6     /* a batch is dropped after this many tries */
#define OTEL_BACKOFF_MAX_MS 32000
#define OTEL_RETRY_AFTER_MAX_S 60
#define OTEL_SHUTDOWN_MS 2000

typedef struct {
    uint64_t not_before_ms; /* monotonic: backoff after a failed POST */
    int attempt;            /* consecutive failures */
} otel_backoff;

struct otel {
    otel_config *cfg;
    int workers;
    otel_ring *rings;
    otel_metrics *metrics;

    _Atomic bool stopped;       /* submits are refused */
    _Atomic uint64_t abort_at;  /* monotonic ms; 0 = none: cuts a POST short */
    _Atomic uint64_t dropped;   /* besides the rings' own counters */
    _Atomic uint64_t exported, errors, retries, metric_exports;

    pthread_t thread;
    bool started, joined;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* under mu */

    /* Exporter thread only. */
    otel_span *queue; /* sampled spans waiting for a batch, FIFO */
    size_t qn;
    otel_backoff trace_bo, metric_bo;
};

int otel_export_start(otel *o);

#endif
