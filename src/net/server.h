/* HTTP/1.1 server: N worker threads, each with its own libevent loop and its
 * own SO_REUSEPORT listening socket, so connections never cross threads and
 * the request path takes no lock.
 *
 * A handler receives each complete request (head parsed, body read and
 * de-chunked) and answers it now or later from the same thread: with one
 * conn_respond(), or with conn_stream_begin/write/end for chunked streams.
 * Pipelined requests wait until the previous response is complete.
 *
 * Lifetime: a conn stays valid until its response is finished, or until the
 * close callback fires (client went away or the socket broke while a
 * response was pending). After either, the handler must not touch it. */
#ifndef TOLLGATE_NET_SERVER_H
#define TOLLGATE_NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/http.h"

struct event_base;
typedef struct server server;
typedef struct conn conn;

typedef void (*server_handler_fn)(conn *c, const http_request *req, const char *body, size_t body_len,
                                  void *ud);
/* Called once in each worker thread before it serves; the result is that
 * thread's context (conn_thread_ctx). */
typedef void *(*server_thread_init_fn)(int index, struct event_base *base, void *ud);
typedef void (*server_thread_fini_fn)(void *thread_ctx, void *ud);

typedef struct {
    const char *host;            /* "0.0.0.0", "127.0.0.1", "::" ... */
    int port;                    /* 0 picks a free port (see server_port) */
    int threads;                 /* worker threads; <= 0 means one per core */
    size_t max_head;             /* bytes; default 64 KiB */
    size_t max_body;             /* bytes; default 16 MiB */
    int idle_timeout_ms;         /* keep-alive idle and slow-head limit; default 60 s */
    server_handler_fn handler;
    server_thread_init_fn thread_init; /* optional */
    server_thread_fini_fn thread_fini; /* optional */
    void *ud;
} server_config;

/* Binds the listening sockets. Returns NULL and writes a message into err on
 * failure (address in use, permission...). */
server *server_new(const server_config *cfg, char *err, size_t errlen);
/* The bound port (useful with port 0). */
int server_port(const server *s);
/* Runs the workers; returns after server_stop() once in-flight responses
 * finished or the grace period ran out. Returns 0 or -1. */
int server_run(server *s);
/* Thread-safe: asks the workers to stop accepting (closing the listeners at
 * once, so another server bound to the same port with SO_REUSEPORT takes
 * over), finish what is in flight within grace_ms, and return. Called again
 * with grace_ms 0, it stops waiting. */
void server_stop(server *s, int grace_ms);
void server_free(server *s);
/* Installs SIGINT/SIGTERM handling that calls server_stop(s, grace_ms) and
 * ignores SIGPIPE. One server per process may use it. */
void server_stop_on_signals(server *s, int grace_ms);

/* --- answering a request (only from the conn's worker thread) --- */

/* A complete response with Content-Length. extra_headers is NULL or raw
 * "Name: value\r\n" lines. For HEAD requests the body is not sent.
 * Returns 0, or -1 when the connection is already broken (the close
 * callback will still fire). */
int conn_respond(conn *c, int status, const char *content_type, const char *extra_headers, const void *body,
                 size_t len);
/* Starts a chunked response; the head is sent at once. */
int conn_stream_begin(conn *c, int status, const char *content_type, const char *extra_headers);
/* Sends one chunk (len > 0). */
int conn_stream_write(conn *c, const void *data, size_t len);
/* Ends the chunked response (sends the zero chunk). */
int conn_stream_end(conn *c);
/* Cuts the connection now without finishing the response (fault injection,
 * or an upstream that broke mid-stream). The close callback does not fire. */
void conn_abort(conn *c);

/* Called when the client disconnects or the socket fails while a response is
 * pending: cancel upstream work here. The conn is freed right after. */
void conn_set_close_cb(conn *c, void (*cb)(conn *c, void *arg), void *arg);
/* Called when buffered output drops below low_water bytes after having been
 * above it, so a producer can resume (backpressure). */
void conn_set_drain_cb(conn *c, size_t low_water, void (*cb)(conn *c, void *arg), void *arg);
/* Bytes accepted but not yet written to the socket. */
size_t conn_pending_output(const conn *c);
struct event_base *conn_base(const conn *c);
void *conn_thread_ctx(const conn *c);
/* Index of the worker thread serving c (0..threads-1). */
int conn_thread_index(const conn *c);

#endif
