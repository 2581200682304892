/* The native upstream transport for plain http:// backends: an HTTP/1.1
 * client on the worker's libevent loop with a per-host keep-alive pool. A
 * request costs one writev and the reads its response needs; there is no
 * per-request allocation beyond the request itself. The facade
 * (upstream.c) sends https:// to libcurl (upstream_curl.c) instead. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "parse/http.h"
#include "serve/upstream_int.h"

#define RBUF 2048 /* grows on demand; small so idle streams stay cheap */
#define MAX_HEAD (64 * 1024)
#define MAX_IDLE_PER_HOST 512
#define IDLE_TIMEOUT_S 60
/* Finished requests kept for reuse (with their buffers and timer), so a
 * request costs no malloc in the steady state. */
#define MAX_FREE_REQS 64

typedef struct h1_host h1_host;
typedef struct h1_conn h1_conn;
typedef struct h1_req h1_req;

struct h1_host {
    char name[256];
    char port[8];
    char hostport[270]; /* Host header value */
    struct sockaddr_storage addr;
    socklen_t alen;
    bool resolved;
    h1_conn *idle;
    int nidle;
    h1_host *next;
};

struct h1_conn {
    h1_pool *p;
    h1_host *host;
    int fd;
    struct event *rev, *wev;
    h1_req *req;        /* NULL while idle */
    h1_conn *next_idle;
    time_t idle_since;
};

enum { PH_INIT, PH_CONNECT, PH_WRITE, PH_HEAD, PH_BODY };

struct h1_req {
    upstream_hdr hdr;
    h1_pool *p;
    h1_host *host;
    h1_conn *c;
    upstream_callbacks cb;
    void *ud;
    char *wbuf; /* request head + body */
    size_t wlen, woff, wcap;
    char *rbuf;
    size_t rlen, rcap;
    int phase;
    struct {                /* what framing needs of the response head */
        int status;
        int64_t content_length;
        bool chunked, keep_alive;
    } resp;
    http_chunked ch;
    int64_t body_left;  /* content-length bodies; -1 = chunked or to EOF */
    bool until_eof;
    bool reused, retried, got_bytes;
    bool in_callback, cancelled, paused, finished;
    struct event *timer;
    long timeout_ms, connect_timeout_ms;
    h1_req *next_free;
};

struct h1_pool {
    struct event_base *base;
    h1_host *hosts;
    struct event *idle_sweep;
    int active;
    h1_req *free_reqs;
    int nfree;
};

static void conn_close(h1_conn *c);
static void req_step(h1_req *r);
static void on_readable(evutil_socket_t fd, short what, void *arg);
static void on_writable(evutil_socket_t fd, short what, void *arg);
static void on_timeout(evutil_socket_t fd, short what, void *arg);

/* --- hosts --- */

static int parse_url(const char *url, char *host, size_t hostlen, char *port, const char **path)
{
    const char *p = url + 7; /* after http:// */
    const char *hs = p, *he;
    if (*p == '[') {
        he = strchr(p, ']');
        if (!he)
            return -1;
        hs = p + 1;
        p = he + 1;
    } else {
        while (*p && *p != ':' && *p != '/' && *p != '?')
            p++;
        he = p;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    strcpy(port, "80");
    if (*p == ':') {
        p++;
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9' && n < 5)
            n++;
        if (n == 0)
            return -1;
        memcpy(port, p, n);
        port[n] = '\0';
        p += n;
    }
    *path = *p ? p : "/";
    return 0;
}

static h1_host *host_get(h1_pool *p, const char *name, const char *port)
{
    for (h1_host *h = p->hosts; h; h = h->next)
        if (!strcmp(h->name, name) && !strcmp(h->port, port))
            return h;
    h1_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    snprintf(h->name, sizeof h->name, "%s", name);
    snprintf(h->port, sizeof h->port, "%s", port);
    bool v6 = strchr(name, ':') != NULL;
    snprintf(h->hostport, sizeof h->hostport, v6 ? "[%s]:%s" : "%s:%s", name, port);
    h->next = p->hosts;
    p->hosts = h;
    return h;
}

/* Resolution is blocking but happens once per host and thread (and again
 * after a failed connect); backends are IPs or /etc/hosts names in practice. */
static int host_resolve(h1_host *h, char *err, size_t errlen)
{
    if (h->resolved)
        return 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(h->name, h->port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "Could not resolve host: %s (%s)", h->name, gai_strerror(rc));
        return -1;
    }
    memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
    h->alen = res->ai_addrlen;
    h->resolved = true;
    freeaddrinfo(res);
    return 0;
}

