/* otel configuration: the OTEL_* environment read through an injected
 * getenv, the way OpenTelemetry SDKs read it, plus LiteLLM's variables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otel/otel_int.h"

/* The injected environment: NULL-terminated name/value pairs. */
static const char *lookup(void *ud, const char *name)
{
    const char *const *kv = ud;
    for (; kv[0]; kv += 2)
        if (strcmp(kv[0], name) == 0)
            return kv[1];
    return NULL;
}

static char err[256], warn[2048];

static int load(otel_config *c, bool litellm, const char *const *env)
{
    otel_settings s = {.litellm_callback = litellm, .workers = 1, .getenv = lookup, .getenv_ud = (void *)env};
    return otel_config_load(c, &s, err, sizeof err, warn, sizeof warn);
}

static otel_config *cfg(void)
{
    static otel_config *c;
    if (!c)
        c = malloc(sizeof *c);
    return c;
}

static void test_nothing_configured_is_off(void **state)
{
    const char *env[] = {"OTEL_SERVICE_NAME", "x", NULL};
    assert_int_equal(load(cfg(), false, env), 0);
    assert_false(cfg()->traces_on);
    assert_false(cfg()->metrics_on);
    /* otel_new returns no object at all */
    otel *o = (otel *)1;
    otel_settings s = {.workers = 1, .getenv = lookup, .getenv_ud = (void *)env};
    assert_int_equal(otel_new(&s, &o, err, sizeof err, NULL, 0), 0);
    assert_null(o);
}

static void test_base_endpoint_gets_signal_paths(void **state)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", NULL};
    assert_int_equal(load(cfg(), false, env), 1);
    assert_string_equal(cfg()->traces_url, "http://collector:4318/v1/traces");
    assert_string_equal(cfg()->metrics_url, "http://collector:4318/v1/metrics");
    assert_int_equal(cfg()->traces_protocol, OTEL_PROTO_PROTOBUF);
    assert_int_equal(cfg()->schedule_delay_ms, 5000);
    assert_int_equal(cfg()->max_queue, 2048);
    assert_int_equal(cfg()->batch_max, 512);
    assert_int_equal(cfg()->export_interval_ms, 60000);
    assert_int_equal(cfg()->sampler, OTEL_SAMPLER_PARENT_ON);
    assert_string_equal(cfg()->resource[0].key, "service.name");
    assert_string_equal(cfg()->resource[0].value, "tollgate");
    assert_string_equal(warn, "");

    const char *env2[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "https://h/base/", NULL};
    assert_int_equal(load(cfg(), false, env2), 1);
    assert_string_equal(cfg()->traces_url, "https://h/base/v1/traces");
}

static void test_signal_endpoints_used_as_is(void **state)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                         "http://t:1/custom", NULL};
    assert_int_equal(load(cfg(), false, env), 1);
    assert_string_equal(cfg()->traces_url, "http://t:1/custom");
    assert_string_equal(cfg()->metrics_url, "http://base:4318/v1/metrics");

    const char *only[] = {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m/x", NULL};
    assert_int_equal(load(cfg(), false, only), 1);
    assert_false(cfg()->traces_on);
    assert_true(cfg()->metrics_on);

    const char *none[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://b", "OTEL_TRACES_EXPORTER", "none", NULL};
    assert_int_equal(load(cfg(), false, none), 1);
    assert_false(cfg()->traces_on);
    assert_true(cfg()->metrics_on);
}

static void test_bad_urls_and_grpc_are_fatal(void **state)
{
    const char *bad[] = {"ftp://x", "http://", "http:///path", "http://a b", "http://a\r\nHost: evil", "x", "", NULL};
    for (int i = 0; bad[i]; i++) {
        const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", bad[i], NULL};
        int rc = load(cfg(), false, env);
        if (bad[i][0]) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "OTEL_EXPORTER_OTLP_ENDPOINT"));
        } else {
            assert_int_equal(rc, 0); /* empty = unset */
        }
    }
    const char *grpc[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", NULL};
    assert_int_equal(load(cfg(), false, grpc), -1);
    assert_non_null(strstr(err, "grpc is not supported"));
    const char *json[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json",
                          "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf", NULL};
    assert_int_equal(load(cfg(), false, json), 1);
    assert_int_equal(cfg()->traces_protocol, OTEL_PROTO_JSON);
    assert_int_equal(cfg()->metrics_protocol, OTEL_PROTO_PROTOBUF);
    const char *disabled[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_SDK_DISABLED", "TRUE", NULL};
    assert_int_equal(load(cfg(), false, disabled), 0);
}

static void test_headers_baggage_style(void **state)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c",
                         "OTEL_EXPORTER_OTLP_HEADERS",
                         " api-key = secret%20one , bad , =novalue,x-inj=a%0D%0AHost:%20evil,b@d=1,,x-two=2",
                         "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "API-KEY=metrics-key", NULL};
    assert_int_equal(load(cfg(), false, env), 1);
    assert_int_equal(cfg()->n_traces_headers, 2);
    assert_string_equal(cfg()->traces_headers[0].key, "api-key");
    assert_string_equal(cfg()->traces_headers[0].value, "secret one");
    assert_string_equal(cfg()->traces_headers[1].key, "x-two");
    assert_int_equal(cfg()->n_metrics_headers, 2);
    assert_string_equal(cfg()->metrics_headers[0].value, "metrics-key"); /* per-signal overrides */
    /* four bad pairs, each warned about, none of their text echoed */
    int lines = 0;
    for (const char *p = warn; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4);
    assert_null(strstr(warn, "secret"));
    assert_null(strstr(warn, "evil"));
}

