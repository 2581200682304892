/* Pure parts of 'tollgate check': exposition lookup, Prometheus API answers,
 * hint selection, and the text/JSON report. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "check/catalog.h"
#include "check/expo.h"
#include "check/hint.h"
#include "check/mode.h"
#include "check/promapi.h"
#include "check/report.h"

static const char *page =
    "# HELP litellm_input_tokens_metric_total Total number of input tokens from LLM requests\n"
    "# TYPE litellm_input_tokens_metric_total counter\n"
    "litellm_input_tokens_metric_total{model=\"m1\",team=\"None\"} 12.0\n"
    "litellm_input_tokens_metric_total{model=\"m2\",note=\"a } b \\\" c\"} 30.0\n"
    "litellm_input_tokens_metric_created{model=\"m1\"} 1.7e9\n"
    "litellm_input_tokens_metric_total_x 99\n"
    "litellm_output_tokens_metric_total 8\n"
    "  DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 45\n"
    "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\"} NaN\n"
    "broken{never closes 5\n"
    "tollgate_gpu_nvml_up 0";

static void test_expo_sum_matches_exact_names(void **st)
{
    (void)st;
    double v;
    assert_int_equal(expo_sum(page, strlen(page), "litellm_input_tokens_metric_total", &v), 2);
    assert_true(v == 42.0);
    assert_int_equal(expo_sum(page, strlen(page), "litellm_output_tokens_metric_total", &v), 1);
    assert_true(v == 8.0);
    /* A prefix of a longer name never matches. */
    assert_int_equal(expo_sum(page, strlen(page), "litellm_input_tokens_metric", &v), 0);
    assert_true(v == 0.0);
    /* NaN is counted but not summed; leading blanks are tolerated. */
    assert_int_equal(expo_sum(page, strlen(page), "DCGM_FI_DEV_GPU_UTIL", &v), 2);
    assert_true(v == 45.0);
    /* Last line without a newline still counts. */
    assert_int_equal(expo_sum(page, strlen(page), "tollgate_gpu_nvml_up", &v), 1);
    assert_true(v == 0.0);
    assert_int_equal(expo_sum(page, strlen(page), "broken", &v), 0);
    assert_int_equal(expo_sum(page, strlen(page), "", &v), 0);
}

static void test_expo_sum_ignores_comments_and_respects_len(void **st)
{
    (void)st;
    double v;
    const char *s = "# TYPE x counter\nx 1\nx 2\n";
    /* Only the first 20 bytes: "x 2" is outside. */
    assert_int_equal(expo_sum(s, 20, "x", &v), 1);
    assert_true(v == 1.0);
    assert_int_equal(expo_sum("x 1junk\nx +Inf\n", 15, "x", &v), 1);
    assert_true(isinf(v));
}

static void test_promapi_duration_and_time(void **st)
{
    (void)st;
    assert_true(promapi_duration("15s") == 15);
    assert_true(promapi_duration("1m30s") == 90);
    assert_true(promapi_duration("500ms") == 0.5);
    assert_true(promapi_duration("1h") == 3600);
    assert_true(promapi_duration("") < 0);
    assert_true(promapi_duration("15") < 0);
    assert_true(promapi_duration("s") < 0);
    assert_true(promapi_duration(NULL) < 0);
    assert_true(promapi_time("1970-01-01T00:00:10Z") == 10);
    assert_true(fabs(promapi_time("2024-05-01T10:00:00.25Z") - 1714557600.25) < 1e-6);
    assert_true(fabs(promapi_time("2024-05-01T12:00:00.123456789+02:00") - 1714557600.123456789) < 1e-6);
    /* Prometheus' zero time before the first scrape, and junk. */
    assert_true(promapi_time("0001-01-01T00:00:00Z") < 0);
    assert_true(promapi_time("2024-05-01 10:00:00Z") < 0);
    assert_true(promapi_time("2024-05-01T10:00:00") < 0);
    assert_true(promapi_time(NULL) < 0);
}

