/* Internal to src/serve/upstream*.c: the two transports behind the facade
 * (upstream.c). Plain http:// goes through our own HTTP/1.1 client
 * (upstream_h1.c): one syscall-lean keep-alive pool per worker, which is
 * what makes the gateway as fast as a reverse proxy. https:// goes through
 * libcurl's multi interface (upstream_curl.c) for TLS. */
#ifndef TOLLGATE_SERVE_UPSTREAM_INT_H
#define TOLLGATE_SERVE_UPSTREAM_INT_H

#include "serve/upstream.h"

/* What the facade calls on a request: the transport that started it. */
typedef struct {
    void (*cancel)(upstream_req *r);
    void (*pause)(upstream_req *r, bool paused);
} upstream_transport;

/* Every upstream_req starts with this, so the facade can dispatch to the
 * transport that owns it. */
typedef struct {
    const upstream_transport *tp;
} upstream_hdr;

/* upstream_h1.c: plain http:// */
typedef struct h1_pool h1_pool;
h1_pool *upstream_h1_pool_new(struct event_base *base);
void upstream_h1_pool_free(h1_pool *p);
upstream_req *upstream_h1_start(h1_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud);
extern const upstream_transport upstream_h1_transport;

/* upstream_curl.c: https:// (anything that is not http://) */
typedef struct curl_pool curl_pool;
curl_pool *upstream_curl_pool_new(struct event_base *base);
void upstream_curl_pool_free(curl_pool *p);
upstream_req *upstream_curl_start(curl_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud);
extern const upstream_transport upstream_curl_transport;

#endif
