/* Metrics registry: exact exposition of the LiteLLM families for a known
 * set of requests and attempts, and which families get samples when. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "metrics_testlib.h"

#define S(ms) ((int64_t)(ms) * 1000000) /* milliseconds -> ns */

static const metrics_deployment_def deps[] = {
    {"llama", "ollama/llama3.2:3b", "id-1", "http://127.0.0.1:11434", "ollama"},
    {"llama", "ollama_chat/llama3.2:3b", "id-2", "http://10.0.0.2:11434", "ollama_chat"},
    {"qwen", "hosted_vllm/Qwen/Qwen2.5-7B", "id-3", "http://vllm:8000/v1", "hosted_vllm"},
};

static metrics_registry *mk(bool created)
{
    metrics_config c = {.deployments = deps,
                        .ndeployments = 3,
                        .nshards = 2,
                        .hashed_api_key = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
                        .emit_created = created};
    char err[128];
    metrics_registry *r = metrics_new(&c, err, sizeof err);
    assert_non_null(r);
    return r;
}

#define HK "hashed_api_key=\"88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b\""

static metrics_request ok_req(int dep, const char *group, bool stream)
{
    metrics_request q = {.deployment = dep,
                         .requested_model = group,
                         .route = MR_CHAT_V1,
                         .status = 200,
                         .stream = stream,
                         .prompt_tokens = 12,
                         .completion_tokens = 5,
                         .tokens_exact = true,
                         .t_start = S(1000),
                         .t_upstream_sent = S(1002),
                         .t_first_token = stream ? S(1102) : 0,
                         .t_end = S(1252)};
    return q;
}

