#include "check/check.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/catalog.h"
#include "check/expo.h"
#include "check/promapi.h"
#include "util/probe.h"

/* State shared by the steps of one run. */
typedef struct {
    const check_opts *o;
    const check_events *ev;
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

/* Every check is in the catalogue; its component and title come from there. */
static const check_def *def(const char *id)
{
    const check_def *d = catalog_find(id);
    if (!d)
        abort(); /* a check missing from catalog.c: a programming error */
    return d;
}

static void add(run *st, const char *id, check_status s, double msv, const check_hint *h, const char *detail)
{
    const check_def *d = def(id);
    if (!report_add(st->r, id, d->comp, s, d->title, msv, h, "%s", detail))
        st->oom = 1;
    else if (st->ev && st->ev->item)
        st->ev->item(st->ev->ctx, st->r, st->r->n - 1);
}

static void skip(run *st, const char *id, const char *why) { add(st, id, CHECK_SKIP, -1, NULL, why); }

/* Reports id as skipped when a check it needs did not pass (catalog.c). */
static bool skipped(run *st, const char *id)
{
    char why[400];
    if (!catalog_blocked(st->r, id, why, sizeof why))
        return false;
    skip(st, id, why);
    return true;
}

static void phase(run *st, double timeout_s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void phase(run *st, double timeout_s, const char *fmt, ...)
{
    if (!st->ev || !st->ev->phase)
        return;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    double left = st->deadline - probe_now();
    st->ev->phase(st->ev->ctx, what, timeout_s < left ? timeout_s : (left > 0 ? left : 0));
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
static bool ok_or_fail(run *st, const char *id, probe_resp *resp)
{
    check_comp c = def(id)->comp;
    if (resp->err == PROBE_OK && resp->status >= 200 && resp->status < 300)
        return true;
    char d[400];
    check_hint h;
    if (resp->err != PROBE_OK) {
        snprintf(d, sizeof d, "%s", resp->errmsg);
        h = hint_for_probe(st->o->mode, c, resp->err, 0);
    } else {
        const char *b = buf_cstr(&resp->body);
        snprintf(d, sizeof d, "HTTP %ld%s%.200s", resp->status, *b ? ": " : "", b);
        h = hint_for_probe(st->o->mode, c, PROBE_HTTP, resp->status);
    }
    add(st, id, CHECK_FAIL, ms(resp->total_s), &h, d);
    return false;
}

/* ---- Ollama ---------------------------------------------------------- */

static void check_ollama(run *st)
{
    const char *base = st->o->ollama;
    check_mode m = st->o->mode;
    probe_resp resp;
    char d[512];
    phase(st, st->o->timeout_s, "checking Ollama at %s", base);
    get(st, base, "/", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "ollama.running", &resp)) {
        if (strstr(buf_cstr(&resp.body), "Ollama is running")) {
            add(st, "ollama.running", CHECK_PASS, ms(resp.total_s), NULL, "\"Ollama is running\"");
        } else {
            check_hint h = hint_for_probe(m, COMP_OLLAMA, PROBE_BODY, resp.status);
            snprintf(d, sizeof d, "expected \"Ollama is running\", got \"%.80s\"", buf_cstr(&resp.body));
            add(st, "ollama.running", CHECK_FAIL, ms(resp.total_s), &h, d);
        }
    }
    probe_resp_free(&resp);
    if (skipped(st, "ollama.models"))
        return;

    get(st, base, "/api/tags", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "ollama.models", &resp)) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        json_t *models = json_object_get(root, "models");
        if (!json_is_array(models)) {
            check_hint h = hint_for_probe(m, COMP_OLLAMA, PROBE_BODY, resp.status);
            add(st, "ollama.models", CHECK_FAIL, ms(resp.total_s), &h, "the answer has no \"models\" list");
        } else if (json_array_size(models) == 0) {
            check_hint h = hint_for_probe(m, COMP_OLLAMA, PROBE_HTTP, 404);
            add(st, "ollama.models", CHECK_FAIL, ms(resp.total_s), &h, "no model is pulled");
        } else {
            buf names;
            buf_init(&names);
            size_t i;
            json_t *mo;
            json_array_foreach(models, i, mo)
            {
                if (i == 5) {
                    buf_printf(&names, ", ...");
                    break;
                }
                const char *n = json_string_value(json_object_get(mo, "name"));
                buf_printf(&names, "%s%s", i ? ", " : "", n ? n : "?");
            }
            snprintf(d, sizeof d, "%zu model%s: %s", json_array_size(models),
                     json_array_size(models) == 1 ? "" : "s", buf_cstr(&names));
            add(st, "ollama.models", CHECK_PASS, ms(resp.total_s), NULL, d);
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

/* Reads the gateway's counters; failures are reported under id. */
static gw_counters read_counters(run *st, const char *id, bool report_ok)
{
    gw_counters c = {0};
    probe_resp resp;
    get(st, st->o->gateway, "/metrics", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, id, &resp)) {
        const char *t = buf_cstr(&resp.body);
        size_t nin = expo_sum(t, resp.body.len, "litellm_input_tokens_metric_total", &c.in);
        expo_sum(t, resp.body.len, "litellm_output_tokens_metric_total", &c.out);
        expo_sum(t, resp.body.len, "litellm_llm_api_time_to_first_token_metric_count", &c.ttft_count);
        bool known = nin > 0 || strstr(t, "litellm_") != NULL;
        if (!known) {
            check_hint h = hint_for_probe(st->o->mode, COMP_GATEWAY, PROBE_BODY, resp.status);
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, "no litellm_* metrics in the page");
        } else {
            c.ok = true;
            if (report_ok) {
                char d[160];
                snprintf(d, sizeof d, "%zu bytes, litellm_* metrics present", resp.body.len);
                add(st, id, CHECK_PASS, ms(resp.total_s), NULL, d);
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
    const char *id = "gateway.chat";
    char d[512];
    if (skipped(st, id))
        return;
    char *body = chat_body(st->model, false);
    if (!body) {
        st->oom = 1;
        return;
    }
    phase(st, st->o->chat_timeout_s, "waiting for a chat completion from %s through the gateway; a cold model load "
          "is slow", st->model);
    probe_resp resp;
    get(st, st->o->gateway, "/v1/chat/completions", st->o->chat_timeout_s, body, &resp);
    free(body);
    if (ok_or_fail(st, id, &resp)) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        json_t *usage = json_object_get(root, "usage");
        json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
        const char *content = json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
        if (!choice || !content) {
            check_hint h = hint_for_probe(st->o->mode, COMP_GATEWAY, PROBE_BODY, resp.status);
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, "the answer has no choices[0].message.content");
        } else {
            const char *fr = json_string_value(json_object_get(choice, "finish_reason"));
            snprintf(d, sizeof d, "model %s, %lld prompt + %lld completion tokens, finish_reason %s", st->model,
                     (long long)json_integer_value(json_object_get(usage, "prompt_tokens")),
                     (long long)json_integer_value(json_object_get(usage, "completion_tokens")), fr ? fr : "none");
            add(st, id, CHECK_PASS, ms(resp.total_s), NULL, d);
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
    const char *id = "gateway.stream";
    char d[512];
    if (skipped(st, id))
        return;
    char *body = chat_body(st->model, true);
    if (!body) {
        st->oom = 1;
        return;
    }
    phase(st, st->o->chat_timeout_s, "waiting for a streaming chat completion from %s through the gateway",
          st->model);
    probe_resp resp;
    get(st, st->o->gateway, "/v1/chat/completions", st->o->chat_timeout_s, body, &resp);
    free(body);
    if (ok_or_fail(st, id, &resp)) {
        size_t events;
        bool done;
        sse_scan(buf_cstr(&resp.body), &events, &done);
        if (events == 0 || !done) {
            check_hint h = hint_for_broken_stream(st->o->mode);
            snprintf(d, sizeof d, "%zu events, %s", events, done ? "data: [DONE]" : "no data: [DONE]");
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, d);
        } else {
            snprintf(d, sizeof d, "first bytes after %.1f ms, %zu events, data: [DONE]", ms(resp.first_s), events);
            add(st, id, CHECK_PASS, ms(resp.total_s), NULL, d);
            st->traffic_sent = true;
        }
    }
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

static void check_models(run *st)
{
    const char *id = "gateway.models";
    char d[512];
    if (skipped(st, id))
        return;
    probe_resp resp;
    get(st, st->o->gateway, "/v1/models", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, id, &resp)) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        json_t *data = json_object_get(root, "data");
        if (!json_is_array(data)) {
            check_hint h = hint_for_probe(st->o->mode, COMP_GATEWAY, PROBE_BODY, resp.status);
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, "the answer has no \"data\" list");
        } else if (!pick_model(st, data, d, sizeof d)) {
            check_hint h = st->o->model ? hint_for_probe(st->o->mode, COMP_GATEWAY, PROBE_HTTP, 404)
                                        : (check_hint){"the gateway serves no model",
                                                       "add a model to model_list in litellm_config.yaml (or, "
                                                       "without a config, pull one into Ollama)"};
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, st->o->model ? "the --model given is not listed" : d);
        } else {
            add(st, id, CHECK_PASS, ms(resp.total_s), NULL, d);
        }
        json_decref(root);
    }
    probe_resp_free(&resp);
}

