/* The exposition writer on hand-built snapshots (no NVML, no process), and
 * the process_* metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpu/expo.h"
#include "gpu/xid.h"
#include "metrics/process.h"

static gpu_counters counters(const char *csv)
{
    gpu_counters c;
    char err[256];
    assert_int_equal(gpu_counters_parse(csv, strlen(csv), &c, err, sizeof err), 0);
    return c;
}

static void test_families_labels_values(void **st)
{
    (void)st;
    gpu_counters c = counters("DCGM_FI_DEV_POWER_USAGE, gauge, Power draw (in W).\n"
                              "DCGM_FI_DEV_FB_USED, gauge, Framebuffer memory used (in MiB).\n"
                              "DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).\n"
                              "DCGM_FI_DEV_ENC_UTIL, gauge,\n"
                              "DCGM_FI_DEV_XID_ERRORS, gauge, Value of the last XID error encountered.\n"
                              "DCGM_FI_DRIVER_VERSION, label, Driver Version\n");
    gpu_dev devs[2] = {{0, "GPU-a", "NVIDIA \"Odd\" Name", "00000000:3B:00.0"}, {1, "GPU-b", "B", ""}};
    gpu_row rows[3];
    memset(rows, 0, sizeof rows);
    rows[0].dev = 0, rows[0].gi_id = -1;
    rows[0].v[GF_POWER_USAGE] = (gpu_val){true, 0, 40.979};
    rows[0].v[GF_GPU_TEMP] = (gpu_val){true, 34, 0};
    rows[0].v[GF_XID_ERRORS] = (gpu_val){true, 79, 0};
    rows[1].dev = 1, rows[1].gi_id = 7;
    snprintf(rows[1].profile, sizeof rows[1].profile, "1g.10gb");
    rows[1].v[GF_FB_USED] = (gpu_val){true, 13, 0};
    rows[1].v[GF_XID_ERRORS] = (gpu_val){true, 200, 0};
    rows[2].dev = 1, rows[2].gi_id = -1;
    rows[2].v[GF_POWER_USAGE] = (gpu_val){true, 0, 0.0};
    gpu_proc procs[1] = {{0, 4242, "ollama_llama_se", 3221225472ULL}};
    gpu_err errs[1] = {{1, "GPU_IS_LOST", 3}};
    gpu_snapshot s = {.devs = devs, .ndevs = 2, .rows = rows, .nrows = 3, .procs = procs, .nprocs = 1,
                      .errs = errs, .nerrs = 1};
    snprintf(s.driver_version, sizeof s.driver_version, "580.95.05");
    buf out;
    buf_init(&out);
    gpu_expo_write(&out, &c, &s, "host1");
    const char *want =
        "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n"
        "# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n"
        "DCGM_FI_DEV_GPU_TEMP{gpu=\"0\",UUID=\"GPU-a\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia0\",modelName=\"NVIDIA \\\"Odd\\\" Name\",Hostname=\"host1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\"} 34\n"
        "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n"
        "# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n"
        "DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",UUID=\"GPU-a\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia0\",modelName=\"NVIDIA \\\"Odd\\\" Name\",Hostname=\"host1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\"} 40.979000\n"
        "DCGM_FI_DEV_POWER_USAGE{gpu=\"1\",UUID=\"GPU-b\",pci_bus_id=\"\",device=\"nvidia1\",modelName=\"B\",Hostname=\"host1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\"} 0.000000\n"
        "# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.\n"
        "# TYPE DCGM_FI_DEV_XID_ERRORS gauge\n"
        "DCGM_FI_DEV_XID_ERRORS{gpu=\"0\",UUID=\"GPU-a\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia0\",modelName=\"NVIDIA \\\"Odd\\\" Name\",Hostname=\"host1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\",err_code=\"79\",err_msg=\"GPU has fallen off the bus\"} 79\n"
        "DCGM_FI_DEV_XID_ERRORS{gpu=\"1\",UUID=\"GPU-b\",pci_bus_id=\"\",device=\"nvidia1\",modelName=\"B\",GPU_I_PROFILE=\"1g.10gb\",GPU_I_ID=\"7\",Hostname=\"host1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\",err_code=\"200\",err_msg=\"Unknown Error\"} 200\n"
        "# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).\n"
        "# TYPE DCGM_FI_DEV_FB_USED gauge\n"
        "DCGM_FI_DEV_FB_USED{gpu=\"1\",UUID=\"GPU-b\",pci_bus_id=\"\",device=\"nvidia1\",modelName=\"B\",GPU_I_PROFILE=\"1g.10gb\",GPU_I_ID=\"7\",Hostname=\"host1\",DCGM_FI_DRIVER_VERSION=\"580.95.05\"} 13\n"
        "# HELP tollgate_gpu_process_memory_used_bytes GPU memory used by a process (bytes), from NVML's running compute and graphics processes.\n"
        "# TYPE tollgate_gpu_process_memory_used_bytes gauge\n"
        "tollgate_gpu_process_memory_used_bytes{gpu=\"0\",UUID=\"GPU-a\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia0\",modelName=\"NVIDIA \\\"Odd\\\" Name\",Hostname=\"host1\",pid=\"4242\",process_name=\"ollama_llama_se\"} 3221225472\n"
        "# HELP tollgate_gpu_nvml_errors_total NVML calls that failed for a GPU, by NVML error (NOT_SUPPORTED is not an error).\n"
        "# TYPE tollgate_gpu_nvml_errors_total counter\n"
        "tollgate_gpu_nvml_errors_total{gpu=\"1\",UUID=\"GPU-b\",pci_bus_id=\"\",device=\"nvidia1\",modelName=\"B\",Hostname=\"host1\",error=\"GPU_IS_LOST\"} 3\n";
    /* GPU_TEMP (150) before POWER (155) before XID (230) before FB_USED (252);
     * ENC_UTIL has no value anywhere, so no family, not even HELP. */
    assert_string_equal(buf_cstr(&out), want);

    /* No hostname (-n), no driver version known: both labels left out. */
    buf_reset(&out);
    s.driver_version[0] = '\0';
    s.nprocs = s.nerrs = 0;
    s.nrows = 1;
    gpu_expo_write(&out, &c, &s, NULL);
    assert_non_null(strstr(buf_cstr(&out), "modelName=\"NVIDIA \\\"Odd\\\" Name\"} 34\n"));
    buf_free(&out);
    gpu_counters_free(&c);
}

