/* Metrics registry: recording on two threads while scraping gives exact
 * totals, cardinality stays bounded under hostile inputs, and the output
 * passes `promtool check metrics`. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics_testlib.h"

static const metrics_deployment_def deps[] = {
    {"llama", "ollama/llama3.2:3b", "id-1", "http://127.0.0.1:11434", "ollama"},
    {"qwen", "ollama/qwen2.5:0.5b", "id-2", "http://127.0.0.1:11434", "ollama"},
};

static metrics_registry *mk(bool created)
{
    metrics_config c = {.deployments = deps, .ndeployments = 2, .nshards = 2, .emit_created = created};
    char err[128];
    metrics_registry *r = metrics_new(&c, err, sizeof err);
    assert_non_null(r);
    return r;
}

#define PER_THREAD 200000

typedef struct {
    metrics_shard *s;
    int id;
    atomic_int *done, *half, *go;
} worker;

static void *work(void *p)
{
    worker *w = p;
    for (int i = 0; i < PER_THREAD; i++) {
        if (i == PER_THREAD / 2) {
            /* Hold at half-way until the scraper is about to run, so the
             * second half is recorded while it scrapes. */
            atomic_fetch_add(w->half, 1);
            while (!atomic_load(w->go))
                ;
        }
        metrics_request q = {.deployment = i & 1,
                             .requested_model = (i & 1) ? "qwen" : "llama",
                             .route = MR_CHAT_V1,
                             .status = 200,
                             .stream = (i % 3) == 0,
                             .prompt_tokens = 3,
                             .completion_tokens = 7,
                             .tokens_exact = true,
                             .t_start = 1000000,
                             .t_upstream_sent = 2000000,
                             .t_first_token = 3000000,
                             .t_end = 1000000 + (int64_t)(i % 1000) * 1000000};
        metrics_inflight_add(w->s, i & 1, 1);
        metrics_record(w->s, &q);
        metrics_attempt a = {.deployment = i & 1, .status = 200};
        metrics_record_attempt(w->s, &a);
        metrics_inflight_add(w->s, i & 1, -1);
    }
    atomic_fetch_add(w->done, 1);
    return NULL;
}

