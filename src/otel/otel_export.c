/* The exporter thread: drains the per-worker rings every OTEL_POLL_MS,
 * feeds the metrics, queues sampled spans (bounded by
 * OTEL_BSP_MAX_QUEUE_SIZE), and POSTs a batch when OTEL_BSP_MAX_EXPORT_BATCH_SIZE
 * spans wait or OTEL_BSP_SCHEDULE_DELAY has passed; metrics every
 * OTEL_METRIC_EXPORT_INTERVAL. One libcurl easy handle, reused (keep-alive).
 *
 * Failure policy (OTLP/HTTP specification, "Retryable response codes"):
 * 429, 502, 503, 504 and connection errors back off exponentially
 * (1 s doubling to 32 s, +-20 % jitter) or for the server's Retry-After
 * (capped at 60 s) and retry the same batch; after OTEL_MAX_ATTEMPTS the
 * batch is dropped. Other answers drop the batch at once. While backing
 * off, spans that do not fit the queue are dropped. Every dropped span is
 * counted. Metrics are cumulative, so a failed metrics POST loses nothing:
 * the next one carries the totals. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otel/otel_export.h"

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- one POST --------------------------------------------------------- */

enum post_result { POST_OK, POST_RETRY, POST_FAIL };

static size_t discard(char *p, size_t size, size_t n, void *ud) { return size * n; }

static int progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const otel *o = ud;
    uint64_t at = atomic_load(&o->abort_at);
    return at && mono_ms() >= at; /* non-zero aborts the transfer */
}

static enum post_result post(otel *o, CURL *c, const char *url, const otel_kv *hdr, int n_hdr,
                             enum otel_protocol proto, const buf *body, long timeout_ms, long *retry_after_s)
{
    struct curl_slist *h = NULL, *t;
    char line[sizeof hdr->key + sizeof hdr->value + 4];
    h = curl_slist_append(h, proto == OTEL_PROTO_JSON ? "Content-Type: application/json"
                                                      : "Content-Type: application/x-protobuf");
    if (h && (t = curl_slist_append(h, "Expect:")))
        h = t;
    for (int i = 0; h && i < n_hdr; i++) {
        snprintf(line, sizeof line, "%s: %s", hdr[i].key, hdr[i].value);
        if ((t = curl_slist_append(h, line)))
            h = t;
    }
    if (!h)
        return POST_RETRY;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tollgate/" TOLLGATE_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data ? body->data : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, o);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    *retry_after_s = 0;
    if (rc != CURLE_OK)
        return POST_RETRY; /* connection refused, timeout, reset */
    long status = 0;
    curl_off_t ra = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        *retry_after_s = ra > OTEL_RETRY_AFTER_MAX_S ? OTEL_RETRY_AFTER_MAX_S : (long)ra;
    if (status >= 200 && status < 300)
        return POST_OK;
    if (status == 429 || status == 502 || status == 503 || status == 504)
        return POST_RETRY;
    return POST_FAIL;
}

static void backoff(otel_backoff *bo, long retry_after_s, uint64_t now)
{
    uint64_t ms;
    bo->attempt++;
    if (retry_after_s > 0) {
        ms = (uint64_t)retry_after_s * 1000u;
    } else {
        ms = 1000u << (bo->attempt > 6 ? 5 : bo->attempt - 1);
        if (ms > OTEL_BACKOFF_MAX_MS)
            ms = OTEL_BACKOFF_MAX_MS;
        ms = ms * (80u + (uint64_t)(rand() % 41)) / 100u; /* +-20 %: collectors are not hit in step */
    }
    bo->not_before_ms = now + ms;
}

/* ---- traces ----------------------------------------------------------- */

static void drain(otel *o)
{
    otel_span sp;
    for (int w = 0; w < o->workers; w++) {
        while (otel_ring_pop(&o->rings[w], &sp)) {
            /* Our copy now: make every string valid UTF-8, which OTLP
             * requires of string fields (collectors reject the batch). */
            otel_utf8_clean(sp.tracestate);
            otel_utf8_clean(sp.provider);
            otel_utf8_clean(sp.request_model);
            otel_utf8_clean(sp.response_model);
            otel_utf8_clean(sp.server_address);
            otel_utf8_clean(sp.http_route);
            otel_utf8_clean(sp.error_type);
            for (int i = 0; i < OTEL_FINISH_MAX; i++)
                otel_utf8_clean(sp.finish_reasons[i]);
            if (o->cfg->metrics_on)
                otel_metrics_record(o->metrics, &sp);
            if (!sp.sampled || !o->cfg->traces_on)
                continue;
            if (o->qn >= (size_t)o->cfg->max_queue) {
                atomic_fetch_add(&o->dropped, 1);
                continue;
            }
            o->queue[o->qn++] = sp;
        }
    }
}

static void take(otel *o, size_t n)
{
    memmove(o->queue, o->queue + n, (o->qn - n) * sizeof *o->queue);
    o->qn -= n;
}

/* One batch from the front of the queue. final: no retry, dropped on
 * failure. Returns true when it should be called again at once. */