static const char *targets =
    "{\"status\":\"success\",\"data\":{\"activeTargets\":["
    "{\"labels\":{\"job\":\"litellm\",\"instance\":\"a:4000\"},\"health\":\"up\",\"lastError\":\"\","
    "\"scrapeUrl\":\"http://a:4000/metrics\",\"lastScrape\":\"2024-05-01T10:00:00Z\",\"scrapeInterval\":\"15s\"},"
    "{\"labels\":{\"job\":\"litellm\",\"instance\":\"b:4000\"},\"health\":\"down\","
    "\"lastError\":\"Get \\\"http://b:4000/metrics\\\": dial tcp: connect: connection refused\","
    "\"scrapeUrl\":\"http://b:4000/metrics\",\"lastScrape\":\"2024-05-01T10:00:05Z\",\"scrapeInterval\":\"15s\"},"
    "{\"labels\":{\"job\":\"dcgm\"},\"health\":\"up\",\"lastError\":\"\",\"scrapeUrl\":\"http://d:9400/metrics\","
    "\"lastScrape\":\"2024-05-01T10:00:00Z\",\"scrapeInterval\":\"1s\"}]}}";

static void test_promapi_target(void **st)
{
    (void)st;
    prom_target t;
    char err[128];
    double now = promapi_time("2024-05-01T10:00:10Z");
    assert_int_equal(promapi_target(targets, strlen(targets), "litellm", now, &t, err, sizeof err), 0);
    assert_int_equal(t.count, 2);
    assert_int_equal(t.up, 1);
    /* The down target is the one reported. */
    assert_string_equal(t.health, "down");
    assert_non_null(strstr(t.last_error, "connection refused"));
    assert_string_equal(t.scrape_url, "http://b:4000/metrics");
    assert_true(t.age_s == 5);
    assert_true(t.interval_s == 15);

    assert_int_equal(promapi_target(targets, strlen(targets), "dcgm", now, &t, err, sizeof err), 0);
    assert_int_equal(t.up, 1);
    assert_true(t.age_s == 10);
    assert_true(t.interval_s == 1);

    assert_int_equal(promapi_target(targets, strlen(targets), "nope", now, &t, err, sizeof err), 1);
    assert_int_equal(t.count, 0);

    const char *bad = "{\"status\":\"error\",\"error\":\"boom\"}";
    assert_int_equal(promapi_target(bad, strlen(bad), "litellm", now, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "boom"));
    assert_int_equal(promapi_target("nope", 4, "litellm", now, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "not JSON"));
}

