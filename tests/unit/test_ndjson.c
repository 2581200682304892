/* NDJSON splitter: splits, CRLF, blank lines, limits, trailing line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse/ndjson.h"
#include "util/buf.h"

static int record(void *ud, const char *line, size_t len)
{
    buf *b = ud;
    buf_putc(b, '[');
    buf_append(b, line, len);
    buf_puts(b, "]");
    return 0;
}

static const char BODY[] =
    "{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:00.104217Z\",\"message\":{\"role\":\"assistant\","
    "\"content\":\"The\"},\"done\":false}\n"
    "\r\n"
    "\n"
    "{\"done\":false}\r\n"
    "{\"done\":true,\"eval_count\":98}";

static const char EXPECT[] =
    "[{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:00.104217Z\",\"message\":{\"role\":\"assistant\","
    "\"content\":\"The\"},\"done\":false}][{\"done\":false}]";

static void test_every_split_same_lines(void **st)
{
    (void)st;
    size_t n = sizeof BODY - 1;
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b += 5) {
            buf got;
            buf_init(&got);
            ndjson *p = ndjson_new(4096, record, &got);
            assert_int_equal(ndjson_feed(p, BODY, a), NDJSON_OK);
            assert_int_equal(ndjson_feed(p, BODY + a, b - a), NDJSON_OK);
            assert_int_equal(ndjson_feed(p, BODY + b, n - b), NDJSON_OK);
            assert_string_equal(buf_cstr(&got), EXPECT);
            const char *line;
            size_t len;
            assert_int_equal(ndjson_finish(p, &line, &len), 1);
            assert_int_equal(len, strlen("{\"done\":true,\"eval_count\":98}"));
            assert_memory_equal(line, "{\"done\":true,\"eval_count\":98}", len);
            assert_int_equal(ndjson_finish(p, &line, &len), 0);
            ndjson_free(p);
            buf_free(&got);
        }
    }
}

static void test_too_long_line(void **st)
{
    (void)st;
    buf got;
    buf_init(&got);
    ndjson *p = ndjson_new(8, record, &got);
    assert_int_equal(ndjson_feed(p, "12345678\n", 9), NDJSON_OK); /* exactly the limit */
    assert_int_equal(ndjson_feed(p, "12345", 5), NDJSON_OK);
    assert_int_equal(ndjson_feed(p, "6789", 4), NDJSON_E_TOO_LONG);
    assert_int_equal(ndjson_feed(p, "\n", 1), NDJSON_E_TOO_LONG);
    const char *line;
    size_t len;
    assert_int_equal(ndjson_finish(p, &line, &len), NDJSON_E_TOO_LONG);
    assert_string_equal(buf_cstr(&got), "[12345678]");
    ndjson_reset(p);
    assert_int_equal(ndjson_feed(p, "ok\n", 3), NDJSON_OK);
    assert_string_equal(buf_cstr(&got), "[12345678][ok]");
    ndjson_free(p);
    buf_free(&got);
}

static void test_no_trailing_line(void **st)
{
    (void)st;
    ndjson *p = ndjson_new(64, NULL, NULL);
    assert_int_equal(ndjson_feed(p, "{}\n  \r", 6), NDJSON_OK);
    const char *line;
    size_t len;
    assert_int_equal(ndjson_finish(p, &line, &len), 0); /* whitespace only */
    assert_null(line);
    ndjson_free(p);
}

static int stop_cb(void *ud, const char *line, size_t len)
{
    (void)line;
    (void)len;
    return ++*(int *)ud == 1 ? 7 : 0;
}

static void test_callback_stops(void **st)
{
    (void)st;
    int n = 0;
    ndjson *p = ndjson_new(64, stop_cb, &n);
    assert_int_equal(ndjson_feed(p, "a\nb\nc\n", 6), 7);
    assert_int_equal(n, 1);
    ndjson_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split_same_lines),
        cmocka_unit_test(test_too_long_line),
        cmocka_unit_test(test_no_trailing_line),
        cmocka_unit_test(test_callback_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
