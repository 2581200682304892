/* HTTP/1.1 server on libevent: one loop per worker thread, raw sockets,
 * a growable input buffer per connection and an evbuffer for output.
 * This file reads requests (with their deadlines) and runs the workers;
 * respond.c writes the answers. */
#include "net/server_int.h"

#include "net/listen.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/thread.h>

/* Connections start with a small read buffer that grows on demand: most
 * requests are a few hundred bytes, and a long stream keeps its connection
 * (and buffer) for minutes, so 10,000 streams must not cost 16 KiB each. */
#define READ_CHUNK 2048
#define READ_MIN_FREE 512
/* Connections over max_conns answered 503 at the same time, at most; more
 * are closed unanswered. */
#define SHED_MAX 64
/* At the descriptor limit, accepting pauses this long (and the warning is
 * repeated at most once a minute). */
#define ACCEPT_PAUSE_MS 100
#define FD_WARN_EVERY_MS 60000

static void conn_close(conn *c);
static void process_input(conn *c);

int64_t srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_nodelay(int fd)
{
    int one = 1;
    /* Nagle + delayed ACK would stall small writes by ~40 ms (gateways.md). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void arm_ms(conn *c, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Deadlines are set when a phase starts, not on every byte: a client
 * trickling bytes cannot push them back (slowloris). */
static void phase_head(conn *c)
{
    c->phase = PH_HEAD;
    arm_ms(c, c->w->s->cfg.header_timeout_ms);
}

static void phase_idle(conn *c)
{
    c->phase = PH_IDLE;
    arm_ms(c, c->w->s->cfg.idle_timeout_ms);
}

/* The body's deadline: body_timeout after the head, plus one second for
 * every body_min_rate bytes received so far. Sending slower than the rate
 * loses time; sending faster banks it. */
static void arm_body_deadline(conn *c)
{
    const server_config *cfg = &c->w->s->cfg;
    size_t got = c->chunked ? c->body_len + (c->in_len - c->raw_at) : c->in_len - c->head_len;
    int64_t credit = (int64_t)(got / (size_t)cfg->body_min_rate) * 1000;
    arm_ms(c, c->body_start_ms + cfg->body_timeout_ms + credit - srv_now_ms());
}

/* End of input with nothing left to answer: close once the output is out. */
static void eof_when_idle(conn *c)
{
    if (!c->read_eof || c->state != ST_READING || c->broken || c->close_after_write)
        return;
    if (evbuffer_get_length(c->out) > 0)
        c->close_after_write = true; /* srv_flush_out closes when done */
    else
        srv_schedule_reap(c);
}

/* The response is complete: drop the request from the buffer and serve the
 * next pipelined one, if any. */
void srv_finish_response(conn *c)
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
        srv_after_write(c);
        return;
    }
    memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
    c->in_len -= c->consumed;
    c->consumed = 0;
    c->have_head = false;
    http_head_scan_init(&c->scan);
    c->state = ST_READING;
    srv_after_write(c);
    if (c->broken)
        return;
    if (c->in_len > 0)
        phase_head(c);
    else
        phase_idle(c);
    if (!c->read_eof)
        event_add(c->rev, NULL);
    if (!c->processing && c->in_len > 0)
        process_input(c);
    eof_when_idle(c);
}

/* --- reading requests --- */

/* Reads the body of the current request; returns true when it is complete.
 * A chunked body is decoded in place: decoded bytes are moved down to follow
 * the head, and the undecoded rest right after them. */
