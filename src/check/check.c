#include "check/check.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/expo.h"
#include "util/probe.h"
#include "check/promapi.h"

/* State shared by the steps of one run. */
typedef struct {
    const check_opts *o;
    check_report *r;
    double deadline;      /* absolute, probe_now() clock */
    char model[256];      /* the model the chat requests use */
    bool traffic_sent;    /* a completion went through the gateway */
    bool gpu_absent;      /* the exporter said it sees no GPU */
    double scrape_interval_s;
    int oom;
} run;

static double ms(double s) { return s * 1000.0; }

/* base + path without doubling the slash. */
static void url_join(buf *u, const char *base, const char *path)
{
    buf_reset(u);
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    buf_append(u, base, n);
    buf_puts(u, path);
    buf_cstr(u);
}

static void add(run *st, const char *id, check_comp c, check_status s, const char *title, double msv,
                const check_hint *h, const char *detail)
{
    if (!report_add(st->r, id, c, s, title, msv, h, "%s", detail))
        st->oom = 1;
}

static probe_err get(run *st, const char *base, const char *path, double timeout_s, const char *json,
                     probe_resp *resp)
{
    buf u;
    buf_init(&u);
    url_join(&u, base, path);
    probe_opts po = {.timeout_ms = (int)(timeout_s * 1000), .deadline = st->deadline, .api_key = st->o->api_key};
    probe_err e = probe_request(&po, buf_cstr(&u), json, resp);
    buf_free(&u);
    return e;
}

/* Records a transport failure or a non-2xx status as a failed check with the
 * matching hint. Returns true when the response is usable (2xx). */
static bool ok_or_fail(run *st, const char *id, check_comp c, const char *title, probe_resp *resp)
{
    if (resp->err == PROBE_OK && resp->status >= 200 && resp->status < 300)
        return true;
    char d[400];
    check_hint h;
    if (resp->err != PROBE_OK) {
        snprintf(d, sizeof d, "%s", resp->errmsg);
        h = hint_for_probe(c, resp->err, 0);
    } else {
        const char *b = buf_cstr(&resp->body);
        snprintf(d, sizeof d, "HTTP %ld%s%.200s", resp->status, *b ? ": " : "", b);
        h = hint_for_probe(c, PROBE_HTTP, resp->status);
    }
    add(st, id, c, CHECK_FAIL, title, ms(resp->total_s), &h, d);
    return false;
}

static void skip(run *st, const char *id, check_comp c, const char *title, const char *why)
{
    add(st, id, c, CHECK_SKIP, title, -1, NULL, why);
}

/* ---- Ollama ---------------------------------------------------------- */

static void check_ollama(run *st)
{
    const char *base = st->o->ollama;
    probe_resp resp;
    char d[512];
    get(st, base, "/", st->o->timeout_s, NULL, &resp);
    bool up = ok_or_fail(st, "ollama.running", COMP_OLLAMA, "Ollama answers GET /", &resp);
    if (up) {
        if (strstr(buf_cstr(&resp.body), "Ollama is running")) {
            add(st, "ollama.running", COMP_OLLAMA, CHECK_PASS, "Ollama answers GET /", ms(resp.total_s), NULL,
                "\"Ollama is running\"");
        } else {
            check_hint h = hint_for_probe(COMP_OLLAMA, PROBE_BODY, resp.status);
            snprintf(d, sizeof d, "expected \"Ollama is running\", got \"%.80s\"", buf_cstr(&resp.body));
            add(st, "ollama.running", COMP_OLLAMA, CHECK_FAIL, "Ollama answers GET /", ms(resp.total_s), &h, d);
            up = false;
        }
    }
    probe_resp_free(&resp);
    if (!up && resp.err != PROBE_OK) {
        skip(st, "ollama.models", COMP_OLLAMA, "Ollama lists models (/api/tags)", "Ollama is unreachable");
        return;
    }

    get(st, base, "/api/tags", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "ollama.models", COMP_OLLAMA, "Ollama lists models (/api/tags)", &resp)) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        json_t *models = json_object_get(root, "models");
        if (!json_is_array(models)) {
            check_hint h = hint_for_probe(COMP_OLLAMA, PROBE_BODY, resp.status);
            add(st, "ollama.models", COMP_OLLAMA, CHECK_FAIL, "Ollama lists models (/api/tags)",
                ms(resp.total_s), &h, "the answer has no \"models\" list");
        } else if (json_array_size(models) == 0) {
            check_hint h = hint_for_probe(COMP_OLLAMA, PROBE_HTTP, 404);
            add(st, "ollama.models", COMP_OLLAMA, CHECK_FAIL, "Ollama lists models (/api/tags)",
                ms(resp.total_s), &h, "no model is pulled");
        } else {
            buf names;
            buf_init(&names);
            size_t i;
            json_t *m;
            json_array_foreach(models, i, m)
            {
                if (i == 5) {
                    buf_printf(&names, ", ...");
                    break;
                }
                const char *n = json_string_value(json_object_get(m, "name"));
                buf_printf(&names, "%s%s", i ? ", " : "", n ? n : "?");
            }
            snprintf(d, sizeof d, "%zu model%s: %s", json_array_size(models),
                     json_array_size(models) == 1 ? "" : "s", buf_cstr(&names));
            add(st, "ollama.models", COMP_OLLAMA, CHECK_PASS, "Ollama lists models (/api/tags)", ms(resp.total_s),
                NULL, d);
            buf_free(&names);
        }
        json_decref(root);
    }
    probe_resp_free(&resp);
}

