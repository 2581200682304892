/* The request-path half of src/otel: starting a span, the per-worker
 * single-producer/single-consumer rings otel_submit() writes into, and the
 * object's life cycle. The exporter thread is in otel_export.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otel/otel_export.h"

/* ---- ring ------------------------------------------------------------- */

int otel_ring_init(otel_ring *r, size_t cap)
{
    size_t n = 1;
    while (n < cap)
        n <<= 1;
    memset(r, 0, sizeof *r);
    r->slots = calloc(n, sizeof *r->slots);
    if (!r->slots)
        return -1;
    r->mask = n - 1;
    return 0;
}

void otel_ring_free(otel_ring *r)
{
    free(r->slots);
    r->slots = NULL;
}

/* Producer: the slot is written before head is published (release), the
 * consumer reads head with acquire, so it never sees a half-copied span. */
bool otel_ring_push(otel_ring *r, const otel_span *sp)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return false;
    }
    r->slots[head & r->mask] = *sp;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return true;
}

bool otel_ring_pop(otel_ring *r, otel_span *out)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head)
        return false;
    *out = r->slots[tail & r->mask];
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

/* ---- life cycle ------------------------------------------------------- */

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int otel_new(const otel_settings *s, otel **out, char *err, size_t err_len, char *warn, size_t warn_len)
{
    *out = NULL;
    otel_config *c = malloc(sizeof *c);
    if (!c) {
        snprintf(err, err_len, "otel: out of memory");
        return -1;
    }
    int rc = otel_config_load(c, s, err, err_len, warn, warn_len);
    if (rc <= 0) {
        free(c);
        return rc;
    }
    otel *o = calloc(1, sizeof *o);
    if (!o)
        goto oom;
    o->cfg = c;
    c = NULL;
    o->workers = s->workers > 0 ? s->workers : 1;
    o->rings = calloc((size_t)o->workers, sizeof *o->rings);
    if (!o->rings)
        goto oom;
    /* Each ring holds a worker's share of the queue (at least 64), so a
     * burst on one worker between two drains is absorbed. */
    size_t per = (size_t)o->cfg->max_queue / (size_t)o->workers;
    for (int i = 0; i < o->workers; i++)
        if (otel_ring_init(&o->rings[i], per < 64 ? 64 : per) < 0)
            goto oom;
    o->metrics = otel_metrics_new(OTEL_MAX_SERIES, unix_ns());
    if (!o->metrics || otel_export_start(o) < 0)
        goto oom;
    *out = o;
    return 0;
oom:
    snprintf(err, err_len, "otel: out of memory or cannot start the exporter thread");
    free(c);
    otel_free(o);
    return -1;
}

void otel_free(otel *o)
{
    if (!o)
        return;
    otel_shutdown(o);
    if (o->rings)
        for (int i = 0; i < o->workers; i++)
            otel_ring_free(&o->rings[i]);
    free(o->rings);
    otel_metrics_free(o->metrics);
    free(o->cfg);
    free(o);
}

/* scheme://host[:port]/path without userinfo, query or fragment. */
static void shown_url(const char *url, buf *b)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *end = h + strcspn(h, "/?#");
    const char *at = NULL;
    for (const char *q = h; q < end; q++)
        if (*q == '@')
            at = q;
    buf_append(b, url, (size_t)(h - url));
    const char *rest = at ? at + 1 : h;
    buf_append(b, rest, strcspn(rest, "?#"));
}

void otel_describe(const otel *o, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    if (!o || !n)
        return;
    buf b;
    buf_init(&b);
    if (o->cfg->traces_on) {
        buf_puts(&b, "traces to ");
        shown_url(o->cfg->traces_url, &b);
        buf_puts(&b, o->cfg->traces_protocol == OTEL_PROTO_JSON ? " (http/json)" : " (http/protobuf)");
    }
    if (o->cfg->metrics_on) {
        buf_puts(&b, b.len ? ", metrics to " : "metrics to ");
        shown_url(o->cfg->metrics_url, &b);
        buf_puts(&b, o->cfg->metrics_protocol == OTEL_PROTO_JSON ? " (http/json)" : " (http/protobuf)");
    }
    snprintf(out, n, "%.*s", (int)b.len, b.data ? b.data : "");
    buf_free(&b);
}

