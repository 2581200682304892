/* Gateway generations: replacing the running configuration (SIGHUP, or a
 * change in Ollama's model list) without touching the listening sockets or
 * the client connections.
 *
 * One server runs for the life of the process; its ud is a gw_holder that
 * points at the current gateway. Each worker thread keeps one gw_thread per
 * gateway it has served: at its next request after a swap it builds a
 * gw_thread for the new gateway, and the old one lives on until the last
 * request that holds it (gw_thread_hold/gw_thread_drop) ends. A gateway is
 * freed when the holder and every gw_thread have let go of it. So a request
 * runs start to end on the configuration it started with, a keep-alive
 * connection simply sends its next request to the new one, and nothing is
 * closed or refused by a reload. */
#ifndef TOLLGATE_SERVE_GENERATION_H
#define TOLLGATE_SERVE_GENERATION_H

#include "serve/gateway.h"

struct event_base;
typedef struct gw_holder gw_holder;

/* Takes the caller's reference to g (gateway.refs starts at 1). */
gw_holder *gw_holder_new(gateway *g);
/* Frees the holder and drops its reference; call after the server stopped. */
void gw_holder_free(gw_holder *h);
/* Makes g (whose reference is taken) current and drops the old one. Any thread. */
void gw_holder_swap(gw_holder *h, gateway *g);
/* The current gateway; valid until the next swap by the caller's thread. */
gateway *gw_holder_current(gw_holder *h);

/* server_config.thread_init / thread_fini, with ud = the holder. */
void *gw_worker_init(int index, struct event_base *base, void *holder);
void gw_worker_fini(void *ctx, void *holder);
/* The worker's gw_thread for the current gateway (conn_thread_ctx gives
 * ctx). Call at the start of each request, never from an upstream callback:
 * it also frees gw_threads that were let go. */
gw_thread *gw_worker_thread(void *ctx);

/* Frees g when its last reference goes (serve.c's gateway_free). */
void gateway_unref(gateway *g);

#endif