/* ---- Gateway ----------------------------------------------------------- */

typedef struct {
    double in, out, ttft_count;
    bool ok;
} gw_counters;

static gw_counters read_counters(run *st, const char *id, const char *title, bool report_ok)
{
    gw_counters c = {0};
    probe_resp resp;
    get(st, st->o->gateway, "/metrics", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, id, COMP_GATEWAY, title, &resp)) {
        const char *t = buf_cstr(&resp.body);
        size_t nin = expo_sum(t, resp.body.len, "litellm_input_tokens_metric_total", &c.in);
        expo_sum(t, resp.body.len, "litellm_output_tokens_metric_total", &c.out);
        expo_sum(t, resp.body.len, "litellm_llm_api_time_to_first_token_metric_count", &c.ttft_count);
        bool known = nin > 0 || strstr(t, "litellm_") != NULL;
        if (!known) {
            check_hint h = hint_for_probe(COMP_GATEWAY, PROBE_BODY, resp.status);
            add(st, id, COMP_GATEWAY, CHECK_FAIL, title, ms(resp.total_s), &h, "no litellm_* metrics in the page");
        } else {
            c.ok = true;
            if (report_ok) {
                char d[160];
                snprintf(d, sizeof d, "%zu bytes, litellm_* metrics present", resp.body.len);
                add(st, id, COMP_GATEWAY, CHECK_PASS, title, ms(resp.total_s), NULL, d);
            }
        }
    }
    probe_resp_free(&resp);
    return c;
}

static char *chat_body(const char *model, bool stream)
{
    json_t *msg = json_pack("{s:s, s:s}", "role", "user", "content", "Say hello in one sentence.");
    json_t *req = json_pack("{s:s, s:[o], s:i, s:b}", "model", model, "messages", msg, "max_tokens", 20, "stream",
                            stream);
    char *s = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return s;
}

static void check_chat(run *st)
{
    const char *title = "chat completion through the gateway (max_tokens 20)";
    char d[512];
    char *body = chat_body(st->model, false);
    if (!body) {
        st->oom = 1;
        return;
    }
    probe_resp resp;
    get(st, st->o->gateway, "/v1/chat/completions", st->o->chat_timeout_s, body, &resp);
    free(body);
    if (ok_or_fail(st, "gateway.chat", COMP_GATEWAY, title, &resp)) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        json_t *usage = json_object_get(root, "usage");
        json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
        const char *content = json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
        if (!choice || !content) {
            check_hint h = hint_for_probe(COMP_GATEWAY, PROBE_BODY, resp.status);
            add(st, "gateway.chat", COMP_GATEWAY, CHECK_FAIL, title, ms(resp.total_s), &h,
                "the answer has no choices[0].message.content");
        } else {
            snprintf(d, sizeof d, "model %s, %lld prompt + %lld completion tokens, finish_reason %s", st->model,
                     (long long)json_integer_value(json_object_get(usage, "prompt_tokens")),
                     (long long)json_integer_value(json_object_get(usage, "completion_tokens")),
                     json_string_value(json_object_get(choice, "finish_reason"))
                         ? json_string_value(json_object_get(choice, "finish_reason"))
                         : "none");
            add(st, "gateway.chat", COMP_GATEWAY, CHECK_PASS, title, ms(resp.total_s), NULL, d);
            st->traffic_sent = true;
        }
        json_decref(root);
    }
    probe_resp_free(&resp);
}

