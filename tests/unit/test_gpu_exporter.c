/* `tollgate gpu` as a process against the scripted NVML (fake_nvml.c):
 * exact exposition, CSV selection, no-NVML, lost GPU, XID, MIG, cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpu_proc.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

/* Replaces every "@PID@" in tmpl with pid. */
static char *subst_pid(const char *tmpl, int pid)
{
    char num[16];
    snprintf(num, sizeof num, "%d", pid);
    char *out = malloc(strlen(tmpl) * 2 + 64);
    char *w = out;
    for (const char *p = tmpl; *p;) {
        if (!strncmp(p, "@PID@", 5)) {
            w += sprintf(w, "%s", num);
            p += 5;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

/* The DCGM part of a scrape: everything before Tollgate's own families. */
static char *gpu_part(const char *body)
{
    char *copy = strdup(body);
    char *end = strstr(copy, "# HELP tollgate_gpu_nvml_up");
    assert_non_null(end);
    *end = '\0';
    return copy;
}

static char *scrape(gproc *p)
{
    char *body;
    size_t len;
    assert_int_equal(http_get(p->port, "/metrics", &body, &len), 200);
    return body;
}

static void start(gproc *p, const char *scenario, const char *const *extra_args, const char *const *extra_env)
{
    static char sc[64];
    snprintf(sc, sizeof sc, "FAKE_NVML_SCENARIO=%s", scenario);
    const char *argv[32] = {"gpu", "--port", "0", "--address", "127.0.0.1", "--nvml-lib", fake_nvml_path()};
    size_t n = 7;
    for (const char *const *a = extra_args; a && *a; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    const char *env[16] = {sc, "NODE_NAME=testhost"};
    size_t m = 2;
    for (const char *const *e = extra_env; e && *e; e++)
        env[m++] = *e;
    env[m] = NULL;
    if (gproc_start(p, argv, env, 10000) < 0)
        fail_msg("tollgate gpu did not start:\n%s", p->log);
}

/* GPM needs two samples >= 100 ms apart: scrape (each one collects with
 * -c 0) until the profiling family shows up. The condition is the response,
 * not a timer. */
static void wait_for_prof(gproc *p)
{
    for (int i = 0; i < 100000; i++) {
        char *b = scrape(p);
        bool has = strstr(b, "DCGM_FI_PROF_GR_ENGINE_ACTIVE{") != NULL;
        free(b);
        if (has)
            return;
    }
    fail_msg("DCGM_FI_PROF_* never appeared");
}

static void test_basic_exposition_exact(void **st)
{
    (void)st;
    gproc p;
    const char *args[] = {"-c", "0", NULL};
    start(&p, "basic", args, NULL);
    assert_non_null(strstr(p.log, "(2 GPUs: NVIDIA H100 80GB HBM3, NVIDIA A100-SXM4-40GB)"));
    wait_for_prof(&p);
    char *body = scrape(&p);
    char *got = gpu_part(body);
    char *tmpl = slurp(GPU_TEST_DATA "/gpu_basic.prom");
    assert_non_null(tmpl);
    char *want = subst_pid(tmpl, p.pid);
    assert_string_equal(got, want);
    /* Conversions, spelled out: mW -> W with six decimals, bytes -> MiB
     * truncated, GPM % -> ratio, GPM MiB/s -> bytes/s, last XID 0. */
    assert_non_null(strstr(got, "Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"} 123.456000\n"));
    assert_non_null(strstr(got, "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"));
    assert_non_null(strstr(got, "err_code=\"0\",err_msg=\"No Error\"} 0\n"));
    assert_null(strstr(got, "DCGM_FI_DEV_ENC_UTIL{gpu=\"1\"")); /* NOT_SUPPORTED: omitted */
    assert_null(strstr(got, "DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"1\"")); /* no GPM on the A100 */
    assert_non_null(strstr(body, "tollgate_gpu_nvml_up 1\n"));
    assert_non_null(strstr(body, "\nprocess_resident_memory_bytes "));
    free(body), free(got), free(tmpl), free(want);
    char *h;
    size_t hl;
    assert_int_equal(http_get(p.port, "/health", &h, &hl), 200);
    assert_string_equal(h, "OK");
    free(h);
    assert_int_equal(http_get(p.port, "/nope", &h, &hl), 404);
    free(h);
    assert_int_equal(gproc_stop(&p), 0); /* clean shutdown: XID thread joined, no leak report */
}

static void test_csv_selection(void **st)
{
    (void)st;
    char path[] = "/tmp/tollgate-gpu-csv-XXXXXX";
    int fd = mkstemp(path);
    const char csv[] = "# only two\n"
                       "DCGM_FI_DEV_POWER_USAGE, gauge,\"Power, in watts\"\n"
                       "DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %).\n"
                       "DCGM_FI_DEV_NOT_A_FIELD_WE_KNOW, gauge, skipped with a warning\n";
    assert_int_equal(write(fd, csv, sizeof csv - 1), (ssize_t)(sizeof csv - 1));
    close(fd);
    gproc p;
    const char *args[] = {"-f", path, "-n", NULL};
    start(&p, "basic", args, NULL);
    assert_non_null(strstr(p.log, "line 4: DCGM_FI_DEV_NOT_A_FIELD_WE_KNOW is not supported"));
    char *body = scrape(&p);
    char *got = gpu_part(body);
    const char *want =
        "# HELP DCGM_FI_DEV_POWER_USAGE Power, in watts\n"
        "# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n"
        "DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",UUID=\"GPU-11111111-2222-3333-4444-555555555500\",pci_bus_id=\"00000000:18:00.0\",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\"} 123.456000\n"
        "DCGM_FI_DEV_POWER_USAGE{gpu=\"1\",UUID=\"GPU-11111111-2222-3333-4444-555555555501\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia1\",modelName=\"NVIDIA A100-SXM4-40GB\"} 124.456000\n"
        "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
        "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
        "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-11111111-2222-3333-4444-555555555500\",pci_bus_id=\"00000000:18:00.0\",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\"} 45\n"
        "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-11111111-2222-3333-4444-555555555501\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia1\",modelName=\"NVIDIA A100-SXM4-40GB\"} 46\n";
    /* The selected families, in DCGM id order, then Tollgate's extras. */
    assert_true(strlen(got) > strlen(want));
    assert_memory_equal(got, want, strlen(want));
    assert_true(!strncmp(got + strlen(want), "# HELP tollgate_gpu_process_memory_used_bytes ", 46));
    free(body), free(got);
    gproc_stop(&p);
    unlink(path);
}

static void test_bad_csv_exits_with_line(void **st)
{
    (void)st;
    char path[] = "/tmp/tollgate-gpu-csv-XXXXXX";
    int fd = mkstemp(path);
    const char csv[] = "DCGM_FI_DEV_GPU_UTIL, gauge, ok\n\nDCGM_FI_DEV_FB_USED, gauge\n";
    assert_int_equal(write(fd, csv, sizeof csv - 1), (ssize_t)(sizeof csv - 1));
    close(fd);
    gproc p;
    const char *argv[] = {"gpu", "--port", "0", "-f", path, "--nvml-lib", fake_nvml_path(), NULL};
    assert_int_equal(gproc_start(&p, argv, NULL, 10000), -1);
    assert_int_equal(gproc_wait_exit(&p, 10000), 2);
    assert_non_null(strstr(p.log, "line 3: expected 3 fields"));
    assert_non_null(strstr(p.log, path));
    unlink(path);
}

static void test_no_nvml(void **st)
{
    (void)st;
    gproc p;
    const char *argv[] = {"gpu", "--port", "0", "--address", "127.0.0.1", "--nvml-lib", "/nonexistent/libnvidia-ml.so.1",
                          NULL};
    if (gproc_start(&p, argv, NULL, 10000) < 0)
        fail_msg("did not start:\n%s", p.log);
    assert_non_null(strstr(p.log, "NVML not found (/nonexistent/libnvidia-ml.so.1: cannot open shared object file"));
    assert_non_null(strstr(p.log, "serving an empty exporter: no GPU metrics"));
    assert_non_null(strstr(p.log, "(0 GPUs: NVML unavailable)"));
    char *body = scrape(&p);
    assert_null(strstr(body, "DCGM_FI_"));
    assert_non_null(strstr(body, "\ntollgate_gpu_nvml_up 0\n"));
    assert_non_null(strstr(body, "\nprocess_open_fds "));
    assert_non_null(strstr(body, "\nprocess_start_time_seconds "));
    free(body);
    char *h;
    size_t hl;
    assert_int_equal(http_get(p.port, "/health", &h, &hl), 200);
    assert_non_null(strstr(h, "no GPU metrics: NVML not found"));
    free(h);
    gproc_stop(&p);
}

static void test_init_failure(void **st)
{
    (void)st;
    gproc p;
    start(&p, "initfail", NULL, NULL);
    assert_non_null(strstr(p.log, "NVML failed to initialise"));
    assert_non_null(strstr(p.log, "DRIVER_NOT_LOADED"));
    char *body = scrape(&p);
    assert_non_null(strstr(body, "\ntollgate_gpu_nvml_up 0\n"));
    free(body);
    gproc_stop(&p);
}

static void test_lost_gpu(void **st)
{
    (void)st;
    char lost[] = "/tmp/tollgate-gpu-lost-XXXXXX";
    int fd = mkstemp(lost);
    close(fd);
    unlink(lost); /* absent: GPU 1 answers */
    char env_lost[128];
    snprintf(env_lost, sizeof env_lost, "FAKE_NVML_LOST_FILE=%s", lost);
    const char *env[] = {env_lost, NULL};
    const char *args[] = {"-c", "0", NULL};
    gproc p;
    start(&p, "lost", args, env);
    char *b = scrape(&p);
    assert_non_null(strstr(b, "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\""));
    /* GPU 1's replay counter fails with UNKNOWN: omitted and counted. */
    assert_null(strstr(b, "DCGM_FI_DEV_PCIE_REPLAY_COUNTER{gpu=\"1\""));
    assert_non_null(strstr(b, "tollgate_gpu_nvml_errors_total{gpu=\"1\",UUID=\"GPU-11111111-2222-3333-4444-555555555501\",pci_bus_id=\"00000000:3B:00.0\",device=\"nvidia1\",modelName=\"NVIDIA A100-SXM4-40GB\",Hostname=\"testhost\",error=\"UNKNOWN\"} 1\n"));
    free(b);
    assert_int_equal(gproc_wait_log(&p, "NVML error UNKNOWN", 5000), 0);

    fd = open(lost, O_CREAT | O_WRONLY, 0600);
    close(fd);
    b = scrape(&p);
    assert_null(strstr(b, "DCGM_FI_DEV_SM_CLOCK{gpu=\"1\"")); /* no DCGM rows for GPU 1 */
    assert_null(strstr(b, "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\""));
    assert_null(strstr(b, "DCGM_FI_DEV_XID_ERRORS{gpu=\"1\""));
    assert_non_null(strstr(b, "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\""));
    assert_non_null(strstr(b, "error=\"GPU_IS_LOST\"} 1\n"));
    assert_non_null(strstr(b, "\ntollgate_gpu_lost_devices 1\n"));
    free(b);
    assert_int_equal(gproc_wait_log(&p, "GPU 1 (GPU-11111111-2222-3333-4444-555555555501) is lost", 5000), 0);
    b = scrape(&p);
    assert_non_null(strstr(b, "error=\"GPU_IS_LOST\"} 2\n"));
    free(b);
    char *h;
    size_t hl;
    assert_int_equal(http_get(p.port, "/health", &h, &hl), 200);
    assert_string_equal(h, "OK - 1 of 2 GPUs lost");
    free(h);

    unlink(lost);
    b = scrape(&p);
    assert_non_null(strstr(b, "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\""));
    assert_non_null(strstr(b, "\ntollgate_gpu_lost_devices 0\n"));
    free(b);
    assert_int_equal(gproc_wait_log(&p, "answers again", 5000), 0);
    assert_int_equal(gproc_stop(&p), 0);
}

static void test_xid_event(void **st)
{
    (void)st;
    char xid[] = "/tmp/tollgate-gpu-xid-XXXXXX";
    int fd = mkstemp(xid);
    close(fd);
    unlink(xid);
    char env_xid[128];
    snprintf(env_xid, sizeof env_xid, "FAKE_NVML_XID_FILE=%s", xid);
    const char *env[] = {env_xid, NULL};
    const char *args[] = {"-c", "0", NULL};
    gproc p;
    start(&p, "basic", args, env);
    char tmp[] = "/tmp/tollgate-gpu-xidw-XXXXXX";
    fd = mkstemp(tmp);
    assert_int_equal(write(fd, "1 79\n", 5), 5);
    close(fd);
    assert_int_equal(rename(tmp, xid), 0); /* appears atomically */
    assert_int_equal(gproc_wait_log(&p, "XID 79 on GPU 1: GPU has fallen off the bus", 10000), 0);
    char *b = scrape(&p);
    assert_non_null(strstr(b, "device=\"nvidia1\",modelName=\"NVIDIA A100-SXM4-40GB\",Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\",err_code=\"79\",err_msg=\"GPU has fallen off the bus\"} 79\n"));
    assert_non_null(strstr(b, "device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\",err_code=\"0\",err_msg=\"No Error\"} 0\n"));
    free(b);
    gproc_stop(&p);
}

static void test_mig_rows(void **st)
{
    (void)st;
    gproc p;
    const char *args[] = {"-c", "0", NULL};
    start(&p, "mig", args, NULL);
    char *b = scrape(&p);
    const char *id0 = "{gpu=\"0\",UUID=\"GPU-11111111-2222-3333-4444-555555555500\",pci_bus_id=\"00000000:18:00.0\","
                      "device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\",";
    char want[2048];
    /* Instances in GPU_I_ID order, framebuffer per instance, GPU values repeated. */
    snprintf(want, sizeof want,
             "DCGM_FI_DEV_FB_USED%sGPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"1\",Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"} 2000\n"
             "DCGM_FI_DEV_FB_USED%sGPU_I_PROFILE=\"1g.10gb\",GPU_I_ID=\"7\",Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"} 100\n"
             "DCGM_FI_DEV_FB_USED{gpu=\"1\"",
             id0, id0);
    assert_non_null(strstr(b, want));
    snprintf(want, sizeof want, "DCGM_FI_DEV_GPU_TEMP%sGPU_I_PROFILE=\"1g.10gb\",GPU_I_ID=\"7\",Hostname=\"testhost\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"} 40\n", id0);
    assert_non_null(strstr(b, want));
    /* Utilisation is not per instance: only GPU 1 has it. */
    assert_null(strstr(b, "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\""));
    assert_non_null(strstr(b, "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\""));
    free(b);
    assert_int_equal(gproc_stop(&p), 0);
}

static void test_cache_shares_collections(void **st)
{
    (void)st;
    gproc p;
    const char *args[] = {"-c", "600000", NULL};
    start(&p, "basic", args, NULL);
    for (int i = 0; i < 3; i++) {
        char *b = scrape(&p);
        assert_non_null(strstr(b, "\ntollgate_gpu_collections_total 1\n"));
        free(b);
    }
    gproc_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_exposition_exact), cmocka_unit_test(test_csv_selection),
        cmocka_unit_test(test_bad_csv_exits_with_line), cmocka_unit_test(test_no_nvml),
        cmocka_unit_test(test_init_failure),           cmocka_unit_test(test_lost_gpu),
        cmocka_unit_test(test_xid_event),              cmocka_unit_test(test_mig_rows),
        cmocka_unit_test(test_cache_shares_collections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
