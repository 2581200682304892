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
 * response was pending). After either, the handler must not touch it.
 *
 * Limits (docs/reliability.md): a whole head must arrive within
 * header_timeout_ms of the connection's first byte (or of its opening), a
 * body within body_timeout_ms plus one second per body_min_rate bytes
 * received; neither deadline is pushed back by a byte that merely arrives.
 * Past them the client gets 408 and the connection closes. At most
 * max_conns connections are open per server; one more gets 503 and is
 * closed. At the descriptor limit (EMFILE) accepting pauses briefly instead
 * of spinning. Every answer the server gives before closing (400, 408, 413,
 * 431, 503, a refusal from on_head) is followed by a lingering close, so
 * the client reads it instead of a reset.
 *
 * A client that half-closes (shutdown(SHUT_WR)) after its request still gets
 * the answer: end of input means "no more requests". The client is taken as
 * gone (close callback) when writing to it fails, or at once on end of input
 * when eof_cancels is set. */
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
/* Called once a request head that announces a body is parsed, before any
 * of the body is read or "100 Continue" is sent. It may answer at once with
 * conn_respond (for instance 401 when no valid key is presented); the server
 * then closes the connection without reading the body. Returning without
 * answering lets the request proceed to the handler. */
typedef void (*server_head_fn)(conn *c, const http_request *req, void *ud);

typedef struct {
    const char *host;            /* "0.0.0.0", "127.0.0.1", "::" ... */
    int port;                    /* 0 picks a free port (see server_port) */
    int threads;                 /* worker threads; <= 0 means one per core */
    size_t max_head;             /* bytes; default 64 KiB */
    size_t max_body;             /* bytes; default 16 MiB */
    int idle_timeout_ms;         /* keep-alive pause between requests; default 60 s */
    int header_timeout_ms;       /* whole request head; default 30 s */
    int body_timeout_ms;         /* body, before rate credit; default 60 s */
    int body_min_rate;           /* bytes/s that earn one more second for the body; default 1024 */
    int max_conns;               /* open connections; default from RLIMIT_NOFILE (see server_default_max_conns) */
    bool eof_cancels;            /* end of input while answering = client gone (Go net/http, nginx) */
    bool join_port;              /* share the port with our own listeners already on it (a new
                                    generation in this process); otherwise refuse a port in use */
    server_head_fn on_head;      /* optional */
    void (*warn)(void *ud, const char *msg); /* optional: rare operational warnings (descriptor limit) */
    server_handler_fn handler;
    server_thread_init_fn thread_init; /* optional */
    server_thread_fini_fn thread_fini; /* optional */
    void *ud;
} server_config;

/* Binds the listening sockets. Returns NULL and writes a message into err on
 * failure (address in use, permission...). */
server *server_new(const server_config *cfg, char *err, size_t errlen);
/* The connection cap used when max_conns is 0: half the descriptor limit
 * (the other half is left for upstream connections, files and logs), at
 * least 16. server_new raises the soft descriptor limit to the hard one
 * first, as Go's runtime and nginx's worker_rlimit_nofile do. */
int server_default_max_conns(void);
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