/* Counts the SSE events of a chat stream and whether it ended with
 * "data: [DONE]" (a /v1 stream that fails mid-way ends without it). */
static void sse_scan(const char *s, size_t *events, bool *done)
{
    *events = 0;
    *done = false;
    for (const char *p = s; (p = strstr(p, "data:")) != NULL; p += 5) {
        if (p != s && p[-1] != '\n')
            continue;
        const char *v = p + 5;
        while (*v == ' ')
            v++;
        if (!strncmp(v, "[DONE]", 6))
            *done = true;
        else
            (*events)++;
    }
}

static void check_stream(run *st)
{
    const char *title = "streaming chat completion through the gateway";
    char d[512];
    char *body = chat_body(st->model, true);
    if (!body) {
        st->oom = 1;
        return;
    }
    probe_resp resp;
    get(st, st->o->gateway, "/v1/chat/completions", st->o->chat_timeout_s, body, &resp);
    free(body);
    if (ok_or_fail(st, "gateway.stream", COMP_GATEWAY, title, &resp)) {
        size_t events;
        bool done;
        sse_scan(buf_cstr(&resp.body), &events, &done);
        if (events == 0 || !done) {
            check_hint h = {"the stream ended early or is not server-sent events: Ollama failed mid-stream, or "
                            "the URL is not an OpenAI-compatible gateway",
                            "read the gateway's log (`docker logs litellm-proxy`) and Ollama's"};
            snprintf(d, sizeof d, "%zu events, %s", events, done ? "data: [DONE]" : "no data: [DONE]");
            add(st, "gateway.stream", COMP_GATEWAY, CHECK_FAIL, title, ms(resp.total_s), &h, d);
        } else {
            snprintf(d, sizeof d, "first bytes after %.1f ms, %zu events, data: [DONE]", ms(resp.first_s), events);
            add(st, "gateway.stream", COMP_GATEWAY, CHECK_PASS, title, ms(resp.total_s), NULL, d);
            st->traffic_sent = true;
        }
    }
    probe_resp_free(&resp);
}

/* Ollama-native clients (the ollama CLI and libraries, Open WebUI) call
 * /api/chat on the gateway's port, and Tollgate counts them with
 * route="/api/chat" (docs/gateway.md, "Native Ollama API"). */
static void sum_native(const expo_sample *s, void *ud)
{
    char route[32];
    if (expo_is(s, "litellm_proxy_total_requests_metric_total") && !expo_label(s, "route", route, sizeof route) &&
        !strcmp(route, "/api/chat"))
        *(double *)ud += s->value;
}

static bool native_count(run *st, double *n)
{
    probe_resp resp;
    get(st, st->o->gateway, "/metrics", st->o->timeout_s, NULL, &resp);
    bool ok = resp.err == PROBE_OK && resp.status == 200;
    *n = 0;
    if (ok)
        expo_each(resp.body.data ? resp.body.data : "", resp.body.len, sum_native, n);
    probe_resp_free(&resp);
    return ok;
}

static void check_native(run *st)
{
    const char *title = "Ollama-native /api/chat through the gateway, counted in /metrics";
    char d[512];
    double before = 0, after = 0;
    bool counted = native_count(st, &before);
    json_t *msg = json_pack("{s:s, s:s}", "role", "user", "content", "Say hello in one sentence.");
    json_t *req = json_pack("{s:s, s:[o], s:b, s:{s:i}}", "model", st->model, "messages", msg, "stream", false,
                            "options", "num_predict", 20);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) {
        st->oom = 1;
        return;
    }
    probe_resp resp;
    get(st, st->o->gateway, "/api/chat", st->o->chat_timeout_s, body, &resp);
    free(body);
    json_t *root = resp.err == PROBE_OK ? json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL) : NULL;
    if (resp.err == PROBE_OK && resp.status == 404 && !json_is_string(json_object_get(root, "error"))) {
        /* Not Ollama's 404 shape: the gateway has no native API at all. */
        check_hint h = hint_for_no_native_api();
        snprintf(d, sizeof d, "HTTP 404: %.200s", buf_cstr(&resp.body));
        add(st, "gateway.native", COMP_GATEWAY, CHECK_WARN, title, ms(resp.total_s), &h, d);
    } else if (ok_or_fail(st, "gateway.native", COMP_GATEWAY, title, &resp)) {
        json_t *content = json_object_get(json_object_get(root, "message"), "content");
        if (!json_is_string(content) || !json_is_true(json_object_get(root, "done"))) {
            check_hint h = {"the answer is not Ollama's chat shape (message.content, done:true)",
                            "point --gateway at Tollgate's port; read the gateway's log and Ollama's"};
            add(st, "gateway.native", COMP_GATEWAY, CHECK_FAIL, title, ms(resp.total_s), &h,
                "no message.content or done:true in the answer");
        } else if (!counted || !native_count(st, &after) || after <= before) {
            check_hint h = hint_for_static_counters();
            snprintf(d, sizeof d, "litellm_proxy_total_requests_metric_total{route=\"/api/chat\"} +%g",
                     after - before);
            add(st, "gateway.native", COMP_GATEWAY, CHECK_FAIL, title, ms(resp.total_s), &h, d);
        } else {
            snprintf(d, sizeof d, "model %s, %lld prompt + %lld eval tokens; requests{route=\"/api/chat\"} +%g",
                     st->model, (long long)json_integer_value(json_object_get(root, "prompt_eval_count")),
                     (long long)json_integer_value(json_object_get(root, "eval_count")), after - before);
            add(st, "gateway.native", COMP_GATEWAY, CHECK_PASS, title, ms(resp.total_s), NULL, d);
        }
    }
    json_decref(root);
    probe_resp_free(&resp);
}