/* --- finishing --- */

static void req_destroy(h1_req *r)
{
    if (r->timer)
        event_free(r->timer);
    free(r->wbuf);
    free(r->rbuf);
    free(r);
}

static void req_free(h1_req *r)
{
    h1_pool *p = r->p;
    p->active--;
    if (p->nfree >= MAX_FREE_REQS || r->rcap != RBUF) {
        req_destroy(r);
        return;
    }
    evtimer_del(r->timer);
    r->next_free = p->free_reqs;
    p->free_reqs = r;
    p->nfree++;
}

/* A request from the free list (buffers and timer kept) or a new one. */
static h1_req *req_alloc(h1_pool *p, size_t wcap)
{
    h1_req *r = p->free_reqs;
    if (r) {
        p->free_reqs = r->next_free;
        p->nfree--;
        char *rbuf = r->rbuf, *wbuf = r->wbuf;
        size_t owcap = r->wcap;
        struct event *timer = r->timer;
        memset(r, 0, sizeof *r);
        r->rbuf = rbuf;
        r->timer = timer;
        r->wbuf = wbuf;
        r->wcap = owcap;
    } else {
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        r->rbuf = malloc(RBUF);
        r->timer = evtimer_new(p->base, on_timeout, r);
        if (!r->rbuf || !r->timer) {
            req_destroy(r);
            return NULL;
        }
    }
    r->rcap = RBUF;
    if (r->wcap < wcap) {
        char *nb = realloc(r->wbuf, wcap);
        if (!nb) {
            r->p = p;
            req_destroy(r);
            return NULL;
        }
        r->wbuf = nb;
        r->wcap = wcap;
    }
    r->p = p;
    return r;
}

/* Hands the connection back to the pool if the response ended cleanly. */
static void conn_release(h1_conn *c, bool reusable)
{
    h1_host *h = c->host;
    c->req = NULL;
    if (!reusable || h->nidle >= MAX_IDLE_PER_HOST) {
        conn_close(c);
        return;
    }
    event_del(c->wev);
    event_add(c->rev, NULL); /* an idle socket that turns readable was closed */
    c->idle_since = time(NULL);
    c->next_idle = h->idle;
    h->idle = c;
    h->nidle++;
}

static void finish(h1_req *r, enum upstream_result res, const char *msg)
{
    if (r->finished)
        return;
    r->finished = true;
    h1_conn *c = r->c;
    r->c = NULL;
    if (c) {
        bool clean = res == UP_OK && r->resp.keep_alive && !r->until_eof && r->rlen == 0;
        conn_release(c, clean);
    }
    if (!r->cancelled && r->cb.on_done) {
        r->in_callback = true;
        r->cb.on_done((upstream_req *)r, res, msg, r->ud);
        r->in_callback = false;
    }
    req_free(r);
}

static void fail_errno(h1_req *r, int err, const char *what)
{
    char msg[300];
    snprintf(msg, sizeof msg, "%s %s: %s", what, r->host->hostport, strerror(err));
    if (r->phase == PH_CONNECT || (err == ECONNREFUSED))
        r->host->resolved = false;
    finish(r, r->phase == PH_CONNECT ? UP_E_CONNECT : UP_E_IO, msg);
}

/* --- connections --- */

static void conn_close(h1_conn *c)
{
    event_free(c->rev);
    event_free(c->wev);
    close(c->fd);
    free(c);
}

static void idle_unlink(h1_conn *c)
{
    h1_host *h = c->host;
    for (h1_conn **pp = &h->idle; *pp; pp = &(*pp)->next_idle)
        if (*pp == c) {
            *pp = c->next_idle;
            h->nidle--;
            return;
        }
}

