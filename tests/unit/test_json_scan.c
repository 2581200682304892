/* The byte-level JSON scanners (src/parse/json_scan.c): jscan_valid accepts
 * only what jansson accepts; the readers find members, walk arrays and
 * decode strings as jansson would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "parse/json_scan.h"

static void test_valid(void **st)
{
    (void)st;
    static const char *const good[] = {
        "{}", "[]", " {\"a\":1} \n", "{\"a\":[1,-2,0,0.5,-0.0e+12,1E5,true,false,null,\"x\"]}",
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 \xc3\xa9 \xf0\x9f\x98\x80\"}",
        "{\"a\":{\"b\":{\"c\":[[],{}]}}}", "{\"a\":1,\"a\":2}", "{\"n\":123456789012345678}",
    };
    static const char *const bad[] = {
        "", "1", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{\"a\":01}", "{\"a\":1.}",
        "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":truex}", "{\"a\":1} x", "{a:1}",
        "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\xc3\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\\u0000\"}",
        /* valid JSON that jansson may refuse or the fast path leaves to it */
        "{\"n\":1234567890123456789012}", "{\"n\":1e400}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!jscan_valid(good[i], strlen(good[i]), false))
            fail_msg("rejected: %s", good[i]);
        json_t *j = json_loadb(good[i], strlen(good[i]), 0, NULL);
        assert_non_null(j);
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jscan_valid(bad[i], strlen(bad[i]), false))
            fail_msg("accepted: %s", bad[i]);
    /* \u0000 only with JSON_ALLOW_NUL, and never in a key */
    assert_true(jscan_valid("{\"a\":\"\\u0000\"}", 14, true));
    assert_false(jscan_valid("{\"\\u0000\":1}", 12, true));
    char deep[300];
    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    assert_false(jscan_valid(deep, 300, false)); /* left to jansson */
}

static void test_readers(void **st)
{
    (void)st;
    const char *o = " {\"a\":1, \"model\" : \"x\\\"y\" ,\"b\":[1,{\"c\":2}]} ";
    const char *e = o + strlen(o);
    jscan_span v, m;
    assert_true(jscan_find(o, e, "model", &v, &m));
    assert_int_equal(v.n, 6);
    assert_memory_equal(v.p, "\"x\\\"y\"", 6);
    assert_memory_equal(m.p, ", \"model\" : \"x\\\"y\" ", m.n); /* cut with its comma */
    assert_false(jscan_find(o, e, "c", &v, NULL)); /* nested members are not top-level */
    static const char *const keys[] = {"b", "a", "zz"};
    jscan_span vals[3];
    assert_true(jscan_object(o, e, keys, 3, vals));
    assert_true(jscan_is(vals[1], "1"));
    assert_true(jscan_is(vals[0], "[1,{\"c\":2}]"));
    assert_null(vals[2].p);
    const char *dup = "{\"a\":1,\"a\":2}";
    assert_false(jscan_object(dup, dup + strlen(dup), keys, 3, vals)); /* duplicate: left to jansson */
    buf b;
    buf_init(&b);
    const char *lit = "\"\\u00e9\\n\"";
    assert_true(jscan_string((jscan_span){lit, strlen(lit)}, &b));
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "\xc3\xa9\n", 3);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
