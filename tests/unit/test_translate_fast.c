/* The byte-level fast paths (src/translate/fast.c): each fast path gives
 * what the jansson path gives (the scanners: test_json_scan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "translate/translate.h"
#include "translate/tr_int.h"

static void test_request_model(void **st)
{
    (void)st;
    char m[16];
    const char *b = "{\"messages\":[], \"model\" : \"bench\"}";
    assert_true(tr_request_model(b, strlen(b), m, sizeof m));
    assert_string_equal(m, "bench");
    static const char *const ask_jansson[] = {
        "{\"model\":\"a\\u0062\"}", "{\"model\":\"a\",\"model\":\"b\"}", "{\"model\":null}", "{\"model\":1}",
        "{\"x\":1}", "[\"model\"]", "{\"model\":\"a\"", "{\"model\":\"0123456789abcdef\"}",
    };
    for (size_t i = 0; i < sizeof ask_jansson / sizeof ask_jansson[0]; i++)
        if (tr_request_model(ask_jansson[i], strlen(ask_jansson[i]), m, sizeof m))
            fail_msg("answered: %s", ask_jansson[i]);
}

/* Builds with the fast path and with jansson; both must agree. Returns the
 * fast output. */
static void build_both(tr_kind k, const char *body, buf *fast)
{
    buf slow;
    buf_init(&slow);
    tr_request_info fi, si;
    tr_error fe, se;
    buf_reset(fast);
    int frc = tr_build_request(k, TR_SRC_OPENAI, body, strlen(body), "llama3.2:3b", fast, &fi, &fe);
    tr_fast_disabled = true;
    int src = tr_build_request(k, TR_SRC_OPENAI, body, strlen(body), "llama3.2:3b", &slow, &si, &se);
    tr_fast_disabled = false;
    assert_int_equal(frc, 0);
    assert_int_equal(src, 0);
    assert_memory_equal(&fi, &si, sizeof fi);
    json_t *a = json_loadb(fast->data, fast->len, 0, NULL), *b = json_loadb(slow.data, slow.len, 0, NULL);
    if (!a || !b || !json_equal(a, b))
        fail_msg("differ:\nfast: %s\nslow: %s", fast->data, slow.data);
    json_decref(a);
    json_decref(b);
    buf_free(&slow);
}

static void test_request(void **st)
{
    (void)st;
    buf out;
    buf_init(&out);
    /* The client's bytes are kept: whitespace, number spelling, escapes. */
    build_both(TR_CHAT,
               "{ \"model\": \"bench\", \"messages\": [{\"role\":\"user\",\"content\":\"Say \\\"hi\\\" 42\"},"
               "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\\nb\"}]}, 7], \"n\": 1e0 }",
               &out);
    assert_string_equal(out.data,
                        "{ \"model\": \"llama3.2:3b\", \"messages\": [{\"role\":\"user\",\"content\":\"Say \\\"hi\\\" 42\"},"
                        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\\nb\"}]}, 7], \"n\": 1e0 }");
    /* Streaming: the usage chunk is requested in every spelling. */
    build_both(TR_CHAT, "{\"model\":\"a\",\"stream\":true,\"messages\":[{\"content\":\"x\"}]} ", &out);
    assert_string_equal(out.data, "{\"model\":\"llama3.2:3b\",\"stream\":true,\"messages\":[{\"content\":\"x\"}],"
                                  "\"stream_options\":{\"include_usage\":true}}");
    build_both(TR_CHAT, "{\"stream_options\":null,\"model\":\"a\",\"stream\":true,\"messages\":[1]}", &out);
    assert_string_equal(out.data, "{\"stream_options\":{\"include_usage\":true},\"model\":\"llama3.2:3b\","
                                  "\"stream\":true,\"messages\":[1]}");
    build_both(TR_CHAT, "{\"model\":\"a\",\"stream\":true,\"stream_options\":{\"include_usage\":false},\"messages\":[1]}",
               &out); /* declined by the fast path, answered by jansson */
    build_both(TR_COMPLETION, "{\"model\":\"a\",\"prompt\":[\"one two\",\"x\\u00e9\",3],\"stream\":null}", &out);
    build_both(TR_EMBEDDING, "{\"model\":\"a\",\"input\":\"hello there\",\"stream\":true}", &out);
    build_both(TR_CHAT, "{\"model\":\"a\",\"messages\":[{\"content\":\"x\",\"content\":\"yy yy\"}]}", &out);
    buf_free(&out);
}

/* A non-streaming OpenAI body through tr_stream, fast or jansson. */
static void finish_body(const char *body, bool slow, tr_stats *st, buf *out)
{
    tr_request_info info = {0};
    tr_stream *t = tr_stream_new(TR_CHAT, TR_SRC_OPENAI, &info, "alias");
    assert_non_null(t);
    buf_reset(out);
    tr_stream_feed(t, body, strlen(body), out);
    tr_fast_disabled = slow;
    int rc = tr_stream_finish(t, out);
    tr_fast_disabled = false;
    *st = *tr_stream_stats(t);
    assert_int_equal(rc, st->failed ? -1 : 0);
    tr_stream_free(t);
}

static void body_both(const char *body)
{
    buf a, b;
    buf_init(&a);
    buf_init(&b);
    tr_stats fs, ss;
    finish_body(body, false, &fs, &a);
    finish_body(body, true, &ss, &b);
    assert_memory_equal(&fs, &ss, sizeof fs);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    buf_free(&a);
    buf_free(&b);
}

static void test_body(void **st)
{
    (void)st;
    tr_stats s;
    buf out;
    buf_init(&out);
    const char *bench = "{\"id\":\"x\",\"model\":\"llama3.2:3b\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                        "\"assistant\",\"content\":\"Hello! How can I help you today?\"},\"finish_reason\":\"stop\"}],"
                        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8,\"total_tokens\":20}}";
    finish_body(bench, false, &s, &out);
    assert_true(s.done && s.have_usage && s.token_seen);
    assert_int_equal(s.prompt_tokens, 12);
    assert_int_equal(s.completion_tokens, 8);
    assert_string_equal(s.finish_reason, "stop");
    assert_non_null(strstr(out.data, "\"model\":\"alias\""));
    body_both(bench);
    body_both("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"function\":{\"name\":\"f\","
              "\"arguments\":\"{\\\"a\\\":1}\"}},7]},\"finish_reason\":\"tool_calls\"}],"
              "\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":2.0}}");
    body_both("{\"choices\":[{\"delta\":null,\"message\":{\"content\":\"x\"},\"text\":\"a b\\u00e9\"},1,[]],"
              "\"usage\":null}");
    body_both("{\"choices\":[],\"usage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":2}}");
    body_both("{\"choices\":[{\"message\":{\"content\":\"\\ud83d\\ude00\",\"reasoning\":\"hm\"}}]}");
    body_both("{\"error\":{\"message\":\"boom\"}}");
    body_both("{\"choices\":[{\"message\":{\"content\":\"x\"}}]} trailing");
    body_both("[1,2]");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_model),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