static void test_success_nonstream_exact(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    metrics_request q = ok_req(0, "llama", false);
    metrics_record(metrics_shard_get(r, 0), &q);
    char *t = mt_scrape(r);

    assert_true(mt_has_line(t, "# HELP litellm_proxy_total_requests_metric_total Total number of requests made to the "
                               "proxy server - track number of client side requests"));
    assert_true(mt_has_line(t, "# TYPE litellm_proxy_total_requests_metric_total counter"));
    assert_true(mt_has_line(t, "litellm_proxy_total_requests_metric_total{api_key_alias=\"None\",end_user=\"None\"," HK
                               ",requested_model=\"llama\",route=\"/v1/chat/completions\",status_code=\"200\","
                               "team=\"None\",team_alias=\"None\",user=\"None\",user_email=\"None\"} 1.0"));
    const char *tok = "{api_key_alias=\"None\",end_user=\"None\"," HK ",model=\"llama3.2:3b\",requested_model=\"llama\","
                      "team=\"None\",team_alias=\"None\",user=\"None\",user_email=\"None\"}";
    char line[1024];
    snprintf(line, sizeof line, "litellm_input_tokens_metric_total%s 12.0", tok);
    assert_true(mt_has_line(t, line));
    snprintf(line, sizeof line, "litellm_output_tokens_metric_total%s 5.0", tok);
    assert_true(mt_has_line(t, line));
    snprintf(line, sizeof line, "litellm_total_tokens_metric_total%s 17.0", tok);
    assert_true(mt_has_line(t, line));
    assert_true(mt_has_line(t, "litellm_spend_metric_total{api_key_alias=\"None\",end_user=\"None\"," HK
                               ",model=\"llama3.2:3b\",team=\"None\",team_alias=\"None\",user=\"None\","
                               "user_email=\"None\"} 0.0"));

    /* The whole request-latency histogram, byte for byte: LATENCY_BUCKETS
     * with Python formatting, `le` sorted among the labels, cumulative
     * counts, then _count and _sum. */
    static const char *le[] = {"0.005", "0.00625", "0.0125", "0.025", "0.05", "0.1", "0.5", "1.0", "1.5",
                               "2.0",   "2.5",     "3.0",    "3.5",   "4.0",  "4.5", "5.0", "5.5", "6.0",
                               "6.5",   "7.0",     "7.5",    "8.0",   "8.5",  "9.0", "9.5", "10.0", "15.0",
                               "20.0",  "25.0",    "30.0",   "60.0",  "120.0", "180.0", "240.0", "300.0", "+Inf"};
    buf want;
    buf_init(&want);
    buf_puts(&want, "# HELP litellm_request_total_latency_metric Total latency (seconds) for a request to LiteLLM\n"
                    "# TYPE litellm_request_total_latency_metric histogram\n");
    const char *pre = "api_key_alias=\"None\",end_user=\"None\"," HK;
    const char *post = "model=\"llama3.2:3b\",requested_model=\"llama\",team=\"None\",team_alias=\"None\",user=\"None\"";
    for (size_t i = 0; i < sizeof le / sizeof *le; i++)
        buf_printf(&want, "litellm_request_total_latency_metric_bucket{%s,le=\"%s\",%s} %s\n", pre, le[i], post,
                   i >= 6 ? "1.0" : "0.0");
    buf_printf(&want, "litellm_request_total_latency_metric_count{%s,%s} 1.0\n", pre, post);
    buf_printf(&want, "litellm_request_total_latency_metric_sum{%s,%s} 0.252\n", pre, post);
    buf_puts(&want, "# HELP litellm_llm_api_latency_metric ");
    assert_non_null(strstr(t, buf_cstr(&want)));
    buf_free(&want);

    assert_true(mt_has_line(t, "litellm_llm_api_latency_metric_sum{api_key_alias=\"None\",end_user=\"None\"," HK
                               ",model=\"llama3.2:3b\",requested_model=\"llama\",team=\"None\",team_alias=\"None\","
                               "user=\"None\"} 0.25"));
    /* overhead = total - LLM API time, seconds */
    assert_true(mt_has_line(t, "litellm_overhead_latency_metric_sum{api_base=\"http://127.0.0.1:11434\","
                               "api_key_alias=\"None\",api_provider=\"ollama\"," HK
                               ",litellm_model_name=\"llama3.2:3b\",model_group=\"llama\"} 0.002"));
    /* non-stream: (end - start) / completion tokens; default buckets */
    assert_true(mt_has_line(t, "litellm_deployment_latency_per_output_token_sum{api_base=\"http://127.0.0.1:11434\","
                               "api_key_alias=\"None\",api_provider=\"ollama\"," HK
                               ",litellm_model_name=\"llama3.2:3b\",model_id=\"id-1\",team=\"None\","
                               "team_alias=\"None\"} 0.0504"));
    assert_int_equal(mt_count_prefix(t, "litellm_deployment_latency_per_output_token_bucket{"), 15);
    assert_true(mt_has_line(t, "litellm_deployment_latency_per_output_token_bucket{api_base=\"http://127.0.0.1:11434\","
                               "api_key_alias=\"None\",api_provider=\"ollama\"," HK
                               ",le=\"0.075\",litellm_model_name=\"llama3.2:3b\",model_id=\"id-1\",team=\"None\","
                               "team_alias=\"None\"} 1.0"));
    /* no stream: no TTFT sample, but the family is declared */
    assert_true(mt_has_line(t, "# TYPE litellm_llm_api_time_to_first_token_metric histogram"));
    assert_int_equal(mt_count_prefix(t, "litellm_llm_api_time_to_first_token_metric_"), 0);
    /* no failure yet: header only */
    assert_true(mt_has_line(t, "# TYPE litellm_proxy_failed_requests_metric_total counter"));
    assert_int_equal(mt_count_prefix(t, "litellm_proxy_failed_requests_metric_total{"), 0);
    /* deployment families come from attempts only */
    assert_int_equal(mt_count_prefix(t, "litellm_deployment_success_responses_total{"), 0);
    assert_int_equal(mt_count_prefix(t, "litellm_deployment_state{"), 0);
    /* no _created unless asked */
    assert_null(strstr(t, "_created"));
    free(t);
    metrics_free(r);
}

