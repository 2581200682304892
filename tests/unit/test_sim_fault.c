/* Simulator fault markers and fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/fault.h"

static int parse(const char *s, sim_fault *f) { return sim_fault_parse(s, strlen(s), f); }
static bool find(const char *s, sim_fault *f) { return sim_fault_find(s, strlen(s), f); }

static void test_parse_kinds(void **st)
{
    (void)st;
    sim_fault f;
    assert_int_equal(parse("500", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_500);
    assert_int_equal(parse("503", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_503);
    assert_int_equal(parse("429", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_429);
    assert_int_equal(parse("hang", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_HANG);
    assert_int_equal(parse("cut", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_CUT);
    assert_int_equal(f.arg, SIM_FAULT_DEFAULT_CUT);
    assert_int_equal(parse("cut:7", &f), 0);
    assert_int_equal(f.arg, 7);
    assert_int_equal(parse("slow", &f), 0);
    assert_int_equal(f.arg, SIM_FAULT_DEFAULT_SLOW_MS);
    assert_int_equal(parse("slow:15", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_SLOW);
    assert_int_equal(f.arg, 15);
    assert_int_equal(parse("malformed:0", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_MALFORMED);
    assert_int_equal(f.arg, 0);
    assert_int_equal(parse("error", &f), 0);
    assert_int_equal(f.kind, SIM_FAULT_ERROR);
    assert_string_equal(sim_fault_name(SIM_FAULT_MALFORMED), "malformed");
}

static void test_parse_rejects(void **st)
{
    (void)st;
    sim_fault f = {SIM_FAULT_NONE, 0};
    assert_int_equal(parse("", &f), -1);
    assert_int_equal(parse("404", &f), -1);
    assert_int_equal(parse("cut:", &f), -1);
    assert_int_equal(parse("cut:x", &f), -1);
    assert_int_equal(parse("cut:-1", &f), -1);
    assert_int_equal(parse("500:3", &f), -1); /* no argument for status faults */
    assert_int_equal(parse("hangs", &f), -1);
    assert_int_equal(parse("cut:99999999999", &f), -1);
    assert_int_equal(f.kind, SIM_FAULT_NONE);
}

static void test_find_marker(void **st)
{
    (void)st;
    sim_fault f;
    assert_true(find("please tollgate-fault:cut:2 now", &f));
    assert_int_equal(f.kind, SIM_FAULT_CUT);
    assert_int_equal(f.arg, 2);
    assert_true(find("tollgate-fault:500", &f));
    assert_int_equal(f.kind, SIM_FAULT_500);
    assert_true(find("end with tollgate-fault:hang.", &f));
    assert_int_equal(f.kind, SIM_FAULT_HANG);
    assert_true(find("tollgate-fault:error:", &f)); /* trailing ':' ignored */
    assert_int_equal(f.kind, SIM_FAULT_ERROR);
    /* An invalid first marker does not hide a valid later one. */
    assert_true(find("tollgate-fault:nope tollgate-fault:429", &f));
    assert_int_equal(f.kind, SIM_FAULT_429);
    assert_false(find("no marker here", &f));
    assert_false(find("tollgate-fault:", &f));
    assert_false(find("tollgate-fault", &f));
    assert_false(find("", &f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_kinds),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_find_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