static void test_resource_and_service_name(void **state)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_RESOURCE_ATTRIBUTES",
                         "service.name=fromattrs,deployment.environment=prod%2Ceu", NULL};
    assert_int_equal(load(cfg(), false, env), 1);
    assert_string_equal(cfg()->resource[0].value, "fromattrs");
    assert_int_equal(cfg()->n_resource, 3);
    assert_string_equal(cfg()->resource[2].key, "deployment.environment");
    assert_string_equal(cfg()->resource[2].value, "prod,eu");
    const char *env2[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_RESOURCE_ATTRIBUTES", "service.name=a",
                          "OTEL_SERVICE_NAME", "gw-1", NULL};
    assert_int_equal(load(cfg(), false, env2), 1);
    assert_string_equal(cfg()->resource[0].value, "gw-1");
}

static void test_sampler_and_numbers(void **state)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
                         "OTEL_TRACES_SAMPLER_ARG", "0.25", "OTEL_BSP_SCHEDULE_DELAY", "250",
                         "OTEL_BSP_MAX_QUEUE_SIZE", "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500",
                         "OTEL_METRIC_EXPORT_INTERVAL", "1000", NULL};
    assert_int_equal(load(cfg(), false, env), 1);
    assert_int_equal(cfg()->sampler, OTEL_SAMPLER_PARENT_RATIO);
    assert_true(cfg()->ratio == 0.25);
    assert_int_equal(cfg()->schedule_delay_ms, 250);
    assert_int_equal(cfg()->max_queue, 100);
    assert_int_equal(cfg()->batch_max, 100); /* clamped to the queue */
    assert_int_equal(cfg()->export_interval_ms, 1000);
    assert_string_equal(warn, "");

    const char *bad[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_TRACES_SAMPLER", "traceidratio",
                         "OTEL_TRACES_SAMPLER_ARG", "1.5", "OTEL_BSP_SCHEDULE_DELAY", "5s",
                         "OTEL_BSP_MAX_QUEUE_SIZE", "99999999", NULL};
    assert_int_equal(load(cfg(), false, bad), 1);
    assert_int_equal(cfg()->sampler, OTEL_SAMPLER_RATIO);
    assert_true(cfg()->ratio == 1.0);
    assert_int_equal(cfg()->schedule_delay_ms, 5000);
    assert_int_equal(cfg()->max_queue, 16384);
    assert_non_null(strstr(warn, "OTEL_TRACES_SAMPLER_ARG"));
    assert_non_null(strstr(warn, "OTEL_BSP_SCHEDULE_DELAY"));

    const char *unk[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c", "OTEL_TRACES_SAMPLER", "jaeger_remote", NULL};
    assert_int_equal(load(cfg(), false, unk), 1);
    assert_int_equal(cfg()->sampler, OTEL_SAMPLER_PARENT_ON);
    assert_non_null(strstr(warn, "jaeger_remote"));
}

static void test_litellm_callback(void **state)
{
    /* callbacks: ["otel"] alone: the SDKs' default endpoint */
    const char *none[] = {NULL};
    assert_int_equal(load(cfg(), true, none), 1);
    assert_string_equal(cfg()->traces_url, "http://localhost:4318/v1/traces");
    /* LiteLLM variables without the callback: off */
    const char *le[] = {"OTEL_EXPORTER", "otlp_http", "OTEL_ENDPOINT", "https://api.traceloop.com", "OTEL_HEADERS",
                        "Authorization=Bearer%20abc", NULL};
    assert_int_equal(load(cfg(), false, le), 0);
    assert_int_equal(load(cfg(), true, le), 1);
    assert_string_equal(cfg()->traces_url, "https://api.traceloop.com/v1/traces");
    assert_string_equal(cfg()->metrics_url, "https://api.traceloop.com/v1/metrics");
    assert_string_equal(cfg()->traces_headers[0].key, "Authorization");
    assert_string_equal(cfg()->traces_headers[0].value, "Bearer abc");
    const char *full[] = {"OTEL_ENDPOINT", "http://col:4318/v1/traces", NULL};
    assert_int_equal(load(cfg(), true, full), 1);
    assert_string_equal(cfg()->traces_url, "http://col:4318/v1/traces");
    assert_string_equal(cfg()->metrics_url, "http://col:4318/v1/metrics");
    /* the standard variable wins */
    const char *both[] = {"OTEL_ENDPOINT", "http://a", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://b", NULL};
    assert_int_equal(load(cfg(), true, both), 1);
    assert_string_equal(cfg()->traces_url, "http://b/v1/traces");
    const char *grpc[] = {"OTEL_EXPORTER", "otlp_grpc", "OTEL_ENDPOINT", "http://a:4317", NULL};
    assert_int_equal(load(cfg(), true, grpc), -1);
    assert_non_null(strstr(err, "gRPC is not supported"));
    const char *bad[] = {"OTEL_ENDPOINT", "file:///etc/passwd", NULL};
    assert_int_equal(load(cfg(), true, bad), -1);
    assert_non_null(strstr(err, "OTEL_ENDPOINT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_configured_is_off),
        cmocka_unit_test(test_base_endpoint_gets_signal_paths),
        cmocka_unit_test(test_signal_endpoints_used_as_is),
        cmocka_unit_test(test_bad_urls_and_grpc_are_fatal),
        cmocka_unit_test(test_headers_baggage_style),
        cmocka_unit_test(test_resource_and_service_name),
        cmocka_unit_test(test_sampler_and_numbers),
        cmocka_unit_test(test_litellm_callback),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(cfg());
    return rc;
}
