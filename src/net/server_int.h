/* net/server internals shared by server.c (connections, reading, deadlines,
 * lifecycle) and respond.c (writing responses). Not a public API; the
 * fuzz target for the connection state machine also includes it. */
#ifndef TOLLGATE_NET_SERVER_INT_H
#define TOLLGATE_NET_SERVER_INT_H

#include "net/server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

typedef struct worker worker;

/* ST_LINGER: the last answer is out and our side is shut for writing; input
 * is read and discarded for a bounded time so that closing does not reset
 * the connection before the client has read the answer. */
enum conn_state { ST_READING, ST_HANDLING, ST_LINGER, ST_CLOSED };

/* What the conn's timer measures while reading: a keep-alive pause, the
 * whole head, or the body (a deadline that grows only with bytes received). */
enum conn_phase { PH_IDLE, PH_HEAD, PH_BODY };

struct conn {
    worker *w;
    int fd;
    enum conn_state state;
    enum conn_phase phase;
    struct event *rev, *wev, *timer, *reaper;
    char *in;
    size_t in_len, in_cap;
    struct evbuffer *out;
    /* Current request framing. The parsed head itself is not kept: its
     * pointers would dangle when the buffer grows for the body, and its
     * header array would cost 2 KiB per connection for a whole stream. */
    int64_t content_length;
    bool chunked, expect_continue;
    size_t head_len;
    size_t body_at, body_len; /* decoded body at in[body_at..+body_len) */
    size_t raw_at;            /* chunked: first raw byte not yet decoded */
    size_t consumed;          /* raw bytes of this request in the buffer */
    http_chunked chunk;
    http_head_scan scan;      /* where the search for the blank line stopped */
    int64_t body_start_ms;    /* when the head was complete */
    bool have_head, keep_alive, head_method, streaming, sent_continue;
    bool processing, broken, close_after_write, want_drain;
    bool read_eof;            /* the client sent FIN: no more requests */
    bool counted;             /* counts against the server's max_conns */
    void (*close_cb)(conn *, void *);
    void *close_arg;
    void (*drain_cb)(conn *, void *);
    void *drain_arg;
    size_t drain_low;
    conn *next, *prev;
};

struct worker {
    server *s;
    int index;
    int lfd;
    pthread_t tid;
    struct event_base *base;
    struct event *accept_ev, *stop_ev, *grace_ev, *resume_ev;
    void *ctx;
    conn *conns;
    int handling;
    bool stopping;
    time_t date_sec;
    char date[64];
    http_request scratch; /* the head handed to the handler, valid during the call */
};

struct server {
    server_config cfg;
    int nworkers;
    worker *workers;
    int port;
    atomic_int grace_ms;
    atomic_int nconns;   /* connections counted against cfg.max_conns */
    atomic_int nshed;    /* connections over the cap being answered 503 */
    atomic_llong fd_warned_ms; /* last "descriptor limit" warning, 0 = never */
    struct event *sig_int, *sig_term;
};

/* respond.c */
void srv_write_head(conn *c, int status, const char *ctype, const char *extra, long long content_length);
void srv_flush_out(conn *c);
void srv_after_write(conn *c);
/* Answers a request that never reached the handler (or one refused on its
 * head), then closes with a lingering close. */
void srv_reject(conn *c, int status, const char *msg);
void srv_schedule_reap(conn *c);

/* server.c */
void srv_finish_response(conn *c);
/* The output is flushed and the connection must end: shut our side and
 * drain the client's input for a bounded time, then close. */
void srv_linger(conn *c);
int64_t srv_now_ms(void);

/* For the connection fuzz target: serve an already connected socket on
 * worker `index` of a server whose loops the caller runs (server_run not
 * called). Returns NULL when out of memory (fd is then closed). */
conn *srv_adopt(server *s, int index, int fd);
struct event_base *srv_worker_base(server *s, int index);
/* Connections currently open on worker `index`. */
int srv_worker_conns(server *s, int index);

#endif
