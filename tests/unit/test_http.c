/* HTTP/1.1 head parser and chunked decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse/http.h"

static int parse(const char *s, http_request *r) { return http_parse_request(s, strlen(s), 65536, r); }

static void test_simple_get(void **st)
{
    (void)st;
    http_request r;
    const char *s = "GET /api/tags?x=1 HTTP/1.1\r\nHost: localhost\r\nX-A:  b c  \r\n\r\nrest";
    int n = parse(s, &r);
    assert_int_equal(n, (int)(strlen(s) - 4));
    assert_true(http_method_is(&r, "GET"));
    assert_true(http_path_is(&r, "/api/tags"));
    assert_int_equal(r.target_len, strlen("/api/tags?x=1"));
    assert_true(r.keep_alive);
    assert_int_equal(r.content_length, -1);
    const http_header *h = http_find_header(&r, "x-a");
    assert_non_null(h);
    assert_int_equal(h->value_len, 3);
    assert_memory_equal(h->value, "b c", 3);
}

static void test_incomplete_at_every_split(void **st)
{
    (void)st;
    const char *s = "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    size_t head = strlen(s) - 2;
    http_request r;
    for (size_t i = 0; i < head; i++)
        assert_int_equal(http_parse_request(s, i, 65536, &r), HTTP_INCOMPLETE);
    assert_int_equal(http_parse_request(s, head, 65536, &r), (int)head);
    assert_int_equal(r.content_length, 2);
    assert_false(r.keep_alive);
}

static void test_http10_defaults_to_close(void **st)
{
    (void)st;
    http_request r;
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
    assert_false(r.keep_alive);
    assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r) > 0);
    assert_true(r.keep_alive);
}

static void test_rejects(void **st)
{
    (void)st;
    http_request r;
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &r), HTTP_E_VERSION);
    assert_int_equal(parse("GET  / HTTP/1.1\r\n\r\n", &r), HTTP_E_BAD);
    assert_int_equal(parse("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", &r), HTTP_E_BAD);
    assert_int_equal(parse("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &r), HTTP_E_BAD);
    /* Request smuggling shapes. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r), HTTP_E_BAD);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
                     HTTP_E_BAD);
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &r), HTTP_E_BAD);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r), HTTP_E_BAD);
    char big[200];
    memset(big, 'a', sizeof big);
    assert_int_equal(http_parse_request(big, sizeof big, 100, &r), HTTP_E_TOO_LARGE);
}

static void test_chunked_byte_by_byte(void **st)
{
    (void)st;
    const char *wire = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    char buf[128], body[64];
    size_t blen = 0;
    http_chunked d;
    http_chunked_init(&d);
    int rc = 0;
    size_t i = 0, wl = strlen(wire);
    while (i < wl && rc == 0) {
        buf[0] = wire[i];
        size_t len = 1, used = 0;
        rc = http_chunked_decode(&d, buf, &len, &used);
        assert_true(rc >= 0);
        memcpy(body + blen, buf, len);
        blen += len;
        i += used;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(blen, 11);
    assert_memory_equal(body, "hello world", 11);
    assert_string_equal(wire + i, "NEXT");
}

static void test_chunked_bad(void **st)
{
    (void)st;
    char buf[64];
    http_chunked d;
    strcpy(buf, "zz\r\n");
    size_t len = strlen(buf), used;
    http_chunked_init(&d);
    assert_int_equal(http_chunked_decode(&d, buf, &len, &used), HTTP_E_BAD);
    strcpy(buf, "fffffffffffffffff\r\n");
    len = strlen(buf);
    http_chunked_init(&d);
    assert_int_equal(http_chunked_decode(&d, buf, &len, &used), HTTP_E_BAD);
}

static void test_response_heads(void **st)
{
    (void)st;
    http_response r;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n";
    int n = http_parse_response(ok, strlen(ok), 65536, &r);
    assert_int_equal(n, (int)(strlen(ok) - 3));
    assert_int_equal(r.status, 200);
    assert_true(r.chunked);
    assert_true(r.keep_alive);
    assert_int_equal(r.content_length, -1);
    for (size_t i = 0; i < (size_t)n; i++)
        assert_int_equal(http_parse_response(ok, i, 65536, &r), HTTP_INCOMPLETE);
    const char *cl = "HTTP/1.0 404 Not Found\r\nContent-Length: 18\r\n\r\n";
    assert_true(http_parse_response(cl, strlen(cl), 65536, &r) > 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.content_length, 18);
    assert_false(r.keep_alive);
    const char *noreason = "HTTP/1.1 204\r\nConnection: close\r\n\r\n";
    assert_true(http_parse_response(noreason, strlen(noreason), 65536, &r) > 0);
    assert_int_equal(r.status, 204);
    assert_false(r.keep_alive);
    assert_int_equal(http_parse_response("HTTP/2 200 OK\r\n\r\n", 17, 65536, &r), HTTP_E_BAD);
    assert_int_equal(http_parse_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, 65536, &r), HTTP_E_BAD);
    const char *dup = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
    assert_int_equal(http_parse_response(dup, strlen(dup), 65536, &r), HTTP_E_BAD);
}

/* The incremental search finds the same end as the stateless parser, fed a
 * byte at a time or in odd pieces, and looks at each byte a bounded number
 * of times (a slow head no longer costs quadratic time). */
