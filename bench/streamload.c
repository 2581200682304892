/* streamload: a streaming load generator for LLM endpoints.
 *
 * Opens N keep-alive connections to one URL, each sending the same POST
 * again and again, and reads the chunked SSE/NDJSON answers. Per request
 * it measures time to first token (request written -> first non-empty
 * event), the gaps between events, and counts events. Loopback use only;
 * stops after --duration seconds or --requests per connection.
 *
 * Every stream is accounted for: a stream that ends early (connection
 * closed, bad framing, non-200), that never completes (still open when the
 * tool gives up, 30 s after the deadline), or whose connection could not be
 * opened counts as an error; with --expect N a complete stream that did
 * not carry exactly N events counts as "short". The exit status is 1 when
 * any of those is non-zero.
 *
 *   streamload --url http://127.0.0.1:4000/v1/chat/completions --body '{...}' --conns 100 --duration 10
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "parse/http.h"

typedef struct {
    double *v;
    size_t n, cap;
} samples;

static void add(samples *s, double x)
{
    if (s->n == s->cap) {
        if (s->cap >= (1u << 24))
            return; /* enough samples */
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(samples *s, double p)
{
    if (!s->n)
        return 0;
    return s->v[(size_t)((double)(s->n - 1) * p)];
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct {
    struct sockaddr_in addr;
    char *request;
    size_t request_len;
    int requests_per_conn;
    double deadline;
    struct event_base *base;
    int expect; /* events each stream must carry; 0 = no check */
    samples ttft, gap, total;
    long done, errors, events, active, short_streams, stalled, unopened;
    long ev_min, ev_max; /* events per complete stream */
} load;

typedef struct {
    load *L;
    int fd;
    struct event *ev;
    char buf[65536];
    size_t len;
    int phase;         /* 0 head, 1 body */
    bool chunked;      /* else a Content-Length body */
    int64_t remaining; /* Content-Length bytes still to come */
    http_chunked ch;
    char line[8192];
    size_t line_len;
    double t_sent, t_last;
    bool got_first;
    int count;
    int status;
    long req_events; /* events in the current response */
} cn;

static void start_request(cn *c);

static void cn_close(cn *c, bool error)
{
    if (error)
        c->L->errors++;
    event_free(c->ev);
    close(c->fd);
    c->L->active--;
    free(c);
}

/* One line of the decoded body: an SSE "data:" line or an NDJSON line. */
static void on_line(cn *c, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (n >= 5 && !memcmp(s, "data:", 5)) {
        s += 5;
        n -= 5;
        if (n && *s == ' ')
            s++, n--;
        if (n == 6 && !memcmp(s, "[DONE]", 6))
            return;
    } else if (s[0] == ':' || (n >= 6 && !memcmp(s, "event:", 6)) || (n >= 3 && !memcmp(s, "id:", 3))) {
        return;
    }
    double t = now_us();
    if (!c->got_first) {
        c->got_first = true;
        add(&c->L->ttft, t - c->t_sent);
    } else {
        add(&c->L->gap, t - c->t_last);
    }
    c->t_last = t;
    c->L->events++;
    c->req_events++;
}

static void body_bytes(cn *c, const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '\n') {
            size_t l = c->line_len;
            if (l && c->line[l - 1] == '\r')
                l--;
            on_line(c, c->line, l);
            c->line_len = 0;
        } else if (c->line_len < sizeof c->line) {
            c->line[c->line_len++] = d[i];
        }
    }
}

/* The response is complete: account for it, then send the next request or
 * close the connection. */