/* gateway.counters and gateway.ttft: the counters after the two requests,
 * compared with those read by gateway.metrics before them. */
static void check_counters(run *st, gw_counters before)
{
    char d[512];
    bool want_c = !skipped(st, "gateway.counters");
    char why[400];
    bool want_t = !catalog_blocked(st->r, "gateway.ttft", why, sizeof why);
    if (!want_c && !want_t) {
        skip(st, "gateway.ttft", why);
        return;
    }
    phase(st, st->o->timeout_s, "reading the gateway's counters again at %s/metrics", st->o->gateway);
    const char *id = want_c ? "gateway.counters" : "gateway.ttft";
    gw_counters after = read_counters(st, id, false);
    if (!after.ok) {
        if (want_c && want_t) {
            snprintf(why, sizeof why, "the second /metrics read failed (see: %s)", id);
            skip(st, "gateway.ttft", why);
        } else if (!want_t) {
            skip(st, "gateway.ttft", why);
        }
        return;
    }
    if (want_c) {
        snprintf(d, sizeof d, "litellm_input_tokens_metric_total +%g, litellm_output_tokens_metric_total +%g",
                 after.in - before.in, after.out - before.out);
        check_hint h = hint_for_static_counters();
        bool moved = after.in > before.in && after.out > before.out;
        add(st, "gateway.counters", moved ? CHECK_PASS : CHECK_FAIL, -1, moved ? NULL : &h, d);
    }
    if (want_t) {
        snprintf(d, sizeof d, "litellm_llm_api_time_to_first_token_metric_count +%g",
                 after.ttft_count - before.ttft_count);
        check_hint h = hint_for_static_counters();
        bool moved = after.ttft_count > before.ttft_count;
        add(st, "gateway.ttft", moved ? CHECK_PASS : CHECK_FAIL, -1, moved ? NULL : &h, d);
    } else {
        skip(st, "gateway.ttft", why);
    }
}

