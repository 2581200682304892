/* Upstream HTTP client, driven by the worker's libevent loop so thousands
 * of upstream requests share one thread. Plain http:// goes through the
 * native HTTP/1.1 client (upstream_h1.c, a per-host keep-alive pool);
 * https:// goes through libcurl's multi interface (upstream_curl.c, with
 * libcurl's connection cache). upstream.c is the facade that picks one.
 *
 * One upstream_pool per worker thread. Callbacks run on that thread.
 * After on_done, or after upstream_cancel(), the request is gone. */
#ifndef TOLLGATE_SERVE_UPSTREAM_H
#define TOLLGATE_SERVE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
typedef struct upstream_pool upstream_pool;
typedef struct upstream_req upstream_req;

enum upstream_result {
    UP_OK = 0,
    UP_E_CONNECT = 1,  /* could not connect (refused, DNS, unreachable) */
    UP_E_TIMEOUT = 2,  /* request_timeout / stream_timeout ran out */
    UP_E_IO = 3,       /* connection broke mid-response */
    UP_E_INTERNAL = 4, /* out of memory, curl setup failed */
};

typedef struct {
    /* Response head received (first response byte). */
    void (*on_status)(upstream_req *r, int status, void *ud);
    /* Body bytes as they arrive. Return true to pause the transfer
     * (backpressure); resume with upstream_pause(r, false). */
    bool (*on_data)(upstream_req *r, const char *data, size_t len, void *ud);
    /* Exactly once, unless cancelled first. msg explains failures. */
    void (*on_done)(upstream_req *r, enum upstream_result res, const char *msg, void *ud);
} upstream_callbacks;

typedef struct {
    const char *url;
    const char *method;    /* "POST" (default when body != NULL) or "GET" */
    const char *body;      /* copied */
    size_t body_len;
    const char *bearer;    /* Authorization: Bearer <bearer>, or NULL */
    long timeout_ms;       /* whole transfer; 0 = none */
    long connect_timeout_ms; /* 0 = 10 s */
} upstream_opts;

upstream_pool *upstream_pool_new(struct event_base *base);
/* Cancels whatever is still running (no callbacks). */
void upstream_pool_free(upstream_pool *p);

/* Starts a request; returns NULL if it could not be set up. */
upstream_req *upstream_start(upstream_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud);
/* Stops a request (closing its connection, so Ollama sees the client go
 * away and stops generating). No callback fires afterwards. Safe to call
 * from inside this request's own callbacks. */
void upstream_cancel(upstream_req *r);
void upstream_pause(upstream_req *r, bool paused);

#endif