static h1_conn *conn_new(h1_pool *p, h1_host *h, int *err)
{
    int fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&h->addr, h->alen) != 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return NULL;
    }
    h1_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        *err = ENOMEM;
        return NULL;
    }
    c->p = p;
    c->host = h;
    c->fd = fd;
    c->rev = event_new(p->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(p->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    return c;
}

/* --- request progress --- */

static bool deliver(h1_req *r, const char *data, size_t len)
{
    if (!len || !r->cb.on_data)
        return true;
    r->in_callback = true;
    bool pause = r->cb.on_data((upstream_req *)r, data, len, r->ud);
    r->in_callback = false;
    if (r->cancelled)
        return false;
    if (pause && !r->paused) {
        r->paused = true;
        if (r->c)
            event_del(r->c->rev);
    }
    return true;
}

/* Consumes what is in rbuf. Returns false when the request is gone. */
static bool consume(h1_req *r)
{
    if (r->phase < PH_HEAD)
        return true; /* an early answer: parsed once the request is out */
    if (r->phase == PH_HEAD) {
        for (;;) {
            http_response head; /* on the stack: its header array is 2 KiB */
            int n = http_parse_response(r->rbuf, r->rlen, MAX_HEAD, &head);
            if (n == HTTP_INCOMPLETE)
                return true;
            if (n < 0) {
                finish(r, UP_E_IO, "malformed HTTP response from upstream");
                return false;
            }
            r->resp.status = head.status;
            r->resp.content_length = head.content_length;
            r->resp.chunked = head.chunked;
            r->resp.keep_alive = head.keep_alive;
            memmove(r->rbuf, r->rbuf + n, r->rlen - (size_t)n);
            r->rlen -= (size_t)n;
            if (r->resp.status >= 100 && r->resp.status < 200)
                continue; /* interim response */
            break;
        }
        r->phase = PH_BODY;
        http_chunked_init(&r->ch);
        r->body_left = r->resp.content_length;
        r->until_eof = !r->resp.chunked && r->resp.content_length < 0;
        if (r->cb.on_status) {
            r->in_callback = true;
            r->cb.on_status((upstream_req *)r, r->resp.status, r->ud);
            r->in_callback = false;
            if (r->cancelled)
                return false;
        }
    }
    if (r->resp.chunked) {
        size_t len = r->rlen, used = 0;
        int rc = http_chunked_decode(&r->ch, r->rbuf, &len, &used);
        if (rc < 0) {
            finish(r, UP_E_IO, "malformed chunked body from upstream");
            return false;
        }
        /* Decoded bytes sit at rbuf[0..len); keep the undecoded tail. */
        bool alive = deliver(r, r->rbuf, len);
        if (!alive)
            return false;
        memmove(r->rbuf, r->rbuf + used, r->rlen - used);
        r->rlen -= used;
        if (rc == 1) {
            finish(r, UP_OK, "");
            return false;
        }
        return true;
    }
    if (r->until_eof) {
        bool alive = deliver(r, r->rbuf, r->rlen);
        r->rlen = 0;
        return alive;
    }
    size_t take = (size_t)r->body_left < r->rlen ? (size_t)r->body_left : r->rlen;
    if (!deliver(r, r->rbuf, take))
        return false;
    r->body_left -= (int64_t)take;
    memmove(r->rbuf, r->rbuf + take, r->rlen - take);
    r->rlen -= take;
    if (r->body_left == 0) {
        finish(r, UP_OK, "");
        return false;
    }
    return true;
}

static void retry_fresh(h1_req *r)
{
    /* A reused keep-alive connection the server had closed: nothing of
     * the response arrived, so send the request again on a new one. */
    h1_conn *c = r->c;
    r->c = NULL;
    conn_close(c);
    r->retried = true;
    r->reused = false;
    r->woff = 0;
    r->rlen = 0;
    r->phase = PH_CONNECT;
    req_step(r);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    h1_conn *c = arg;
    h1_req *r = c->req;
    if (!r) {
        /* Idle connection: EOF or stray bytes both mean it is done. */
        idle_unlink(c);
        conn_close(c);
        return;
    }
    if (r->rcap - r->rlen < 512) {
        size_t ncap = r->rcap * 2;
        if (r->phase == PH_HEAD && ncap > MAX_HEAD * 2) {
            finish(r, UP_E_IO, "upstream response head too large");
            return;
        }
        char *nb = realloc(r->rbuf, ncap);
        if (!nb) {
            finish(r, UP_E_INTERNAL, "out of memory");
            return;
        }
        r->rbuf = nb;
        r->rcap = ncap;
    }
    ssize_t n = read(fd, r->rbuf + r->rlen, r->rcap - r->rlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        if (r->reused && !r->got_bytes && !r->retried) {
            retry_fresh(r);
            return;
        }
        fail_errno(r, errno, "recv from");
        return;
    }
    if (n == 0) {
        if (r->reused && !r->got_bytes && !r->retried) {
            retry_fresh(r);
            return;
        }
        if (r->phase == PH_BODY && r->until_eof) {
            r->until_eof = false; /* a clean end, but not reusable */
            r->resp.keep_alive = false;
            finish(r, UP_OK, "");
            return;
        }
        finish(r, UP_E_IO, r->got_bytes ? "upstream closed the connection mid-response"
                                        : "upstream closed the connection without answering");
        return;
    }
    r->got_bytes = true;
    r->rlen += (size_t)n;
    consume(r);
}

static void write_some(h1_req *r)
{
    h1_conn *c = r->c;
    while (r->woff < r->wlen) {
        ssize_t n = send(c->fd, r->wbuf + r->woff, r->wlen - r->woff, MSG_NOSIGNAL);
        if (n > 0) {
            r->woff += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            event_add(c->wev, NULL);
            return;
        }
        if (r->reused && !r->retried) {
            retry_fresh(r);
            return;
        }
        fail_errno(r, errno, "send to");
        return;
    }
    event_del(c->wev);
    r->phase = PH_HEAD;
    if (!r->paused)
        event_add(c->rev, NULL);
    if (r->rlen)
        consume(r);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    h1_conn *c = arg;
    h1_req *r = c->req;
    if (!r) {
        event_del(c->wev);
        return;
    }
    if (r->phase == PH_CONNECT) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            event_del(c->wev);
            fail_errno(r, err, "Failed to connect to");
            return;
        }
        r->phase = PH_WRITE;
        if (r->timeout_ms > 0) {
            struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
            evtimer_add(r->timer, &tv);
        } else {
            evtimer_del(r->timer);
        }
    }
    write_some(r);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h1_req *r = arg;
    char msg[512];
    if (r->phase == PH_INIT) {
        req_step(r);
        return;
    }
    if (r->phase == PH_CONNECT) {
        snprintf(msg, sizeof msg, "Failed to connect to %s: timed out after %ld ms", r->host->hostport, r->connect_timeout_ms);
        r->host->resolved = false;
        finish(r, UP_E_CONNECT, msg);
    } else {
        snprintf(msg, sizeof msg, "no complete answer from %s within %ld ms", r->host->hostport, r->timeout_ms);
        finish(r, UP_E_TIMEOUT, msg);
    }
}

