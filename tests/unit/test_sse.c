/* SSE parser: splits, line ends, comments, fields, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse/sse.h"
#include "util/buf.h"

/* Each event is recorded as "type|id|data\n" so whole runs compare as text. */
static int record(void *ud, const sse_event *ev)
{
    buf *b = ud;
    buf_append(b, ev->type, ev->type_len);
    buf_putc(b, '|');
    buf_append(b, ev->id, ev->id_len);
    buf_putc(b, '|');
    buf_append(b, ev->data, ev->data_len);
    buf_putc(b, '\n');
    return 0;
}

static const char STREAM[] = "\xEF\xBB\xBF"
                             ": comment line\r\n"
                             "data: {\"a\":1}\r\n\r\n"
                             "event: update\n"
                             "id: 7\n"
                             "data:first\n"
                             "data:  second\n"
                             "\n"
                             "data\r\r"
                             "retry: 100\r"
                             "unknown: x\r"
                             "data: last\r\n"
                             "\r\n"
                             "event: nodata\n\n"
                             "data: [DONE]\n\n";

static const char EXPECT[] = "message||{\"a\":1}\n"
                             "update|7|first\n second\n"
                             "message|7|\n"
                             "message|7|last\n"
                             "message|7|[DONE]\n";

static void run_split(const char *s, size_t n, size_t a, size_t b, buf *got)
{
    sse_parser *p = sse_new(1 << 16, record, got);
    assert_non_null(p);
    assert_int_equal(sse_feed(p, s, a), SSE_OK);
    assert_int_equal(sse_feed(p, s + a, b - a), SSE_OK);
    assert_int_equal(sse_feed(p, s + b, n - b), SSE_OK);
    assert_int_equal(sse_finish(p), SSE_OK);
    sse_free(p);
}

static void test_every_split_gives_same_events(void **st)
{
    (void)st;
    size_t n = sizeof STREAM - 1;
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b += 3) {
            buf got;
            buf_init(&got);
            run_split(STREAM, n, a, b, &got);
            assert_string_equal(buf_cstr(&got), EXPECT);
            buf_free(&got);
        }
    }
}

static void test_byte_by_byte(void **st)
{
    (void)st;
    buf got;
    buf_init(&got);
    sse_parser *p = sse_new(1 << 16, record, &got);
    for (size_t i = 0; i < sizeof STREAM - 1; i++)
        assert_int_equal(sse_feed(p, STREAM + i, 1), SSE_OK);
    assert_int_equal(sse_finish(p), SSE_OK);
    assert_string_equal(buf_cstr(&got), EXPECT);
    sse_free(p);
    buf_free(&got);
}

static void test_cr_then_lf_across_feeds_is_one_line_end(void **st)
{
    (void)st;
    buf got;
    buf_init(&got);
    sse_parser *p = sse_new(1024, record, &got);
    assert_int_equal(sse_feed(p, "data: x\r", 8), SSE_OK);
    assert_int_equal(sse_feed(p, "\ndata: y\r", 9), SSE_OK);
    assert_int_equal(sse_feed(p, "\n\r", 2), SSE_OK);
    assert_int_equal(sse_feed(p, "\n", 1), SSE_OK); /* \r\n split: one blank line */
    assert_string_equal(buf_cstr(&got), "message||x\ny\n");
    sse_free(p);
    buf_free(&got);
}

static void test_oversize_event_is_an_error(void **st)
{
    (void)st;
    buf got;
    buf_init(&got);
    sse_parser *p = sse_new(32, record, &got);
    assert_int_equal(sse_feed(p, "data: 0123456789\n", 17), SSE_OK);
    assert_int_equal(sse_feed(p, "data: 0123456789\n", 17), SSE_OK);
    assert_int_equal(sse_feed(p, "data: 0123456789\n", 17), SSE_E_TOO_BIG);
    assert_int_equal(sse_feed(p, "\n", 1), SSE_E_TOO_BIG); /* sticky */
    assert_int_equal(got.len, 0);
    sse_reset(p);
    /* One long line without a newline also trips the limit. */
    char big[64];
    memset(big, 'a', sizeof big);
    assert_int_equal(sse_feed(p, "data: ", 6), SSE_OK);
    assert_int_equal(sse_feed(p, big, sizeof big), SSE_E_TOO_BIG);
    sse_free(p);
    buf_free(&got);
}

static void test_finish_reports_truncation(void **st)
{
    (void)st;
    buf got;
    buf_init(&got);
    sse_parser *p = sse_new(1024, record, &got);
    assert_int_equal(sse_feed(p, "data: {\"x\":1}\n", 14), SSE_OK);
    assert_int_equal(sse_finish(p), SSE_E_TRUNCATED);
    assert_int_equal(got.len, 0); /* the partial event is discarded */
    assert_int_equal(sse_feed(p, "data: a", 7), SSE_OK);
    assert_int_equal(sse_finish(p), SSE_E_TRUNCATED);
    assert_int_equal(sse_feed(p, ": keepalive\n", 12), SSE_OK);
    assert_int_equal(sse_finish(p), SSE_OK); /* comments are not events */
    sse_free(p);
    buf_free(&got);
}

static int stop_at_second(void *ud, const sse_event *ev)
{
    int *n = ud;
    (void)ev;
    return ++*n == 2 ? 42 : 0;
}

static void test_callback_can_stop(void **st)
{
    (void)st;
    int n = 0;
    sse_parser *p = sse_new(1024, stop_at_second, &n);
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    assert_int_equal(sse_feed(p, s, strlen(s)), 42);
    assert_int_equal(n, 2);
    sse_free(p);
}

static void test_id_with_nul_is_ignored_and_field_without_colon(void **st)
{
    (void)st;
    buf got;
    buf_init(&got);
    sse_parser *p = sse_new(1024, record, &got);
    const char s[] = "id: 1\nid: a\0b\ndata\nevent\n\n";
    assert_int_equal(sse_feed(p, s, sizeof s - 1), SSE_OK);
    assert_string_equal(buf_cstr(&got), "message|1|\n");
    sse_free(p);
    buf_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split_gives_same_events),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_cr_then_lf_across_feeds_is_one_line_end),
        cmocka_unit_test(test_oversize_event_is_an_error),
        cmocka_unit_test(test_finish_reports_truncation),
        cmocka_unit_test(test_callback_can_stop),
        cmocka_unit_test(test_id_with_nul_is_ignored_and_field_without_colon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
