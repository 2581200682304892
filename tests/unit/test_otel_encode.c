/* otel encoders: the protobuf body is walked with a minimal wire-format
 * decoder (field numbers and wire types from opentelemetry-proto), the
 * JSON body is parsed with jansson. The e2e test repeats the check with
 * OpenTelemetry's own generated code. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otel/otel_int.h"

/* ---- a tiny protobuf reader (test only) ------------------------------- */

typedef struct {
    uint32_t field;
    int wt;
    uint64_t v;        /* varint, fixed64, fixed32 */
    const uint8_t *p;  /* length-delimited */
    size_t n;
} pbf;

static uint64_t rd_varint(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
        assert_true(*p < end);
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            if (s && !b)
                fail_msg("non-minimal varint");
            return v;
        }
    }
    fail_msg("varint too long");
    return 0;
}

/* The nth (0-based) occurrence of field in msg; false if absent. Every
 * field up to it must be well formed. */
static bool pb_get(const uint8_t *msg, size_t len, uint32_t field, int nth, pbf *out)
{
    const uint8_t *p = msg, *end = msg + len;
    while (p < end) {
        uint64_t key = rd_varint(&p, end);
        pbf f = {.field = (uint32_t)(key >> 3), .wt = (int)(key & 7)};
        switch (f.wt) {
        case 0:
            f.v = rd_varint(&p, end);
            break;
        case 1:
            assert_true(end - p >= 8);
            for (int i = 7; i >= 0; i--)
                f.v = f.v << 8 | p[i];
            p += 8;
            break;
        case 2:
            f.n = rd_varint(&p, end);
            assert_true((size_t)(end - p) >= f.n);
            f.p = p;
            p += f.n;
            break;
        case 5:
            assert_true(end - p >= 4);
            f.v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
            p += 4;
            break;
        default:
            fail_msg("bad wire type %d", f.wt);
        }
        if (f.field == field && nth-- == 0) {
            *out = f;
            return true;
        }
    }
    return false;
}

static pbf need(const uint8_t *msg, size_t len, uint32_t field, int nth, int wt)
{
    pbf f;
    if (!pb_get(msg, len, field, nth, &f))
        fail_msg("field %u #%d missing", field, nth);
    assert_int_equal(f.wt, wt);
    return f;
}

static double as_double(uint64_t v)
{
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* The AnyValue of attribute key in a message whose attributes are `field`. */
static bool attr(const uint8_t *msg, size_t len, uint32_t field, const char *key, pbf *value)
{
    pbf kv;
    for (int i = 0; pb_get(msg, len, field, i, &kv); i++) {
        pbf k = need(kv.p, kv.n, 1, 0, 2);
        if (k.n == strlen(key) && !memcmp(k.p, key, k.n)) {
            *value = need(kv.p, kv.n, 2, 0, 2);
            return true;
        }
    }
    return false;
}

static void assert_attr_str(const uint8_t *m, size_t n, uint32_t field, const char *key, const char *want)
{
    pbf v;
    if (!attr(m, n, field, key, &v))
        fail_msg("attribute %s missing", key);
    pbf s = need(v.p, v.n, 1, 0, 2);
    assert_int_equal(s.n, strlen(want));
    assert_memory_equal(s.p, want, s.n);
}

static int64_t attr_int(const uint8_t *m, size_t n, uint32_t field, const char *key)
{
    pbf v;
    if (!attr(m, n, field, key, &v))
        fail_msg("attribute %s missing", key);
    return (int64_t)need(v.p, v.n, 3, 0, 0).v;
}

/* ---- fixtures --------------------------------------------------------- */

static otel_config *config(void)
{
    static otel_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.resource[0].key, "service.name");
    strcpy(c.resource[0].value, "tollgate-test");
    c.n_resource = 1;
    return &c;
}

static void fill(otel_span *sp)
{
    otel_traceparent tp;
    const char *h = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    otel_start(NULL, h, strlen(h), "k=v", 3, true, 1700000000000000000ULL, sp);
    assert_int_equal(otel_traceparent_parse(h, strlen(h), &tp), 0);
    sp->sampled = true;
    sp->end_ns = sp->start_ns + 1500000000ULL;
    sp->client_start_ns = sp->start_ns + 1000;
    sp->client_end_ns = sp->end_ns - 1000;
    strcpy(sp->provider, "ollama");
    /* a model name longer than 127 bytes: lengths need two-byte varints */
    memset(sp->request_model, 'm', 120);
    strcpy(sp->request_model + 120, ":latest");
    strcpy(sp->response_model, "llama3:8b");
    strcpy(sp->server_address, "127.0.0.1");
    sp->server_port = 11434;
    strcpy(sp->http_route, "/v1/chat/completions");
    sp->http_status = 200;
    sp->max_tokens = 64;
    sp->temperature = 0.25;
    sp->input_tokens = 12;
    sp->output_tokens = 30;
    strcpy(sp->finish_reasons[0], "stop");
    sp->n_finish_reasons = 1;
    sp->stream = true;
    sp->ttft_s = 0.05;
    sp->load_s = 0.5;
}

