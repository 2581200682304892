/* W3C trace context (test vectors from the Trace Context specification and
 * its test suite), ids, sampling, otel_start and the span string helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otel/otel_int.h"

#define TP_OK "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static int parse(const char *s, otel_traceparent *tp) { return otel_traceparent_parse(s, strlen(s), tp); }

static void test_traceparent_valid(void **state)
{
    otel_traceparent tp;
    assert_int_equal(parse(TP_OK, &tp), 0);
    assert_int_equal(tp.trace_id[0], 0x4b);
    assert_int_equal(tp.trace_id[15], 0x36);
    assert_int_equal(tp.span_id[0], 0x00);
    assert_int_equal(tp.span_id[7], 0xb7);
    assert_int_equal(tp.flags, 1);
    assert_int_equal(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &tp), 0);
    assert_int_equal(tp.flags, 0);
    assert_int_equal(parse(" \t" TP_OK " ", &tp), 0); /* HTTP OWS */
    /* unknown flags are accepted (and not propagated, see format) */
    assert_int_equal(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", &tp), 0);
    /* a future version: longer, the extra part after '-', first 4 fields read */
    assert_int_equal(parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be", &tp), 0);
    assert_int_equal(tp.flags, 1);
    assert_int_equal(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp), 0);
}

static void test_traceparent_invalid(void **state)
{
    static const char *bad[] = {
        "",
        "00",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", /* version ff is invalid */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", /* uppercase */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", /* zero parent id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", /* 00 has 4 fields */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what", /* future: needs '-' */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   /* short trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00 4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7 01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        otel_traceparent tp;
        memset(&tp, 0, sizeof tp);
        if (parse(bad[i], &tp) != -1)
            fail_msg("accepted: %s", bad[i]);
    }
    assert_int_equal(otel_traceparent_parse(NULL, 0, NULL), -1);
    /* not NUL-terminated: length is honoured */
    char raw[OTEL_TRACEPARENT_LEN];
    memcpy(raw, TP_OK, sizeof raw);
    otel_traceparent tp;
    assert_int_equal(otel_traceparent_parse(raw, sizeof raw, &tp), 0);
    assert_int_equal(otel_traceparent_parse(raw, sizeof raw - 1, &tp), -1);
}

