/* OTLP/HTTP JSON bodies: the protobuf JSON mapping with OTLP's exceptions
 * (opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding"):
 * trace and span ids as lowercase hex (not base64), enums as integers,
 * lowerCamelCase keys, 64-bit integers as decimal strings. Same messages
 * and the same attribute lists as otel_pb.c. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "otel/otel_int.h"

static void key(buf *b, const char *k)
{
    buf_putc(b, '"');
    buf_puts(b, k);
    buf_puts(b, "\":");
}

static void str(buf *b, const char *s) { buf_json_str(b, s, strlen(s)); }

static void u64s(buf *b, uint64_t v) { buf_printf(b, "\"%" PRIu64 "\"", v); }

/* A double, or the mapping's "NaN"/"Infinity" strings JSON cannot hold. */
static void dbl(buf *b, double d)
{
    if (isnan(d))
        buf_puts(b, "\"NaN\"");
    else if (isinf(d))
        buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        buf_prom_double(b, d);
}

static void hex(buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        buf_putc(b, digits[p[i] >> 4]);
        buf_putc(b, digits[p[i] & 15]);
    }
    buf_putc(b, '"');
}

static void value(buf *b, const otel_attr *a)
{
    buf_putc(b, '{');
    switch (a->type) {
    case OTEL_A_STR:
        key(b, "stringValue");
        str(b, a->s);
        break;
    case OTEL_A_BOOL:
        key(b, "boolValue");
        buf_puts(b, a->i ? "true" : "false");
        break;
    case OTEL_A_INT:
        key(b, "intValue");
        buf_printf(b, "\"%" PRId64 "\"", a->i);
        break;
    case OTEL_A_DOUBLE:
        key(b, "doubleValue");
        dbl(b, a->d);
        break;
    case OTEL_A_STRS:
        key(b, "arrayValue");
        buf_puts(b, "{\"values\":[");
        for (int i = 0; i < a->n_strs; i++) {
            buf_puts(b, i ? ",{\"stringValue\":" : "{\"stringValue\":");
            str(b, a->strs[i]);
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
        break;
    }
    buf_putc(b, '}');
}

static void attrs(buf *b, const otel_attr *a, int n)
{
    key(b, "attributes");
    buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
        str(b, a[i].key);
        buf_puts(b, ",\"value\":");
        value(b, &a[i]);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}

/* {"resource":{...},"scope<kind>":[{"scope":{...}, — the caller closes. */
static void resource_and_scope(buf *b, const otel_config *c, const char *scope_key)
{
    otel_attr a[OTEL_MAX_RESOURCE];
    for (int i = 0; i < c->n_resource; i++)
        a[i] = (otel_attr){.key = c->resource[i].key, .type = OTEL_A_STR, .s = c->resource[i].value};
    buf_puts(b, "{\"resource\":{");
    attrs(b, a, c->n_resource);
    buf_puts(b, "},");
    key(b, scope_key);
    buf_puts(b, "[{\"scope\":{\"name\":");
    str(b, OTEL_SCOPE_NAME);
    buf_puts(b, ",\"version\":");
    str(b, TOLLGATE_VERSION);
    buf_puts(b, "},");
}

static void span(buf *b, const otel_span *sp, bool client)
{
    otel_attr a[OTEL_SPAN_ATTRS_MAX];
    char name[OTEL_SPAN_NAME_MAX];
    otel_span_name(sp, name);
    buf_putc(b, '{');
    key(b, "traceId");
    hex(b, sp->trace_id, OTEL_TRACE_ID_LEN);
    buf_putc(b, ',');
    key(b, "spanId");
    hex(b, client ? sp->client_span_id : sp->span_id, OTEL_SPAN_ID_LEN);
    if (sp->tracestate[0]) {
        buf_putc(b, ',');
        key(b, "traceState");
        str(b, sp->tracestate);
    }
    if (client || sp->has_parent) {
        buf_putc(b, ',');
        key(b, "parentSpanId");
        hex(b, client ? sp->span_id : sp->parent_span_id, OTEL_SPAN_ID_LEN);
    }
    buf_putc(b, ',');
    key(b, "flags");
    buf_printf(b, "%" PRIu32 ",", otel_span_flags(sp, client));
    key(b, "name");
    str(b, name);
    buf_printf(b, ",\"kind\":%d,", client ? 3 : 2);
    key(b, "startTimeUnixNano");
    u64s(b, client ? sp->client_start_ns : sp->start_ns);
    buf_putc(b, ',');
    key(b, "endTimeUnixNano");
    u64s(b, client ? sp->client_end_ns : sp->end_ns);
    buf_putc(b, ',');
    attrs(b, a, otel_span_attrs(sp, client, a));
    if (sp->error_type[0])
        buf_puts(b, ",\"status\":{\"code\":2}");
    buf_putc(b, '}');
}

void otel_json_traces(buf *b, const otel_config *c, const otel_span *spans, size_t n)
{
    buf_puts(b, "{\"resourceSpans\":[");
    resource_and_scope(b, c, "scopeSpans");
    key(b, "spans");
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        span(b, &spans[i], false);
        if (spans[i].has_client_span) {
            buf_putc(b, ',');
            span(b, &spans[i], true);
        }
    }
    buf_puts(b, "]}]}]}");
}