static bool pick_model(run *st, json_t *data, char *d, size_t dl)
{
    size_t i;
    json_t *m;
    buf names;
    buf_init(&names);
    bool found = false;
    json_array_foreach(data, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "id"));
        if (!id)
            continue;
        if (i < 5)
            buf_printf(&names, "%s%s", i ? ", " : "", id);
        if (st->o->model ? !strcmp(id, st->o->model) : !found) {
            snprintf(st->model, sizeof st->model, "%s", id);
            found = true;
        }
    }
    snprintf(d, dl, "%zu model%s: %s%s", json_array_size(data), json_array_size(data) == 1 ? "" : "s",
             buf_cstr(&names), json_array_size(data) > 5 ? ", ..." : "");
    buf_free(&names);
    return found;
}

static void check_gateway(run *st)
{
    const char *gw = st->o->gateway;
    char d[512];
    probe_resp resp;
    get(st, gw, "/health/liveliness", st->o->timeout_s, NULL, &resp);
    bool alive = ok_or_fail(st, "gateway.liveliness", COMP_GATEWAY, "gateway is alive (/health/liveliness)", &resp);
    if (alive)
        add(st, "gateway.liveliness", COMP_GATEWAY, CHECK_PASS, "gateway is alive (/health/liveliness)",
            ms(resp.total_s), NULL, "HTTP 200");
    probe_err e = resp.err;
    probe_resp_free(&resp);
    if (!alive && e != PROBE_OK) {
        static const char *const skipped[][2] = {
            {"gateway.models", "gateway lists models (/v1/models)"},
            {"gateway.metrics", "gateway serves /metrics"},
            {"gateway.chat", "chat completion through the gateway"},
            {"gateway.stream", "streaming chat completion through the gateway"},
            {"gateway.native", "Ollama-native /api/chat through the gateway"},
            {"gateway.counters", "token counters moved in /metrics"},
        };
        for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
            skip(st, skipped[i][0], COMP_GATEWAY, skipped[i][1], "the gateway is unreachable");
        return;
    }

    bool have_model = false;
    get(st, gw, "/v1/models", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "gateway.models", COMP_GATEWAY, "gateway lists models (/v1/models)", &resp)) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        json_t *data = json_object_get(root, "data");
        if (!json_is_array(data)) {
            check_hint h = hint_for_probe(COMP_GATEWAY, PROBE_BODY, resp.status);
            add(st, "gateway.models", COMP_GATEWAY, CHECK_FAIL, "gateway lists models (/v1/models)",
                ms(resp.total_s), &h, "the answer has no \"data\" list");
        } else if (!pick_model(st, data, d, sizeof d)) {
            check_hint h = st->o->model ? hint_for_probe(COMP_GATEWAY, PROBE_HTTP, 404)
                                        : (check_hint){"the gateway serves no model",
                                                       "add a model to model_list in litellm_config.yaml (or, "
                                                       "without a config, pull one into Ollama)"};
            add(st, "gateway.models", COMP_GATEWAY, CHECK_FAIL, "gateway lists models (/v1/models)",
                ms(resp.total_s), &h, st->o->model ? "the --model given is not listed" : d);
        } else {
            add(st, "gateway.models", COMP_GATEWAY, CHECK_PASS, "gateway lists models (/v1/models)",
                ms(resp.total_s), NULL, d);
            have_model = true;
        }
        json_decref(root);
    }
    probe_resp_free(&resp);

    gw_counters before = read_counters(st, "gateway.metrics", "gateway serves /metrics", true);
    if (!have_model) {
        skip(st, "gateway.chat", COMP_GATEWAY, "chat completion through the gateway", "no model to ask");
        skip(st, "gateway.stream", COMP_GATEWAY, "streaming chat completion through the gateway", "no model to ask");
        skip(st, "gateway.native", COMP_GATEWAY, "Ollama-native /api/chat through the gateway", "no model to ask");
        return;
    }
    check_chat(st);
    check_stream(st);
    check_native(st);
    if (!before.ok || !st->traffic_sent)
        return;
    gw_counters after = read_counters(st, "gateway.counters", "token counters moved in /metrics", false);
    if (!after.ok)
        return;
    const char *title = "token counters moved in /metrics";
    snprintf(d, sizeof d, "litellm_input_tokens_metric_total +%g, litellm_output_tokens_metric_total +%g",
             after.in - before.in, after.out - before.out);
    if (after.in > before.in && after.out > before.out) {
        add(st, "gateway.counters", COMP_GATEWAY, CHECK_PASS, title, -1, NULL, d);
    } else {
        check_hint h = hint_for_static_counters();
        add(st, "gateway.counters", COMP_GATEWAY, CHECK_FAIL, title, -1, &h, d);
    }
    title = "time to first token observed for the stream";
    snprintf(d, sizeof d, "litellm_llm_api_time_to_first_token_metric_count +%g", after.ttft_count - before.ttft_count);
    if (after.ttft_count > before.ttft_count) {
        add(st, "gateway.ttft", COMP_GATEWAY, CHECK_PASS, title, -1, NULL, d);
    } else {
        check_hint h = hint_for_static_counters();
        add(st, "gateway.ttft", COMP_GATEWAY, CHECK_FAIL, title, -1, &h, d);
    }
}