static void check_gateway(run *st)
{
    probe_resp resp;
    phase(st, st->o->timeout_s, "checking the gateway at %s", st->o->gateway);
    get(st, st->o->gateway, "/health/liveliness", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "gateway.liveliness", &resp))
        add(st, "gateway.liveliness", CHECK_PASS, ms(resp.total_s), NULL, "HTTP 200");
    probe_resp_free(&resp);

    check_models(st);
    gw_counters before = {0};
    if (!skipped(st, "gateway.metrics"))
        before = read_counters(st, "gateway.metrics", true);
    check_chat(st);
    check_stream(st);
    check_counters(st, before);
}

/* ---- GPU exporter -------------------------------------------------------- */

static void check_gpu(run *st)
{
    const char *id = "gpu.metrics";
    char d[512];
    if (st->o->skip_gpu) {
        skip(st, id, "--skip-gpu");
        return;
    }
    phase(st, st->o->timeout_s, "checking the GPU exporter at %s", st->o->gpu);
    probe_resp resp;
    get(st, st->o->gpu, "/metrics", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, id, &resp)) {
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
            add(st, id, CHECK_PASS, ms(resp.total_s), NULL, d);
        } else if (nn > 0 && nvml == 0) {
            /* A warning, not a failure: the guide supports Macs and CPU-only
             * hosts, where the pipeline works without GPU metrics. */
            check_hint h = hint_for_no_gpu(st->o->mode);
            st->gpu_absent = true;
            add(st, id, CHECK_WARN, ms(resp.total_s), &h, "no GPU: the exporter reports tollgate_gpu_nvml_up 0");
        } else {
            check_hint h = {"the exporter answers but reports no DCGM_FI_DEV_GPU_UTIL (dcgm-exporter 3.1 serves an "
                            "empty page for its first 30 s; MIG instances have no GPU_UTIL)",
                            "wait one collect interval and re-run; check --gpu points at the GPU exporter"};
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, "no DCGM_FI_DEV_GPU_UTIL sample");
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

