/* net/server: a real server on a kernel-chosen port, driven over a socket.
 * Bodies that arrive after the head in several pieces make the connection
 * buffer grow (and move) before the handler runs: the head the handler sees
 * must still be intact (this used to point into the old buffer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/server.h"

/* Echoes method, path, the X-Tag header and the body's length and sum. */
static void echo(conn *c, const http_request *req, const char *body, size_t len, void *ud)
{
    (void)ud;
    const http_header *tag = http_find_header(req, "x-tag");
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (unsigned char)body[i];
    char out[512];
    int n = snprintf(out, sizeof out, "%.*s %.*s tag=%.*s len=%zu sum=%u", (int)req->method_len, req->method,
                     (int)req->path_len, req->target, tag ? (int)tag->value_len : 4, tag ? tag->value : "none", len,
                     sum);
    conn_respond(c, 200, "text/plain", NULL, out, (size_t)n);
}

/* Refuses, on the head, a request carrying X-Deny (as serve.c refuses a
 * missing key): the body must never be read. */
static int head_calls;
static void deny(conn *c, const http_request *req, void *ud)
{
    (void)ud;
    head_calls++;
    if (http_find_header(req, "x-deny"))
        conn_respond(c, 401, "text/plain", NULL, "denied", 6);
}

static server *srv;
static pthread_t tid;

static void *run(void *arg)
{
    server_run(arg);
    return NULL;
}

static int setup(void **st)
{
    (void)st;
    char err[256];
    server_config cfg = {.host = "127.0.0.1", .port = 0, .threads = 1, .handler = echo, .on_head = deny,
                         .header_timeout_ms = 300, .max_body = 1 << 20};
    srv = server_new(&cfg, err, sizeof err);
    assert_non_null(srv);
    pthread_create(&tid, NULL, run, srv);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    server_stop(srv, 1000);
    pthread_join(tid, NULL);
    server_free(srv);
    return 0;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

/* Reads responses until `count` bodies ending in "sum=..." were seen. */
static void read_responses(int fd, char *out, size_t cap, int count)
{
    size_t len = 0;
    out[0] = '\0';
    while (1) {
        int seen = 0;
        for (const char *p = out; (p = strstr(p, "sum=")); p++)
            seen++;
        /* A body is complete when a digit run after sum= is followed by
         * the next response or the end of what was sent. */
        if (seen >= count && len > 0 && out[len - 1] >= '0' && out[len - 1] <= '9')
            break;
        ssize_t r = read(fd, out + len, cap - 1 - len);
        assert_true(r > 0);
        len += (size_t)r;
        out[len] = '\0';
    }
}

static void test_body_in_pieces_keeps_head(void **st)
{
    (void)st;
    static char body[40000];
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof body; i++) {
        body[i] = (char)('a' + i % 26);
        sum += (unsigned char)body[i];
    }
    int fd = dial();
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Tag: hello-world\r\nContent-Length: %zu\r\n\r\n",
                      sizeof body);
    send_all(fd, head, (size_t)hn);
    /* Several pieces; the buffer grows (and moves) several times. */
    send_all(fd, body, 3000);
    send_all(fd, body + 3000, 3000);
    send_all(fd, body + 6000, 14000);
    send_all(fd, body + 20000, sizeof body - 20000);
    char out[4096], want[128];
    read_responses(fd, out, sizeof out, 1);
    snprintf(want, sizeof want, "POST /v1/chat/completions tag=hello-world len=%zu sum=%u", sizeof body, sum);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, want));
    close(fd);
}

static void test_pipelined_and_chunked(void **st)
{
    (void)st;
    int fd = dial();
    const char *reqs = "GET /a HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\n"
                       "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Tag: two\r\n\r\n"
                       "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                       "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, reqs, strlen(reqs));
    char out[4096];
    read_responses(fd, out, sizeof out, 3);
    const char *a = strstr(out, "GET /a tag=one len=0 sum=0");
    const char *b = strstr(out, "POST /b tag=two len=5 sum=495");
    const char *cc = strstr(out, "GET /c tag=none len=0 sum=0");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(cc);
    assert_true(a < b && b < cc); /* answered in order */
    close(fd);
}

static void test_bad_request_gets_400_and_close(void **st)
{
    (void)st;
    int fd = dial();
    const char *bad = "GET / HTTP/1.1\r\nBad Header\r\n\r\n";
    send_all(fd, bad, strlen(bad));
    char out[1024];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd, out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)r; /* the server closes after answering */
    out[len] = '\0';
    assert_non_null(strstr(out, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(out, "\"error\""));
    close(fd);
}

/* Reads until the server closes (bounded by a receive timeout). */
static size_t read_to_close(int fd, char *out, size_t cap)
{
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = 0;
    ssize_t r;
    while (len < cap - 1 && (r = read(fd, out + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    return len;
}

static void test_head_hook_refuses_before_body(void **st)
{
    (void)st;
    int fd = dial();
    const char *h = "POST /x HTTP/1.1\r\nHost: x\r\nX-Deny: 1\r\nExpect: 100-continue\r\nContent-Length: 500000\r\n\r\n";
    send_all(fd, h, strlen(h));
    char out[1024];
    read_to_close(fd, out, sizeof out); /* no body byte was sent */
    assert_true(strncmp(out, "HTTP/1.1 401 Unauthorized\r\n", 27) == 0);
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_null(strstr(out, "100 Continue"));
    close(fd);
    /* Without X-Deny the hook lets it through, and a GET without a body
     * never calls it. */
    int before = head_calls;
    fd = dial();
    const char *ok = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab";
    send_all(fd, ok, strlen(ok));
    read_responses(fd, out, sizeof out, 2);
    assert_non_null(strstr(out, "POST /b tag=none len=2 sum=195"));
    assert_int_equal(head_calls, before + 1);
    close(fd);
}

static void test_half_close_still_answered(void **st)
{
    (void)st;
    int fd = dial();
    const char *req = "POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    send_all(fd, req, strlen(req));
    shutdown(fd, SHUT_WR);
    char out[1024];
    read_to_close(fd, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "POST /h tag=none len=3 sum=294"));
    close(fd);
}

static void test_huge_chunk_413_at_once(void **st)
{
    (void)st;
    int fd = dial();
    const char *req = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\nabc";
    send_all(fd, req, strlen(req));
    char out[1024];
    read_to_close(fd, out, sizeof out);
    assert_true(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
    close(fd);
}

static void test_slow_head_408_at_deadline(void **st)
{
    (void)st;
    int fd = dial();
    send_all(fd, "GET / HTTP/1.1\r\n", 16);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* A byte every 50 ms: the old per-byte timer never fired. */
    char out[1024];
    size_t len = 0;
    for (int i = 0; i < 100 && len == 0; i++) {
        if (write(fd, "X", 1) != 1)
            break;
        struct timeval tv = {0, 50000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t r = read(fd, out, sizeof out - 1);
        if (r > 0)
            len = (size_t)r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out[len] = '\0';
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(strncmp(out, "HTTP/1.1 408 ", 13) == 0);
    assert_true(ms >= 250 && ms < 1500);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_in_pieces_keeps_head),
        cmocka_unit_test(test_pipelined_and_chunked),
        cmocka_unit_test(test_bad_request_gets_400_and_close),
        cmocka_unit_test(test_head_hook_refuses_before_body),
        cmocka_unit_test(test_half_close_still_answered),
        cmocka_unit_test(test_huge_chunk_413_at_once),
        cmocka_unit_test(test_slow_head_408_at_deadline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