/* ---- traces ----------------------------------------------------------- */

static void test_pb_traces(void **state)
{
    otel_span sp[2];
    fill(&sp[0]);
    fill(&sp[1]);
    sp[1].has_client_span = false;
    sp[1].has_parent = false;
    strcpy(sp[1].error_type, "timeout");
    buf b;
    buf_init(&b);
    otel_pb_traces(&b, config(), sp, 2);
    assert_false(b.oom);
    const uint8_t *m = (const uint8_t *)b.data;
    pbf rs = need(m, b.len, 1, 0, 2);
    pbf res = need(rs.p, rs.n, 1, 0, 2);
    assert_attr_str(res.p, res.n, 1, "service.name", "tollgate-test");
    pbf ss = need(rs.p, rs.n, 2, 0, 2);
    pbf scope = need(ss.p, ss.n, 1, 0, 2);
    pbf sname = need(scope.p, scope.n, 1, 0, 2);
    assert_memory_equal(sname.p, "tollgate", 8);

    pbf s0 = need(ss.p, ss.n, 2, 0, 2), c0 = need(ss.p, ss.n, 2, 1, 2), s1 = need(ss.p, ss.n, 2, 2, 2);
    pbf extra;
    assert_false(pb_get(ss.p, ss.n, 2, 3, &extra));
    /* server span */
    pbf tid = need(s0.p, s0.n, 1, 0, 2);
    assert_int_equal(tid.n, 16);
    assert_memory_equal(tid.p, sp[0].trace_id, 16);
    assert_memory_equal(need(s0.p, s0.n, 2, 0, 2).p, sp[0].span_id, 8);
    assert_memory_equal(need(s0.p, s0.n, 3, 0, 2).p, "k=v", 3);
    assert_memory_equal(need(s0.p, s0.n, 4, 0, 2).p, sp[0].parent_span_id, 8);
    pbf name = need(s0.p, s0.n, 5, 0, 2);
    assert_int_equal(name.n, 5 + 127);
    assert_memory_equal(name.p, "chat mmm", 8);
    assert_int_equal(need(s0.p, s0.n, 6, 0, 0).v, 2); /* SERVER */
    assert_int_equal(need(s0.p, s0.n, 7, 0, 1).v, sp[0].start_ns);
    assert_int_equal(need(s0.p, s0.n, 8, 0, 1).v, sp[0].end_ns);
    assert_int_equal(need(s0.p, s0.n, 16, 0, 5).v, 0x301); /* sampled, remote parent */
    assert_false(pb_get(s0.p, s0.n, 15, 0, &extra));      /* status unset on success */
    assert_attr_str(s0.p, s0.n, 9, "gen_ai.operation.name", "chat");
    assert_attr_str(s0.p, s0.n, 9, "gen_ai.provider.name", "ollama");
    assert_attr_str(s0.p, s0.n, 9, "gen_ai.response.model", "llama3:8b");
    assert_attr_str(s0.p, s0.n, 9, "server.address", "127.0.0.1");
    assert_attr_str(s0.p, s0.n, 9, "http.route", "/v1/chat/completions");
    assert_int_equal(attr_int(s0.p, s0.n, 9, "server.port"), 11434);
    assert_int_equal(attr_int(s0.p, s0.n, 9, "gen_ai.usage.input_tokens"), 12);
    assert_int_equal(attr_int(s0.p, s0.n, 9, "gen_ai.usage.output_tokens"), 30);
    assert_int_equal(attr_int(s0.p, s0.n, 9, "gen_ai.request.max_tokens"), 64);
    assert_int_equal(attr_int(s0.p, s0.n, 9, "http.response.status_code"), 200);
    pbf v;
    assert_true(attr(s0.p, s0.n, 9, "gen_ai.request.temperature", &v));
    assert_true(as_double(need(v.p, v.n, 4, 0, 1).v) == 0.25);
    assert_true(attr(s0.p, s0.n, 9, "tollgate.time_to_first_token_s", &v));
    assert_true(as_double(need(v.p, v.n, 4, 0, 1).v) == 0.05);
    assert_true(attr(s0.p, s0.n, 9, "tollgate.stream", &v));
    assert_int_equal(need(v.p, v.n, 2, 0, 0).v, 1);
    assert_true(attr(s0.p, s0.n, 9, "gen_ai.response.finish_reasons", &v));
    pbf arr = need(v.p, v.n, 5, 0, 2), el = need(arr.p, arr.n, 1, 0, 2), es = need(el.p, el.n, 1, 0, 2);
    assert_memory_equal(es.p, "stop", 4);
    assert_false(attr(s0.p, s0.n, 9, "gen_ai.request.top_p", &v)); /* not given */
    assert_false(attr(s0.p, s0.n, 9, "error.type", &v));
    /* client span: child of the server span */
    assert_memory_equal(need(c0.p, c0.n, 2, 0, 2).p, sp[0].client_span_id, 8);
    assert_memory_equal(need(c0.p, c0.n, 4, 0, 2).p, sp[0].span_id, 8);
    assert_int_equal(need(c0.p, c0.n, 6, 0, 0).v, 3); /* CLIENT */
    assert_int_equal(need(c0.p, c0.n, 16, 0, 5).v, 0x101);
    assert_false(attr(c0.p, c0.n, 9, "gen_ai.usage.input_tokens", &v));
    /* error span: root, status ERROR, error.type */
    assert_false(pb_get(s1.p, s1.n, 4, 0, &extra));
    assert_int_equal(need(s1.p, s1.n, 16, 0, 5).v, 0x101);
    pbf st = need(s1.p, s1.n, 15, 0, 2);
    assert_int_equal(need(st.p, st.n, 3, 0, 0).v, 2);
    assert_attr_str(s1.p, s1.n, 9, "error.type", "timeout");
    buf_free(&b);
}