/* Polling Prometheus is the only way to learn of a discovery or a scrape. */
static bool may_wait(run *st, double until) { return probe_now() < until && probe_now() + 0.5 < st->deadline; }

static void check_target(run *st, const char *job)
{
    char id[64], d[600], err[256];
    snprintf(id, sizeof id, "prometheus.target.%s", job);
    if (skipped(st, id))
        return;
    check_mode m = st->o->mode;
    /* A Prometheus that has just started lists no target for a few seconds,
     * then the job's target as "unknown" until its first scrape: wait for
     * that (an interval at most) rather than report a fresh stack as broken. */
    double until = 0;
    probe_resp resp;
    prom_target t;
    int rc;
    for (;;) {
        get(st, st->o->prometheus, "/api/v1/targets?state=active", st->o->timeout_s, NULL, &resp);
        if (!ok_or_fail(st, id, &resp)) {
            probe_resp_free(&resp);
            return;
        }
        rc = promapi_target(buf_cstr(&resp.body), resp.body.len, job, wall_now(), &t, err, sizeof err);
        bool fresh = (rc == 1 && t.all == 0) || (rc == 0 && t.up < t.count && !strcmp(t.health, "unknown"));
        if (!fresh)
            break;
        if (until == 0) {
            double wait = t.interval_s > 0 ? t.interval_s + 5 : 20;
            until = probe_now() + wait;
            phase(st, wait, "waiting for Prometheus to discover and scrape the %s job", job);
        }
        if (!may_wait(st, until))
            break;
        probe_resp_free(&resp);
        usleep(500 * 1000);
    }
    if (rc < 0) {
        check_hint h = hint_for_probe(m, COMP_PROMETHEUS, PROBE_BODY, resp.status);
        add(st, id, CHECK_FAIL, ms(resp.total_s), &h, err);
    } else if (rc == 1) {
        check_hint h = hint_for_missing_job(m, job);
        snprintf(d, sizeof d, "no scrape job named \"%s\"", job);
        add(st, id, CHECK_FAIL, ms(resp.total_s), &h, d);
    } else if (t.up < t.count) {
        check_hint h = hint_for_scrape_error(m, job, t.last_error);
        snprintf(d, sizeof d, "%s (%d/%d up), %s: %s", t.health, t.up, t.count, t.scrape_url,
                 t.last_error[0] ? t.last_error : "no scrape yet");
        add(st, id, CHECK_FAIL, ms(resp.total_s), &h, d);
    } else {
        if (t.interval_s > 0 && (!strcmp(job, "litellm") || st->scrape_interval_s <= 0))
            st->scrape_interval_s = t.interval_s;
        snprintf(d, sizeof d, "up (%d/%d), last scrape %.1f s ago, interval %gs", t.up, t.count, t.age_s,
                 t.interval_s);
        /* Prometheus reports the start of the last scrape; twice the interval
         * is the guide's "recent". */
        bool stale = t.interval_s > 0 && t.age_s > 2 * t.interval_s;
        check_hint h = hint_for_stale_scrape();
        add(st, id, stale ? CHECK_FAIL : CHECK_PASS, ms(resp.total_s), stale ? &h : NULL, d);
    }
    probe_resp_free(&resp);
}

/* Runs one instant query; retries while it is empty and fresh data can still
 * arrive (the traffic check sent was scraped or the rules evaluated after
 * this started), until *wait_until (0: no waiting). */