/* ---- GPU exporter -------------------------------------------------------- */

static void check_gpu(run *st)
{
    const char *title = "GPU exporter serves DCGM_FI_DEV_GPU_UTIL (/metrics)";
    char d[512];
    probe_resp resp;
    get(st, st->o->gpu, "/metrics", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "gpu.metrics", COMP_GPU, title, &resp)) {
        const char *t = buf_cstr(&resp.body);
        double util, used, temp, nvml;
        size_t n = expo_sum(t, resp.body.len, "DCGM_FI_DEV_GPU_UTIL", &util);
        size_t nu = expo_sum(t, resp.body.len, "DCGM_FI_DEV_FB_USED", &used);
        size_t nt = expo_sum(t, resp.body.len, "DCGM_FI_DEV_GPU_TEMP", &temp);
        size_t nn = expo_sum(t, resp.body.len, "tollgate_gpu_nvml_up", &nvml);
        if (n > 0) {
            int k = snprintf(d, sizeof d, "%zu GPU%s, utilisation avg %.0f%%", n, n == 1 ? "" : "s", util / (double)n);
            if (nu && k > 0 && (size_t)k < sizeof d)
                k += snprintf(d + k, sizeof d - (size_t)k, ", %.0f MiB used", used);
            if (nt && k > 0 && (size_t)k < sizeof d)
                snprintf(d + k, sizeof d - (size_t)k, ", temperature avg %.0f C", temp / (double)nt);
            add(st, "gpu.metrics", COMP_GPU, CHECK_PASS, title, ms(resp.total_s), NULL, d);
        } else if (nn > 0 && nvml == 0) {
            /* A warning, not a failure: the guide supports Macs and CPU-only
             * hosts, where the pipeline works without GPU metrics. */
            check_hint h = hint_for_no_gpu();
            st->gpu_absent = true;
            add(st, "gpu.metrics", COMP_GPU, CHECK_WARN, title, ms(resp.total_s), &h,
                "no GPU: the exporter reports tollgate_gpu_nvml_up 0");
        } else {
            check_hint h = {"the exporter answers but reports no DCGM_FI_DEV_GPU_UTIL (dcgm-exporter 3.1 serves an "
                            "empty page for its first 30 s; MIG instances have no GPU_UTIL)",
                            "wait one collect interval and re-run; check --gpu points at the GPU exporter"};
            add(st, "gpu.metrics", COMP_GPU, CHECK_FAIL, title, ms(resp.total_s), &h,
                "no DCGM_FI_DEV_GPU_UTIL sample");
        }
    }
    probe_resp_free(&resp);
}

