/* litellm_config.yaml loader: the guide's example, every supported key,
 * os.environ/ resolution, defaults, every error message, warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

/* tests/unit/data/config/, found next to this source file. */
static const char *data(const char *name)
{
    static char path[1024];
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dirlen = slash ? (int)(slash - src) : 1;
    snprintf(path, sizeof path, "%.*s/data/config/%s", dirlen, slash ? src : ".", name);
    return path;
}

typedef struct {
    char msgs[32][256];
    int n;
} warnings;

static void on_warn(void *ud, const char *msg)
{
    warnings *w = ud;
    if (w->n < 32)
        snprintf(w->msgs[w->n++], sizeof w->msgs[0], "%s", msg);
}

static bool has_warning(const warnings *w, const char *msg)
{
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->msgs[i], msg))
            return true;
    return false;
}

static config *load(const char *yaml, warnings *w, char *err, size_t errlen)
{
    if (w)
        memset(w, 0, sizeof *w);
    return config_load_string(yaml, strlen(yaml), "t.yaml", w ? on_warn : NULL, w, err, errlen);
}

/* Loads yaml expecting failure; returns the error text. */
static const char *load_err(const char *yaml)
{
    static char err[512];
    warnings w;
    config *c = load(yaml, &w, err, sizeof err);
    if (c) {
        config_free(c);
        return "(loaded)";
    }
    return err;
}

static int setup(void **st)
{
    (void)st;
    unsetenv("LITELLM_MASTER_KEY");
    unsetenv("OLLAMA_HOST");
    unsetenv("OPENAI_API_KEY");
    unsetenv("HOSTED_VLLM_API_KEY");
    return 0;
}