static void test_ttft_only_for_streams(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    metrics_request a = ok_req(0, "llama", true), b = ok_req(0, "llama", false);
    metrics_record(metrics_shard_get(r, 0), &a);
    metrics_record(metrics_shard_get(r, 1), &b);
    metrics_record(metrics_shard_get(r, 1), &b);
    char *t = mt_scrape(r);
    const char *lbl = "{api_key_alias=\"None\"," HK ",model=\"llama3.2:3b\",team=\"None\",team_alias=\"None\"}";
    char line[512];
    snprintf(line, sizeof line, "litellm_llm_api_time_to_first_token_metric_count%s 1.0", lbl);
    assert_true(mt_has_line(t, line));
    snprintf(line, sizeof line, "litellm_llm_api_time_to_first_token_metric_sum%s 0.1", lbl);
    assert_true(mt_has_line(t, line));
    /* three requests in the latency histograms, merged over both shards */
    assert_true(mt_has_line(t, "litellm_request_total_latency_metric_count{api_key_alias=\"None\",end_user=\"None\"," HK
                               ",model=\"llama3.2:3b\",requested_model=\"llama\",team=\"None\",team_alias=\"None\","
                               "user=\"None\"} 3.0"));
    /* LiteLLM's latency per output token for a stream: (first token - start) / tokens */
    double tpot = mt_value(t, "litellm_deployment_latency_per_output_token_sum{");
    assert_true(tpot > 0.0204 * 1 + 0.0504 * 2 - 1e-9 && tpot < 0.0204 + 0.0504 * 2 + 1e-9);
    /* Tollgate's own per-token time: (end - first token) / (tokens - 1) */
    assert_true(mt_has_line(t, "tollgate_time_per_output_token_seconds_sum{api_base=\"http://127.0.0.1:11434\","
                               "litellm_model_name=\"llama3.2:3b\",model_group=\"llama\",model_id=\"id-1\"} 0.0375"));
    free(t);
    metrics_free(r);
}