static void test_promapi_query(void **st)
{
    (void)st;
    size_t n;
    double first;
    char err[128];
    const char *two = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                      "{\"metric\":{\"job\":\"litellm\"},\"value\":[1714557600.1,\"1\"]},"
                      "{\"metric\":{\"job\":\"x\"},\"value\":[1714557600.1,\"0\"]}]}}";
    assert_int_equal(promapi_query(two, strlen(two), &n, &first, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_true(first == 1.0);
    const char *none = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
    assert_int_equal(promapi_query(none, strlen(none), &n, &first, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_true(isnan(first));
    const char *matrix = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}";
    assert_int_equal(promapi_query(matrix, strlen(matrix), &n, &first, err, sizeof err), -1);
    const char *e = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error\"}";
    assert_int_equal(promapi_query(e, strlen(e), &n, &first, err, sizeof err), -1);
    assert_non_null(strstr(err, "parse error"));
}

static void test_hints_follow_the_guide(void **st)
{
    (void)st;
    const check_mode D = MODE_DOCKER, H = MODE_HOST;
    check_hint h = hint_for_probe(D, COMP_OLLAMA, PROBE_REFUSED, 0);
    assert_non_null(strstr(h.cause, "connection refused"));
    assert_non_null(strstr(h.fix, "ollama serve"));
    h = hint_for_probe(D, COMP_GATEWAY, PROBE_REFUSED, 0);
    assert_non_null(strstr(h.fix, "docker logs litellm-proxy"));
    h = hint_for_probe(D, COMP_GATEWAY, PROBE_HTTP, 401);
    assert_non_null(strstr(h.fix, "--api-key"));
    h = hint_for_probe(D, COMP_GATEWAY, PROBE_HTTP, 502);
    assert_non_null(strstr(h.fix, "api_base"));
    h = hint_for_probe(D, COMP_OLLAMA, PROBE_HTTP, 404);
    assert_non_null(strstr(h.fix, "ollama pull"));
    h = hint_for_probe(D, COMP_GPU, PROBE_DNS, 0);
    assert_non_null(strstr(h.cause, "no such host"));
    h = hint_for_probe(D, COMP_PROMETHEUS, PROBE_TIMEOUT, 0);
    assert_non_null(strstr(h.fix, "--timeout"));

    h = hint_for_scrape_error(D, "litellm", "Get \"http://litellm-proxy:4000/metrics\": dial tcp: lookup "
                                            "litellm-proxy on 127.0.0.11:53: no such host");
    assert_non_null(strstr(h.fix, "same Docker network"));
    h = hint_for_scrape_error(D, "dcgm", "dial tcp 127.0.0.1:9400: connect: connection refused");
    assert_non_null(strstr(h.fix, "docker logs dcgm-exporter"));
    h = hint_for_scrape_error(D, "litellm", "Get \"http://x/metrics\": context deadline exceeded");
    assert_non_null(strstr(h.fix, "scrape_timeout"));
    h = hint_for_scrape_error(D, "litellm", "server returned HTTP status 401 Unauthorized");
    assert_non_null(strstr(h.fix, "require_auth_for_metrics_endpoint"));
    h = hint_for_stale_scrape();
    assert_non_null(strstr(h.fix, "scrape_interval"));
    h = hint_for_empty_query(D, "litellm_input_tokens_total", 1);
    assert_non_null(strstr(h.fix, "rule_files"));
    h = hint_for_empty_query(D, "litellm_input_tokens_metric_total", 0);
    assert_non_null(strstr(h.fix, "send traffic"));
    assert_string_equal(hint_comp_name(COMP_GPU), "gpu");
    (void)H;
}

/* Every hint of host mode speaks of make run / systemd / .run logs and never
 * of containers; every Docker hint that says how to start or read a log
 * speaks of docker. */
static void test_hints_follow_the_mode(void **st)
{
    (void)st;
    const check_comp comps[] = {COMP_OLLAMA, COMP_GATEWAY, COMP_GPU, COMP_PROMETHEUS};
    for (size_t i = 0; i < 4; i++) {
        check_hint h = hint_for_probe(MODE_HOST, comps[i], PROBE_REFUSED, 0);
        assert_null(strstr(h.fix, "docker"));
        assert_non_null(strstr(h.fix, comps[i] == COMP_OLLAMA ? "ollama serve" : "make run"));
        h = hint_for_probe(MODE_DOCKER, comps[i], PROBE_REFUSED, 0);
        if (comps[i] != COMP_OLLAMA)
            assert_non_null(strstr(h.fix, "docker"));
    }
    check_hint h = hint_for_probe(MODE_HOST, COMP_GATEWAY, PROBE_REFUSED, 0);
    assert_non_null(strstr(h.fix, "systemctl status tollgate-serve"));
    assert_non_null(strstr(h.fix, ".run/serve.log"));
    h = hint_for_probe(MODE_HOST, COMP_GATEWAY, PROBE_HTTP, 502);
    assert_null(strstr(h.fix, "docker"));
    assert_non_null(strstr(h.fix, ".run/serve.log"));
    h = hint_for_scrape_error(MODE_HOST, "litellm", "connect: connection refused");
    assert_null(strstr(h.fix, "docker"));
    assert_non_null(strstr(h.fix, "127.0.0.1:4000"));
    h = hint_for_scrape_error(MODE_HOST, "dcgm", "");
    assert_non_null(strstr(h.fix, "tollgate-gpu"));
    h = hint_for_missing_job(MODE_HOST, "litellm");
    assert_non_null(strstr(h.fix, "deploy/host/prometheus.yaml"));
    h = hint_for_broken_stream(MODE_HOST);
    assert_null(strstr(h.fix, "docker"));
    /* No GPU: one cause, worded as the make run banner; the NVIDIA Container
     * Toolkit only in Docker mode. */
    check_hint hh = hint_for_no_gpu(MODE_HOST), hd = hint_for_no_gpu(MODE_DOCKER);
    assert_non_null(strstr(hh.cause, "no NVIDIA GPU/driver found: GPU metrics are off"));
    assert_string_equal(hh.cause, hd.cause);
    assert_null(strstr(hh.fix, "Container Toolkit"));
    assert_non_null(strstr(hd.fix, "NVIDIA Container Toolkit"));
    assert_true(hint_same(&hh, &hh));
    assert_false(hint_same(&hh, &hd));
    assert_string_equal(hint_mode_name(MODE_HOST), "host");
    assert_string_equal(hint_mode_name(MODE_DOCKER), "docker");
}

static void test_mode_rule(void **st)
{
    (void)st;
    const char *why;
    mode_facts f = {.loopback_gateway = true, .run_dir = true};
    assert_int_equal(mode_decide(&f, &why), MODE_HOST);
    assert_non_null(strstr(why, ".run"));
    f = (mode_facts){.loopback_gateway = true, .host_serve = true};
    assert_int_equal(mode_decide(&f, &why), MODE_HOST);
    /* The gateway in a container wins over an old ./.run. */
    f = (mode_facts){.loopback_gateway = true, .container_serve = true, .run_dir = true};
    assert_int_equal(mode_decide(&f, &why), MODE_DOCKER);
    f = (mode_facts){.loopback_gateway = false, .host_serve = true, .run_dir = true};
    assert_int_equal(mode_decide(&f, &why), MODE_DOCKER);
    f = (mode_facts){.loopback_gateway = true};
    assert_int_equal(mode_decide(&f, NULL), MODE_DOCKER);
    assert_true(mode_url_is_loopback("http://localhost:4000"));
    assert_true(mode_url_is_loopback("http://LOCALHOST"));
    assert_true(mode_url_is_loopback("http://127.0.0.1:4000/x"));
    assert_true(mode_url_is_loopback("https://user:pw@127.1.2.3"));
    assert_true(mode_url_is_loopback("http://[::1]:4000"));
    assert_false(mode_url_is_loopback("http://litellm-proxy:4000"));
    assert_false(mode_url_is_loopback("http://localhost.example.com:4000"));
    assert_false(mode_url_is_loopback("http://10.0.0.1"));
    assert_false(mode_url_is_loopback("http://[::2]:4000"));
}

static check_item *add_def(check_report *r, const char *id, check_status s, const check_hint *h, const char *detail)
{
    const check_def *d = catalog_find(id);
    assert_non_null(d);
    return report_add(r, id, d->comp, s, d->title, -1, h, "%s", detail);
}

/* The graph: edges point backwards (run order), every needed id exists. */
static void test_catalog_is_a_dag_in_run_order(void **st)
{
    (void)st;
    size_t n;
    const check_def *defs = catalog_all(&n);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(catalog_find(defs[i].id), &defs[i]);
        for (size_t k = 0; k < 2; k++) {
            const char *need = defs[i].needs[k].id;
            if (!need)
                continue;
            assert_non_null(defs[i].needs[k].reason);
            const check_def *nd = catalog_find(need);
            assert_non_null(nd);
            assert_true(nd < &defs[i]);
        }
        if (defs[i].promql)
            assert_int_equal(strncmp(defs[i].id, "prometheus.query.", 17), 0);
    }
    assert_null(catalog_find("nope"));
}

static void test_catalog_skips_what_depends_on_a_failure(void **st)
{
    (void)st;
    check_report r;
    report_init(&r);
    char why[400];
    check_hint h = hint_for_probe(MODE_HOST, COMP_GATEWAY, PROBE_HTTP, 502);
    /* Nothing has run: nothing blocks. */
    assert_false(catalog_blocked(&r, "prometheus.query.litellm_input_tokens_total", why, sizeof why));
    add_def(&r, "gateway.liveliness", CHECK_PASS, NULL, "HTTP 200");
    add_def(&r, "gateway.models", CHECK_PASS, NULL, "1 model");
    assert_false(catalog_blocked(&r, "gateway.chat", why, sizeof why));
    add_def(&r, "gateway.chat", CHECK_FAIL, &h, "HTTP 502");
    add_def(&r, "gateway.stream", CHECK_PASS, NULL, "ok");
    /* A failed chat: the token queries are skipped, pointing at it. */
    assert_true(catalog_blocked(&r, "prometheus.query.litellm_input_tokens_total", why, sizeof why));
    assert_string_equal(why, "no traffic reached the gateway (see: gateway.chat)");
    assert_true(catalog_blocked(&r, "prometheus.query.litellm_request_total_latency_seconds_count", why, sizeof why));
    assert_true(catalog_blocked(&r, "gateway.counters", why, sizeof why));
    /* The stream passed: its TTFT query still runs, and up{} never depended on traffic. */
    assert_false(catalog_blocked(&r, "prometheus.query.litellm_time_to_first_token_seconds_bucket", why, sizeof why));
    assert_false(catalog_blocked(&r, "prometheus.query.up{job=\"litellm\"}", why, sizeof why));
    /* A warning does not block. */
    check_hint g = hint_for_no_gpu(MODE_HOST);
    add_def(&r, "gpu.metrics", CHECK_WARN, &g, "no GPU");
    add_def(&r, "prometheus.target.dcgm", CHECK_PASS, NULL, "up");
    assert_false(catalog_blocked(&r, "prometheus.query.DCGM_FI_DEV_GPU_UTIL", why, sizeof why));
    report_free(&r);

    /* A skip passes its own reason on, so a chain points at the root. */
    report_init(&r);
    check_hint down = hint_for_probe(MODE_HOST, COMP_GATEWAY, PROBE_REFUSED, 0);
    add_def(&r, "gateway.liveliness", CHECK_FAIL, &down, "refused");
    assert_true(catalog_blocked(&r, "gateway.models", why, sizeof why));
    assert_string_equal(why, "the gateway is unreachable (see: gateway.liveliness)");
    add_def(&r, "gateway.models", CHECK_SKIP, NULL, why);
    assert_true(catalog_blocked(&r, "gateway.chat", why, sizeof why));
    add_def(&r, "gateway.chat", CHECK_SKIP, NULL, why);
    assert_true(catalog_blocked(&r, "prometheus.query.litellm_output_tokens_total", why, sizeof why));
    assert_string_equal(why, "the gateway is unreachable (see: gateway.liveliness)");
    add_def(&r, "prometheus.ready", CHECK_FAIL, &down, "refused");
    assert_true(catalog_blocked(&r, "prometheus.target.dcgm", why, sizeof why));
    assert_string_equal(why, "Prometheus is unreachable (see: prometheus.ready)");
    report_free(&r);
}

/* Several checks with one root cause: cause and fix are printed once, the
 * others point back at the first. */
static void test_report_says_each_cause_once(void **st)
{
    (void)st;
    check_report r;
    report_init(&r);
    check_hint g = hint_for_no_gpu(MODE_HOST);
    add_def(&r, "gpu.metrics", CHECK_WARN, &g, "no GPU");
    add_def(&r, "prometheus.query.DCGM_FI_DEV_GPU_UTIL", CHECK_WARN, &g, "no series");
    add_def(&r, "prometheus.query.DCGM_FI_DEV_FB_USED", CHECK_WARN, &g, "no series");
    add_def(&r, "prometheus.query.litellm_input_tokens_total", CHECK_SKIP, NULL,
            "no traffic reached the gateway (see: gateway.chat)");
    buf b;
    buf_init(&b);
    report_style plain = {.utf8 = true, .color = false};
    report_text(&r, &b, &plain);
    const char *t = buf_cstr(&b);
    const char *first = strstr(t, "no NVIDIA GPU/driver found");
    assert_non_null(first);
    assert_null(strstr(first + 1, "no NVIDIA GPU/driver found"));
    assert_null(strstr(t, "\033["));
    assert_non_null(strstr(t, "      cause: as for gpu.metrics above\n"));
    assert_non_null(strstr(t, "  - PromQL litellm_input_tokens_total: skipped: no traffic reached the gateway "
                              "(see: gateway.chat)\n"));
    assert_non_null(strstr(t, "OK: 0 passed, 0 failed, 3 warnings, 1 skipped"));
    /* Colour only when asked; the same words. */
    buf_reset(&b);
    report_style col = {.utf8 = true, .color = true};
    report_text(&r, &b, &col);
    assert_non_null(strstr(buf_cstr(&b), "\033[33m!\033[0m PromQL DCGM_FI_DEV_GPU_UTIL"));
    /* The JSON keeps cause and fix on every item (machines group themselves). */
    buf_reset(&b);
    report_json(&r, &b);
    json_t *root = json_loads(buf_cstr(&b), 0, NULL);
    assert_non_null(root);
    json_t *c1 = json_array_get(json_object_get(root, "checks"), 1);
    assert_string_equal(json_string_value(json_object_get(c1, "cause")), g.cause);
    json_decref(root);
    buf_free(&b);
    report_free(&r);
}

static void test_report_text_and_exit_code(void **st)
{
    (void)st;
    check_report r;
    report_init(&r);
    check_hint h = hint_for_no_gpu(MODE_DOCKER);
    assert_non_null(report_add(&r, "ollama.running", COMP_OLLAMA, CHECK_PASS, "Ollama answers", 1.25, NULL,
                               "\"Ollama is running\""));
    assert_non_null(report_add(&r, "gpu.metrics", COMP_GPU, CHECK_WARN, "GPU", -1, &h, "no GPU"));
    assert_int_equal(report_exit_code(&r), 0);
    buf b;
    buf_init(&b);
    report_style utf8 = {.utf8 = true}, ascii = {.utf8 = false};
    report_text(&r, &b, &utf8);
    assert_non_null(strstr(buf_cstr(&b), "  \xE2\x9C\x93 Ollama answers: \"Ollama is running\" (1.2 ms)\n"));
    assert_non_null(strstr(buf_cstr(&b), "cause: no NVIDIA GPU/driver found"));
    assert_non_null(strstr(buf_cstr(&b), "OK: 1 passed, 0 failed, 1 warnings, 0 skipped"));

    h = hint_for_probe(MODE_DOCKER, COMP_PROMETHEUS, PROBE_REFUSED, 0);
    assert_non_null(report_add(&r, "prometheus.ready", COMP_PROMETHEUS, CHECK_FAIL, "ready", 0.5, &h, "%s %d",
                               "refused", 7));
    assert_int_equal(report_exit_code(&r), 1);
    buf_reset(&b);
    report_text(&r, &b, &ascii);
    assert_non_null(strstr(buf_cstr(&b), "  FAIL ready: refused 7 (0.5 ms)\n"));
    assert_non_null(strstr(buf_cstr(&b), "FAILED: 1 passed, 1 failed, 1 warnings"));
    buf_free(&b);
    report_free(&r);
}

static void test_report_json_is_valid_and_complete(void **st)
{
    (void)st;
    check_report r;
    report_init(&r);
    check_hint h = hint_for_probe(MODE_DOCKER, COMP_GATEWAY, PROBE_HTTP, 401);
    report_add(&r, "gateway.models", COMP_GATEWAY, CHECK_FAIL, "models \"quoted\"", 3.0, &h, "HTTP 401\n");
    report_add(&r, "gateway.chat", COMP_GATEWAY, CHECK_SKIP, "chat", -1, NULL, "no model");
    buf b;
    buf_init(&b);
    report_json(&r, &b);
    json_error_t je;
    json_t *root = json_loads(buf_cstr(&b), 0, &je);
    assert_non_null(root);
    assert_true(json_is_false(json_object_get(root, "ok")));
    assert_int_equal(json_integer_value(json_object_get(root, "failed")), 1);
    assert_int_equal(json_integer_value(json_object_get(root, "skipped")), 1);
    json_t *c0 = json_array_get(json_object_get(root, "checks"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "id")), "gateway.models");
    assert_string_equal(json_string_value(json_object_get(c0, "component")), "gateway");
    assert_string_equal(json_string_value(json_object_get(c0, "status")), "fail");
    assert_string_equal(json_string_value(json_object_get(c0, "title")), "models \"quoted\"");
    assert_string_equal(json_string_value(json_object_get(c0, "detail")), "HTTP 401\n");
    assert_true(json_real_value(json_object_get(c0, "ms")) == 3.0);
    assert_non_null(strstr(json_string_value(json_object_get(c0, "fix")), "--api-key"));
    json_t *c1 = json_array_get(json_object_get(root, "checks"), 1);
    assert_true(json_is_null(json_object_get(c1, "ms")));
    assert_true(json_is_null(json_object_get(c1, "cause")));
    json_decref(root);
    buf_free(&b);
    report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expo_sum_matches_exact_names),
        cmocka_unit_test(test_expo_sum_ignores_comments_and_respects_len),
        cmocka_unit_test(test_promapi_duration_and_time),
        cmocka_unit_test(test_promapi_target),
        cmocka_unit_test(test_promapi_query),
        cmocka_unit_test(test_hints_follow_the_guide),
        cmocka_unit_test(test_hints_follow_the_mode),
        cmocka_unit_test(test_mode_rule),
        cmocka_unit_test(test_catalog_is_a_dag_in_run_order),
        cmocka_unit_test(test_catalog_skips_what_depends_on_a_failure),
        cmocka_unit_test(test_report_says_each_cause_once),
        cmocka_unit_test(test_report_text_and_exit_code),
        cmocka_unit_test(test_report_json_is_valid_and_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