static void check_query(run *st, const check_def *q, double wait_until)
{
    char d[400], err[256];
    const char *id = q->id;
    check_mode m = st->o->mode;
    if (q->gpu && st->o->skip_gpu) {
        skip(st, id, "--skip-gpu");
        return;
    }
    if (skipped(st, id))
        return;
    buf path;
    buf_init(&path);
    buf_puts(&path, "/api/v1/query?query=");
    for (const char *p = q->promql; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.')
            buf_putc(&path, (char)c);
        else
            buf_printf(&path, "%%%02X", c);
    }
    bool waiting = false;
    for (;;) {
        probe_resp resp;
        get(st, st->o->prometheus, buf_cstr(&path), st->o->timeout_s, NULL, &resp);
        if (!ok_or_fail(st, id, &resp)) {
            probe_resp_free(&resp);
            break;
        }
        size_t n;
        double first;
        if (promapi_query(buf_cstr(&resp.body), resp.body.len, &n, &first, err, sizeof err) != 0) {
            check_hint h = hint_for_probe(m, COMP_PROMETHEUS, PROBE_BODY, resp.status);
            add(st, id, CHECK_FAIL, ms(resp.total_s), &h, err);
            probe_resp_free(&resp);
            break;
        }
        double took = ms(resp.total_s);
        probe_resp_free(&resp);
        if (n > 0 && (isnan(q->want) || first == q->want)) {
            snprintf(d, sizeof d, "%zu series, first value %g", n, first);
            add(st, id, CHECK_PASS, took, NULL, d);
            break;
        }
        if (may_wait(st, wait_until)) {
            if (!waiting)
                phase(st, wait_until - probe_now(), "waiting for Prometheus to scrape the gateway and evaluate "
                      "the recording rules: %s", q->promql);
            waiting = true;
            usleep(500 * 1000);
            continue;
        }
        if (n > 0) {
            check_hint h = hint_for_scrape_error(m, strstr(q->promql, "dcgm") ? "dcgm" : "litellm", "");
            snprintf(d, sizeof d, "value %g, expected %g", first, q->want);
            add(st, id, CHECK_FAIL, took, &h, d);
        } else if (q->gpu && st->gpu_absent) {
            /* The same hint as gpu.metrics: the report says it once. */
            check_hint h = hint_for_no_gpu(m);
            add(st, id, CHECK_WARN, took, &h, "no series: no GPU on this host");
        } else {
            check_hint h = hint_for_empty_query(m, q->promql, q->recorded);
            add(st, id, CHECK_FAIL, took, &h, "no series");
        }
        break;
    }
    buf_free(&path);
}

static void check_prometheus(run *st)
{
    probe_resp resp;
    phase(st, st->o->timeout_s, "checking Prometheus at %s", st->o->prometheus);
    get(st, st->o->prometheus, "/-/ready", st->o->timeout_s, NULL, &resp);
    if (ok_or_fail(st, "prometheus.ready", &resp))
        add(st, "prometheus.ready", CHECK_PASS, ms(resp.total_s), NULL, "HTTP 200");
    probe_resp_free(&resp);
    check_target(st, "litellm");
    if (st->o->skip_gpu)
        skip(st, "prometheus.target.dcgm", "--skip-gpu");
    else
        check_target(st, "dcgm");

    /* Fresh traffic shows up after one scrape plus one rule evaluation;
     * allow up to three scrape intervals for it, within the run deadline. */
    double interval = st->scrape_interval_s > 0 ? st->scrape_interval_s : 15;
    double wait_until = st->traffic_sent ? probe_now() + 3 * interval : 0;
    size_t n;
    const check_def *defs = catalog_all(&n);
    for (size_t i = 0; i < n; i++)
        if (defs[i].promql)
            check_query(st, &defs[i], defs[i].traffic ? wait_until : 0);
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
    o->mode = MODE_DOCKER;
}

int check_run(const check_opts *o, const check_events *ev, check_report *r)
{
    run st = {.o = o, .ev = ev, .r = r, .deadline = probe_now() + o->deadline_s};
    check_ollama(&st);
    check_gateway(&st);
    check_gpu(&st);
    check_prometheus(&st);
    if (ev && ev->phase)
        ev->phase(ev->ctx, NULL, 0);
    return st.oom ? -1 : 0;
}