static void test_failures_labelled(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    metrics_shard *s = metrics_shard_get(r, 0);
    metrics_request unknown = {.deployment = -1,
                               .requested_model = NULL,
                               .route = MR_CHAT,
                               .status = 400,
                               .exception_class = "BadRequestError",
                               .exception_status = 400};
    metrics_record(s, &unknown);
    metrics_request rl = {.deployment = 2,
                          .requested_model = "qwen",
                          .route = MR_COMPLETIONS_V1,
                          .status = 429,
                          .exception_class = "Openai.RateLimitError",
                          .exception_status = 429};
    metrics_record(s, &rl);
    metrics_request noexc = {.deployment = 0, .requested_model = "llama", .route = MR_EMBEDDINGS, .status = 500,
                             .exception_class = "Ollama.APIConnectionError"};
    metrics_record(s, &noexc);
    metrics_attempt a1 = {.deployment = 1, .status = 0, .exception_class = "Ollama.APIConnectionError"};
    metrics_attempt a2 = {.deployment = 0, .requested_model = "llama", .status = 200};
    metrics_record_attempt(s, &a1);
    metrics_record_attempt(metrics_shard_get(r, 1), &a2);
    metrics_record_attempt(s, &a2);
    char *t = mt_scrape(r);
    assert_true(mt_has_line(t, "litellm_proxy_failed_requests_metric_total{api_key_alias=\"None\",end_user=\"None\","
                               "exception_class=\"BadRequestError\",exception_status=\"400\"," HK
                               ",requested_model=\"other\",route=\"/chat/completions\",team=\"None\",team_alias=\"None\","
                               "user=\"None\",user_email=\"None\"} 1.0"));
    assert_true(mt_has_line(t, "litellm_proxy_total_requests_metric_total{api_key_alias=\"None\",end_user=\"None\"," HK
                               ",requested_model=\"other\",route=\"/chat/completions\",status_code=\"400\","
                               "team=\"None\",team_alias=\"None\",user=\"None\",user_email=\"None\"} 1.0"));
    assert_true(mt_has_line(t, "litellm_proxy_failed_requests_metric_total{api_key_alias=\"None\",end_user=\"None\","
                               "exception_class=\"Openai.RateLimitError\",exception_status=\"429\"," HK
                               ",requested_model=\"qwen\",route=\"/v1/completions\",team=\"None\",team_alias=\"None\","
                               "user=\"None\",user_email=\"None\"} 1.0"));
    /* no exception status: "None" on both labels, as LiteLLM writes it */
    assert_true(mt_has_line(t, "litellm_proxy_failed_requests_metric_total{api_key_alias=\"None\",end_user=\"None\","
                               "exception_class=\"Ollama.APIConnectionError\",exception_status=\"None\"," HK
                               ",requested_model=\"llama\",route=\"/embeddings\",team=\"None\",team_alias=\"None\","
                               "user=\"None\",user_email=\"None\"} 1.0"));
    /* failures never reach the success-only families */
    assert_int_equal(mt_count_prefix(t, "litellm_input_tokens_metric_total{"), 0);
    assert_int_equal(mt_count_prefix(t, "litellm_request_total_latency_metric_count{"), 0);
    /* deployment level: connection failure has exception_status "None" */
    assert_true(mt_has_line(t, "litellm_deployment_failure_responses_total{api_base=\"http://10.0.0.2:11434\","
                               "api_key_alias=\"None\",api_provider=\"ollama_chat\","
                               "exception_class=\"Ollama.APIConnectionError\",exception_status=\"None\"," HK
                               ",litellm_model_name=\"llama3.2:3b\",model_id=\"id-2\",requested_model=\"llama\","
                               "team=\"None\",team_alias=\"None\"} 1.0"));
    assert_true(mt_has_line(t, "litellm_deployment_success_responses_total{api_base=\"http://127.0.0.1:11434\","
                               "api_key_alias=\"None\",api_provider=\"ollama\"," HK
                               ",litellm_model_name=\"llama3.2:3b\",model_id=\"id-1\",requested_model=\"llama\","
                               "team=\"None\",team_alias=\"None\"} 2.0"));
    assert_int_equal(mt_count_prefix(t, "litellm_deployment_total_requests_total{"), 2);
    assert_true(mt_has_line(t, "litellm_deployment_state{api_base=\"http://10.0.0.2:11434\",api_provider=\"ollama_chat\","
                               "litellm_model_name=\"llama3.2:3b\",model_id=\"id-2\"} 1.0"));
    assert_true(mt_has_line(t, "litellm_deployment_state{api_base=\"http://127.0.0.1:11434\",api_provider=\"ollama\","
                               "litellm_model_name=\"llama3.2:3b\",model_id=\"id-1\"} 0.0"));
    free(t);

    metrics_deployment_cooldown(r, 1, 500);
    metrics_deployment_cooldown(r, 1, 500);
    t = mt_scrape(r);
    assert_true(mt_has_line(t, "litellm_deployment_state{api_base=\"http://10.0.0.2:11434\",api_provider=\"ollama_chat\","
                               "litellm_model_name=\"llama3.2:3b\",model_id=\"id-2\"} 2.0"));
    assert_true(mt_has_line(t, "litellm_deployment_cooled_down_total{api_base=\"http://10.0.0.2:11434\","
                               "api_provider=\"ollama_chat\",exception_status=\"500\",litellm_model_name=\"llama3.2:3b\","
                               "model_id=\"id-2\"} 2.0"));
    free(t);
    metrics_free(r);
}

static void test_shared_labels_merge_and_strip_provider(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    /* deployments 0 and 1 both show model="llama3.2:3b": one TTFT series */
    metrics_request a = ok_req(0, "llama", true), b = ok_req(1, "llama", true), c = ok_req(2, "qwen", true);
    metrics_record(metrics_shard_get(r, 0), &a);
    metrics_record(metrics_shard_get(r, 1), &b);
    metrics_record(metrics_shard_get(r, 1), &c);
    char *t = mt_scrape(r);
    assert_int_equal(mt_count_prefix(t, "litellm_llm_api_time_to_first_token_metric_count{"), 2);
    assert_true(mt_has_line(t, "litellm_llm_api_time_to_first_token_metric_count{api_key_alias=\"None\"," HK
                               ",model=\"llama3.2:3b\",team=\"None\",team_alias=\"None\"} 2.0"));
    /* only the provider prefix goes: "hosted_vllm/Qwen/Qwen2.5-7B" -> "Qwen/Qwen2.5-7B" */
    assert_true(mt_has_line(t, "litellm_llm_api_time_to_first_token_metric_count{api_key_alias=\"None\"," HK
                               ",model=\"Qwen/Qwen2.5-7B\",team=\"None\",team_alias=\"None\"} 1.0"));
    /* but per-deployment families keep them apart */
    assert_int_equal(mt_count_prefix(t, "litellm_deployment_latency_per_output_token_count{"), 3);
    assert_int_equal(mt_count_prefix(t, "litellm_overhead_latency_metric_count{"), 3);
    free(t);
    metrics_free(r);
}

