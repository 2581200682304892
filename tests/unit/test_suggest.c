/* util/suggest: the "did you mean" rule shared by commands and config keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/suggest.h"

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(suggest_distance("serve", "serve"), 0);
    assert_int_equal(suggest_distance("serv", "serve"), 1);
    assert_int_equal(suggest_distance("sevre", "serve"), 2);
    assert_int_equal(suggest_distance("", "gpu"), 3);
    assert_int_equal(suggest_distance("litellm_parms", "litellm_params"), 1);
    char longw[80];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    assert_true(suggest_distance(longw, "a") == SIZE_MAX);
}

static void test_nearest(void **state)
{
    (void)state;
    const char *cmds[] = {"serve", "gpu", "check", "sim", "top"};
    assert_string_equal(suggest_nearest("serv", cmds, 5), "serve");
    assert_string_equal(suggest_nearest("chek", cmds, 5), "check");
    assert_string_equal(suggest_nearest("ch", cmds, 5), "check"); /* prefix */
    assert_null(suggest_nearest("xyzzy", cmds, 5));
    assert_null(suggest_nearest("", cmds, 5));
    assert_string_equal(suggest_nearest("serve", cmds, 5), "serve"); /* exact: itself */
    /* short words allow one edit only: "gp" -> "gpu" (prefix), "abc" -> none */
    assert_string_equal(suggest_nearest("gp", cmds, 5), "gpu");
    assert_null(suggest_nearest("abc", cmds, 5));
    const char *keys[] = {"model_list", "litellm_settings", NULL, "general_settings", "router_settings"};
    assert_string_equal(suggest_nearest("litellm_setings", keys, 5), "litellm_settings");
    assert_string_equal(suggest_nearest("router_setting", keys, 5), "router_settings");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_distance), cmocka_unit_test(test_nearest)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
