/* OTLP/HTTP protobuf bodies written by hand (opentelemetry-proto v1:
 * collector/trace/v1, collector/metrics/v1). The wire format needs only
 * varints, length-delimited fields, fixed64 and double; field numbers are
 * the .proto's and are checked by the unit tests' decoder and by the e2e
 * test decoding with OpenTelemetry's own generated code.
 *
 * Nested messages reserve one length byte and grow it when the message
 * turns out longer than 127 bytes (a memmove of that message), so lengths
 * are always minimal varints. */
#include <string.h>

#include "otel/otel_int.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static void varint(buf *b, uint64_t v)
{
    unsigned char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    buf_append(b, tmp, (size_t)n);
}

static void tag(buf *b, uint32_t field, int wt) { varint(b, (uint64_t)field << 3 | (uint64_t)wt); }

static void le(buf *b, uint64_t v, int n)
{
    unsigned char tmp[8];
    for (int i = 0; i < n; i++)
        tmp[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, tmp, (size_t)n);
}

static void f_varint(buf *b, uint32_t field, uint64_t v)
{
    tag(b, field, WT_VARINT);
    varint(b, v);
}

static void f_fixed64(buf *b, uint32_t field, uint64_t v)
{
    tag(b, field, WT_I64);
    le(b, v, 8);
}

static void f_double(buf *b, uint32_t field, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    f_fixed64(b, field, v);
}

static void f_bytes(buf *b, uint32_t field, const void *p, size_t n)
{
    tag(b, field, WT_LEN);
    varint(b, n);
    buf_append(b, p, n);
}

static void f_str(buf *b, uint32_t field, const char *s) { f_bytes(b, field, s, strlen(s)); }

static size_t begin(buf *b, uint32_t field)
{
    tag(b, field, WT_LEN);
    buf_putc(b, 0);
    return b->len;
}

