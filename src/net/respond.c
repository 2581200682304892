/* net/server: writing responses (heads, bodies, chunked streams) and the
 * answers the server gives on its own (400, 408, 413, 431, 503). */
#include "net/server_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a refused connection may take to read its answer, and then how
 * long its remaining input is drained before closing (each, at most). */
#define REJECT_WRITE_MS 2000

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

/* Defers the teardown to the loop so no caller up the stack holds a freed
 * conn (writes can fail deep inside a handler). */
void srv_schedule_reap(conn *c)
{
    c->broken = true;
    event_active(c->reaper, 0, 0);
}

void srv_flush_out(conn *c)
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
        srv_schedule_reap(c);
        return;
    }
    event_del(c->wev);
    if (c->close_after_write) {
        srv_linger(c);
        return;
    }
    if (c->want_drain && c->drain_cb) {
        c->want_drain = false;
        c->drain_cb(c, c->drain_arg);
    }
}

void srv_after_write(conn *c)
{
    if (c->broken)
        return;
    srv_flush_out(c);
    if (c->drain_cb && evbuffer_get_length(c->out) > c->drain_low)
        c->want_drain = true;
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
void srv_write_head(conn *c, int status, const char *ctype, const char *extra, long long content_length)
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

void srv_reject(conn *c, int status, const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"%d\"}}",
                     msg, status);
    c->keep_alive = false;
    c->head_method = false;
    srv_write_head(c, status, "application/json", NULL, n);
    evbuffer_add(c->out, body, (size_t)n);
    c->close_after_write = true;
    event_del(c->rev);
    /* A client that does not read its answer does not keep the connection:
     * the timer now bounds the write (and srv_linger re-arms it). */
    struct timeval tv = {REJECT_WRITE_MS / 1000, (REJECT_WRITE_MS % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    srv_flush_out(c);
}

void srv_linger(conn *c)
{
    if (c->state == ST_LINGER || c->broken)
        return;
    c->state = ST_LINGER;
    c->close_after_write = false;
    shutdown(c->fd, SHUT_WR);
    if (c->read_eof) {
        srv_schedule_reap(c);
        return;
    }
    event_add(c->rev, NULL);
    struct timeval tv = {REJECT_WRITE_MS / 1000, (REJECT_WRITE_MS % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* --- public response API --- */

int conn_respond(conn *c, int status, const char *ctype, const char *extra, const void *body, size_t len)
{
    if (c->broken || c->state != ST_HANDLING || c->streaming)
        return -1;
    srv_write_head(c, status, ctype, extra, (long long)len);
    if (!c->head_method && len)
        evbuffer_add(c->out, body, len);
    srv_finish_response(c);
    return 0;
}

int conn_stream_begin(conn *c, int status, const char *ctype, const char *extra)
{
    if (c->broken || c->state != ST_HANDLING || c->streaming)
        return -1;
    c->streaming = true;
    srv_write_head(c, status, ctype, extra, -1);
    srv_after_write(c);
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
    srv_after_write(c);
    return c->broken ? -1 : 0;
}

int conn_stream_end(conn *c)
{
    if (c->broken || !c->streaming)
        return -1;
    if (!c->head_method)
        evbuffer_add(c->out, "0\r\n\r\n", 5);
    srv_finish_response(c);
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
    srv_schedule_reap(c);
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