static void test_json_traces(void **state)
{
    otel_span sp;
    fill(&sp);
    strcpy(sp.response_model, "quote\" back\\slash \x01");
    buf b;
    buf_init(&b);
    otel_json_traces(&b, config(), &sp, 1);
    json_error_t e;
    json_t *root = json_loadb(b.data, b.len, 0, &e);
    if (!root)
        fail_msg("JSON: %s", e.text);
    json_t *spans = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(root,
                                   "resourceSpans"), 0), "scopeSpans"), 0), "spans");
    assert_int_equal(json_array_size(spans), 2);
    json_t *s = json_array_get(spans, 0);
    assert_string_equal(json_string_value(json_object_get(s, "traceId")), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(json_string_value(json_object_get(s, "parentSpanId")), "00f067aa0ba902b7");
    assert_int_equal(json_integer_value(json_object_get(s, "kind")), 2);
    assert_string_equal(json_string_value(json_object_get(s, "startTimeUnixNano")), "1700000000000000000");
    json_t *attrs = json_object_get(s, "attributes");
    bool seen_tokens = false, seen_model = false;
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a) {
        const char *k = json_string_value(json_object_get(a, "key"));
        json_t *val = json_object_get(a, "value");
        if (!strcmp(k, "gen_ai.usage.input_tokens")) {
            assert_string_equal(json_string_value(json_object_get(val, "intValue")), "12");
            seen_tokens = true;
        }
        if (!strcmp(k, "gen_ai.response.model")) {
            assert_string_equal(json_string_value(json_object_get(val, "stringValue")), "quote\" back\\slash \x01");
            seen_model = true;
        }
    }
    assert_true(seen_tokens && seen_model);
    json_decref(root);
    buf_free(&b);
}

/* ---- metrics ---------------------------------------------------------- */