/* ---- Prometheus ---------------------------------------------------------- */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_target(run *st, const char *job)
{
    char id[64], title[128], d[600], err[256];
    snprintf(id, sizeof id, "prometheus.target.%s", job);
    snprintf(title, sizeof title, "target job=\"%s\" is UP with a recent scrape", job);
    probe_resp resp;
    get(st, st->o->prometheus, "/api/v1/targets?state=active", st->o->timeout_s, NULL, &resp);
    if (!ok_or_fail(st, id, COMP_PROMETHEUS, title, &resp)) {
        probe_resp_free(&resp);
        return;
    }
    prom_target t;
    int rc = promapi_target(buf_cstr(&resp.body), resp.body.len, job, wall_now(), &t, err, sizeof err);
    if (rc < 0) {
        check_hint h = hint_for_probe(COMP_PROMETHEUS, PROBE_BODY, resp.status);
        add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, ms(resp.total_s), &h, err);
    } else if (rc == 1) {
        check_hint h = hint_for_missing_job(job);
        snprintf(d, sizeof d, "no scrape job named \"%s\"", job);
        add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, ms(resp.total_s), &h, d);
    } else if (t.up < t.count) {
        check_hint h = hint_for_scrape_error(job, t.last_error);
        snprintf(d, sizeof d, "%s (%d/%d up), %s: %s", t.health, t.up, t.count, t.scrape_url,
                 t.last_error[0] ? t.last_error : "no scrape yet");
        add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, ms(resp.total_s), &h, d);
    } else {
        if (t.interval_s > 0 && (!strcmp(job, "litellm") || st->scrape_interval_s <= 0))
            st->scrape_interval_s = t.interval_s;
        snprintf(d, sizeof d, "up (%d/%d), last scrape %.1f s ago, interval %gs", t.up, t.count, t.age_s,
                 t.interval_s);
        /* Prometheus reports the start of the last scrape; twice the interval
         * is the guide's "recent". */
        bool stale = t.interval_s > 0 && t.age_s > 2 * t.interval_s;
        if (stale) {
            check_hint h = hint_for_stale_scrape();
            add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, ms(resp.total_s), &h, d);
        } else {
            add(st, id, COMP_PROMETHEUS, CHECK_PASS, title, ms(resp.total_s), NULL, d);
        }
    }
    probe_resp_free(&resp);
}

typedef struct {
    const char *query;
    bool recorded;   /* provided by docker-compose/rules, not by the exporter */
    bool traffic;    /* has data only once a request went through */
    bool gpu;        /* has data only where a GPU is present */
    double want;     /* NAN: any value; else the first sample must equal it */
} prom_query;

static const prom_query queries[] = {
    {"up{job=\"litellm\"}", false, false, false, 1},
    {"up{job=\"dcgm\"}", false, false, true, 1},
    {"litellm_input_tokens_total", true, true, false, NAN},
    {"litellm_output_tokens_total", true, true, false, NAN},
    {"litellm_request_total_latency_seconds_count", true, true, false, NAN},
    {"litellm_time_to_first_token_seconds_bucket", true, true, false, NAN},
    {"DCGM_FI_DEV_GPU_UTIL", false, false, true, NAN},
    {"DCGM_FI_DEV_FB_USED", false, false, true, NAN},
    {"DCGM_FI_DEV_GPU_TEMP", false, false, true, NAN},
};

/* Runs one instant query; retries while it is empty and fresh data can still
 * arrive (the traffic check sent was scraped or the rules evaluated after
 * this started), until wait_until. */
