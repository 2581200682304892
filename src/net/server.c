/* HTTP/1.1 server on libevent: one loop per worker thread, raw sockets,
 * a growable input buffer per connection and an evbuffer for output. */
#include "net/server.h"

#include "net/listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

/* Connections start with a small read buffer that grows on demand: most
 * requests are a few hundred bytes, and a long stream keeps its connection
 * (and buffer) for minutes, so 10,000 streams must not cost 16 KiB each. */
#define READ_CHUNK 2048
#define READ_MIN_FREE 512

typedef struct worker worker;

enum conn_state { ST_READING, ST_HANDLING, ST_CLOSED };

struct conn {
    worker *w;
    int fd;
    enum conn_state state;
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
    bool have_head, keep_alive, head_method, streaming, sent_continue;
    bool processing, broken, close_after_write, want_drain;
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
    struct event *accept_ev, *stop_ev, *grace_ev;
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
    struct event *sig_int, *sig_term;
};

static void conn_close(conn *c);
static void process_input(conn *c);

/* --- helpers --- */

static const char *date_header(worker *w)
{
    time_t now = time(NULL);
    if (now != w->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(w->date, sizeof w->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        w->date_sec = now;
    }
    return w->date;
}

static void set_nodelay(int fd)
{
    int one = 1;
    /* Nagle + delayed ACK would stall small writes by ~40 ms (gateways.md). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void arm_timer(conn *c)
{
    int ms = c->w->s->cfg.idle_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Defers the teardown to the loop so no caller up the stack holds a freed
 * conn (writes can fail deep inside a handler). */
static void schedule_reap(conn *c)
{
    c->broken = true;
    event_active(c->reaper, 0, 0);
}

static void flush_out(conn *c)
{
    while (evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(c->wev, NULL);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        schedule_reap(c);
        return;
    }
    event_del(c->wev);
    if (c->close_after_write) {
        schedule_reap(c);
        return;
    }
    if (c->want_drain && c->drain_cb) {
        c->want_drain = false;
        c->drain_cb(c, c->drain_arg);
    }
}

static void after_write(conn *c)
{
    if (c->broken)
        return;
    flush_out(c);
    if (c->drain_cb && evbuffer_get_length(c->out) > c->drain_low)
        c->want_drain = true;
}

/* The response is complete: drop the request from the buffer and serve the
 * next pipelined one, if any. */
static void finish_response(conn *c)
{
    c->w->handling--;
    c->close_cb = NULL;
    c->drain_cb = NULL;
    c->streaming = false;
    if (c->w->stopping && c->w->handling == 0)
        event_base_loopexit(c->w->base, NULL);
    if (!c->keep_alive || c->w->stopping) {
        c->close_after_write = true;
        c->state = ST_READING;
        after_write(c);
        return;
    }
    memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
    c->in_len -= c->consumed;
    c->consumed = 0;
    c->have_head = false;
    c->state = ST_READING;
    after_write(c);
    if (c->broken)
        return;
    arm_timer(c);
    event_add(c->rev, NULL);
    if (!c->processing && c->in_len > 0)
        process_input(c);
}

/* Appends s to a head being built in a fixed buffer; false when full. */
static bool head_put(char *h, size_t *n, size_t cap, const char *s, size_t len)
{
    if (len > cap - *n)
        return false;
    memcpy(h + *n, s, len);
    *n += len;
    return true;
}

static size_t fmt_uint(char *out, unsigned long long v, unsigned base)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* The response head, built in one buffer and added with one call (no
 * printf on the hot path). content_length < 0: chunked. */
static void write_head(conn *c, int status, const char *ctype, const char *extra, long long content_length)
{
    char h[1024], num[24];
    size_t n = 0;
    const char *reason = http_reason(status), *date = date_header(c->w);
    bool ok = head_put(h, &n, sizeof h, "HTTP/1.1 ", 9);
    ok = ok && head_put(h, &n, sizeof h, num, fmt_uint(num, (unsigned)status, 10));
    ok = ok && head_put(h, &n, sizeof h, " ", 1) && head_put(h, &n, sizeof h, reason, strlen(reason)) &&
         head_put(h, &n, sizeof h, "\r\n", 2) && head_put(h, &n, sizeof h, date, strlen(date));
    if (ctype)
        ok = ok && head_put(h, &n, sizeof h, "Content-Type: ", 14) && head_put(h, &n, sizeof h, ctype, strlen(ctype)) &&
             head_put(h, &n, sizeof h, "\r\n", 2);
    if (extra)
        ok = ok && head_put(h, &n, sizeof h, extra, strlen(extra));
    if (content_length < 0)
        ok = ok && head_put(h, &n, sizeof h, "Transfer-Encoding: chunked\r\n", 28);
    else
        ok = ok && head_put(h, &n, sizeof h, "Content-Length: ", 16) &&
             head_put(h, &n, sizeof h, num, fmt_uint(num, (unsigned long long)content_length, 10)) &&
             head_put(h, &n, sizeof h, "\r\n", 2);
    if (!c->keep_alive || c->w->stopping)
        ok = ok && head_put(h, &n, sizeof h, "Connection: close\r\n", 19);
    ok = ok && head_put(h, &n, sizeof h, "\r\n", 2);
    if (ok) {
        evbuffer_add(c->out, h, n);
        return;
    }
    /* An unusually long ctype or extra: the slow way. */
    evbuffer_add_printf(c->out, "HTTP/1.1 %d %s\r\n%s", status, reason, date);
    if (ctype)
        evbuffer_add_printf(c->out, "Content-Type: %s\r\n", ctype);
    if (extra)
        evbuffer_add(c->out, extra, strlen(extra));
    if (content_length < 0)
        evbuffer_add(c->out, "Transfer-Encoding: chunked\r\n", 28);
    else
        evbuffer_add_printf(c->out, "Content-Length: %lld\r\n", content_length);
    if (!c->keep_alive || c->w->stopping)
        evbuffer_add(c->out, "Connection: close\r\n", 19);
    evbuffer_add(c->out, "\r\n", 2);
}

/* Answers a request that never reached the handler, then closes. */
static void reject(conn *c, int status, const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"%d\"}}", msg, status);
    c->keep_alive = false;
    c->head_method = false;
    write_head(c, status, "application/json", NULL, n);
    evbuffer_add(c->out, body, (size_t)n);
    c->close_after_write = true;
    event_del(c->rev);
    flush_out(c);
}

/* --- public response API --- */

int conn_respond(conn *c, int status, const char *ctype, const char *extra, const void *body, size_t len)
{
    if (c->broken || c->state != ST_HANDLING || c->streaming)
        return -1;
    write_head(c, status, ctype, extra, (long long)len);
    if (!c->head_method && len)
        evbuffer_add(c->out, body, len);
    finish_response(c);
    return 0;
}

int conn_stream_begin(conn *c, int status, const char *ctype, const char *extra)
{
    if (c->broken || c->state != ST_HANDLING || c->streaming)
        return -1;
    c->streaming = true;
    write_head(c, status, ctype, extra, -1);
    after_write(c);
    return c->broken ? -1 : 0;
}

int conn_stream_write(conn *c, const void *data, size_t len)
{
    if (c->broken || !c->streaming)
        return -1;
    if (len == 0)
        return 0;
    if (!c->head_method) {
        char size[24];
        size_t n = fmt_uint(size, len, 16);
        size[n++] = '\r';
        size[n++] = '\n';
        evbuffer_add(c->out, size, n);
        evbuffer_add(c->out, data, len);
        evbuffer_add(c->out, "\r\n", 2);
    }
    after_write(c);
    return c->broken ? -1 : 0;
}

int conn_stream_end(conn *c)
{
    if (c->broken || !c->streaming)
        return -1;
    if (!c->head_method)
        evbuffer_add(c->out, "0\r\n\r\n", 5);
    finish_response(c);
    return 0;
}

void conn_abort(conn *c)
{
    if (c->state == ST_HANDLING) {
        c->w->handling--;
        c->state = ST_READING;
    }
    c->close_cb = NULL;
    c->drain_cb = NULL;
    /* Send what was already accepted, then reset: a cut mid-stream. */
    if (evbuffer_get_length(c->out))
        evbuffer_write(c->out, c->fd);
    shutdown(c->fd, SHUT_RDWR);
    schedule_reap(c);
}

void conn_set_close_cb(conn *c, void (*cb)(conn *, void *), void *arg)
{
    c->close_cb = cb;
    c->close_arg = arg;
}

void conn_set_drain_cb(conn *c, size_t low_water, void (*cb)(conn *, void *), void *arg)
{
    c->drain_cb = cb;
    c->drain_arg = arg;
    c->drain_low = low_water;
}

size_t conn_pending_output(const conn *c) { return evbuffer_get_length(c->out); }
struct event_base *conn_base(const conn *c) { return c->w->base; }
void *conn_thread_ctx(const conn *c) { return c->w->ctx; }
int conn_thread_index(const conn *c) { return c->w->index; }

/* --- reading requests --- */

/* Reads the body of the current request; returns true when it is complete.
 * A chunked body is decoded in place: decoded bytes are moved down to follow
 * the head, raw_at marks the first raw byte not yet decoded. */
static bool body_complete(conn *c)
{
    const server_config *cfg = &c->w->s->cfg;
    if (c->chunked) {
        size_t len = c->in_len - c->raw_at, used = 0;
        int rc = http_chunked_decode(&c->chunk, c->in + c->raw_at, &len, &used);
        if (rc < 0) {
            reject(c, 400, "malformed chunked body");
            return false;
        }
        memmove(c->in + c->body_at + c->body_len, c->in + c->raw_at, len);
        c->body_len += len;
        c->raw_at += used;
        if (c->body_len > cfg->max_body) {
            reject(c, 413, "request body too large");
            return false;
        }
        if (rc == 1) {
            c->consumed = c->raw_at;
            return true;
        }
        return false;
    }
    size_t need = c->content_length > 0 ? (size_t)c->content_length : 0;
    if (c->in_len - c->head_len < need)
        return false;
    c->body_len = need;
    c->consumed = c->head_len + need;
    return true;
}

static void process_input(conn *c)
{
    const server_config *cfg = &c->w->s->cfg;
    c->processing = true;
    while (c->state == ST_READING && !c->broken && !c->close_after_write && c->in_len > 0) {
        if (!c->have_head) {
            http_request *req = &c->w->scratch;
            int rc = http_parse_request(c->in, c->in_len, cfg->max_head, req);
            if (rc == HTTP_INCOMPLETE)
                break;
            if (rc < 0) {
                reject(c, rc == HTTP_E_TOO_LARGE ? 431 : rc == HTTP_E_VERSION ? 505 : 400,
                       rc == HTTP_E_TOO_LARGE ? "request head too large" : "malformed HTTP request");
                break;
            }
            c->have_head = true;
            c->head_len = (size_t)rc;
            c->body_at = c->raw_at = c->head_len;
            c->body_len = 0;
            c->sent_continue = false;
            http_chunked_init(&c->chunk);
            c->keep_alive = req->keep_alive;
            c->head_method = http_method_is(req, "HEAD");
            c->content_length = req->content_length;
            c->chunked = req->chunked;
            c->expect_continue = req->expect_continue;
            if (req->content_length > (int64_t)cfg->max_body) {
                reject(c, 413, "request body too large");
                break;
            }
        }
        if (!body_complete(c)) {
            if (!c->close_after_write && c->expect_continue && !c->sent_continue) {
                c->sent_continue = true;
                evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                flush_out(c);
            }
            break;
        }
        c->state = ST_HANDLING;
        c->w->handling++;
        evtimer_del(c->timer);
        /* Parse the head again from the (possibly moved) buffer: cheap,
         * and the result lives in the worker, not in every connection. */
        http_request *req = &c->w->scratch;
        if (http_parse_request(c->in, c->head_len, cfg->max_head, req) != (int)c->head_len) {
            schedule_reap(c); /* cannot happen: the same bytes parsed before */
            break;
        }
        cfg->handler(c, req, c->in + c->body_at, c->body_len, cfg->ud);
        /* A synchronous answer set state back to ST_READING and compacted
         * the buffer: loop for the next pipelined request. */
    }
    c->processing = false;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    (void)what;
    const server_config *cfg = &c->w->s->cfg;
    if (c->broken)
        return;
    if (c->in_cap - c->in_len < READ_MIN_FREE) {
        size_t limit = cfg->max_head + cfg->max_body + READ_CHUNK;
        if (c->in_cap >= limit) {
            /* Buffer full of pipelined data while a response is pending:
             * stop reading until it is done (finish_response re-arms). */
            event_del(c->rev);
            return;
        }
        size_t ncap = c->in_cap * 2;
        if (ncap > limit)
            ncap = limit;
        char *p = realloc(c->in, ncap + 1);
        if (!p) {
            schedule_reap(c);
            return;
        }
        c->in = p;
        c->in_cap = ncap;
    }
    ssize_t n = read(fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        conn_close(c);
        return;
    }
    if (n < 0)
        return;
    c->in_len += (size_t)n;
    if (c->state == ST_READING) {
        arm_timer(c);
        if (!c->processing)
            process_input(c);
    }
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (!c->broken)
        flush_out(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (c->state != ST_READING || c->broken)
        return;
    if (c->in_len > 0 && !c->close_after_write)
        reject(c, 408, "request not received in time"); /* slow client */
    else
        conn_close(c);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_close(arg);
}

static void conn_close(conn *c)
{
    worker *w = c->w;
    if (c->state == ST_CLOSED)
        return;
    c->broken = true;
    if (c->state == ST_HANDLING) {
        w->handling--;
        if (c->close_cb)
            c->close_cb(c, c->close_arg);
    }
    c->state = ST_CLOSED;
    event_free(c->rev);
    event_free(c->wev);
    event_free(c->timer);
    event_free(c->reaper);
    evbuffer_free(c->out);
    close(c->fd);
    free(c->in);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    if (w->stopping && w->handling == 0)
        event_base_loopexit(w->base, NULL);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    worker *w = arg;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or EMFILE: try again on the next wake-up */
        set_nodelay(fd);
        conn *c = calloc(1, sizeof *c);
        if (c)
            c->in = malloc(READ_CHUNK + 1);
        if (!c || !c->in) {
            free(c);
            close(fd);
            continue;
        }
        c->w = w;
        c->fd = fd;
        c->in_cap = READ_CHUNK;
        c->out = evbuffer_new();
        c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
        c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
        c->timer = evtimer_new(w->base, on_timer, c);
        c->reaper = event_new(w->base, -1, 0, on_reap, c);
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
        event_add(c->rev, NULL);
        arm_timer(c);
    }
}

/* --- workers and lifecycle --- */

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    event_base_loopexit(w->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    if (w->stopping) {
        /* Asked again with no grace: stop waiting for what is in flight. */
        if (atomic_load(&w->s->grace_ms) == 0)
            event_base_loopexit(w->base, NULL);
        return;
    }
    w->stopping = true;
    if (w->accept_ev)
        event_del(w->accept_ev);
    /* Close the listener now, not at server_free: with SO_REUSEPORT a
     * successor server on the same port then gets every new connection. */
    if (w->lfd >= 0) {
        close(w->lfd);
        w->lfd = -1;
    }
    /* Idle keep-alive connections go now; busy ones finish or time out. */
    conn *c = w->conns;
    while (c) {
        conn *next = c->next;
        if (c->state == ST_READING && c->in_len == 0 && evbuffer_get_length(c->out) == 0)
            conn_close(c);
        c = next;
    }
    if (w->handling == 0) {
        event_base_loopexit(w->base, NULL);
        return;
    }
    int ms = atomic_load(&w->s->grace_ms);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(w->grace_ev, &tv);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    const server_config *cfg = &w->s->cfg;
    if (cfg->thread_init)
        w->ctx = cfg->thread_init(w->index, w->base, cfg->ud);
    event_add(w->accept_ev, NULL);
    event_base_dispatch(w->base);
    while (w->conns)
        conn_close(w->conns);
    if (cfg->thread_fini)
        cfg->thread_fini(w->ctx, cfg->ud);
    return NULL;
}


server *server_new(const server_config *cfg, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!s->cfg.host)
        s->cfg.host = "0.0.0.0";
    if (!s->cfg.max_head)
        s->cfg.max_head = 64 * 1024;
    if (!s->cfg.max_body)
        s->cfg.max_body = 16 * 1024 * 1024;
    if (s->cfg.idle_timeout_ms <= 0)
        s->cfg.idle_timeout_ms = 60000;
    s->nworkers = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->nworkers < 1)
        s->nworkers = 1;
    atomic_init(&s->grace_ms, 5000);
    s->workers = calloc((size_t)s->nworkers, sizeof *s->workers);
    if (!s->workers) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->port = cfg->port;
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        w->s = s;
        w->index = i;
        w->lfd = net_listen(s->cfg.host, s->port, err, errlen);
        if (w->lfd < 0) {
            s->nworkers = i;
            server_free(s);
            return NULL;
        }
        if (s->port == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            getsockname(w->lfd, (struct sockaddr *)&ss, &sl);
            s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
        }
        w->base = event_base_new();
        w->accept_ev = event_new(w->base, w->lfd, EV_READ | EV_PERSIST, on_accept, w);
        w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
        w->grace_ev = evtimer_new(w->base, on_grace, w);
    }
    return s;
}

