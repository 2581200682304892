/* Simulator pure pieces: token counting rule, deterministic generator,
 * Go-compatible JSON formatting, durations, times. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/gen.h"

static int count(const char *s) { return sim_count_tokens(s, strlen(s)); }

static void test_count_rule(void **st)
{
    (void)st;
    assert_int_equal(count(""), 0);
    assert_int_equal(count("   \n\t"), 0);
    assert_int_equal(count("hi"), 1);          /* run of 2 -> ceil(2/4) */
    assert_int_equal(count("abcd"), 1);
    assert_int_equal(count("abcde"), 2);       /* run of 5 -> 2 */
    assert_int_equal(count("Why is the sky blue?"), 6); /* 5 words + '?' */
    assert_int_equal(count("a,b"), 3);         /* punctuation counts 1 */
    assert_int_equal(count("\xc3\xa9t\xc3\xa9"), 2); /* 5 word bytes (UTF-8) */
    assert_int_equal(count("x  y"), 2);
}

static void test_text_deterministic(void **st)
{
    (void)st;
    buf a, b;
    buf_init(&a);
    buf_init(&b);
    uint64_t seed = sim_hash(SIM_HASH_INIT, "prompt", 6);
    for (int i = 0; i < 30; i++) {
        sim_token_text(&a, seed, i);
        sim_token_text(&b, seed, i);
    }
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    /* First token capitalised without a space, later ones with a space. */
    assert_true(a.data[0] >= 'A' && a.data[0] <= 'Z');
    buf_reset(&b);
    sim_token_text(&b, seed, 1);
    assert_int_equal(b.data[0], ' ');
    /* Another prompt gives another text. */
    buf_reset(&b);
    uint64_t other = sim_hash(SIM_HASH_INIT, "other", 5);
    for (int i = 0; i < 30; i++)
        sim_token_text(&b, other, i);
    assert_false(a.len == b.len && !memcmp(a.data, b.data, a.len));
    assert_int_equal(sim_token_id(seed, 3), sim_token_id(seed, 3));
    assert_true(sim_token_id(seed, 3) >= 0 && sim_token_id(seed, 3) < 128256);
    buf_free(&a);
    buf_free(&b);
}

static void test_embed_normalized(void **st)
{
    (void)st;
    float v[768], w[768];
    sim_embed_vector(v, 768, 42, true);
    sim_embed_vector(w, 768, 42, true);
    double n = 0;
    for (int i = 0; i < 768; i++)
        n += (double)v[i] * v[i];
    assert_true(fabs(n - 1.0) < 1e-5);
    assert_memory_equal(v, w, sizeof v);
    sim_embed_vector(w, 768, 43, true);
    assert_memory_not_equal(v, w, sizeof v);
}

static void check_json_str(const char *in, size_t len, const char *want)
{
    buf b;
    buf_init(&b);
    sim_json_str(&b, in, len);
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
}

static void test_go_json_escaping(void **st)
{
    (void)st;
    check_json_str("<|eot_id|>", 10, "\"\\u003c|eot_id|\\u003e\"");
    check_json_str("a&b", 3, "\"a\\u0026b\"");
    check_json_str("q\"\\\n\r\t\b\f\x01", 9, "\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\"");
    check_json_str("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
    check_json_str("\xff" "ok", 3, "\"\\ufffdok\"");
    check_json_str("\xc3\xa9", 2, "\"\xc3\xa9\"");        /* valid UTF-8 passes */
    check_json_str("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
}

static void check_float(double v, int bits, const char *want)
{
    buf b;
    buf_init(&b);
    sim_json_float(&b, v, bits);
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
}

static void test_go_floats(void **st)
{
    (void)st;
    check_float(0.5, 32, "0.5");
    check_float((float)0.1, 32, "0.1");
    check_float((float)0.1, 64, "0.10000000149011612"); /* float32 widened */
    check_float(-0.0017594862, 32, "-0.0017594862");
    check_float(1e-7, 32, "1e-7");
    check_float(0.00001234, 32, "0.00001234");
    check_float(123456, 32, "123456");
    check_float(1e21, 64, "1e+21");
    check_float(0, 32, "0");
}

static void test_durations(void **st)
{
    (void)st;
    int64_t ns;
    assert_int_equal(sim_parse_duration("5m", false, &ns), 0);
    assert_true(ns == 300000000000LL);
    assert_int_equal(sim_parse_duration("1h30m", false, &ns), 0);
    assert_true(ns == 5400000000000LL);
    assert_int_equal(sim_parse_duration("1.5s", false, &ns), 0);
    assert_true(ns == 1500000000LL);
    assert_int_equal(sim_parse_duration("300ms", false, &ns), 0);
    assert_true(ns == 300000000LL);
    assert_int_equal(sim_parse_duration("0", false, &ns), 0);
    assert_true(ns == 0);
    assert_int_equal(sim_parse_duration("-1m", false, &ns), 0);
    assert_true(ns < 0);
    /* Go rejects a bare number; OLLAMA_KEEP_ALIVE accepts seconds. */
    assert_int_equal(sim_parse_duration("-1", false, &ns), -1);
    assert_int_equal(sim_parse_duration("3600", true, &ns), 0);
    assert_true(ns == 3600000000000LL);
    assert_int_equal(sim_parse_duration("-1", true, &ns), 0);
    assert_true(ns < 0);
    assert_int_equal(sim_parse_duration("5x", false, &ns), -1);
    assert_int_equal(sim_parse_duration("m", false, &ns), -1);
    assert_int_equal(sim_parse_duration("", true, &ns), -1);
    assert_int_equal(sim_parse_duration("9999999999h", false, &ns), 0);
    assert_true(ns == INT64_MAX);
}

static void test_times(void **st)
{
    (void)st;
    char t[80];
    sim_fmt_time(t, sizeof t, 1755800000, 104217000, true);
    assert_string_equal(t, "2025-08-21T18:13:20.104217Z");
    sim_fmt_time(t, sizeof t, 1755800000, 0, true);
    assert_string_equal(t, "2025-08-21T18:13:20Z");
    sim_fmt_time(t, sizeof t, 1755800000, 1, true);
    assert_string_equal(t, "2025-08-21T18:13:20.000000001Z");
    /* Ollama's "forever": now + MaxInt64 ns lands in year 2318/2319. */
    sim_fmt_time(t, sizeof t, 1795600000 + INT64_MAX / 1000000000, 0, true);
    assert_memory_equal(t, "231", 3);
}

static void test_base64(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    sim_base64(&b, "foobar", 6);
    assert_string_equal(buf_cstr(&b), "Zm9vYmFy");
    buf_reset(&b);
    sim_base64(&b, "fooba", 5);
    assert_string_equal(buf_cstr(&b), "Zm9vYmE=");
    buf_reset(&b);
    sim_base64(&b, "f", 1);
    assert_string_equal(buf_cstr(&b), "Zg==");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_rule),     cmocka_unit_test(test_text_deterministic), cmocka_unit_test(test_embed_normalized),
        cmocka_unit_test(test_go_json_escaping), cmocka_unit_test(test_go_floats),        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_times),          cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
