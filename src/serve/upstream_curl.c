/* The libcurl transport for https:// upstreams: libcurl's multi interface
 * driven by the worker's libevent loop, with libcurl's connection cache for
 * keep-alive. See upstream_int.h. */
#include "serve/upstream_int.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

struct curl_pool {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    int active;
    upstream_req *reqs;
};

struct upstream_req {
    upstream_hdr hdr;
    curl_pool *p;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    upstream_callbacks cb;
    void *ud;
    bool status_sent, in_callback, cancelled, paused;
    char errbuf[CURL_ERROR_SIZE];
    upstream_req *next, *prev;
};

/* Per-socket state libcurl asks us to watch. */
typedef struct {
    struct event *ev;
    curl_pool *p;
} sock_ctx;

static void check_done(curl_pool *p);

static void req_free(upstream_req *r)
{
    curl_pool *p = r->p;
    curl_multi_remove_handle(p->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    if (r->prev)
        r->prev->next = r->next;
    else
        p->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    p->active--;
    free(r);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    curl_pool *p = arg;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(p->multi, fd, action, &running);
    check_done(p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    curl_pool *p = arg;
    int running;
    curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(p);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    curl_pool *p = userp;
    sock_ctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            event_free(sc->ev);
            free(sc);
            curl_multi_assign(p->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc)
            return -1;
        sc->p = p;
        curl_multi_assign(p->multi, s, sc);
    } else {
        event_free(sc->ev);
    }
    sc->ev = event_new(p->base, s, kind, on_socket_event, p);
    event_add(sc->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    curl_pool *p = userp;
    if (timeout_ms < 0) {
        evtimer_del(p->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
    return 0;
}

static void emit_status(upstream_req *r)
{
    if (r->status_sent)
        return;
    r->status_sent = true;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (r->cb.on_status) {
        r->in_callback = true;
        r->cb.on_status(r, (int)code, r->ud);
        r->in_callback = false;
    }
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    upstream_req *r = userp;
    size_t n = size * nmemb;
    if (r->cancelled)
        return 0; /* makes libcurl abort the transfer */
    emit_status(r);
    if (r->cancelled)
        return 0;
    bool pause = false;
    if (r->cb.on_data && n) {
        r->in_callback = true;
        pause = r->cb.on_data(r, data, n, r->ud);
        r->in_callback = false;
    }
    if (r->cancelled)
        return 0;
    if (pause) {
        r->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    return n;
}

static enum upstream_result classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: return UP_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return UP_E_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: return UP_E_TIMEOUT;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT: return UP_E_INTERNAL;
    default: return UP_E_IO;
    }
}

static void check_done(curl_pool *p)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        upstream_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = m->data.result;
        if (!r->cancelled) {
            if (rc == CURLE_OK)
                emit_status(r); /* empty body: the head still counts */
            if (!r->cancelled && r->cb.on_done) {
                const char *msg = rc == CURLE_OK ? "" : (r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
                r->in_callback = true;
                r->cb.on_done(r, classify(rc), msg, r->ud);
                r->in_callback = false;
            }
        }
        req_free(r);
    }
}

curl_pool *upstream_curl_pool_new(struct event_base *base)
{
    curl_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base = base;
    p->multi = curl_multi_init();
    p->timer = evtimer_new(base, on_timer, p);
    if (!p->multi || !p->timer) {
        upstream_curl_pool_free(p);
        return NULL;
    }
    curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
    curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
    /* Keep enough idle keep-alive connections for a busy worker. */
    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, 1024L);
    return p;
}

void upstream_curl_pool_free(curl_pool *p)
{
    if (!p)
        return;
    while (p->reqs)
        req_free(p->reqs);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    if (p->timer)
        event_free(p->timer);
    free(p);
}

upstream_req *upstream_curl_start(curl_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud)
{
    upstream_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->hdr.tp = &upstream_curl_transport;
    r->p = p;
    r->cb = *cb;
    r->ud = ud;
    r->easy = curl_easy_init();
    if (!r->easy)
        goto fail;
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
    if (o->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    /* Ollama streams gzip-free NDJSON; ask for identity so bytes pass
     * straight through and TTFT is not hidden behind a decoder. */
    r->headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* No "Expect: 100-continue" round trip for larger bodies. */
    r->headers = curl_slist_append(r->headers, "Expect:");
    r->headers = curl_slist_append(r->headers, "Accept: application/json, text/event-stream, application/x-ndjson");
    if (o->bearer) {
        size_t n = strlen(o->bearer) + 32;
        char *h = malloc(n);
        if (!h)
            goto fail;
        snprintf(h, n, "Authorization: Bearer %s", o->bearer);
        r->headers = curl_slist_append(r->headers, h);
        free(h);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (o->body) {
        r->body = malloc(o->body_len + 1);
        if (!r->body)
            goto fail;
        memcpy(r->body, o->body, o->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    }
    if (o->method && strcmp(o->method, "GET") == 0)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    r->next = p->reqs;
    if (p->reqs)
        p->reqs->prev = r;
    p->reqs = r;
    p->active++;
    if (curl_multi_add_handle(p->multi, e) != CURLM_OK) {
        req_free(r);
        return NULL;
    }
    return r;
fail:
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    free(r);
    return NULL;
}

static void upstream_curl_cancel(upstream_req *r)
{
    if (r->cancelled)
        return;
    r->cancelled = true;
    /* Inside a libcurl callback the handle must not be removed; the write
     * callback returns 0 instead, curl aborts, and check_done frees it. */
    if (r->in_callback)
        return;
    req_free(r);
}

static void upstream_curl_pause(upstream_req *r, bool paused)
{
    if (r->cancelled || r->paused == paused)
        return;
    r->paused = paused;
    curl_easy_pause(r->easy, paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
}

const upstream_transport upstream_curl_transport = {upstream_curl_cancel, upstream_curl_pause};