static bool export_traces(otel *o, CURL *c, buf *body, long timeout_ms, bool final)
{
    size_t n = o->qn < (size_t)o->cfg->batch_max ? o->qn : (size_t)o->cfg->batch_max;
    if (!n)
        return false;
    buf_reset(body);
    if (o->cfg->traces_protocol == OTEL_PROTO_JSON)
        otel_json_traces(body, o->cfg, o->queue, n);
    else
        otel_pb_traces(body, o->cfg, o->queue, n);
    long ra = 0;
    enum post_result r = body->oom ? POST_FAIL
                                   : post(o, c, o->cfg->traces_url, o->cfg->traces_headers, o->cfg->n_traces_headers,
                                          o->cfg->traces_protocol, body, timeout_ms, &ra);
    if (r == POST_OK) {
        atomic_fetch_add(&o->exported, n);
        o->trace_bo.attempt = 0;
        take(o, n);
        return o->qn >= (size_t)o->cfg->batch_max;
    }
    atomic_fetch_add(&o->errors, 1);
    if (r == POST_RETRY && !final && o->trace_bo.attempt + 1 < OTEL_MAX_ATTEMPTS) {
        atomic_fetch_add(&o->retries, 1);
        backoff(&o->trace_bo, ra, mono_ms());
        return false;
    }
    atomic_fetch_add(&o->dropped, n);
    if (r == POST_RETRY && !final) /* gave up: keep backing off before the next batch */
        backoff(&o->trace_bo, ra, mono_ms());
    o->trace_bo.attempt = 0;
    take(o, n);
    return final;
}

static void export_metrics(otel *o, CURL *c, buf *body, long timeout_ms, bool final)
{
    if (otel_metrics_empty(o->metrics))
        return;
    buf_reset(body);
    if (o->cfg->metrics_protocol == OTEL_PROTO_JSON)
        otel_json_metrics(body, o->cfg, o->metrics, unix_ns());
    else
        otel_pb_metrics(body, o->cfg, o->metrics, unix_ns());
    long ra = 0;
    enum post_result r = body->oom ? POST_FAIL
                                   : post(o, c, o->cfg->metrics_url, o->cfg->metrics_headers,
                                          o->cfg->n_metrics_headers, o->cfg->metrics_protocol, body, timeout_ms, &ra);
    if (r == POST_OK) {
        atomic_fetch_add(&o->metric_exports, 1);
        o->metric_bo.attempt = 0;
        return;
    }
    atomic_fetch_add(&o->errors, 1);
    if (r == POST_RETRY && !final) {
        atomic_fetch_add(&o->retries, 1);
        backoff(&o->metric_bo, ra, mono_ms());
    }
}

/* ---- the thread ------------------------------------------------------- */

static void *run(void *arg)
{
    otel *o = arg;
    CURL *c = curl_easy_init();
    buf body;
    buf_init(&body);
    uint64_t now = mono_ms();
    uint64_t next_flush = now + (uint64_t)o->cfg->schedule_delay_ms;
    uint64_t next_metrics = now + (uint64_t)o->cfg->export_interval_ms;
    long timeout = o->cfg->timeout_ms;
    for (;;) {
        pthread_mutex_lock(&o->mu);
        if (!o->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += OTEL_POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L)
                ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&o->cv, &o->mu, &ts);
        }
        bool stop = o->stop;
        pthread_mutex_unlock(&o->mu);
        if (stop)
            break;
        drain(o);
        now = mono_ms();
        if (c && o->cfg->traces_on && now >= o->trace_bo.not_before_ms &&
            (o->qn >= (size_t)o->cfg->batch_max || now >= next_flush)) {
            while (export_traces(o, c, &body, timeout, false))
                drain(o);
            next_flush = mono_ms() + (uint64_t)o->cfg->schedule_delay_ms;
        }
        if (c && o->cfg->metrics_on && now >= next_metrics && now >= o->metric_bo.not_before_ms) {
            export_metrics(o, c, &body, timeout, false);
            if (o->metric_bo.attempt == 0)
                next_metrics = mono_ms() + (uint64_t)o->cfg->export_interval_ms;
        }
    }
    /* Shutdown: one last drain and one try for everything, bounded. */
    uint64_t deadline = mono_ms() + OTEL_SHUTDOWN_MS;
    atomic_store(&o->abort_at, deadline);
    drain(o);
    if (c && o->cfg->traces_on)
        while (o->qn && export_traces(o, c, &body, (long)(deadline > mono_ms() ? deadline - mono_ms() : 1), true))
            ;
    atomic_fetch_add(&o->dropped, o->qn); /* no collector took them, or no handle */
    o->qn = 0;
    if (c && o->cfg->metrics_on && mono_ms() < deadline)
        export_metrics(o, c, &body, (long)(deadline - mono_ms()), true);
    buf_free(&body);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

int otel_export_start(otel *o)
{
    o->queue = calloc((size_t)o->cfg->max_queue, sizeof *o->queue);
    if (!o->queue)
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&o->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&o->mu, NULL);
    if (pthread_create(&o->thread, NULL, run, o) != 0) {
        pthread_cond_destroy(&o->cv);
        pthread_mutex_destroy(&o->mu);
        return -1;
    }
    o->started = true;
    return 0;
}

void otel_shutdown(otel *o)
{
    if (!o)
        return;
    atomic_store(&o->stopped, true);
    if (o->started && !o->joined) {
        pthread_mutex_lock(&o->mu);
        o->stop = true;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
        o->joined = true;
        pthread_cond_destroy(&o->cv);
        pthread_mutex_destroy(&o->mu);
    }
    /* Spans still in the rings after the thread's last drain (a submit
     * racing with shutdown) were never exported. */
    otel_span sp;
    for (int w = 0; o->rings && w < o->workers; w++)
        while (o->rings[w].slots && otel_ring_pop(&o->rings[w], &sp))
            if (sp.sampled && o->cfg->traces_on)
                atomic_fetch_add(&o->dropped, 1);
    free(o->queue);
    o->queue = NULL;
}