static void test_requested_model_by_content(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    char *copy = strdup("qwen");
    metrics_request q = ok_req(2, copy, false);
    metrics_record(metrics_shard_get(r, 0), &q);
    free(copy);
    char *t = mt_scrape(r);
    assert_int_equal(mt_count_prefix(t, "litellm_proxy_total_requests_metric_total{"), 1);
    assert_non_null(strstr(t, "requested_model=\"qwen\",route=\"/v1/chat/completions\",status_code=\"200\""));
    free(t);
    metrics_free(r);
}

static void test_tollgate_families(void **st)
{
    (void)st;
    metrics_registry *r = mk(false);
    metrics_shard *s = metrics_shard_get(r, 0);
    metrics_request q = ok_req(0, "llama", true);
    q.load_ns = S(1500);         /* cold start: 1.5 s */
    q.prompt_eval_ns = S(20);    /* 12 tokens in 20 ms = 600/s */
    q.eval_ns = S(125);          /* 5 tokens in 125 ms = 40/s */
    q.total_ns = S(200);         /* upstream wall 250 ms -> 50 ms queue */
    q.tokens_exact = false;
    q.client_disconnected = true;
    metrics_record(s, &q);
    metrics_inflight_add(s, 2, 1);
    metrics_inflight_add(s, 2, 1);
    metrics_inflight_add(metrics_shard_get(r, 1), 2, -1);
    char *t = mt_scrape(r);
    const char *d0 = "{api_base=\"http://127.0.0.1:11434\",litellm_model_name=\"llama3.2:3b\",model_group=\"llama\","
                     "model_id=\"id-1\"}";
    char line[512];
    snprintf(line, sizeof line, "tollgate_ollama_load_duration_seconds_sum%s 1.5", d0);
    assert_true(mt_has_line(t, line));
    snprintf(line, sizeof line, "tollgate_ollama_prompt_eval_tokens_per_second_sum%s 600.0", d0);
    assert_true(mt_has_line(t, line));
    snprintf(line, sizeof line, "tollgate_ollama_eval_tokens_per_second_sum%s 40.0", d0);
    assert_true(mt_has_line(t, line));
    snprintf(line, sizeof line, "tollgate_ollama_queue_wait_seconds_sum%s 0.05", d0);
    assert_true(mt_has_line(t, line));
    assert_true(mt_has_line(t, "tollgate_usage_source_total{api_base=\"http://127.0.0.1:11434\",litellm_model_name="
                               "\"llama3.2:3b\",model_group=\"llama\",model_id=\"id-1\",source=\"estimated\"} 1.0"));
    assert_true(mt_has_line(t, "tollgate_client_disconnects_total{requested_model=\"llama\",route=\"/v1/chat/completions\"} 1.0"));
    assert_true(mt_has_line(t, "tollgate_requests_in_flight{api_base=\"http://vllm:8000/v1\",litellm_model_name="
                               "\"Qwen/Qwen2.5-7B\",model_group=\"qwen\",model_id=\"id-3\"} 1.0"));
    assert_true(mt_has_line(t, "tollgate_requests_in_flight{api_base=\"http://127.0.0.1:11434\",litellm_model_name="
                               "\"llama3.2:3b\",model_group=\"llama\",model_id=\"id-1\"} 0.0"));
    free(t);

    metrics_loaded_model m[] = {{"llama3.2:3b", 3338801152ULL, 3338801152ULL, 1767225600}, {"x\"y", 5, 0, 0}};
    metrics_set_ollama_state(r, "http://127.0.0.1:11434", true, m, 2);
    metrics_set_ollama_state(r, "http://10.0.0.2:11434", false, NULL, 0);
    t = mt_scrape(r);
    assert_true(mt_has_line(t, "tollgate_ollama_up{api_base=\"http://127.0.0.1:11434\"} 1.0"));
    assert_true(mt_has_line(t, "tollgate_ollama_up{api_base=\"http://10.0.0.2:11434\"} 0.0"));
    assert_true(mt_has_line(t, "tollgate_ollama_loaded_models{api_base=\"http://127.0.0.1:11434\"} 2.0"));
    assert_true(mt_has_line(t, "tollgate_ollama_loaded_model_vram_bytes{api_base=\"http://127.0.0.1:11434\","
                               "model=\"llama3.2:3b\"} 3.338801152e+09"));
    assert_true(mt_has_line(t, "tollgate_ollama_loaded_model_size_bytes{api_base=\"http://127.0.0.1:11434\","
                               "model=\"x\\\"y\"} 5.0"));
    assert_true(mt_has_line(t, "tollgate_ollama_loaded_model_expires_at_seconds{api_base=\"http://127.0.0.1:11434\","
                               "model=\"llama3.2:3b\"} 1.7672256e+09"));
    assert_int_equal(mt_count_prefix(t, "tollgate_ollama_loaded_model_expires_at_seconds{"), 1);
    free(t);
    /* a later poll replaces the list */
    metrics_set_ollama_state(r, "http://127.0.0.1:11434", true, m, 1);
    t = mt_scrape(r);
    assert_int_equal(mt_count_prefix(t, "tollgate_ollama_loaded_model_size_bytes{"), 1);
    free(t);
    metrics_free(r);
}

