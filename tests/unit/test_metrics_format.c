/* prometheus_client number formatting (floatToGoString) and escaping. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/promfmt.h"

static void check(double v, const char *want)
{
    char out[PROMFMT_FLOAT_MAX];
    size_t n = promfmt_float(out, v);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_python_repr(void **st)
{
    (void)st;
    check(1.0, "1.0");
    check(0.0, "0.0");
    check(-0.0, "-0.0");
    check(0.005, "0.005");
    check(0.00625, "0.00625");
    check(300.0, "300.0");
    check(0.1 + 0.2, "0.30000000000000004");
    check(0.0001, "0.0001");
    check(0.00001, "1e-05");
    check(1.5e-7, "1.5e-07");
    check(-2.5, "-2.5");
    check(123456.5, "123456.5");
    check(999999.0, "999999.0");
    check(5e-324, "5e-324");
    check(1.5e300, "1.5e+300");
    check(1e16, "1e+16");
    check(INFINITY, "+Inf");
    check(-INFINITY, "-Inf");
    check(NAN, "NaN");
}

static void test_go_exponents(void **st)
{
    (void)st;
    /* more than six digits before the dot: Go-style exponent */
    check(1000000.0, "1e+06");
    check(1234567.0, "1.234567e+06");
    check(1234567.25, "1.23456725e+06");
    check(3338801152.0, "3.338801152e+09");
    check(1767225600.5, "1.7672256005e+09");
    /* prometheus_client writes "e+0" then the digit count, even past 9 */
    check(12345678901.0, "1.2345678901e+010");
    /* negative numbers keep Python's repr */
    check(-1234567.0, "-1234567.0");
}

static void test_uint(void **st)
{
    (void)st;
    char out[PROMFMT_FLOAT_MAX];
    promfmt_uint(out, 0);
    assert_string_equal(out, "0.0");
    promfmt_uint(out, 42);
    assert_string_equal(out, "42.0");
    promfmt_uint(out, 999999);
    assert_string_equal(out, "999999.0");
    promfmt_uint(out, 1000000);
    assert_string_equal(out, "1e+06");
    promfmt_uint(out, 1000001);
    assert_string_equal(out, "1.000001e+06");
    promfmt_uint(out, (1ULL << 53) + 2);
    assert_string_equal(out, "9.007199254740994e+015");
    promfmt_uint(out, UINT64_MAX);
    assert_string_equal(out, "1.8446744073709552e+19");
}

static void test_escaping(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    promfmt_label_value(&b, "a\"b\\c\nd");
    assert_string_equal(buf_cstr(&b), "a\\\"b\\\\c\\nd");
    buf_reset(&b);
    promfmt_help(&b, "x\"y\\z\n");
    assert_string_equal(buf_cstr(&b), "x\"y\\\\z\\n");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_repr),
        cmocka_unit_test(test_go_exponents),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
