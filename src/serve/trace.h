/* The gateway's side of OpenTelemetry (src/otel): one span per routed
 * request, started from the client's W3C trace context, carried upstream
 * as a traceparent, filled from the metrics record at the end and handed
 * to otel_submit(). Every function is a no-op when g->otel is NULL.
 *
 * Only identities, numbers and fixed strings go into the span (model and
 * group names, the backend's host and port, the route, finish reasons,
 * LiteLLM's exception class): never request or response content. */
#ifndef TOLLGATE_SERVE_TRACE_H
#define TOLLGATE_SERVE_TRACE_H

#include "otel/otel.h"
#include "parse/http.h"
#include "serve/gateway.h"

/* Request start (t_start: its CLOCK_MONOTONIC time, metrics_request.t_start).
 * Reads traceparent/tracestate from req (may be NULL). */
void trace_begin(const gateway *g, const http_request *req, int64_t t_start, otel_span *sp);

/* "traceparent: 00-…\r\n" for the upstream request into out; "" when
 * OpenTelemetry is off. */
#define TRACE_HEADER_MAX 80
void trace_upstream_header(const gateway *g, const otel_span *sp, char out[TRACE_HEADER_MAX]);

/* What the end of a request knows. */
typedef struct {
    tr_kind kind;
    const metrics_request *rec; /* complete (t_end set) */
    const tr_stats *st;         /* the last attempt's translator stats, or NULL */
    const char *body;           /* the client's JSON body (max_tokens, temperature, top_p), or for
                                   the native routes its "options" object (num_predict...); or NULL */
    size_t body_len;
} trace_facts;

/* Fills *sp from f and submits it: every request, sampled or not, since
 * the OTLP metrics count them all. Once per request, on worker thread t. */
void trace_end(const gw_thread *t, const trace_facts *f, otel_span *sp);

#endif