typedef struct {
    buf *b;
    uint64_t start_ns, now_ns;
    int n;
} metric_ctx;

static void point(void *ud, const otel_point *p)
{
    metric_ctx *mc = ud;
    buf *b = mc->b;
    const otel_instr_info *in = otel_instr(p->m);
    const otel_hist *h = p->h;
    buf_puts(b, mc->n++ ? ",{" : "{");
    attrs(b, p->attrs, p->n_attrs);
    buf_puts(b, ",\"startTimeUnixNano\":");
    u64s(b, mc->start_ns);
    buf_puts(b, ",\"timeUnixNano\":");
    u64s(b, mc->now_ns);
    buf_puts(b, ",\"count\":");
    u64s(b, h->count);
    buf_puts(b, ",\"sum\":");
    dbl(b, h->sum);
    buf_puts(b, ",\"bucketCounts\":[");
    for (int i = 0; i <= in->n_bounds; i++) {
        if (i)
            buf_putc(b, ',');
        u64s(b, h->buckets[i]);
    }
    buf_puts(b, "],\"explicitBounds\":[");
    for (int i = 0; i < in->n_bounds; i++) {
        if (i)
            buf_putc(b, ',');
        dbl(b, in->bounds[i]);
    }
    buf_puts(b, "],\"min\":");
    dbl(b, h->min);
    buf_puts(b, ",\"max\":");
    dbl(b, h->max);
    buf_putc(b, '}');
}

void otel_json_metrics(buf *b, const otel_config *c, const otel_metrics *m, uint64_t now_ns)
{
    buf_puts(b, "{\"resourceMetrics\":[");
    resource_and_scope(b, c, "scopeMetrics");
    key(b, "metrics");
    buf_putc(b, '[');
    int n_metrics = 0;
    for (int k = 0; k < OTEL_M_COUNT; k++) {
        const otel_instr_info *in = otel_instr((enum otel_instr)k);
        size_t mark = b->len;
        buf_puts(b, n_metrics ? ",{\"name\":" : "{\"name\":");
        str(b, in->name);
        buf_puts(b, ",\"description\":");
        str(b, in->description);
        buf_puts(b, ",\"unit\":");
        str(b, in->unit);
        buf_puts(b, ",\"histogram\":{\"dataPoints\":[");
        metric_ctx mc = {b, otel_metrics_start_ns(m), now_ns, 0};
        otel_metrics_each(m, (enum otel_instr)k, point, &mc);
        if (!mc.n) { /* no data points: leave the metric out */
            b->len = mark;
            continue;
        }
        buf_puts(b, "],\"aggregationTemporality\":2}}");
        n_metrics++;
    }
    buf_puts(b, "]}]}]}");
}