static void test_created_gauges(void **st)
{
    (void)st;
    metrics_registry *r = mk(true);
    metrics_request q = ok_req(0, "llama", false);
    metrics_record(metrics_shard_get(r, 0), &q);
    char *t = mt_scrape(r);
    assert_true(mt_has_line(t, "# TYPE litellm_proxy_total_requests_metric_created gauge"));
    double c = mt_value(t, "litellm_proxy_total_requests_metric_created{");
    assert_true(c > 1.5e9);
    assert_true(mt_has_line(t, "# TYPE litellm_request_total_latency_metric_created gauge"));
    /* no _created for families without samples, nor for gauges */
    assert_null(strstr(t, "litellm_proxy_failed_requests_metric_created"));
    assert_null(strstr(t, "tollgate_requests_in_flight_created"));
    free(t);
    metrics_free(r);
}

static void test_config_errors(void **st)
{
    (void)st;
    char err[128];
    metrics_config c = {.deployments = deps, .ndeployments = 3, .nshards = 0};
    assert_null(metrics_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "nshards"));
    double bad[] = {1.0, 0.5};
    c.nshards = 1;
    c.latency_buckets = bad;
    c.nbuckets = 2;
    assert_null(metrics_new(&c, err, sizeof err));
    assert_non_null(strstr(err, "increasing"));
    double custom[] = {0.1, 1.0, 10.0};
    c.latency_buckets = custom;
    c.nbuckets = 3;
    metrics_registry *r = metrics_new(&c, err, sizeof err);
    assert_non_null(r);
    metrics_request q = ok_req(0, "llama", false);
    metrics_record(metrics_shard_get(r, 0), &q);
    assert_null(metrics_shard_get(r, 1));
    char *t = mt_scrape(r);
    assert_int_equal(mt_count_prefix(t, "litellm_request_total_latency_metric_bucket{"), 4);
    assert_non_null(strstr(t, "le=\"10.0\""));
    free(t);
    metrics_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_nonstream_exact),
        cmocka_unit_test(test_ttft_only_for_streams),
        cmocka_unit_test(test_failures_labelled),
        cmocka_unit_test(test_shared_labels_merge_and_strip_provider),
        cmocka_unit_test(test_requested_model_by_content),
        cmocka_unit_test(test_tollgate_families),
        cmocka_unit_test(test_created_gauges),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