static double sum_prefix(const char *t, const char *prefix)
{
    double s = 0;
    size_t n = strlen(prefix);
    for (const char *p = t; p && *p;) {
        if (strncmp(p, prefix, n) == 0) {
            const char *sp = strchr(p, ' ');
            if (sp)
                s += strtod(sp + 1, NULL);
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return s;
}

static void test_concurrent_exact_totals(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    atomic_int done = 0, half = 0, go = 0;
    worker w[2] = {{metrics_shard_get(r, 0), 0, &done, &half, &go}, {metrics_shard_get(r, 1), 1, &done, &half, &go}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    while (atomic_load(&half) < 2)
        ;
    atomic_store(&go, 1);
    /* Scrape while they record: counters never go backwards, never exceed
     * what was recorded, and include at least the first halves. */
    double last = (double)PER_THREAD;
    do {
        char *t = mt_scrape(r);
        double v = sum_prefix(t, "litellm_proxy_total_requests_metric_total{");
        assert_true(v >= last);
        assert_true(v <= 2.0 * PER_THREAD);
        last = v;
        free(t);
    } while (atomic_load(&done) < 2);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    char *t = mt_scrape(r);
    assert_true(sum_prefix(t, "litellm_proxy_total_requests_metric_total{") == 2.0 * PER_THREAD);
    assert_true(sum_prefix(t, "litellm_input_tokens_metric_total{") == 3.0 * 2 * PER_THREAD);
    assert_true(sum_prefix(t, "litellm_output_tokens_metric_total{") == 7.0 * 2 * PER_THREAD);
    assert_true(sum_prefix(t, "litellm_request_total_latency_metric_count{") == 2.0 * PER_THREAD);
    assert_true(sum_prefix(t, "litellm_deployment_success_responses_total{") == 2.0 * PER_THREAD);
    assert_true(sum_prefix(t, "tollgate_requests_in_flight{") == 0.0);
    /* each series merged across both shards: one per model */
    assert_int_equal(mt_count_prefix(t, "litellm_proxy_total_requests_metric_total{"), 2);
    /* stream share: i % 3 == 0 */
    int streams = 0;
    for (int i = 0; i < PER_THREAD; i++)
        streams += (i % 3) == 0;
    assert_true(sum_prefix(t, "litellm_llm_api_time_to_first_token_metric_count{") == 2.0 * streams);
    /* the +Inf bucket equals _count */
    assert_true(sum_prefix(t, "litellm_request_total_latency_metric_bucket{") > 0);
    free(t);
    metrics_free(r);
}

static void test_cardinality_bounded(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    metrics_shard *s = metrics_shard_get(r, 0);
    char names[4][32];
    for (int i = 0; i < 5000; i++) {
        char *cls = malloc(32), *model = malloc(32);
        snprintf(cls, 32, "Provider.Error%d", i);
        snprintf(model, 32, "client-model-%d", i);
        metrics_request q = {.deployment = (i % 5) - 2, /* includes out-of-range indexes */
                             .requested_model = model,
                             .route = (metrics_route)(i % 11),
                             .status = (i * 7919) % 1000,
                             .exception_class = cls,
                             .exception_status = (i * 104729) % 1000};
        metrics_record(s, &q);
        metrics_attempt a = {.deployment = i % 3, .status = (i * 31) % 1000, .exception_class = cls};
        metrics_record_attempt(s, &a);
        metrics_deployment_cooldown(r, i % 3, i % 1000);
        free(cls);
        free(model);
    }
    char *t = mt_scrape(r);
    /* 1 group ("other") x 7 routes x <= 39 statuses x <= 50 classes, and far fewer in practice */
    int failed = mt_count_prefix(t, "litellm_proxy_failed_requests_metric_total{");
    assert_true(failed > 0 && failed <= 7 * 39 * (METRICS_MAX_EXCEPTION_CLASSES + 2));
    assert_null(strstr(t, "client-model-"));
    assert_non_null(strstr(t, "exception_class=\"Other\""));
    /* only configured or table status values */
    assert_null(strstr(t, "status_code=\"999\""));
    assert_non_null(strstr(t, "status_code=\"5xx\""));
    assert_null(strstr(t, "exception_status=\"0\""));
    int classes = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(names[0], sizeof names[0], "\"Provider.Error%d\"", i);
        classes += strstr(t, names[0]) != NULL;
    }
    assert_int_equal(classes, METRICS_MAX_EXCEPTION_CLASSES);
    free(t);

    metrics_loaded_model m[200];
    char mn[200][24];
    for (int i = 0; i < 200; i++) {
        snprintf(mn[i], sizeof mn[i], "m%d:latest", i);
        m[i] = (metrics_loaded_model){mn[i], 100, 50, 0};
    }
    metrics_set_ollama_state(r, "http://a:11434", true, m, 200);
    metrics_set_ollama_state(r, "http://b:11434", true, m, 200);
    t = mt_scrape(r);
    assert_int_equal(mt_count_prefix(t, "tollgate_ollama_loaded_model_size_bytes{"), METRICS_MAX_OLLAMA_MODELS);
    free(t);
    /* shrinking one base frees room for the other */
    metrics_set_ollama_state(r, "http://a:11434", true, m, 1);
    metrics_set_ollama_state(r, "http://b:11434", true, m, 200);
    t = mt_scrape(r);
    assert_int_equal(mt_count_prefix(t, "tollgate_ollama_loaded_model_size_bytes{api_base=\"http://b:11434\""),
                     METRICS_MAX_OLLAMA_MODELS - 1);
    free(t);
    metrics_free(r);
}

static void test_promtool_parses(void **st)
{
    (void)st;
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        print_message("promtool not installed: skipped\n");
        skip();
    }
    /* Hostile config strings must come out escaped and parseable. */
    static const metrics_deployment_def odd[] = {
        {"we\"ird\\group\nx", "ollama/llama3.2:3b", "id\"1", "http://127.0.0.1:11434", "ollama"},
        {"qwen", "openai/gpt-4o", "id-2", "https://api.example/v1", "openai"},
    };
    metrics_config c = {.deployments = odd, .ndeployments = 2, .nshards = 2, .emit_created = true,
                        .hashed_api_key = "abc", .api_key_alias = "team\"key", .user_id = "default_user_id"};
    char err[128];
    metrics_registry *r = metrics_new(&c, err, sizeof err);
    assert_non_null(r);
    for (int i = 0; i < 50; i++) {
        metrics_request q = {.deployment = i % 2,
                             .requested_model = i % 2 ? "qwen" : "we\"ird\\group\nx",
                             .route = (metrics_route)(i % 7),
                             .status = i % 5 ? 200 : 502,
                             .exception_class = i % 5 ? NULL : "Ollama.APIConnection\"Error",
                             .exception_status = i % 5 ? 0 : 502,
                             .stream = i & 1,
                             .prompt_tokens = 10,
                             .completion_tokens = (uint64_t)i,
                             .t_start = 1,
                             .t_upstream_sent = 1000000,
                             .t_first_token = 50000000,
                             .t_end = 900000000,
                             .load_ns = 3000000,
                             .prompt_eval_ns = 1000000,
                             .eval_ns = 500000000,
                             .total_ns = 700000000,
                             .client_disconnected = i % 7 == 0};
        metrics_record(metrics_shard_get(r, i % 2), &q);
        metrics_attempt a = {.deployment = i % 2, .status = i % 5 ? 200 : 502};
        metrics_record_attempt(metrics_shard_get(r, i % 2), &a);
    }
    metrics_deployment_cooldown(r, 0, 429);
    metrics_inflight_add(metrics_shard_get(r, 0), 1, 3);
    metrics_record_fallback(metrics_shard_get(r, 0), "qwen", "we\"ird\\group\nx", true, 502, "Openai.APIError");
    metrics_record_fallback(metrics_shard_get(r, 1), "qwen", "qwen", false, 0, "Ollama.Timeout");
    metrics_in_flight_add(r, 2);
    metrics_loaded_model m[] = {{"llama3.2:3b", 3338801152ULL, 3338801152ULL, 1767225600}};
    metrics_set_ollama_state(r, "http://127.0.0.1:11434", true, m, 1);
    char *t = mt_scrape(r);
    assert_non_null(strstr(t, "model_group=\"we\\\"ird\\\\group\\nx\""));
    assert_non_null(strstr(t, "user=\"default_user_id\""));
    /* Issue 15's dashboard families. */
    assert_non_null(strstr(t, "\nlitellm_in_flight_requests 2.0\n"));
    assert_non_null(strstr(t, "litellm_remaining_api_key_requests_for_model{api_key_alias=\"team\\\"key\",hashed_api_key="
                              "\"abc\",model=\"qwen\"} 9.223372036854776e+18\n"));
    assert_non_null(strstr(t, "litellm_deployment_successful_fallbacks_total{api_key_alias=\"team\\\"key\","
                              "exception_class=\"Openai.APIError\",exception_status=\"502\","
                              "fallback_model=\"we\\\"ird\\\\group\\nx\",hashed_api_key=\"abc\","
                              "requested_model=\"qwen\",team=\"None\",team_alias=\"None\"} 1.0\n"));
    assert_non_null(strstr(t, "litellm_deployment_failed_fallbacks_total{"));
    assert_non_null(strstr(t, "litellm_llm_api_failed_requests_metric_total{"));
    assert_non_null(strstr(t, "litellm_requests_metric_total{"));
    assert_non_null(strstr(t, "litellm_request_queue_time_seconds_count{"));
    assert_non_null(strstr(t, "litellm_overhead_with_guardrails_latency_metric_count{"));
    char path[] = "/tmp/tollgate-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(t, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    unlink(path);
    if (n)
        print_message("promtool: %s\n", out);
    assert_int_equal(WEXITSTATUS(rc), 0);
    assert_int_equal(n, 0);
    free(t);
    metrics_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_exact_totals),
        cmocka_unit_test(test_cardinality_bounded),
        cmocka_unit_test(test_promtool_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
