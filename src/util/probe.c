#include "util/probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

double probe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int probe_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

void probe_global_cleanup(void) { curl_global_cleanup(); }

const char *probe_err_name(probe_err e)
{
    switch (e) {
    case PROBE_OK: return "ok";
    case PROBE_REFUSED: return "refused";
    case PROBE_DNS: return "dns";
    case PROBE_TIMEOUT: return "timeout";
    case PROBE_HTTP: return "http";
    case PROBE_BODY: return "body";
    case PROBE_ERROR: return "error";
    }
    return "error";
}

typedef struct {
    probe_resp *r;
    double start;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t len = size * n;
    if (len && s->r->first_s < 0)
        s->r->first_s = probe_now() - s->start;
    /* A probe never needs more than a few MiB (a big /metrics page). */
    if (s->r->body.len + len > 64u << 20)
        return 0;
    buf_append(&s->r->body, p, len);
    return s->r->body.oom ? 0 : len;
}

static probe_err classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT: return PROBE_REFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return PROBE_DNS;
    case CURLE_OPERATION_TIMEDOUT: return PROBE_TIMEOUT;
    default: return PROBE_ERROR;
    }
}

probe_err probe_request(const probe_opts *o, const char *url, const char *json_body, probe_resp *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
    r->first_s = -1;
    sink s = {.r = r, .start = probe_now()};

    long timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
    if (o->deadline > 0) {
        double left = (o->deadline - s.start) * 1000.0;
        if (left < 1) {
            r->err = PROBE_TIMEOUT;
            snprintf(r->errmsg, sizeof r->errmsg, "whole-run deadline reached before this probe");
            return r->err;
        }
        if (left < (double)timeout_ms)
            timeout_ms = (long)left;
    }

    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!h) {
        r->err = PROBE_ERROR;
        snprintf(r->errmsg, sizeof r->errmsg, "out of memory");
        return r->err;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tollgate-check/" TOLLGATE_VERSION);
    /* LiteLLM answers GET /metrics with a 307 to /metrics/. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    /* Probes must not be sent to a proxy from the environment by accident:
     * the services checked are local. */
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (o->api_key && *o->api_key) {
        buf a;
        buf_init(&a);
        buf_printf(&a, "Authorization: Bearer %s", o->api_key);
        hdr = curl_slist_append(hdr, buf_cstr(&a));
        buf_free(&a);
    }
    if (json_body) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
    }
    if (hdr)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);

    CURLcode rc = curl_easy_perform(h);
    r->total_s = probe_now() - s.start;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (rc != CURLE_OK) {
        r->err = classify(rc);
        snprintf(r->errmsg, sizeof r->errmsg, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else {
        r->err = PROBE_OK;
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    buf_cstr(&r->body);
    return r->err;
}

void probe_resp_free(probe_resp *r) { buf_free(&r->body); }