static void check_query(run *st, const prom_query *q, double wait_until)
{
    char id[128], title[160], d[400], err[256];
    snprintf(id, sizeof id, "prometheus.query.%s", q->query);
    snprintf(title, sizeof title, "PromQL %s", q->query);
    if (q->gpu && st->o->skip_gpu) {
        skip(st, id, COMP_PROMETHEUS, title, "--skip-gpu");
        return;
    }
    buf path;
    buf_init(&path);
    buf_puts(&path, "/api/v1/query?query=");
    for (const char *p = q->query; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.')
            buf_putc(&path, (char)c);
        else
            buf_printf(&path, "%%%02X", c);
    }
    for (;;) {
        probe_resp resp;
        get(st, st->o->prometheus, buf_cstr(&path), st->o->timeout_s, NULL, &resp);
        if (!ok_or_fail(st, id, COMP_PROMETHEUS, title, &resp)) {
            probe_resp_free(&resp);
            break;
        }
        size_t n;
        double first;
        if (promapi_query(buf_cstr(&resp.body), resp.body.len, &n, &first, err, sizeof err) != 0) {
            check_hint h = hint_for_probe(COMP_PROMETHEUS, PROBE_BODY, resp.status);
            add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, ms(resp.total_s), &h, err);
            probe_resp_free(&resp);
            break;
        }
        double took = ms(resp.total_s);
        probe_resp_free(&resp);
        if (n > 0 && (isnan(q->want) || first == q->want)) {
            snprintf(d, sizeof d, "%zu series, first value %g", n, first);
            add(st, id, COMP_PROMETHEUS, CHECK_PASS, title, took, NULL, d);
            break;
        }
        if (probe_now() < wait_until && probe_now() + 0.5 < st->deadline) {
            /* Polling Prometheus is the only way to learn of a scrape. */
            usleep(500 * 1000);
            continue;
        }
        if (n > 0) {
            const char *job = strstr(q->query, "dcgm") ? "dcgm" : "litellm";
            check_hint h = hint_for_scrape_error(job, "");
            snprintf(d, sizeof d, "value %g, expected %g", first, q->want);
            add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, took, &h, d);
        } else if (q->gpu && st->gpu_absent) {
            check_hint h = hint_for_no_gpu();
            add(st, id, COMP_PROMETHEUS, CHECK_WARN, title, took, &h, "no series: no GPU on this host");
        } else {
            check_hint h = hint_for_empty_query(q->query, q->recorded);
            add(st, id, COMP_PROMETHEUS, CHECK_FAIL, title, took, &h, "no series");
        }
        break;
    }
    buf_free(&path);
}

static void check_prometheus(run *st)
{
    probe_resp resp;
    get(st, st->o->prometheus, "/-/ready", st->o->timeout_s, NULL, &resp);
    bool ready = ok_or_fail(st, "prometheus.ready", COMP_PROMETHEUS, "Prometheus is ready (/-/ready)", &resp);
    if (ready)
        add(st, "prometheus.ready", COMP_PROMETHEUS, CHECK_PASS, "Prometheus is ready (/-/ready)",
            ms(resp.total_s), NULL, "HTTP 200");
    probe_err e = resp.err;
    probe_resp_free(&resp);
    if (!ready && e != PROBE_OK) {
        skip(st, "prometheus.targets", COMP_PROMETHEUS, "targets and PromQL checks", "Prometheus is unreachable");
        return;
    }
    check_target(st, "litellm");
    if (st->o->skip_gpu)
        skip(st, "prometheus.target.dcgm", COMP_PROMETHEUS, "target job=\"dcgm\" is UP", "--skip-gpu");
    else
        check_target(st, "dcgm");

    /* Fresh traffic shows up after one scrape plus one rule evaluation;
     * allow up to three scrape intervals for it, within the run deadline. */
    double interval = st->scrape_interval_s > 0 ? st->scrape_interval_s : 15;
    double wait_until = st->traffic_sent ? probe_now() + 3 * interval : 0;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        check_query(st, &queries[i], queries[i].traffic ? wait_until : 0);
}

/* ---- driver -------------------------------------------------------------- */

void check_opts_default(check_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ollama = "http://localhost:11434";
    o->gateway = "http://localhost:4000";
    o->gpu = "http://localhost:9400";
    o->prometheus = "http://localhost:9090";
    o->timeout_s = 5;
    o->chat_timeout_s = 60;
    o->deadline_s = 90;
}

