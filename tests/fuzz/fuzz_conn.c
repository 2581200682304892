/* libFuzzer: the server's connection state machine. Each input is sent to a
 * real connection (a socketpair adopted by worker 0 of an in-process server
 * whose loop this harness turns) in pieces of pseudo-random sizes chosen by
 * the input's first bytes: pipelining, chunked bodies, Expect: 100-continue,
 * the head and body limits, refusals on the head, half-close. After the
 * input the client closes; the connection must then be gone (no conn left
 * behind) and no sanitizer may fire. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(conn *c, const http_request *req, const char *body, size_t len, void *ud)
{
    (void)ud;
    if (http_path_is(req, "/s")) { /* a chunked stream, answered at once */
        conn_stream_begin(c, 200, "text/plain", NULL);
        conn_stream_write(c, body, len);
        conn_stream_write(c, "x", 1);
        conn_stream_end(c);
        return;
    }
    if (http_path_is(req, "/abort")) {
        conn_abort(c);
        return;
    }
    conn_respond(c, 200, "text/plain", NULL, body, len);
}

static void on_head(conn *c, const http_request *req, void *ud)
{
    (void)ud;
    const char *k;
    size_t kl;
    if (!http_request_api_key(req, &k, &kl) && http_find_header(req, "x-deny"))
        conn_respond(c, 401, "text/plain", NULL, "no", 2);
}

static server *srv;
static struct event_base *base;

static void turn(int peer)
{
    char sink[8192];
    for (int i = 0; i < 4; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        while (read(peer, sink, sizeof sink) > 0)
            ;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv) {
        signal(SIGPIPE, SIG_IGN);
        char err[256];
        server_config cfg = {.host = "127.0.0.1", .port = 0, .threads = 1, .max_head = 1024, .max_body = 4096,
                             .handler = handler, .on_head = on_head};
        srv = server_new(&cfg, err, sizeof err);
        if (!srv)
            abort();
        base = srv_worker_base(srv, 0);
    }
    if (size < 2)
        return 0;
    uint32_t rng = (uint32_t)data[0] << 8 | data[1] | 1u;
    bool half_close = data[0] & 1;
    data += 2;
    size -= 2;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    if (!srv_adopt(srv, 0, sv[0]))
        abort();
    size_t off = 0;
    while (off < size) {
        rng = rng * 1103515245u + 12345u;
        size_t piece = 1 + (rng >> 16) % 96;
        if (piece > size - off)
            piece = size - off;
        ssize_t w = write(sv[1], data + off, piece);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN)
            break; /* the server closed: the rest cannot be sent */
        turn(sv[1]);
    }
    if (half_close) {
        shutdown(sv[1], SHUT_WR);
        turn(sv[1]);
    }
    close(sv[1]);
    for (int i = 0; i < 50 && srv_worker_conns(srv, 0) > 0; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    if (srv_worker_conns(srv, 0) != 0)
        abort(); /* a connection outlived its client */
    return 0;
}