/* Gets a connection (idle or new) and starts writing. */
static void req_step(h1_req *r)
{
    h1_host *h = r->host;
    char err[300];
    while (h->idle && !r->retried) {
        h1_conn *c = h->idle;
        h->idle = c->next_idle;
        h->nidle--;
        c->req = r;
        r->c = c;
        r->reused = true;
        r->phase = PH_WRITE;
        if (r->timeout_ms > 0) {
            struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
            evtimer_add(r->timer, &tv);
        }
        /* rev stays armed: the same event serves idle and busy states, so
         * reuse costs no epoll_ctl. */
        write_some(r);
        return;
    }
    if (host_resolve(h, err, sizeof err) != 0) {
        finish(r, UP_E_CONNECT, err);
        return;
    }
    int e = 0;
    h1_conn *c = conn_new(r->p, h, &e);
    if (!c) {
        r->phase = PH_CONNECT;
        r->host->resolved = false;
        snprintf(err, sizeof err, "Failed to connect to %s: %s", h->hostport, strerror(e));
        finish(r, UP_E_CONNECT, err);
        return;
    }
    c->req = r;
    r->c = c;
    r->phase = PH_CONNECT;
    struct timeval tv = {r->connect_timeout_ms / 1000, (r->connect_timeout_ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
    event_add(c->wev, NULL);
}

/* --- public API --- */

static void on_idle_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h1_pool *p = arg;
    time_t now = time(NULL);
    for (h1_host *h = p->hosts; h; h = h->next)
        for (h1_conn **pp = &h->idle; *pp;) {
            h1_conn *c = *pp;
            if (now - c->idle_since > IDLE_TIMEOUT_S) {
                *pp = c->next_idle;
                h->nidle--;
                conn_close(c);
            } else {
                pp = &c->next_idle;
            }
        }
}

h1_pool *upstream_h1_pool_new(struct event_base *base)
{
    h1_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base = base;
    p->idle_sweep = event_new(base, -1, EV_PERSIST, on_idle_sweep, p);
    if (!p->idle_sweep) {
        upstream_h1_pool_free(p);
        return NULL;
    }
    struct timeval tv = {IDLE_TIMEOUT_S / 2, 0};
    event_add(p->idle_sweep, &tv);
    return p;
}

void upstream_h1_pool_free(h1_pool *p)
{
    if (!p)
        return;
    h1_host *h = p->hosts;
    while (h) {
        h1_host *next = h->next;
        while (h->idle) {
            h1_conn *c = h->idle;
            h->idle = c->next_idle;
            conn_close(c);
        }
        free(h);
        h = next;
    }
    while (p->free_reqs) {
        h1_req *r = p->free_reqs;
        p->free_reqs = r->next_free;
        req_destroy(r);
    }
    if (p->idle_sweep)
        event_free(p->idle_sweep);
    free(p);
}

upstream_req *upstream_h1_start(h1_pool *p, const upstream_opts *o, const upstream_callbacks *cb, void *ud)
{
    char host[256], port[8];
    const char *path;
    if (parse_url(o->url, host, sizeof host, port, &path) != 0)
        return NULL;
    h1_host *h = host_get(p, host, port);
    if (!h)
        return NULL;
    bool post = o->body != NULL && !(o->method && !strcmp(o->method, "GET"));
    size_t plen = strlen(path), hlen = strlen(h->hostport), blen = o->bearer ? strlen(o->bearer) : 0;
    size_t cap = plen + hlen + blen + 256 + (post ? o->body_len : 0);
    h1_req *r = req_alloc(p, cap);
    if (!r)
        return NULL;
    r->hdr.tp = &upstream_h1_transport;
    r->host = h;
    r->cb = *cb;
    r->ud = ud;
    r->timeout_ms = o->timeout_ms;
    r->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    /* The head is assembled with memcpy: this runs once per request. */
    static const char head1[] = " HTTP/1.1\r\nHost: ";
    static const char head2[] = "\r\nUser-Agent: tollgate/" TOLLGATE_VERSION "\r\n"
                                "Accept: application/json, text/event-stream, application/x-ndjson\r\n";
    char *w = r->wbuf;
#define PUT(s, n) (memcpy(w, (s), (n)), w += (n))
    if (post)
        PUT("POST ", 5);
    else
        PUT("GET ", 4);
    PUT(path, plen);
    PUT(head1, sizeof head1 - 1);
    PUT(h->hostport, hlen);
    PUT(head2, sizeof head2 - 1);
    if (o->bearer) {
        PUT("Authorization: Bearer ", 22);
        PUT(o->bearer, blen);
        PUT("\r\n", 2);
    }
    if (post) {
        char num[24], *q = num + sizeof num;
        size_t v = o->body_len;
        do {
            *--q = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        PUT("Content-Type: application/json\r\nContent-Length: ", 48);
        PUT(q, (size_t)(num + sizeof num - q));
        PUT("\r\n\r\n", 4);
        if (o->body_len)
            PUT(o->body, o->body_len);
    } else {
        PUT("\r\n", 2);
    }
#undef PUT
    size_t n = (size_t)(w - r->wbuf);
    r->wlen = n;
    p->active++;
    /* Start from the loop, not from here: a request that fails at once
     * (refused, unresolvable) must report through on_done after the
     * caller has its handle, never inside upstream_h1_start. */
    r->phase = PH_INIT;
    event_active(r->timer, EV_TIMEOUT, 0);
    return (upstream_req *)r;
}

static void h1_cancel(upstream_req *ur)
{
    h1_req *r = (h1_req *)ur;
    if (r->cancelled)
        return;
    r->cancelled = true;
    if (r->in_callback)
        return; /* the code that called the callback sees the flag */
    /* Closing the connection is what tells Ollama to stop generating. */
    if (r->c) {
        h1_conn *c = r->c;
        r->c = NULL;
        conn_close(c);
    }
    r->finished = true;
    req_free(r);
}

static void h1_pause(upstream_req *ur, bool paused)
{
    h1_req *r = (h1_req *)ur;
    if (r->cancelled || r->paused == paused)
        return;
    r->paused = paused;
    if (!r->c)
        return;
    if (paused)
        event_del(r->c->rev);
    else if (r->phase >= PH_HEAD)
        event_add(r->c->rev, NULL);
}

const upstream_transport upstream_h1_transport = {h1_cancel, h1_pause};