int check_run(const check_opts *o, check_report *r)
{
    run st = {.o = o, .r = r, .deadline = probe_now() + o->deadline_s};
    check_ollama(&st);
    check_gateway(&st);
    if (o->skip_gpu)
        skip(&st, "gpu.metrics", COMP_GPU, "GPU exporter serves DCGM_FI_DEV_GPU_UTIL (/metrics)", "--skip-gpu");
    else
        check_gpu(&st);
    check_prometheus(&st);
    return st.oom ? -1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tollgate check [options]\n"
            "Validates the pipeline end to end: Ollama, the gateway (one plain and one\n"
            "streaming chat completion through it), the GPU exporter and Prometheus\n"
            "(targets and the guide's PromQL queries). Every failure comes with its\n"
            "likely cause and fix. Exit code 0 when all passed (warnings allowed),\n"
            "1 when a check failed, 2 on bad usage.\n\n"
            "  --ollama URL       Ollama (default http://localhost:11434)\n"
            "  --gateway URL      tollgate serve / LiteLLM (default http://localhost:4000)\n"
            "  --gpu URL          tollgate gpu / dcgm-exporter (default http://localhost:9400)\n"
            "  --prometheus URL   Prometheus (default http://localhost:9090)\n"
            "  --model NAME       model for the chat requests (default: first in /v1/models)\n"
            "  --api-key KEY      gateway key (default: $TOLLGATE_API_KEY)\n"
            "  --timeout SEC      per probe (default 5)\n"
            "  --chat-timeout SEC per chat completion (default 60; a cold model load is slow)\n"
            "  --deadline SEC     whole run (default 90)\n"
            "  --skip-gpu         no GPU exporter here (macOS, CPU-only hosts)\n"
            "  --json             one JSON object on stdout instead of lines\n"
            "  --ascii            OK/FAIL/WARN instead of the check marks\n"
            "  -h, --help         this text\n");
}

static int parse_secs(const char *s, double *out)
{
    char *ep;
    double v = strtod(s, &ep);
    if (*ep || !(v > 0) || v > 86400)
        return -1;
    *out = v;
    return 0;
}

int check_main(int argc, char **argv)
{
    enum { O_OLLAMA = 256, O_GATEWAY, O_GPU, O_PROM, O_MODEL, O_KEY, O_TIMEOUT, O_CHAT, O_DEADLINE, O_SKIPGPU,
           O_JSON, O_ASCII };
    static const struct option lo[] = {
        {"ollama", required_argument, NULL, O_OLLAMA},     {"gateway", required_argument, NULL, O_GATEWAY},
        {"gpu", required_argument, NULL, O_GPU},           {"prometheus", required_argument, NULL, O_PROM},
        {"model", required_argument, NULL, O_MODEL},       {"api-key", required_argument, NULL, O_KEY},
        {"timeout", required_argument, NULL, O_TIMEOUT},   {"chat-timeout", required_argument, NULL, O_CHAT},
        {"deadline", required_argument, NULL, O_DEADLINE}, {"skip-gpu", no_argument, NULL, O_SKIPGPU},
        {"json", no_argument, NULL, O_JSON},               {"ascii", no_argument, NULL, O_ASCII},
        {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0},
    };
    check_opts o;
    check_opts_default(&o);
    o.api_key = getenv("TOLLGATE_API_KEY");
    bool json = false, ascii = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        double *secs = NULL;
        switch (c) {
        case O_OLLAMA: o.ollama = optarg; break;
        case O_GATEWAY: o.gateway = optarg; break;
        case O_GPU: o.gpu = optarg; break;
        case O_PROM: o.prometheus = optarg; break;
        case O_MODEL: o.model = optarg; break;
        case O_KEY: o.api_key = optarg; break;
        case O_TIMEOUT: secs = &o.timeout_s; break;
        case O_CHAT: secs = &o.chat_timeout_s; break;
        case O_DEADLINE: secs = &o.deadline_s; break;
        case O_SKIPGPU: o.skip_gpu = true; break;
        case O_JSON: json = true; break;
        case O_ASCII: ascii = true; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "tollgate check: unknown or incomplete option '%s'\n\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (secs && parse_secs(optarg, secs) != 0) {
            fprintf(stderr, "tollgate check: '%s' is not a number of seconds (0 < SEC <= 86400)\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tollgate check: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (probe_global_init() != 0) {
        fprintf(stderr, "tollgate check: libcurl failed to initialise\n");
        return 1;
    }
    if (!json)
        printf("tollgate check: Ollama %s, gateway %s, GPU exporter %s, Prometheus %s\n\n", o.ollama, o.gateway,
               o.skip_gpu ? "(skipped)" : o.gpu, o.prometheus);
    fflush(stdout);
    check_report r;
    report_init(&r);
    int rc = check_run(&o, &r);
    buf out;
    buf_init(&out);
    if (json)
        report_json(&r, &out);
    else
        report_text(&r, &out, !ascii);
    if (rc != 0 || out.oom) {
        fprintf(stderr, "tollgate check: out of memory\n");
        rc = 1;
    } else {
        fwrite(out.data, 1, out.len, stdout);
        rc = report_exit_code(&r);
    }
    buf_free(&out);
    report_free(&r);
    probe_global_cleanup();
    return rc;
}