static void test_metrics_pb_and_json(void **state)
{
    otel_metrics *m = otel_metrics_new(2, 1000);
    otel_span sp;
    fill(&sp); /* 1.5 s, ttft 0.05, 30 output tokens */
    otel_metrics_record(m, &sp);
    otel_metrics_record(m, &sp);
    strcpy(sp.error_type, "500");
    otel_metrics_record(m, &sp); /* duration only */
    sp.error_type[0] = '\0';
    strcpy(sp.response_model, "other");
    otel_metrics_record(m, &sp); /* third series: overflow (limit 2) */
    buf b;
    buf_init(&b);
    otel_pb_metrics(&b, config(), m, 2000);
    const uint8_t *p = (const uint8_t *)b.data;
    pbf rm = need(p, b.len, 1, 0, 2), sm = need(rm.p, rm.n, 2, 0, 2);
    const char *names[] = {"gen_ai.server.request.duration", "gen_ai.server.time_to_first_token",
                           "gen_ai.server.time_per_output_token", "gen_ai.client.token.usage"};
    for (int k = 0; k < 4; k++) {
        pbf met = need(sm.p, sm.n, 2, k, 2);
        pbf nm = need(met.p, met.n, 1, 0, 2);
        assert_int_equal(nm.n, strlen(names[k]));
        assert_memory_equal(nm.p, names[k], nm.n);
        pbf h = need(met.p, met.n, 9, 0, 2);
        assert_int_equal(need(h.p, h.n, 2, 0, 0).v, 2); /* cumulative */
        pbf dp = need(h.p, h.n, 1, 0, 2);
        assert_int_equal(need(dp.p, dp.n, 2, 0, 1).v, 1000);
        assert_int_equal(need(dp.p, dp.n, 3, 0, 1).v, 2000);
        const otel_instr_info *in = otel_instr((enum otel_instr)k);
        pbf bc = need(dp.p, dp.n, 6, 0, 2), eb = need(dp.p, dp.n, 7, 0, 2);
        assert_int_equal(bc.n, 8 * (size_t)(in->n_bounds + 1));
        assert_int_equal(eb.n, 8 * (size_t)in->n_bounds);
        if (k == 0) {
            /* series 1: two successes of 1.5 s: bucket (1.28, 2.56] */
            assert_int_equal(need(dp.p, dp.n, 4, 0, 1).v, 2);
            assert_true(as_double(need(dp.p, dp.n, 5, 0, 1).v) == 3.0);
            uint64_t c8;
            memcpy(&c8, bc.p + 8 * 8, 8);
            assert_int_equal(c8, 2);
            assert_attr_str(dp.p, dp.n, 9, "gen_ai.provider.name", "ollama");
            assert_int_equal(attr_int(dp.p, dp.n, 9, "server.port"), 11434);
            pbf v;
            assert_false(attr(dp.p, dp.n, 9, "error.type", &v));
            pbf dp1 = need(h.p, h.n, 1, 1, 2); /* the error series */
            assert_attr_str(dp1.p, dp1.n, 9, "error.type", "500");
            pbf dp2 = need(h.p, h.n, 1, 2, 2); /* overflow */
            assert_true(attr(dp2.p, dp2.n, 9, "otel.metric.overflow", &v));
        }
        if (k == 2) { /* TPOT = (1.5 - 0.05) / 29 */
            double sum = as_double(need(dp.p, dp.n, 5, 0, 1).v);
            assert_true(fabs(sum - 2 * (1.45 / 29)) < 1e-12);
        }
        if (k == 3) {
            assert_attr_str(dp.p, dp.n, 9, "gen_ai.token.type", "input");
            assert_true(as_double(need(dp.p, dp.n, 5, 0, 1).v) == 24.0);
            pbf dpo = need(h.p, h.n, 1, 1, 2);
            assert_attr_str(dpo.p, dpo.n, 9, "gen_ai.token.type", "output");
            assert_true(as_double(need(dpo.p, dpo.n, 5, 0, 1).v) == 60.0);
        }
    }
    pbf extra;
    assert_false(pb_get(sm.p, sm.n, 2, 4, &extra));

    buf_reset(&b);
    otel_json_metrics(&b, config(), m, 2000);
    json_error_t e;
    json_t *root = json_loadb(b.data, b.len, 0, &e);
    if (!root)
        fail_msg("JSON: %s", e.text);
    json_t *mets = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(root,
                                  "resourceMetrics"), 0), "scopeMetrics"), 0), "metrics");
    assert_int_equal(json_array_size(mets), 4);
    json_t *h = json_object_get(json_array_get(mets, 0), "histogram");
    assert_int_equal(json_integer_value(json_object_get(h, "aggregationTemporality")), 2);
    json_t *dp = json_array_get(json_object_get(h, "dataPoints"), 0);
    assert_string_equal(json_string_value(json_object_get(dp, "count")), "2");
    assert_string_equal(json_string_value(json_array_get(json_object_get(dp, "bucketCounts"), 8)), "2");
    assert_true(json_real_value(json_array_get(json_object_get(dp, "explicitBounds"), 0)) == 0.01);
    json_decref(root);

    /* empty aggregator: no metric at all */
    otel_metrics *empty = otel_metrics_new(4, 0);
    assert_true(otel_metrics_empty(empty));
    buf_reset(&b);
    otel_pb_metrics(&b, config(), empty, 1);
    pbf rm2 = need((const uint8_t *)b.data, b.len, 1, 0, 2), sm2 = need(rm2.p, rm2.n, 2, 0, 2);
    assert_false(pb_get(sm2.p, sm2.n, 2, 0, &extra));
    otel_metrics_free(empty);
    otel_metrics_free(m);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pb_traces),
        cmocka_unit_test(test_json_traces),
        cmocka_unit_test(test_metrics_pb_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
