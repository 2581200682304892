/* streamload: a streaming load generator for LLM endpoints.
 *
 * Opens N keep-alive connections to one URL, each sending the same POST
 * again and again, and reads the chunked SSE/NDJSON answers. Per request
 * it measures time to first token (request written -> first non-empty
 * event), the gaps between events, and counts events. Loopback use only;
 * stops after --duration seconds or --requests per connection.
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
    samples ttft, gap, total;
    long done, errors, events, active;
} load;

typedef struct {
    load *L;
    int fd;
    struct event *ev;
    char buf[65536];
    size_t len;
    int phase; /* 0 head, 1 body */
    http_chunked ch;
    char line[8192];
    size_t line_len;
    double t_sent, t_last;
    bool got_first;
    int count;
    int status;
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

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    cn *c = arg;
    ssize_t r = read(fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r <= 0) {
        if (r < 0 && errno == EAGAIN)
            return;
        cn_close(c, true);
        return;
    }
    c->len += (size_t)r;
    if (c->phase == 0) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return;
        c->status = atoi(c->buf + 9);
        size_t hl = (size_t)(end - c->buf) + 4;
        memmove(c->buf, c->buf + hl, c->len - hl);
        c->len -= hl;
        c->phase = 1;
        http_chunked_init(&c->ch);
    }
    size_t n = c->len, used = 0;
    int rc = http_chunked_decode(&c->ch, c->buf, &n, &used);
    if (rc < 0) {
        cn_close(c, true);
        return;
    }
    body_bytes(c, c->buf, n);
    /* Keep undecoded bytes (a partial chunk-size line). */
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    if (rc == 1) {
        load *L = c->L;
        if (c->status != 200)
            L->errors++;
        else
            L->done++;
        add(&L->total, now_us() - c->t_sent);
        c->count++;
        if (now_us() >= L->deadline || (L->requests_per_conn && c->count >= L->requests_per_conn)) {
            cn_close(c, false);
            return;
        }
        start_request(c);
    }
}

static void start_request(cn *c)
{
    c->phase = 0;
    c->len = 0;
    c->line_len = 0;
    c->got_first = false;
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

static int open_conn(load *L)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&L->addr, sizeof L->addr) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(fd);
    cn *c = calloc(1, sizeof *c);
    c->L = L;
    c->fd = fd;
    c->ev = event_new(L->base, fd, EV_READ | EV_PERSIST, on_read, c);
    event_add(c->ev, NULL);
    L->active++;
    start_request(c);
    return 0;
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
    int conns = 10, duration = 5, per = 0;
    static const struct option lo[] = {{"url", 1, 0, 'u'}, {"body", 1, 0, 'b'}, {"conns", 1, 0, 'c'},
                                       {"duration", 1, 0, 'd'}, {"requests", 1, 0, 'n'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "u:b:c:d:n:", lo, NULL)) != -1) {
        switch (ch) {
        case 'u': url = optarg; break;
        case 'b': body = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'd': duration = atoi(optarg); break;
        case 'n': per = atoi(optarg); break;
        default: fprintf(stderr, "usage: streamload --url URL [--body JSON] [--conns N] [--duration S] [--requests N]\n"); return 2;
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
    L.base = event_base_new();
    double t0 = now_us();
    L.deadline = t0 + duration * 1e6;
    int opened = 0;
    for (int i = 0; i < conns; i++)
        opened += open_conn(&L) == 0;
    if (opened < conns)
        fprintf(stderr, "streamload: only %d of %d connections opened\n", opened, conns);
    struct event *tick = event_new(L.base, -1, EV_PERSIST, on_tick, &L);
    struct timeval tv = {0, 100000};
    event_add(tick, &tv);
    event_base_dispatch(L.base);
    double secs = (now_us() - t0) / 1e6;
    qsort(L.ttft.v, L.ttft.n, sizeof(double), cmp);
    qsort(L.gap.v, L.gap.n, sizeof(double), cmp);
    qsort(L.total.v, L.total.n, sizeof(double), cmp);
    printf("conns=%d requests=%ld errors=%ld events=%ld secs=%.2f req_per_s=%.0f events_per_s=%.0f "
           "ttft_p50_us=%.0f ttft_p99_us=%.0f gap_p50_us=%.0f gap_p99_us=%.0f total_p50_us=%.0f\n",
           opened, L.done, L.errors, L.events, secs, (double)L.done / secs, (double)L.events / secs,
           pct(&L.ttft, 0.5), pct(&L.ttft, 0.99), pct(&L.gap, 0.5), pct(&L.gap, 0.99), pct(&L.total, 0.5));
    event_free(tick);
    event_base_free(L.base);
    return L.errors ? 1 : 0;
}