static void response_done(cn *c)
{
    load *L = c->L;
    if (c->line_len) /* an NDJSON body may end without a final newline */
        body_bytes(c, "\n", 1);
    if (c->status != 200) {
        L->errors++;
    } else {
        L->done++;
        if (L->done == 1 || c->req_events < L->ev_min)
            L->ev_min = c->req_events;
        if (c->req_events > L->ev_max)
            L->ev_max = c->req_events;
        if (L->expect && c->req_events != L->expect)
            L->short_streams++;
    }
    add(&L->total, now_us() - c->t_sent);
    c->count++;
    if (now_us() >= L->deadline || (L->requests_per_conn && c->count >= L->requests_per_conn)) {
        cn_close(c, false);
        return;
    }
    start_request(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    cn *c = arg;
    ssize_t r = read(fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        /* EOF or reset in the middle of a response (or while idle between
         * requests, which this client never leaves a connection in). */
        cn_close(c, true);
        return;
    }
    c->len += (size_t)r;
    if (c->phase == 0) {
        http_response resp;
        int hl = http_parse_response(c->buf, c->len, sizeof c->buf, &resp);
        if (hl == HTTP_INCOMPLETE)
            return;
        if (hl < 0 || resp.status < 200) {
            cn_close(c, true);
            return;
        }
        c->status = resp.status;
        c->chunked = resp.chunked;
        c->remaining = resp.content_length;
        if (!c->chunked && c->remaining < 0) {
            cn_close(c, true); /* read-to-EOF bodies are not used by these servers */
            return;
        }
        memmove(c->buf, c->buf + hl, c->len - (size_t)hl);
        c->len -= (size_t)hl;
        c->phase = 1;
        http_chunked_init(&c->ch);
    }
    if (!c->chunked) {
        size_t n = c->len < (uint64_t)c->remaining ? c->len : (size_t)c->remaining;
        body_bytes(c, c->buf, n);
        c->remaining -= (int64_t)n;
        c->len = 0;
        if (c->remaining == 0)
            response_done(c);
        return;
    }
    size_t n = c->len, used = 0;
    int rc = http_chunked_decode(&c->ch, c->buf, &n, &used);
    if (rc < 0) {
        cn_close(c, true);
        return;
    }
    body_bytes(c, c->buf, n);
    /* The decoder keeps its state across calls and consumes every byte up
     * to the terminating chunk; what follows it is not ours. */
    c->len = 0;
    if (rc == 1)
        response_done(c);
}

static void start_request(cn *c)
{
    c->phase = 0;
    c->len = 0;
    c->line_len = 0;
    c->got_first = false;
    c->req_events = 0;
    c->t_sent = now_us();
    size_t off = 0;
    while (off < c->L->request_len) {
        ssize_t w = write(c->fd, c->L->request + off, c->L->request_len - off);
        if (w <= 0) {
            cn_close(c, true);
            return;
        }
        off += (size_t)w;
    }
}

/* Connects one socket (blocking, loopback: quick while the server's accept
 * backlog has room). The request is sent later, once every connection is
 * open, so that all streams start together. */
static cn *open_conn(load *L)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&L->addr, sizeof L->addr) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(fd);
    cn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->L = L;
    c->fd = fd;
    c->ev = event_new(L->base, fd, EV_READ | EV_PERSIST, on_read, c);
    event_add(c->ev, NULL);
    L->active++;
    return c;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    load *L = arg;
    if (L->active == 0 || now_us() > L->deadline + 30e6)
        event_base_loopbreak(L->base);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *body = "{}";
    int conns = 10, duration = 5, per = 0, expect = 0;
    static const struct option lo[] = {{"url", 1, 0, 'u'}, {"body", 1, 0, 'b'}, {"conns", 1, 0, 'c'},
                                       {"duration", 1, 0, 'd'}, {"requests", 1, 0, 'n'}, {"expect", 1, 0, 'e'},
                                       {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "u:b:c:d:n:e:", lo, NULL)) != -1) {
        switch (ch) {
        case 'u': url = optarg; break;
        case 'b': body = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'd': duration = atoi(optarg); break;
        case 'n': per = atoi(optarg); break;
        case 'e': expect = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: streamload --url URL [--body JSON] [--conns N] [--duration S] [--requests N] "
                            "[--expect EVENTS]\n");
            return 2;
        }
    }
    char host[64];
    int port;
    char path[512];
    if (!url || sscanf(url, "http://%63[^:]:%d%511s", host, &port, path) != 3) {
        fprintf(stderr, "streamload: --url http://IP:PORT/path required (loopback only)\n");
        return 2;
    }
    load L = {0};
    L.addr.sin_family = AF_INET;
    L.addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &L.addr.sin_addr) != 1 || (ntohl(L.addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "streamload: only 127.0.0.0/8 targets are allowed\n");
        return 2;
    }
    struct rlimit rl = {(rlim_t)conns + 64, (rlim_t)conns + 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    size_t bl = strlen(body);
    L.request = malloc(bl + 1024);
    L.request_len = (size_t)sprintf(L.request,
                                    "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                                    "Content-Length: %zu\r\n\r\n%s",
                                    path, host, port, bl, body);
    L.requests_per_conn = per;
    L.expect = expect;
    L.base = event_base_new();
    cn **cs = calloc((size_t)conns, sizeof *cs);
    int opened = 0;
    for (int i = 0; i < conns; i++)
        if ((cs[opened] = open_conn(&L)))
            opened++;
    if (opened < conns)
        fprintf(stderr, "streamload: only %d of %d connections opened\n", opened, conns);
    L.unopened = conns - opened;
    /* The clock starts when every connection is open. */
    double t0 = now_us();
    L.deadline = t0 + duration * 1e6;
    for (int i = 0; i < opened; i++)
        start_request(cs[i]); /* may close cs[i] on a write error */
    free(cs);
    struct event *tick = event_new(L.base, -1, EV_PERSIST, on_tick, &L);
    struct timeval tv = {0, 100000};
    event_add(tick, &tv);
    event_base_dispatch(L.base);
    double secs = (now_us() - t0) / 1e6;
    /* Streams still open here never completed: a stall. */
    L.stalled = L.active;
    qsort(L.ttft.v, L.ttft.n, sizeof(double), cmp);
    qsort(L.gap.v, L.gap.n, sizeof(double), cmp);
    qsort(L.total.v, L.total.n, sizeof(double), cmp);
    long failed = L.errors + L.stalled + L.unopened + L.short_streams;
    printf("conns=%d requests=%ld errors=%ld stalled=%ld unopened=%ld short=%ld events=%ld "
           "events_min=%ld events_max=%ld secs=%.2f req_per_s=%.0f events_per_s=%.0f "
           "ttft_p50_us=%.0f ttft_p99_us=%.0f gap_p50_us=%.0f gap_p99_us=%.0f total_p50_us=%.0f total_max_us=%.0f\n",
           opened, L.done, L.errors, L.stalled, L.unopened, L.short_streams, L.events, L.ev_min, L.ev_max, secs,
           (double)L.done / secs, (double)L.events / secs, pct(&L.ttft, 0.5), pct(&L.ttft, 0.99), pct(&L.gap, 0.5),
           pct(&L.gap, 0.99), pct(&L.total, 0.5), pct(&L.total, 1.0));
    event_free(tick);
    event_base_free(L.base);
    return failed ? 1 : 0;
}