static bool body_complete(conn *c)
{
    const server_config *cfg = &c->w->s->cfg;
    if (c->chunked) {
        size_t len = c->in_len - c->raw_at, used = 0;
        int rc = http_chunked_decode(&c->chunk, c->in + c->raw_at, &len, &used);
        if (rc < 0) {
            srv_reject(c, 400, "malformed chunked body");
            return false;
        }
        memmove(c->in + c->body_at + c->body_len, c->in + c->raw_at, len);
        c->body_len += len;
        c->raw_at += used;
        size_t rest = c->in_len - c->raw_at, to = c->body_at + c->body_len;
        memmove(c->in + to, c->in + c->raw_at, rest);
        c->raw_at = to;
        c->in_len = to + rest;
        /* A chunk announced larger than what is left of the limit is
         * refused now, not after buffering up to the limit. */
        if (c->body_len > cfg->max_body || c->chunk.remaining > cfg->max_body - c->body_len) {
            srv_reject(c, 413, "request body too large");
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

/* Gives a head announcing a body to the on_head hook. Returns true when the
 * hook answered (the connection then ends without reading the body). */
static bool head_refused(conn *c, const http_request *req)
{
    const server_config *cfg = &c->w->s->cfg;
    if (!cfg->on_head || (c->content_length <= 0 && !c->chunked))
        return false;
    bool keep_alive = c->keep_alive;
    c->keep_alive = false; /* an answer now says Connection: close */
    c->state = ST_HANDLING;
    c->w->handling++;
    cfg->on_head(c, req, cfg->ud);
    if (c->state == ST_HANDLING && !c->streaming) {
        c->state = ST_READING;
        c->w->handling--;
        c->keep_alive = keep_alive;
        return false;
    }
    return true;
}

/* Parses the head once its blank line is in; returns false when the
 * request cannot go on (incomplete, refused or answered). */
static bool take_head(conn *c)
{
    const server_config *cfg = &c->w->s->cfg;
    size_t hl = http_head_scan_feed(&c->scan, c->in, c->in_len);
    if (hl == 0) {
        if (c->in_len > cfg->max_head)
            srv_reject(c, 431, "request head too large");
        return false;
    }
    http_request *req = &c->w->scratch;
    int rc = http_parse_request(c->in, hl, cfg->max_head, req);
    if (rc <= 0) {
        srv_reject(c, rc == HTTP_E_TOO_LARGE ? 431 : rc == HTTP_E_VERSION ? 505 : 400,
                   rc == HTTP_E_TOO_LARGE ? "request head too large" : "malformed HTTP request");
        return false;
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
    c->phase = PH_BODY;
    c->body_start_ms = srv_now_ms();
    if (head_refused(c, req))
        return false;
    if (req->content_length > (int64_t)cfg->max_body) {
        srv_reject(c, 413, "request body too large");
        return false;
    }
    return true;
}

static void process_input(conn *c)
{
    const server_config *cfg = &c->w->s->cfg;
    c->processing = true;
    while (c->state == ST_READING && !c->broken && !c->close_after_write && c->in_len > 0) {
        if (!c->have_head && !take_head(c))
            break;
        if (!body_complete(c)) {
            if (c->state != ST_READING || c->close_after_write || c->broken)
                break;
            arm_body_deadline(c);
            if (c->expect_continue && !c->sent_continue) {
                c->sent_continue = true;
                evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                srv_flush_out(c);
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
            srv_schedule_reap(c); /* cannot happen: the same bytes parsed before */
            break;
        }
        cfg->handler(c, req, c->in + c->body_at, c->body_len, cfg->ud);
        /* A synchronous answer set state back to ST_READING and compacted
         * the buffer: loop for the next pipelined request. */
    }
    c->processing = false;
}

/* Input after the last answer is read and dropped until the client closes
 * or the linger timer fires. */
static void linger_read(conn *c)
{
    char sink[16384];
    ssize_t n = read(c->fd, sink, sizeof sink);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK))
        conn_close(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    (void)what;
    const server_config *cfg = &c->w->s->cfg;
    if (c->broken)
        return;
    if (c->state == ST_LINGER) {
        linger_read(c);
        return;
    }
    if (c->in_cap - c->in_len < READ_MIN_FREE) {
        /* Before the head is in, a connection holds at most about max_head
         * bytes: memory for one that has not authenticated stays small. */
        size_t limit = c->have_head ? cfg->max_head + cfg->max_body + READ_CHUNK : cfg->max_head + READ_CHUNK;
        if (c->in_cap >= limit) {
            /* Buffer full of pipelined data while a response is pending:
             * stop reading until it is done (srv_finish_response re-arms). */
            event_del(c->rev);
            return;
        }
        size_t ncap = c->in_cap * 2;
        if (ncap > limit)
            ncap = limit;
        char *p = realloc(c->in, ncap + 1);
        if (!p) {
            srv_schedule_reap(c);
            return;
        }
        c->in = p;
        c->in_cap = ncap;
    }
    ssize_t n = read(fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0) {
        /* End of input: no more requests. What was asked is still answered
         * (a half-close), unless the server treats EOF as the client gone. */
        c->read_eof = true;
        event_del(c->rev);
        if (c->state == ST_HANDLING) {
            if (cfg->eof_cancels)
                conn_close(c);
            return;
        }
        if (evbuffer_get_length(c->out) == 0 && !c->close_after_write)
            conn_close(c);
        else
            eof_when_idle(c);
        return;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK) {
        conn_close(c);
        return;
    }
    if (n < 0)
        return;
    c->in_len += (size_t)n;
    if (c->state == ST_READING) {
        if (c->phase == PH_IDLE)
            phase_head(c);
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
        srv_flush_out(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (c->broken)
        return;
    if (c->state == ST_LINGER || c->close_after_write) {
        conn_close(c); /* the answer was not read in time, or lingering is over */
        return;
    }
    if (c->state != ST_READING)
        return;
    if (c->in_len > 0 || c->have_head)
        srv_reject(c, 408, "request not received in time"); /* slow client */
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
    atomic_fetch_sub(c->counted ? &w->s->nconns : &w->s->nshed, 1);
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

/* A connection over the cap gets no read buffer: it is answered 503 at once
 * and only lingers. */
static conn *conn_new(worker *w, int fd, bool counted)
{
    conn *c = calloc(1, sizeof *c);
    if (c && counted)
        c->in = malloc(READ_CHUNK + 1);
    if (c)
        c->out = evbuffer_new();
    if (!c || (counted && !c->in) || !c->out) {
        if (c) {
            free(c->in);
            if (c->out)
                evbuffer_free(c->out);
        }
        free(c);
        close(fd);
        atomic_fetch_sub(counted ? &w->s->nconns : &w->s->nshed, 1);
        return NULL;
    }
    c->w = w;
    c->fd = fd;
    c->counted = counted;
    c->in_cap = counted ? READ_CHUNK : 0;
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->timer = evtimer_new(w->base, on_timer, c);
    c->reaper = event_new(w->base, -1, 0, on_reap, c);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    if (!counted) {
        srv_reject(c, 503, "too many connections: try again later");
        return c;
    }
    event_add(c->rev, NULL);
    /* A new connection must send its head in time too, first byte or not. */
    phase_head(c);
    return c;
}

static void warn_fd_limit(worker *w, int err)
{
    server *s = w->s;
    long long now = srv_now_ms(), last = atomic_load(&s->fd_warned_ms);
    if (!s->cfg.warn || (last && now - last < FD_WARN_EVERY_MS) ||
        !atomic_compare_exchange_strong(&s->fd_warned_ms, &last, now))
        return;
    char msg[256];
    snprintf(msg, sizeof msg,
             "cannot accept connections: %s; pausing accepts for %d ms at a time until descriptors are free "
             "(raise the limit with ulimit -n, or lower --max-conns)",
             strerror(err), ACCEPT_PAUSE_MS);
    s->cfg.warn(s->cfg.ud, msg);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    if (!w->stopping && w->lfd >= 0)
        event_add(w->accept_ev, NULL);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    worker *w = arg;
    server *s = w->s;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The listener stays readable: waiting for it again would
                 * spin. Stop listening for a moment instead. */
                event_del(w->accept_ev);
                struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};
                evtimer_add(w->resume_ev, &tv);
                warn_fd_limit(w, errno);
            }
            return; /* EAGAIN: all taken */
        }
        set_nodelay(fd);
        bool counted = atomic_fetch_add(&s->nconns, 1) < s->cfg.max_conns;
        if (!counted) {
            atomic_fetch_sub(&s->nconns, 1);
            if (atomic_fetch_add(&s->nshed, 1) >= SHED_MAX) {
                atomic_fetch_sub(&s->nshed, 1);
                close(fd);
                continue;
            }
        }
        conn_new(w, fd, counted);
    }
}

conn *srv_adopt(server *s, int index, int fd)
{
    atomic_fetch_add(&s->nconns, 1);
    return conn_new(&s->workers[index], fd, true);
}

struct event_base *srv_worker_base(server *s, int index) { return s->workers[index].base; }

int srv_worker_conns(server *s, int index)
{
    int n = 0;
    for (conn *c = s->workers[index].conns; c; c = c->next)
        n++;
    return n;
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
    if (w->resume_ev)
        evtimer_del(w->resume_ev);
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

int server_default_max_conns(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 16384;
    rlim_t n = rl.rlim_cur > 32 ? (rl.rlim_cur - 32) / 2 : 0;
    if (n > INT_MAX / 2)
        n = INT_MAX / 2;
    return n < 16 ? 16 : (int)n;
}

/* A soft descriptor limit below the hard one only makes the server refuse
 * connections it could serve; raise it (best effort, once). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20) ? (1u << 20) : rl.rlim_max;
    if (want > rl.rlim_cur) {
        rl.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

server *server_new(const server_config *cfg, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    static pthread_once_t once_nofile = PTHREAD_ONCE_INIT;
    pthread_once(&once_nofile, raise_nofile);
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
    if (s->cfg.header_timeout_ms <= 0)
        s->cfg.header_timeout_ms = 30000;
    if (s->cfg.body_timeout_ms <= 0)
        s->cfg.body_timeout_ms = 60000;
    if (s->cfg.body_min_rate <= 0)
        s->cfg.body_min_rate = 1024;
    if (s->cfg.max_conns <= 0)
        s->cfg.max_conns = server_default_max_conns();
    atomic_init(&s->nconns, 0);
    atomic_init(&s->nshed, 0);
    atomic_init(&s->fd_warned_ms, 0);
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
        /* The first listener checks that no other process holds the port
         * (SO_REUSEPORT would share it silently); the others, and a new
         * generation joining ours, share it. */
        bool exclusive = i == 0 && s->port != 0 && !s->cfg.join_port;
        w->lfd = net_listen(s->cfg.host, s->port, exclusive, err, errlen);
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
        w->resume_ev = evtimer_new(w->base, on_resume, w);
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
        if (w->resume_ev)
            event_free(w->resume_ev);
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