/* ---- request path ----------------------------------------------------- */

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* W3C: a tracestate that is too long is cut by whole list members. */
static void keep_tracestate(otel_span *sp, const char *ts, size_t n)
{
    while (n && (*ts == ' ' || *ts == '\t'))
        ts++, n--;
    while (n && (ts[n - 1] == ' ' || ts[n - 1] == '\t'))
        n--;
    if (!n || !printable(ts, n))
        return;
    if (n > OTEL_TRACESTATE_MAX) {
        size_t cut = OTEL_TRACESTATE_MAX;
        while (cut && ts[cut] != ',')
            cut--;
        n = cut;
        while (n && (ts[n - 1] == ' ' || ts[n - 1] == '\t'))
            n--;
    }
    memcpy(sp->tracestate, ts, n);
    sp->tracestate[n] = '\0';
}

void otel_start(const otel *o, const char *traceparent, size_t tp_len, const char *tracestate, size_t ts_len,
                bool want_client, uint64_t now_ns, otel_span *sp)
{
    otel_traceparent tp;
    bool cont = traceparent && otel_traceparent_parse(traceparent, tp_len, &tp) == 0;
    otel_span_init(sp);
    if (cont) {
        memcpy(sp->trace_id, tp.trace_id, OTEL_TRACE_ID_LEN);
        memcpy(sp->parent_span_id, tp.span_id, OTEL_SPAN_ID_LEN);
        sp->has_parent = true;
        if (tracestate)
            keep_tracestate(sp, tracestate, ts_len);
    } else {
        otel_new_trace_id(sp->trace_id);
    }
    otel_new_span_id(sp->span_id);
    if (want_client) {
        sp->has_client_span = true;
        otel_new_span_id(sp->client_span_id);
    }
    if (o) {
        bool yes = otel_sample(o->cfg, cont ? &tp : NULL, sp->trace_id);
        sp->flags = yes ? 1 : 0;
        sp->sampled = yes && o->cfg->traces_on;
    } else {
        sp->flags = cont ? (tp.flags & 1) : 0;
    }
    sp->start_ns = now_ns;
}

int otel_upstream_traceparent(const otel_span *sp, char out[OTEL_TRACEPARENT_LEN + 1])
{
    return otel_traceparent_format(sp->trace_id, sp->has_client_span ? sp->client_span_id : sp->span_id, sp->flags,
                                   out);
}

int otel_submit(otel *o, int worker_index, const otel_span *sp)
{
    if (!o)
        return -1;
    if (!sp->sampled && !o->cfg->metrics_on)
        return 0; /* nothing would use it */
    if (worker_index < 0 || worker_index >= o->workers ||
        atomic_load_explicit(&o->stopped, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&o->dropped, 1, memory_order_relaxed);
        return -1;
    }
    return otel_ring_push(&o->rings[worker_index], sp) ? 0 : -1;
}

uint64_t otel_dropped_spans(const otel *o)
{
    otel_stats st;
    otel_get_stats(o, &st);
    return st.dropped_spans;
}

void otel_get_stats(const otel *o, otel_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!o)
        return;
    st->dropped_spans = atomic_load(&o->dropped);
    for (int i = 0; i < o->workers; i++)
        st->dropped_spans += atomic_load_explicit(&o->rings[i].dropped, memory_order_relaxed);
    st->exported_spans = atomic_load(&o->exported);
    st->export_errors = atomic_load(&o->errors);
    st->retries = atomic_load(&o->retries);
    st->metric_exports = atomic_load(&o->metric_exports);
}