static void test_head_scan_incremental(void **st)
{
    (void)st;
    const char *heads[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\nbody",
        "GET / HTTP/1.1\r\nA: b\r\n\nX",
        "GET / HTTP/1.1\r\nA: \n\r\n",
    };
    for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
        const char *s = heads[h];
        size_t n = strlen(s);
        http_request r;
        int want = http_parse_request(s, n, 65536, &r);
        assert_true(want > 0);
        for (size_t step = 1; step <= 3; step++) {
            http_head_scan sc;
            http_head_scan_init(&sc);
            size_t got = 0;
            for (size_t len = step; len < n + step && !got; len += step)
                got = http_head_scan_feed(&sc, s, len < n ? len : n);
            assert_int_equal(got, (size_t)want);
            assert_int_equal(http_parse_request(s, got, 65536, &r), want);
        }
    }
    /* 60 KB of header bytes a byte at a time: the scan position moves with
     * the data instead of restarting at zero. */
    static char big[60000];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 17);
    http_head_scan sc;
    http_head_scan_init(&sc);
    for (size_t len = 1; len <= sizeof big; len++) {
        assert_int_equal(http_head_scan_feed(&sc, big, len), 0);
        assert_true(sc.pos + 2 >= len);
    }
}

static void test_api_key(void **st)
{
    (void)st;
    struct { const char *head, *key; } cases[] = {
        {"GET / HTTP/1.1\r\nAuthorization: Bearer sk-1\r\n\r\n", "sk-1"},
        {"GET / HTTP/1.1\r\nauthorization: bearer   sk-2\r\n\r\n", "sk-2"},
        {"GET / HTTP/1.1\r\nAuthorization: Basic abc\r\nx-litellm-api-key: sk-3\r\n\r\n", "sk-3"},
        {"GET / HTTP/1.1\r\napi-key: sk-4\r\n\r\n", "sk-4"},
        {"GET / HTTP/1.1\r\nAuthorization: Bearer\r\n\r\n", NULL},
        {"GET / HTTP/1.1\r\nAuthorization: Basic abc\r\n\r\n", NULL},
        {"GET / HTTP/1.1\r\napi-key:\r\n\r\n", NULL},
        {"GET / HTTP/1.1\r\n\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_request r;
        assert_true(parse(cases[i].head, &r) > 0);
        const char *k = NULL;
        size_t kl = 0;
        bool ok = http_request_api_key(&r, &k, &kl);
        if (!cases[i].key) {
            assert_false(ok);
            continue;
        }
        assert_true(ok);
        assert_int_equal(kl, strlen(cases[i].key));
        assert_memory_equal(k, cases[i].key, kl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),          cmocka_unit_test(test_incomplete_at_every_split),
        cmocka_unit_test(test_http10_defaults_to_close), cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_chunked_byte_by_byte), cmocka_unit_test(test_chunked_bad),
        cmocka_unit_test(test_response_heads),      cmocka_unit_test(test_head_scan_incremental),
        cmocka_unit_test(test_api_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
