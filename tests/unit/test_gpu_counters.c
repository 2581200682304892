/* Counters CSV parser (dcgm-exporter's -f format) and the field catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gpu/counters.h"

static int parse(const char *s, gpu_counters *c, char *err)
{
    return gpu_counters_parse(s, strlen(s), c, err, 256);
}

static void test_default_set(void **st)
{
    (void)st;
    gpu_counters c;
    char err[256];
    assert_int_equal(parse(gpu_counters_default_csv, &c, err), 0);
    /* dcgm-exporter 4.x default families in ascending field id (the order
     * observed in its output), with DCGM_FI_DRIVER_VERSION as a label. */
    static const unsigned want[] = {100, 101, 140, 150, 155, 156, 202, 203, 204, 206, 207, 230, 251,
                                    252, 253, 393, 394, 395, 449, 526, 1001, 1004, 1005, 1009, 1010};
    assert_int_equal(c.nmetrics, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c.nmetrics; i++)
        assert_int_equal(gpu_field_get(c.metrics[i].field)->id, want[i]);
    assert_int_equal(c.nlabels, 1);
    assert_int_equal(c.labels[0].field, GF_DRIVER_VERSION);
    assert_string_equal(c.metrics[0].help, "SM clock frequency (in MHz).");
    assert_string_equal(c.metrics[0].type, "gauge");
    assert_string_equal(c.metrics[5].type, "counter");
    assert_true(c.need[GF_GPU_UTIL]);
    assert_false(c.need[GF_ECC_DBE_VOL_TOTAL]);
    assert_null(c.warnings);
    gpu_counters_free(&c);
}

static void test_trim_comments_quotes_crlf(void **st)
{
    (void)st;
    gpu_counters c;
    char err[256];
    const char *csv = "# comment, with, commas\r\n"
                      "\r\n"
                      "   \n"
                      "DCGM_FI_DEV_DEC_UTIL ,  gauge  ,\"Decoder, \"\"quoted\"\"\nnext line\"\r\n"
                      "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL,counter,\tTab kept\t\n"
                      "DCGM_FI_DEV_SM_CLOCK, gauge, first\n"
                      "DCGM_FI_DEV_SM_CLOCK, gauge, duplicate dropped";
    assert_int_equal(parse(csv, &c, err), 0);
    assert_int_equal(c.nmetrics, 3);
    assert_int_equal(c.metrics[0].field, GF_SM_CLOCK);
    assert_string_equal(c.metrics[0].help, "first");
    assert_int_equal(c.metrics[0].line, 7); /* the quoted help spans lines 4-5 */
    assert_int_equal(c.metrics[1].field, GF_DEC_UTIL);
    assert_string_equal(c.metrics[1].help, "Decoder, \"quoted\"\nnext line");
    assert_int_equal(c.metrics[2].field, GF_ECC_DBE_VOL_TOTAL);
    assert_string_equal(c.metrics[2].help, "\tTab kept\t");
    gpu_counters_free(&c);
}

static void test_labels_sorted_and_unknown_dcgm_field_skipped(void **st)
{
    (void)st;
    gpu_counters c;
    char err[256];
    const char *csv = "DCGM_FI_NVML_VERSION, label, NVML Version\n"
                      "DCGM_FI_DRIVER_VERSION, label, Driver Version\n"
                      "DCGM_FI_DEV_GPU_TEMP, label, temperature as a label\n"
                      "DCGM_FI_DEV_SERIAL, label, not in the catalog\n"
                      "DCGM_EXP_XID_ERRORS_COUNT, counter, exporter field\n";
    assert_int_equal(parse(csv, &c, err), 0);
    assert_int_equal(c.nmetrics, 0);
    assert_int_equal(c.nlabels, 3);
    assert_int_equal(c.labels[0].field, GF_GPU_TEMP);
    assert_int_equal(c.labels[1].field, GF_DRIVER_VERSION);
    assert_int_equal(c.labels[2].field, GF_NVML_VERSION);
    assert_non_null(strstr(c.warnings, "line 4: DCGM_FI_DEV_SERIAL is not supported by tollgate gpu; skipped\n"));
    assert_non_null(strstr(c.warnings, "line 5: DCGM_EXP_XID_ERRORS_COUNT is not supported"));
    gpu_counters_free(&c);
}

static void expect_error(const char *csv, const char *msg)
{
    gpu_counters c;
    char err[256] = "";
    assert_int_equal(parse(csv, &c, err), -1);
    if (!strstr(err, msg))
        fail_msg("error '%s' does not contain '%s'", err, msg);
    assert_int_equal(c.nmetrics, 0);
    assert_null(c.metrics);
}

static void test_errors_name_the_line(void **st)
{
    (void)st;
    expect_error("DCGM_FI_DEV_GPU_UTIL, gauge\n", "line 1: expected 3 fields (DCGM field, Prometheus type, help), found 2");
    expect_error("# c\nDCGM_FI_DEV_GPU_UTIL, gauge, a, b\n", "line 2: expected 3 fields");
    expect_error("\n\nDCGM_FI_DEV_GPU_UTIL, gaug, x\n", "line 3: unknown Prometheus metric type 'gaug' for DCGM_FI_DEV_GPU_UTIL");
    expect_error("GPU_UTIL, gauge, x\n", "line 1: unknown DCGM field 'GPU_UTIL'");
    expect_error("DCGM_FI_DRIVER_VERSION, gauge, x\n", "line 1: DCGM_FI_DRIVER_VERSION is a string field");
    expect_error("DCGM_FI_DEV_GPU_UTIL, gauge, say \"hi\"\n", "line 1: bare \" in a field that is not quoted");
    expect_error("DCGM_FI_DEV_GPU_UTIL, gauge, \"x\"\n", "line 1: bare \"");
    expect_error("DCGM_FI_DEV_GPU_UTIL, gauge,\"x\"y\n", "line 1: extraneous or missing \" in quoted field");
    expect_error("\nDCGM_FI_DEV_GPU_UTIL, gauge,\"never closed\n\n", "line 2: quoted field starting here is never closed");
    expect_error("# only comments\n\n", "no counters");
    expect_error("", "no counters");
}

static void test_load_reports_path(void **st)
{
    (void)st;
    gpu_counters c;
    char err[256];
    assert_int_equal(gpu_counters_load("/nonexistent/counters.csv", &c, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/counters.csv: No such file or directory");
}

static void test_catalog_lookup(void **st)
{
    (void)st;
    assert_int_equal(gpu_field_lookup("DCGM_FI_DEV_FB_USED"), GF_FB_USED);
    assert_int_equal(gpu_field_lookup("dcgm_fi_dev_fb_used"), -1);
    for (int f = 0; f < GF_COUNT; f++) {
        const gpu_field_info *fi = gpu_field_get((gpu_field)f);
        assert_non_null(fi->name);
        assert_int_equal(gpu_field_lookup(fi->name), f);
        if (f)
            assert_true(fi->id > gpu_field_get((gpu_field)(f - 1))->id); /* ids unique, ascending */
    }
    assert_null(gpu_field_get(GF_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_set),
        cmocka_unit_test(test_trim_comments_quotes_crlf),
        cmocka_unit_test(test_labels_sorted_and_unknown_dcgm_field_skipped),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_load_reports_path),
        cmocka_unit_test(test_catalog_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
