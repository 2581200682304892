/* Internal to src/serve/upstream*.c: the two transports behind upstream.h.
 * Plain http:// goes through our own HTTP/1.1 client (upstream.c): one
 * syscall-lean keep-alive pool per worker, which is what makes the gateway
 * as fast as a reverse proxy. https:// goes through libcurl's multi
 * interface (upstream_curl.c) for TLS. */
#ifndef TOLLGATE_SERVE_UPSTREAM_INT_H
#define TOLLGATE_SERVE_UPSTREAM_INT_H

#include "serve/upstream.h"

typedef struct curl_pool curl_pool;

curl_pool *curl_pool_new(struct event_base *base);
void curl_pool_free(curl_pool *p);
int curl_pool_active(const curl_pool *p);
upstream_req *curl_start(curl_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud);
void curl_cancel(upstream_req *r);
void curl_pause(upstream_req *r, bool paused);

/* Every upstream_req starts with this, so the public functions can tell
 * which transport owns it. */
typedef struct {
    int transport; /* 0 = native HTTP/1.1, 1 = libcurl */
    char ctype[128]; /* response Content-Type, set before on_status */
} upstream_hdr;

#endif