int server_port(const server *s) { return s->port; }

int server_run(server *s)
{
    /* Worker 0 runs on the calling thread, which also owns signal events. */
    for (int i = 1; i < s->nworkers; i++)
        if (pthread_create(&s->workers[i].tid, NULL, worker_main, &s->workers[i]) != 0)
            return -1;
    worker_main(&s->workers[0]);
    for (int i = 1; i < s->nworkers; i++)
        pthread_join(s->workers[i].tid, NULL);
    return 0;
}

void server_stop(server *s, int grace_ms)
{
    atomic_store(&s->grace_ms, grace_ms);
    for (int i = 0; i < s->nworkers; i++)
        event_active(s->workers[i].stop_ev, 0, 0);
}

void server_free(server *s)
{
    if (!s)
        return;
    if (s->sig_int)
        event_free(s->sig_int);
    if (s->sig_term)
        event_free(s->sig_term);
    for (int i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        if (w->accept_ev)
            event_free(w->accept_ev);
        if (w->stop_ev)
            event_free(w->stop_ev);
        if (w->grace_ev)
            event_free(w->grace_ev);
        if (w->lfd >= 0)
            close(w->lfd);
        if (w->base)
            event_base_free(w->base);
    }
    free(s->workers);
    free(s);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    server *s = arg;
    static int count;
    if (++count > 1) {
        /* Second Ctrl-C: stop waiting for streams in flight. */
        for (int i = 0; i < s->nworkers; i++)
            event_base_loopexit(s->workers[i].base, NULL);
        return;
    }
    (void)sig;
    server_stop(s, atomic_load(&s->grace_ms));
}

void server_stop_on_signals(server *s, int grace_ms)
{
    signal(SIGPIPE, SIG_IGN);
    atomic_store(&s->grace_ms, grace_ms);
    struct event_base *b = s->workers[0].base;
    s->sig_int = evsignal_new(b, SIGINT, on_signal, s);
    s->sig_term = evsignal_new(b, SIGTERM, on_signal, s);
    event_add(s->sig_int, NULL);
    event_add(s->sig_term, NULL);
}