static void test_guide_example(void **st)
{
    (void)st;
    warnings w = {0};
    char err[512] = "";
    config *c = config_load_file(data("guide.yaml"), on_warn, &w, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(err, "");
    assert_int_equal(w.n, 0);
    assert_int_equal(c->ndeployments, 1);
    config_deployment *d = &c->deployments[0];
    assert_string_equal(d->model_name, "gemma3-27b");
    assert_string_equal(d->model, "ollama/gemma3:27b");
    assert_int_equal(d->provider, PROVIDER_OLLAMA);
    assert_string_equal(d->provider_name, "ollama");
    assert_string_equal(d->upstream_model, "gemma3:27b");
    assert_string_equal(d->api_base, "http://host.docker.internal:11434");
    assert_null(d->api_key);
    assert_true(d->timeout == 0 && d->stream_timeout == 0);
    assert_int_equal(d->max_retries, -1);
    assert_int_equal(d->rpm, 0);
    assert_int_equal(d->tpm, 0);
    assert_int_equal(d->line, 2);
    assert_int_equal(strlen(d->model_id), 16);
    assert_int_equal(c->ncallbacks, 1);
    assert_string_equal(c->callbacks[0], "prometheus");
    assert_true(c->prometheus_callback);
    /* Defaults, as LiteLLM v1.80 */
    assert_true(c->request_timeout == 6000);
    assert_int_equal(c->num_retries, -1);
    assert_int_equal(c->nfallbacks, 0);
    assert_null(c->latency_buckets);
    assert_null(c->master_key);
    assert_false(c->require_auth_for_metrics_endpoint);
    assert_int_equal(c->routing_strategy, ROUTING_SIMPLE_SHUFFLE);
    assert_int_equal(c->allowed_fails, 3);
    assert_true(c->cooldown_time == 5);
    assert_int_equal(c->router_num_retries, -1);
    assert_true(c->router_timeout == 0);
    assert_int_equal(c->nnotes, 0);
    /* Same entry, same id: ids are stable across loads. */
    config *c2 = config_load_file(data("guide.yaml"), NULL, NULL, err, sizeof err);
    assert_non_null(c2);
    assert_string_equal(c2->deployments[0].model_id, d->model_id);
    config_free(c2);
    config_free(c);
}

static void test_every_key(void **st)
{
    (void)st;
    warnings w = {0};
    char err[512] = "";
    unsetenv("TG_TEST_FILE_KEY");
    config *c = config_load_file(data("full.yaml"), on_warn, &w, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->ndeployments, 5);

    config_deployment *d = &c->deployments[0];
    assert_string_equal(d->model_name, "llama");
    assert_int_equal(d->provider, PROVIDER_OLLAMA_CHAT);
    assert_string_equal(d->upstream_model, "llama3.2:3b");
    assert_string_equal(d->api_base, "http://gpu-box:11434"); /* merged from the anchor, slash trimmed */
    assert_true(d->timeout == 120);
    assert_true(d->stream_timeout == 30.5);
    assert_int_equal(d->max_retries, 2);
    assert_int_equal(d->rpm, 600);
    assert_int_equal(d->tpm, 100000);
    assert_string_equal(d->model_id, "llama-gpu-box");
    assert_int_equal(d->line, 11);

    d = &c->deployments[1];
    assert_string_equal(d->model_name, "llama");
    assert_int_equal(d->provider, PROVIDER_OLLAMA);
    assert_string_equal(d->api_base, "http://127.0.0.1:11434");
    assert_string_equal(d->model_id, "llama-local");

    d = &c->deployments[2];
    assert_int_equal(d->provider, PROVIDER_OPENAI);
    assert_string_equal(d->api_base, "https://api.openai.com/v1");
    assert_string_equal(d->api_key, "sk-from-file"); /* environment_variables seen by os.environ/ */
    assert_true(d->input_cost_per_token == 0.00000015);
    assert_true(d->output_cost_per_token == 0.0000006);

    d = &c->deployments[3];
    assert_int_equal(d->provider, PROVIDER_HOSTED_VLLM);
    assert_string_equal(d->upstream_model, "Qwen/Qwen2.5-7B-Instruct");
    assert_string_equal(d->api_base, "http://vllm:8000/v1");

    d = &c->deployments[4];
    assert_int_equal(d->provider, PROVIDER_OPENAI_COMPATIBLE);
    assert_string_equal(d->provider_name, "llamacpp");
    assert_string_equal(d->upstream_model, "qwen");
    assert_string_equal(d->api_key, "none");

    assert_int_equal(c->ncallbacks, 1); /* de-duplicated across callbacks and success_callback */
    assert_true(c->request_timeout == 600);
    assert_int_equal(c->num_retries, 1);
    assert_int_equal(c->nfallbacks, 2);
    assert_string_equal(c->fallbacks[0].from, "llama");
    assert_int_equal(c->fallbacks[0].nto, 1);
    assert_string_equal(c->fallbacks[0].to[0], "gpt");
    assert_string_equal(c->fallbacks[1].from, "vllm-qwen");
    assert_string_equal(c->fallbacks[1].to[0], "cpp");
    assert_int_equal(c->nlatency_buckets, 6);
    assert_true(c->latency_buckets[0] == 0.1 && c->latency_buckets[5] == 60);
    assert_string_equal(c->master_key, "sk-1234");
    assert_true(c->require_auth_for_metrics_endpoint);
    assert_int_equal(c->routing_strategy, ROUTING_LATENCY_BASED);
    assert_int_equal(c->allowed_fails, 1);
    assert_true(c->cooldown_time == 30);
    assert_int_equal(c->router_num_retries, 3);
    assert_true(c->router_timeout == 300);

    assert_int_equal(c->ncontext_window_fallbacks, 1);
    assert_string_equal(c->context_window_fallbacks[0].to[0], "cpp");
    assert_int_equal(c->ndefault_fallbacks, 1);
    assert_string_equal(c->default_fallbacks[0], "gpt");

    /* The anchor holder, and max_retries (parsed, not acted on, so said);
     * harmless keys are notes. */
    assert_int_equal(w.n, 2);
    assert_true(strstr(w.msgs[0], "full.yaml:5: unknown top-level key 'x-ollama' (ignored)") != NULL);
    assert_true(strstr(w.msgs[1], "full.yaml:15: model_list[0].litellm_params.max_retries is not acted on") != NULL);
    assert_int_equal(c->nnotes, 4);
    bool saw_drop = false, saw_db = false;
    for (size_t i = 0; i < c->nnotes; i++) {
        saw_drop |= strstr(c->notes[i], "litellm_settings.drop_params has no effect") != NULL;
        saw_db |= strstr(c->notes[i], "general_settings.database_url has no effect") != NULL;
    }
    assert_true(saw_drop && saw_db);

    /* environment_variables reach the process only on request. */
    assert_null(getenv("TG_TEST_FILE_KEY"));
    assert_int_equal(c->nenv, 1);
    assert_int_equal(config_apply_env(c), 0);
    assert_string_equal(getenv("TG_TEST_FILE_KEY"), "sk-from-file");
    unsetenv("TG_TEST_FILE_KEY");
    config_free(c);
}

static void test_os_environ(void **st)
{
    (void)st;
    warnings w;
    char err[512];
    setenv("TG_KEY", "secret-1", 1);
    setenv("TG_MASTER", "sk-master", 1);
    setenv("TG_BASE", "http://ollama:11434", 1);
    setenv("TG_TIMEOUT", "42", 1);
    config *c = load("model_list:\n"
                     "  - model_name: m\n"
                     "    litellm_params:\n"
                     "      model: openai/m\n"
                     "      api_base: os.environ/TG_BASE\n"
                     "      api_key: \"os.environ/TG_KEY\"\n"
                     "      timeout: os.environ/TG_TIMEOUT\n"
                     "      stream_timeout: os.environ/TG_NOT_SET_1\n"
                     "general_settings:\n"
                     "  master_key: os.environ/TG_MASTER\n",
                     &w, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(c->deployments[0].api_base, "http://ollama:11434");
    assert_string_equal(c->deployments[0].api_key, "secret-1");
    assert_true(c->deployments[0].timeout == 42);
    assert_true(c->deployments[0].stream_timeout == 0);
    assert_string_equal(c->master_key, "sk-master");
    assert_int_equal(w.n, 1);
    assert_string_equal(w.msgs[0], "t.yaml:8: environment variable 'TG_NOT_SET_1' is not set; "
                                   "model_list[0].litellm_params.stream_timeout is treated as unset");
    config_free(c);

    /* Secrets and addresses must resolve: a missing variable is an error. */
    assert_string_equal(load_err("model_list:\n"
                                 "  - model_name: m\n"
                                 "    litellm_params:\n"
                                 "      model: ollama/m\n"
                                 "      api_key: os.environ/TG_NOT_SET_2\n"),
                        "t.yaml:5:16: model_list[0].litellm_params.api_key: environment variable 'TG_NOT_SET_2' "
                        "is not set");
    assert_string_equal(load_err("model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
                                 "general_settings: {master_key: os.environ/TG_NOT_SET_3}\n"),
                        "t.yaml:2:32: general_settings.master_key: environment variable 'TG_NOT_SET_3' is not set");
    assert_string_equal(load_err("model_list:\n"
                                 "- model_name: m\n"
                                 "  litellm_params: {model: ollama/m, api_base: os.environ/TG_NOT_SET_4}\n"),
                        "t.yaml:3:47: model_list[0].litellm_params.api_base: environment variable "
                        "'TG_NOT_SET_4' is not set");

    /* LITELLM_MASTER_KEY is the fallback; OPENAI_API_KEY only for api.openai.com. */
    setenv("LITELLM_MASTER_KEY", "sk-env", 1);
    setenv("OPENAI_API_KEY", "sk-openai", 1);
    c = load("model_list:\n"
             "- {model_name: a, litellm_params: {model: openai/gpt-4o}}\n"
             "- {model_name: b, litellm_params: {model: openai/x, api_base: 'http://local:8000/v1'}}\n",
             &w, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(c->master_key, "sk-env");
    assert_string_equal(c->deployments[0].api_key, "sk-openai");
    assert_null(c->deployments[1].api_key);
    config_free(c);
    unsetenv("LITELLM_MASTER_KEY");
    unsetenv("OPENAI_API_KEY");
}

static void test_ollama_host_default(void **st)
{
    (void)st;
    const char *y = "model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n";
    char err[512];
    config *c = load(y, NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(c->deployments[0].api_base, "http://127.0.0.1:11434");
    config_free(c);
    setenv("OLLAMA_HOST", "0.0.0.0", 1);
    c = load(y, NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(c->deployments[0].api_base, "http://127.0.0.1:11434");
    config_free(c);
    setenv("OLLAMA_HOST", "ollama:11500", 1);
    c = load(y, NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(c->deployments[0].api_base, "http://ollama:11500");
    config_free(c);
    unsetenv("OLLAMA_HOST");
}

static void test_ollama_base(void **st)
{
    (void)st;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {NULL, "http://127.0.0.1:11434"},
        {"", "http://127.0.0.1:11434"},
        {"0.0.0.0", "http://127.0.0.1:11434"},
        {"0.0.0.0:11434", "http://127.0.0.1:11434"},
        {"0.0.0.0:8080", "http://127.0.0.1:8080"},
        {"localhost", "http://localhost:11434"},
        {"example.com:1234", "http://example.com:1234"},
        {"http://x:1234/", "http://x:1234"},
        {"http://x", "http://x:80"},
        {"https://x", "https://x:443"},
        {"https://x:8443/ollama/", "https://x:8443/ollama"},
        {"  \"127.0.0.1:5000\"  ", "http://127.0.0.1:5000"},
        {"'10.0.0.2'", "http://10.0.0.2:11434"},
        {"::1", "http://[::1]:11434"},
        {"[::]:11434", "http://[::1]:11434"},
        {"[fe80::1]:99", "http://[fe80::1]:99"},
        {"host:notaport", "http://host:11434"},
        {"host:70000", "http://host:11434"},
        {"ollama.com", "https://ollama.com:443"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = config_ollama_base(cases[i].in);
        assert_non_null(got);
        if (strcmp(got, cases[i].out) != 0)
            fail_msg("config_ollama_base(%s) = %s, want %s", cases[i].in ? cases[i].in : "NULL", got, cases[i].out);
        free(got);
    }
}

static void test_errors(void **st)
{
    (void)st;
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {"", "t.yaml: the config is empty: expected a mapping with model_list"},
        {"# only a comment\n", "t.yaml: the config is empty: expected a mapping with model_list"},
        {"- a\n- b\n", "t.yaml:1:1: expected a mapping with model_list at the top level, found a list"},
        {"litellm_settings: {}\n",
         "t.yaml:1:1: missing model_list: expected a list of models, e.g. model_list: [{model_name: llama, "
         "litellm_params: {model: ollama/llama3.2}}]"},
        {"model_list: []\n",
         "t.yaml:1:13: model_list is empty: expected at least one entry with model_name and litellm_params"},
        {"model_list:\n",
         "t.yaml:1:12: model_list is empty: expected at least one entry with model_name and litellm_params"},
        {"model_list: {a: 1}\n", "t.yaml:1:13: model_list: expected a list of models, found a mapping"},
        {"model_list: [x]\n",
         "t.yaml:1:14: model_list[0]: expected a mapping with model_name and litellm_params, found a scalar"},
        {"model_list:\n  - litellm_params: {model: ollama/m}\n",
         "t.yaml:2:5: model_list[0]: missing model_name (the name clients send as \"model\")"},
        {"model_list:\n  - model_name: m\n",
         "t.yaml:2:5: model_list[0]: missing litellm_params (expected at least model: '<provider>/<model>')"},
        {"model_list:\n  - model_name: ''\n    litellm_params: {model: ollama/m}\n",
         "t.yaml:2:17: model_list[0].model_name: expected a non-empty name"},
        {"model_list:\n  - model_name: m\n    litellm_params: {api_base: 'http://x'}\n",
         "t.yaml:3:21: model_list[0].litellm_params.model: missing; expected '<provider>/<model>', e.g. "
         "'ollama/llama3.2'"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: gemma3\n",
         "t.yaml:4:14: model_list[0].litellm_params.model: 'gemma3' has no provider prefix: expected "
         "'<provider>/<model>', e.g. 'ollama/gemma3'"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/\n",
         "t.yaml:4:14: model_list[0].litellm_params.model: 'ollama/' has no model name after the provider prefix"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: anthropic/claude\n",
         "t.yaml:4:14: model_list[0].litellm_params.model: provider 'anthropic' is not supported: expected ollama, "
         "ollama_chat, openai, hosted_vllm or an OpenAI-compatible provider with api_base"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: vllm/qwen\n",
         "t.yaml:4:7: model_list[0].litellm_params.api_base: provider 'vllm' needs api_base (the server's "
         "OpenAI-compatible URL, e.g. http://127.0.0.1:8000/v1)"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/m\n      api_base: ollama:11434\n",
         "t.yaml:5:17: model_list[0].litellm_params.api_base: expected an http:// or https:// URL, found "
         "'ollama:11434'"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/m\n      timeout: -5\n",
         "t.yaml:5:16: model_list[0].litellm_params.timeout: expected a number of seconds > 0, found -5"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/m\n      timeout: soon\n",
         "t.yaml:5:16: model_list[0].litellm_params.timeout: expected a number of seconds > 0, found 'soon'"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/m\n      timeout: [1]\n",
         "t.yaml:5:16: model_list[0].litellm_params.timeout: expected a number of seconds > 0, found a list"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/m\n      max_retries: 1.5\n",
         "t.yaml:5:20: model_list[0].litellm_params.max_retries: expected a whole number between 0 and 1000000, "
         "found '1.5'"},
        {"model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/m\n      rpm: -1\n",
         "t.yaml:5:12: model_list[0].litellm_params.rpm: expected a whole number between 0 and 1099511627776, "
         "found '-1'"},
        {"model_list:\n  - model_name: m\n    litellm_params: [model]\n",
         "t.yaml:3:21: model_list[0].litellm_params: expected a mapping, found a list"},
        {"model_list:\n"
         "  - {model_name: a, litellm_params: {model: ollama/a}, model_info: {id: same}}\n"
         "  - {model_name: b, litellm_params: {model: ollama/b}, model_info: {id: same}}\n",
         "t.yaml:3:73: model_list[1].model_info.id: duplicate id 'same' (also on line 2): expected unique ids"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "router_settings:\n  routing_strategy: fastest\n",
         "t.yaml:3:21: router_settings.routing_strategy: unknown routing strategy 'fastest': expected "
         "simple-shuffle, least-busy, latency-based-routing, usage-based-routing or usage-based-routing-v2"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "router_settings: {allowed_fails: many}\n",
         "t.yaml:2:34: router_settings.allowed_fails: expected a whole number between 0 and 1000000, found 'many'"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "router_settings: {cooldown_time: -1}\n",
         "t.yaml:2:34: router_settings.cooldown_time: expected a number of seconds >= 0, found -1"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "litellm_settings: {request_timeout: 0}\n",
         "t.yaml:2:37: litellm_settings.request_timeout: expected a number of seconds > 0, found 0"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "general_settings: {require_auth_for_metrics_endpoint: maybe}\n",
         "t.yaml:2:55: general_settings.require_auth_for_metrics_endpoint: expected true or false, found 'maybe'"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "general_settings: {master_key: ''}\n",
         "t.yaml:2:32: general_settings.master_key: expected a non-empty key (remove the line to disable auth)"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "litellm_settings: {callbacks: {a: b}}\n",
         "t.yaml:2:31: litellm_settings.callbacks: expected a list of strings, found a mapping"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
         "litellm_settings: {fallbacks: {m: [m]}}\n",
         "t.yaml:2:31: litellm_settings.fallbacks: expected a list like [{model_a: [model_b]}], found a mapping"},
        {"model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\nlitellm_settings: [1]\n",
         "t.yaml:2:19: litellm_settings: expected a mapping, found a list"},
        {"model_list:\n  - model_name: m\n    litellm_params: {model: ollama/m}\n  bad: [\n",
         "t.yaml:4:3: invalid YAML: did not find expected '-' indicator while parsing a block collection"},
        {"model_list: *nope\n", "t.yaml:1:13: invalid YAML: found undefined alias"},
        {"a: 1\n---\nb: 2\n", "t.yaml:2:1: expected a single YAML document: found a second one"},
        {"model_list:\n  - model_name: m\n    litellm_params: {model: ollama/m}\n    {x: 1}: 2\n",
         "t.yaml:4:5: expected a string key, found a mapping"},
        {"model_list:\n  - model_name: m\n    litellm_params: {model: ollama/m, api_key: \"a\\0b\"}\n",
         "t.yaml:3:48: model_list[0].litellm_params.api_key: string contains a NUL byte"},
        {"model_list:\n  - model_name: m\n    litellm_params: {<<: 5, model: ollama/m}\n",
         "t.yaml:3:26: expected a mapping or a list of mappings to merge with '<<', found a scalar"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = load_err(cases[i].yaml);
        if (strcmp(got, cases[i].err) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, got, cases[i].err);
    }
}

static void test_warnings(void **st)
{
    (void)st;
    warnings w;
    char err[512];
    config *c = load("model_list:\n"
                     "  - model_name: m\n"
                     "    litellm_params:\n"
                     "      model: ollama/m\n"
                     "      temperature: 0.2\n"
                     "    extra: 1\n"
                     "litellm_settings:\n"
                     "  foo: 1\n"
                     "  cache: true\n"
                     "  callbacks: [prometheus, langfuse]\n"
                     "  fallbacks: [{m: [ghost]}]\n"
                     "router_settings:\n"
                     "  routing_strategy: cost-based-routing\n"
                     "  model_group_alias: {a: m}\n"
                     "general_settings:\n"
                     "  master_key: sk-1\n"
                     "  master_key: sk-2\n"
                     "mystery: 1\n",
                     &w, err, sizeof err);
    assert_non_null(c);
    static const char *const want[] = {
        "t.yaml:18: unknown top-level key 'mystery' (ignored)",
        "t.yaml:5: unsupported key 'temperature' in litellm_params (ignored)",
        "t.yaml:6: unknown key 'extra' in model_list[0] (ignored)",
        "t.yaml:17: duplicate key 'master_key' (line 16); the later one is used",
        "t.yaml:8: unknown key 'foo' in litellm_settings (ignored)",
        "t.yaml:9: key 'cache' in litellm_settings is not supported by tollgate (ignored)",
        "t.yaml:10: callback 'langfuse' is not supported by tollgate (ignored); only 'prometheus' and 'otel' are",
        "t.yaml:11: fallback target 'ghost' is not a model_name in model_list",
        "t.yaml:13: routing_strategy 'cost-based-routing' is not supported by tollgate; using simple-shuffle",
        "t.yaml:14: key 'model_group_alias' in router_settings is not supported by tollgate (ignored)",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!has_warning(&w, want[i]))
            fail_msg("missing warning: %s", want[i]);
    assert_int_equal(w.n, (int)(sizeof want / sizeof *want));
    assert_string_equal(c->master_key, "sk-2");
    assert_int_equal(c->routing_strategy, ROUTING_SIMPLE_SHUFFLE);
    assert_int_equal(c->ncallbacks, 2);
    assert_true(c->prometheus_callback);
    config_free(c);

    /* No callbacks at all: loads, prometheus_callback stays false. */
    c = load("model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n", &w, err, sizeof err);
    assert_non_null(c);
    assert_false(c->prometheus_callback);
    assert_false(c->otel_callback);
    assert_int_equal(w.n, 0);
    config_free(c);

    /* "otel" turns OpenTelemetry export on, without a warning. */
    c = load("model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
             "litellm_settings: {callbacks: [otel], success_callback: [prometheus]}\n",
             &w, err, sizeof err);
    assert_non_null(c);
    assert_true(c->otel_callback);
    assert_true(c->prometheus_callback);
    assert_int_equal(w.n, 0);
    config_free(c);

    /* Parsed but not acted on: said at start-up (issue 15). */
    c = load("model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
             "router_settings: {routing_strategy: usage-based-routing-v2}\n",
             &w, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(w.n, 1);
    assert_true(has_warning(&w, "t.yaml:2: routing_strategy 'usage-based-routing-v2' is not implemented by tollgate; "
                                "deployments are picked as simple-shuffle does (weighted by rpm/tpm)"));
    config_free(c);
}

static void test_latency_buckets(void **st)
{
    (void)st;
    char err[512];
    const char *base = "model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\nlitellm_settings:\n";
    char y[512];
    snprintf(y, sizeof y, "%s  prometheus_latency_buckets: [0.005, 0.1, 1, 10.5, 300, \"+Inf\"]\n", base);
    config *c = load(y, NULL, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->nlatency_buckets, 5);
    assert_true(c->latency_buckets[0] == 0.005);
    assert_true(c->latency_buckets[3] == 10.5);
    assert_true(c->latency_buckets[4] == 300);
    config_free(c);

    snprintf(y, sizeof y, "%s  prometheus_latency_buckets: [1, 1]\n", base);
    assert_string_equal(load_err(y), "t.yaml:3:35: litellm_settings.prometheus_latency_buckets: expected a list of "
                                     "increasing numbers of seconds, e.g. [0.1, 0.5, 1, 5]; 1 is not greater than "
                                     "the bucket before it");
    snprintf(y, sizeof y, "%s  prometheus_latency_buckets: [.inf, 1]\n", base);
    assert_string_equal(load_err(y), "t.yaml:3:32: litellm_settings.prometheus_latency_buckets: +Inf must be the "
                                     "last bucket");
    snprintf(y, sizeof y, "%s  prometheus_latency_buckets: []\n", base);
    assert_string_equal(load_err(y), "t.yaml:3:31: litellm_settings.prometheus_latency_buckets: expected a list of "
                                     "increasing numbers of seconds, e.g. [0.1, 0.5, 1, 5], found an empty list");
    snprintf(y, sizeof y, "%s  prometheus_latency_buckets: [0.1, fast]\n", base);
    assert_string_equal(load_err(y), "t.yaml:3:37: litellm_settings.prometheus_latency_buckets: expected a list of "
                                     "increasing numbers of seconds, e.g. [0.1, 0.5, 1, 5], found 'fast'");
}

static void test_yaml_features(void **st)
{
    (void)st;
    warnings w;
    char err[512];
    /* Anchors, aliases, merge keys (explicit keys win), quoted scalars,
     * flow style, and YAML 1.1 booleans. */
    config *c = load("defaults: &d {api_base: 'http://a:1', timeout: 10}\n"
                     "model_list:\n"
                     "  - &entry\n"
                     "    model_name: \"quoted name\"\n"
                     "    litellm_params: {<<: *d, model: 'ollama/m:7b', timeout: 20}\n"
                     "  - *entry\n"
                     "  - model_name: other\n"
                     "    litellm_params:\n"
                     "      <<: [*d, {api_base: 'http://ignored:2', rpm: 5}]\n"
                     "      model: >-\n"
                     "        ollama_chat/folded\n"
                     "general_settings:\n"
                     "  require_auth_for_metrics_endpoint: yes\n",
                     &w, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->ndeployments, 3);
    assert_string_equal(c->deployments[0].model_name, "quoted name");
    assert_string_equal(c->deployments[0].upstream_model, "m:7b");
    assert_string_equal(c->deployments[0].api_base, "http://a:1");
    assert_true(c->deployments[0].timeout == 20);
    /* The alias repeats the entry: same content, distinct generated ids. */
    assert_string_equal(c->deployments[1].model_name, "quoted name");
    assert_string_not_equal(c->deployments[0].model_id, c->deployments[1].model_id);
    assert_string_equal(c->deployments[2].api_base, "http://a:1");
    assert_int_equal(c->deployments[2].rpm, 5);
    assert_true(c->deployments[2].timeout == 10);
    assert_string_equal(c->deployments[2].model, "ollama_chat/folded");
    assert_true(c->require_auth_for_metrics_endpoint);
    config_free(c);

    /* custom_llm_provider names the provider for a model without a prefix. */
    c = load("model_list:\n"
             "  - model_name: m\n"
             "    litellm_params: {model: llama3, custom_llm_provider: ollama}\n",
             &w, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->deployments[0].provider, PROVIDER_OLLAMA);
    assert_string_equal(c->deployments[0].upstream_model, "llama3");
    config_free(c);
}

static void test_limits(void **st)
{
    (void)st;
    char err[512];
    /* Size */
    size_t big = CONFIG_MAX_BYTES + 1;
    char *s = malloc(big + 1);
    memset(s, '#', big);
    s[big] = 0;
    assert_null(config_load_string(s, big, "t.yaml", NULL, NULL, err, sizeof err));
    assert_string_equal(err, "t.yaml: 1048577 bytes: at most 1048576 are accepted");
    free(s);

    /* Nesting */
    char deep[512];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "model_list: ");
    for (int i = 0; i < CONFIG_MAX_DEPTH + 1; i++)
        deep[n++] = '[';
    deep[n] = 0;
    assert_null(load(deep, NULL, err, sizeof err));
    assert_string_equal(err, "t.yaml:1:76: nesting too deep: at most 64 levels are accepted");

    /* Alias expansion ("billion laughs" through merge keys) hits the work
     * budget instead of running for ever. */
    char laughs[4096];
    n = (size_t)snprintf(laughs, sizeof laughs, "a0: &a0 {k: v}\n");
    for (int i = 1; i < 7; i++)
        n += (size_t)snprintf(laughs + n, sizeof laughs - n,
                              "a%d: &a%d {<<: [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]}\n", i, i, i - 1,
                              i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    snprintf(laughs + n, sizeof laughs - n, "model_list: [{model_name: m, litellm_params: {<<: *a6, model: o/m}}]\n");
    assert_null(load(laughs, NULL, err, sizeof err));
    assert_string_equal(err, "t.yaml:2:14: document too complex (aliases expand to more than 200000 nodes)");

    /* A merge key that includes its own mapping is cut at the depth limit. */
    assert_string_equal(load_err("model_list:\n- model_name: m\n  litellm_params: &p {<<: *p, model: o/m}\n"),
                        "t.yaml:3:19: merge keys ('<<') nested deeper than 8");

    /* Thousands of aliased copies of one entry: distinct ids, quickly. */
    size_t cap = 64 + 4 * 4096;
    char *many = malloc(cap);
    n = (size_t)snprintf(many, cap, "e: &e {model_name: m, litellm_params: {model: ollama/m}}\nmodel_list: [");
    for (int i = 0; i < 4096; i++)
        n += (size_t)snprintf(many + n, cap - n, "*e,");
    snprintf(many + n - 1, cap - n + 1, "]\n");
    config *c = load(many, NULL, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->ndeployments, 4096);
    assert_true(strlen(c->deployments[0].model_id) == 16);
    assert_true(!strcmp(c->deployments[4095].model_id + 16, "-4096"));
    config_free(c);
    free(many);

    /* Caps that keep lookups linear. */
    char keys[16384];
    n = (size_t)snprintf(keys, sizeof keys, "model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
                                             "environment_variables:\n");
    for (int i = 0; i < 513; i++)
        n += (size_t)snprintf(keys + n, sizeof keys - n, "  V%d: x\n", i);
    assert_null(load(keys, NULL, err, sizeof err));
    assert_string_equal(err, "t.yaml:515:3: more than 512 keys in one mapping");
    n = (size_t)snprintf(keys, sizeof keys, "model_list: [{model_name: m, litellm_params: {model: ollama/m}}]\n"
                                             "litellm_settings: {callbacks: [");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(keys + n, sizeof keys - n, "c%d,", i);
    snprintf(keys + n - 1, sizeof keys - n + 1, "]}\n");
    assert_null(load(keys, NULL, err, sizeof err));
    assert_string_equal(err, "t.yaml:2:278: more than 64 callbacks");

    /* Missing file */
    assert_null(config_load_file("/nonexistent/litellm_config.yaml", NULL, NULL, err, sizeof err));
    assert_string_equal(err, "/nonexistent/litellm_config.yaml: cannot open: No such file or directory");
}

static void test_names(void **st)
{
    (void)st;
    assert_string_equal(config_provider_name(PROVIDER_OLLAMA), "ollama");
    assert_string_equal(config_provider_name(PROVIDER_OLLAMA_CHAT), "ollama_chat");
    assert_string_equal(config_provider_name(PROVIDER_OPENAI), "openai");
    assert_string_equal(config_provider_name(PROVIDER_HOSTED_VLLM), "hosted_vllm");
    assert_string_equal(config_provider_name(PROVIDER_OPENAI_COMPATIBLE), "openai_compatible");
    assert_string_equal(config_routing_name(ROUTING_LEAST_BUSY), "least-busy");
    config_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_guide_example, setup),
        cmocka_unit_test_setup(test_every_key, setup),
        cmocka_unit_test_setup(test_os_environ, setup),
        cmocka_unit_test_setup(test_ollama_host_default, setup),
        cmocka_unit_test_setup(test_ollama_base, setup),
        cmocka_unit_test_setup(test_errors, setup),
        cmocka_unit_test_setup(test_warnings, setup),
        cmocka_unit_test_setup(test_latency_buckets, setup),
        cmocka_unit_test_setup(test_yaml_features, setup),
        cmocka_unit_test_setup(test_limits, setup),
        cmocka_unit_test_setup(test_names, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
