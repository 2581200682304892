/* The upstream facade: one pool per worker holding both transports; a
 * request goes to the native HTTP/1.1 client (upstream_h1.c) for http://
 * and to libcurl multi (upstream_curl.c) for anything else (https://).
 * Cancel and pause dispatch through the request's transport table. */
#include "serve/upstream.h"

#include <stdlib.h>
#include <strings.h>

#include "serve/upstream_int.h"

struct upstream_pool {
    h1_pool *h1;
    curl_pool *curl;
};

upstream_pool *upstream_pool_new(struct event_base *base)
{
    upstream_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->h1 = upstream_h1_pool_new(base);
    p->curl = upstream_curl_pool_new(base);
    if (!p->h1 || !p->curl) {
        upstream_pool_free(p);
        return NULL;
    }
    return p;
}

void upstream_pool_free(upstream_pool *p)
{
    if (!p)
        return;
    upstream_h1_pool_free(p->h1);
    upstream_curl_pool_free(p->curl);
    free(p);
}

upstream_req *upstream_start(upstream_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud)
{
    if (strncasecmp(o->url, "http://", 7) == 0)
        return upstream_h1_start(p->h1, o, cb, ud);
    return upstream_curl_start(p->curl, o, cb, ud);
}

void upstream_cancel(upstream_req *r) { ((upstream_hdr *)r)->tp->cancel(r); }

void upstream_pause(upstream_req *r, bool paused) { ((upstream_hdr *)r)->tp->pause(r, paused); }