static void test_empty_help_keeps_trailing_space(void **st)
{
    (void)st;
    gpu_counters c = counters("DCGM_FI_DEV_SM_CLOCK, counter,\n");
    gpu_dev dev = {3, "U", "M", "B"};
    gpu_row row;
    memset(&row, 0, sizeof row);
    row.gi_id = -1;
    row.v[GF_SM_CLOCK] = (gpu_val){true, -5, 0};
    gpu_snapshot s = {.devs = &dev, .ndevs = 1, .rows = &row, .nrows = 1};
    buf out;
    buf_init(&out);
    gpu_expo_write(&out, &c, &s, "h");
    assert_string_equal(buf_cstr(&out), "# HELP DCGM_FI_DEV_SM_CLOCK \n# TYPE DCGM_FI_DEV_SM_CLOCK counter\n"
                                        "DCGM_FI_DEV_SM_CLOCK{gpu=\"3\",UUID=\"U\",pci_bus_id=\"B\",device=\"nvidia3\","
                                        "modelName=\"M\",Hostname=\"h\"} -5\n");
    buf_free(&out);
    gpu_counters_free(&c);
}

static void test_xid_messages(void **st)
{
    (void)st;
    assert_string_equal(gpu_xid_message(0), "No Error");
    assert_string_equal(gpu_xid_message(13), "Graphics Engine Exception");
    assert_string_equal(gpu_xid_message(48), "Double Bit ECC Error");
    assert_string_equal(gpu_xid_message(130), "Robust Channel CE14 Error");
    assert_string_equal(gpu_xid_message(172), "Uncorrectable SRAM Error");
    assert_string_equal(gpu_xid_message(173), "Unknown Error");
    assert_string_equal(gpu_xid_message(-1), "Unknown Error");
}

static void test_process_metrics(void **st)
{
    (void)st;
    buf out;
    buf_init(&out);
    process_metrics_write(&out);
    const char *s = buf_cstr(&out);
    static const char *names[] = {"process_cpu_seconds_total", "process_max_fds", "process_open_fds",
                                  "process_resident_memory_bytes", "process_start_time_seconds",
                                  "process_virtual_memory_bytes"};
    const char *prev = s;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "\n%s ", names[i]);
        const char *at = strstr(s, line);
        if (!at)
            fail_msg("%s missing in:\n%s", names[i], s);
        assert_true(at >= prev); /* sorted by name */
        prev = at;
        double v = strtod(at + strlen(line), NULL);
        assert_true(v >= 0);
        if (!strcmp(names[i], "process_resident_memory_bytes"))
            assert_true(v > 100000);
        if (!strcmp(names[i], "process_start_time_seconds"))
            assert_true(v > 1.6e9);
        if (!strcmp(names[i], "process_open_fds"))
            assert_true(v >= 3);
    }
    assert_non_null(strstr(s, "# TYPE process_cpu_seconds_total counter\n"));
    assert_non_null(strstr(s, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"));
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_labels_values),
        cmocka_unit_test(test_empty_help_keeps_trailing_space),
        cmocka_unit_test(test_xid_messages),
        cmocka_unit_test(test_process_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