static void test_traceparent_format_roundtrip(void **state)
{
    otel_traceparent tp;
    char out[OTEL_TRACEPARENT_LEN + 1];
    assert_int_equal(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", &tp), 0);
    assert_int_equal(otel_traceparent_format(tp.trace_id, tp.span_id, tp.flags, out), OTEL_TRACEPARENT_LEN);
    assert_string_equal(out, TP_OK); /* only the sampled bit is carried */
}

static void test_ids_random_nonzero(void **state)
{
    uint8_t a[16], b[16], s[8], zero[16] = {0};
    otel_new_trace_id(a);
    otel_new_trace_id(b);
    otel_new_span_id(s);
    assert_memory_not_equal(a, zero, 16);
    assert_memory_not_equal(a, b, 16);
    assert_memory_not_equal(s, zero, 8);
}

static void test_sampler(void **state)
{
    otel_config c = {0};
    uint8_t lo[16] = {0}, hi[16];
    memset(hi, 0xff, sizeof hi);
    otel_traceparent yes = {.flags = 1}, no = {.flags = 0};
    c.sampler = OTEL_SAMPLER_ALWAYS_ON;
    assert_true(otel_sample(&c, &no, hi));
    c.sampler = OTEL_SAMPLER_ALWAYS_OFF;
    assert_false(otel_sample(&c, &yes, lo));
    c.sampler = OTEL_SAMPLER_PARENT_ON;
    assert_true(otel_sample(&c, NULL, hi));
    assert_true(otel_sample(&c, &yes, hi));
    assert_false(otel_sample(&c, &no, lo));
    c.sampler = OTEL_SAMPLER_PARENT_OFF;
    assert_false(otel_sample(&c, NULL, lo));
    assert_true(otel_sample(&c, &yes, hi));
    c.sampler = OTEL_SAMPLER_RATIO;
    c.ratio = 0.0;
    assert_false(otel_sample(&c, NULL, lo));
    c.ratio = 1.0;
    assert_true(otel_sample(&c, NULL, hi));
    c.ratio = 0.5;
    assert_true(otel_sample(&c, NULL, lo));  /* low 8 bytes small: in */
    assert_false(otel_sample(&c, NULL, hi)); /* large: out */
    int in = 0;
    for (int i = 0; i < 20000; i++) {
        uint8_t id[16];
        otel_new_trace_id(id);
        in += otel_sample(&c, NULL, id);
    }
    assert_in_range(in, 9000, 11000);
    c.sampler = OTEL_SAMPLER_PARENT_RATIO;
    c.ratio = 0.0;
    assert_true(otel_sample(&c, &yes, lo)); /* the parent decides */
    assert_false(otel_sample(&c, NULL, lo));
}

static void test_start_continues_or_starts(void **state)
{
    otel_span sp;
    char up[OTEL_TRACEPARENT_LEN + 1];
    const char *ts = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    otel_start(NULL, TP_OK, strlen(TP_OK), ts, strlen(ts), true, 42, &sp);
    assert_true(sp.has_parent);
    assert_false(sp.sampled); /* off: nothing to export */
    assert_int_equal(sp.flags, 1);
    assert_int_equal(sp.start_ns, 42);
    assert_string_equal(sp.tracestate, ts);
    assert_true(sp.has_client_span);
    otel_upstream_traceparent(&sp, up);
    assert_memory_equal(up, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36);
    otel_traceparent got;
    assert_int_equal(parse(up, &got), 0);
    assert_memory_equal(got.span_id, sp.client_span_id, 8);
    assert_memory_not_equal(sp.client_span_id, sp.span_id, 8);

    /* invalid traceparent: a new trace, and tracestate is not trusted */
    otel_start(NULL, "garbage", 7, ts, strlen(ts), false, 1, &sp);
    assert_false(sp.has_parent);
    assert_false(sp.has_client_span);
    assert_string_equal(sp.tracestate, "");
    otel_upstream_traceparent(&sp, up);
    assert_int_equal(parse(up, &got), 0);
    assert_memory_equal(got.span_id, sp.span_id, 8);

    /* tracestate: longer than 512 is cut by whole entries; junk dropped */
    char longts[1200];
    size_t n = 0;
    for (int i = 0; n < 1000; i++)
        n += (size_t)snprintf(longts + n, sizeof longts - n, "%svendor%03d=value%03d", i ? "," : "", i, i);
    otel_start(NULL, TP_OK, strlen(TP_OK), longts, n, false, 1, &sp);
    size_t kept = strlen(sp.tracestate);
    assert_true(kept <= OTEL_TRACESTATE_MAX && kept > 400);
    assert_memory_equal(sp.tracestate, longts, kept);
    assert_int_equal(longts[kept], ',');
    otel_start(NULL, TP_OK, strlen(TP_OK), "a=b\nc", 5, false, 1, &sp);
    assert_string_equal(sp.tracestate, "");
}

static void test_span_strings(void **state)
{
    char dst[6];
    otel_span_str(dst, sizeof dst, "abc\xc3\xa9xyz", 8); /* é at bytes 3-4 */
    assert_string_equal(dst, "abc\xc3\xa9");
    otel_span_str(dst, sizeof dst, "abcd\xc3\xa9", 6); /* would cut é: stop before */
    assert_string_equal(dst, "abcd");
    otel_span_str(dst, sizeof dst, NULL, 3);
    assert_string_equal(dst, "");
    char bad[] = "ok\xff\xc3(\xed\xa0\x80z\xf0\x9f\x98\x80";
    otel_utf8_clean(bad);
    assert_string_equal(bad, "ok?" "?(?" "??z\xf0\x9f\x98\x80");
}

static void test_span_attrs_never_empty_strings(void **state)
{
    otel_span sp;
    otel_span_init(&sp);
    otel_attr a[OTEL_SPAN_ATTRS_MAX];
    int n = otel_span_attrs(&sp, false, a);
    assert_int_equal(n, 2); /* operation name and the stream flag */
    assert_string_equal(a[0].key, "gen_ai.operation.name");
    assert_string_equal(a[1].key, "tollgate.stream");
    char name[OTEL_SPAN_NAME_MAX];
    otel_span_name(&sp, name);
    assert_string_equal(name, "chat");
    sp.op = OTEL_OP_EMBEDDINGS;
    strcpy(sp.request_model, "nomic-embed-text");
    otel_span_name(&sp, name);
    assert_string_equal(name, "embeddings nomic-embed-text");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traceparent_valid),
        cmocka_unit_test(test_traceparent_invalid),
        cmocka_unit_test(test_traceparent_format_roundtrip),
        cmocka_unit_test(test_ids_random_nonzero),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_start_continues_or_starts),
        cmocka_unit_test(test_span_strings),
        cmocka_unit_test(test_span_attrs_never_empty_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