static void end(buf *b, size_t start)
{
    if (b->oom)
        return;
    size_t len = b->len - start;
    unsigned char tmp[10];
    int n = 0;
    uint64_t v = len;
    do {
        tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    if (n > 1) {
        if (!buf_reserve(b, (size_t)n - 1))
            return;
        memmove(b->data + start + n - 1, b->data + start, len);
        b->len += (size_t)n - 1;
    }
    memcpy(b->data + start - 1, tmp, (size_t)n);
}

/* AnyValue fields: string 1, bool 2, int 3, double 4, array 5. */
static void any_value(buf *b, uint32_t field, const otel_attr *a)
{
    size_t m = begin(b, field);
    switch (a->type) {
    case OTEL_A_STR:
        f_str(b, 1, a->s);
        break;
    case OTEL_A_BOOL:
        f_varint(b, 2, a->i ? 1 : 0);
        break;
    case OTEL_A_INT:
        f_varint(b, 3, (uint64_t)a->i); /* int64: two's complement varint */
        break;
    case OTEL_A_DOUBLE:
        f_double(b, 4, a->d);
        break;
    case OTEL_A_STRS: {
        size_t arr = begin(b, 5);
        for (int i = 0; i < a->n_strs; i++) {
            size_t v = begin(b, 1);
            f_str(b, 1, a->strs[i]);
            end(b, v);
        }
        end(b, arr);
        break;
    }
    }
    end(b, m);
}

/* KeyValue { key 1, value 2 } as repeated field `field`. */
static void attrs(buf *b, uint32_t field, const otel_attr *a, int n)
{
    for (int i = 0; i < n; i++) {
        size_t kv = begin(b, field);
        f_str(b, 1, a[i].key);
        any_value(b, 2, &a[i]);
        end(b, kv);
    }
}

static void resource_and_scope_start(buf *b, const otel_config *c, size_t *scope_msg)
{
    size_t res = begin(b, 1); /* Resource */
    for (int i = 0; i < c->n_resource; i++) {
        otel_attr a = {.key = c->resource[i].key, .type = OTEL_A_STR, .s = c->resource[i].value};
        attrs(b, 1, &a, 1);
    }
    end(b, res);
    *scope_msg = begin(b, 2); /* ScopeSpans / ScopeMetrics */
    size_t scope = begin(b, 1); /* InstrumentationScope { name 1, version 2 } */
    f_str(b, 1, OTEL_SCOPE_NAME);
    f_str(b, 2, TOLLGATE_VERSION);
    end(b, scope);
}

static void span(buf *b, const otel_span *sp, bool client)
{
    otel_attr a[OTEL_SPAN_ATTRS_MAX];
    char name[OTEL_SPAN_NAME_MAX];
    otel_span_name(sp, name);
    size_t m = begin(b, 2); /* ScopeSpans.spans */
    f_bytes(b, 1, sp->trace_id, OTEL_TRACE_ID_LEN);
    f_bytes(b, 2, client ? sp->client_span_id : sp->span_id, OTEL_SPAN_ID_LEN);
    if (sp->tracestate[0])
        f_str(b, 3, sp->tracestate);
    if (client)
        f_bytes(b, 4, sp->span_id, OTEL_SPAN_ID_LEN);
    else if (sp->has_parent)
        f_bytes(b, 4, sp->parent_span_id, OTEL_SPAN_ID_LEN);
    f_str(b, 5, name);
    f_varint(b, 6, client ? 3 : 2); /* SPAN_KIND_CLIENT / SPAN_KIND_SERVER */
    f_fixed64(b, 7, client ? sp->client_start_ns : sp->start_ns);
    f_fixed64(b, 8, client ? sp->client_end_ns : sp->end_ns);
    attrs(b, 9, a, otel_span_attrs(sp, client, a));
    if (sp->error_type[0]) {
        size_t st = begin(b, 15); /* Status { message 2, code 3 } */
        f_varint(b, 3, 2);        /* STATUS_CODE_ERROR */
        end(b, st);
    }
    tag(b, 16, WT_I32);
    le(b, otel_span_flags(sp, client), 4);
    end(b, m);
}

void otel_pb_traces(buf *b, const otel_config *c, const otel_span *spans, size_t n)
{
    size_t rs = begin(b, 1), ss;
    resource_and_scope_start(b, c, &ss);
    for (size_t i = 0; i < n; i++) {
        span(b, &spans[i], false);
        if (spans[i].has_client_span)
            span(b, &spans[i], true);
    }
    end(b, ss);
    end(b, rs);
}

typedef struct {
    buf *b;
    uint64_t start_ns, now_ns;
} metric_ctx;

/* HistogramDataPoint: start 2, time 3, count 4, sum 5, bucket_counts 6,
 * explicit_bounds 7, attributes 9, min 11, max 12. */
static void point(void *ud, const otel_point *p)
{
    metric_ctx *mc = ud;
    buf *b = mc->b;
    const otel_instr_info *in = otel_instr(p->m);
    const otel_hist *h = p->h;
    size_t dp = begin(b, 1); /* Histogram.data_points */
    f_fixed64(b, 2, mc->start_ns);
    f_fixed64(b, 3, mc->now_ns);
    f_fixed64(b, 4, h->count);
    f_double(b, 5, h->sum);
    size_t bc = begin(b, 6); /* packed fixed64 */
    for (int i = 0; i <= in->n_bounds; i++)
        le(b, h->buckets[i], 8);
    end(b, bc);
    size_t eb = begin(b, 7); /* packed double */
    for (int i = 0; i < in->n_bounds; i++) {
        uint64_t v;
        memcpy(&v, &in->bounds[i], sizeof v);
        le(b, v, 8);
    }
    end(b, eb);
    attrs(b, 9, p->attrs, p->n_attrs);
    f_double(b, 11, h->min);
    f_double(b, 12, h->max);
    end(b, dp);
}

void otel_pb_metrics(buf *b, const otel_config *c, const otel_metrics *m, uint64_t now_ns)
{
    size_t rm = begin(b, 1), sm;
    resource_and_scope_start(b, c, &sm);
    for (int k = 0; k < OTEL_M_COUNT; k++) {
        const otel_instr_info *in = otel_instr((enum otel_instr)k);
        size_t mark = b->len;
        size_t metric = begin(b, 2); /* ScopeMetrics.metrics */
        f_str(b, 1, in->name);
        f_str(b, 2, in->description);
        f_str(b, 3, in->unit);
        size_t hist = begin(b, 9); /* Metric.histogram */
        size_t first = b->len;
        metric_ctx mc = {b, otel_metrics_start_ns(m), now_ns};
        otel_metrics_each(m, (enum otel_instr)k, point, &mc);
        if (b->len == first) { /* no data points: leave the metric out */
            b->len = mark;
            continue;
        }
        f_varint(b, 2, 2); /* AGGREGATION_TEMPORALITY_CUMULATIVE */
        end(b, hist);
        end(b, metric);
    }
    end(b, sm);
    end(b, rm);
}
