/* tr_build_request: OpenAI request -> Ollama / OpenAI-compatible bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "translate/translate.h"
#include "translate_helpers.h"

static buf out;
static tr_request_info info;
static tr_error err;

static int build(tr_kind k, tr_source s, const char *body)
{
    buf_reset(&out);
    return tr_build_request(k, s, body, strlen(body), "llama3.2:3b", &out, &info, &err);
}

#define assert_json(actual, expected)                                                                               \
    do {                                                                                                            \
        if (!json_text_equal((actual), (expected)))                                                                 \
            fail_msg("JSON differs\n got: %s\nwant: %s", (actual), (expected));                                     \
    } while (0)

static void test_chat_full_mapping(void **st)
{
    (void)st;
    const char *body =
        "{\"model\":\"llama\",\"messages\":["
        "{\"role\":\"developer\",\"content\":\"Be brief.\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is\"},{\"type\":\"text\",\"text\":\"this?\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_ab12cd34\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Tokyo\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_ab12cd34\",\"name\":\"get_weather\",\"content\":\"sunny\"}],"
        "\"max_tokens\":100,\"temperature\":0.7,\"top_p\":0.9,\"stop\":\"\\n\\n\",\"seed\":42,"
        "\"presence_penalty\":0.5,\"frequency_penalty\":-0.25,\"top_k\":40,\"keep_alive\":\"5m\","
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}],"
        "\"response_format\":{\"type\":\"json_object\"},\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        "\"user\":\"u1\",\"n\":1,\"logit_bias\":{},\"parallel_tool_calls\":true,\"store\":false}";
    assert_int_equal(build(TR_CHAT, TR_SRC_OLLAMA, body), 0);
    assert_json(out.data,
                "{\"model\":\"llama3.2:3b\",\"messages\":["
                "{\"role\":\"system\",\"content\":\"Be brief.\"},"
                "{\"role\":\"user\",\"content\":\"What is\\nthis?\",\"images\":[\"iVBORw0KGgo=\"]},"
                "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_ab12cd34\","
                "\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Tokyo\"}}}]},"
                "{\"role\":\"tool\",\"content\":\"sunny\",\"tool_call_id\":\"call_ab12cd34\",\"tool_name\":\"get_weather\"}],"
                "\"stream\":true,\"format\":\"json\","
                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}],"
                "\"keep_alive\":\"5m\","
                "\"options\":{\"top_k\":40,\"num_predict\":100,\"temperature\":0.7,\"top_p\":0.9,\"seed\":42,"
                "\"presence_penalty\":0.5,\"frequency_penalty\":-0.25,\"stop\":[\"\\n\\n\"]}}");
    /* Numbers keep the client's short form, not "0.69999999999999996". */
    assert_non_null(strstr(out.data, "\"temperature\":0.7,"));
    assert_true(info.stream);
    assert_true(info.include_usage);
    assert_true(info.prompt_tokens_estimate > 0);
}

static void test_chat_variants(void **st)
{
    (void)st;
    assert_int_equal(build(TR_CHAT, TR_SRC_OLLAMA,
                           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                           "\"max_tokens\":5,\"max_completion_tokens\":7,\"stop\":[\"a\",\"b\"],"
                           "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\","
                           "\"schema\":{\"type\":\"object\"}}},\"reasoning_effort\":\"minimal\","
                           "\"stream_options\":{\"include_usage\":true},\"temperature\":1}"),
                     0);
    assert_json(out.data, "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                          "\"stream\":false,\"format\":{\"type\":\"object\"},\"think\":\"low\","
                          "\"options\":{\"num_predict\":7,\"temperature\":1,\"stop\":[\"a\",\"b\"]}}");
    assert_false(info.stream);
    assert_false(info.include_usage); /* only meaningful when streaming */
    /* prompt estimate: "hi" = 1, + 3 per message + 3 for the reply. */
    assert_int_equal(info.prompt_tokens_estimate, 7);

    assert_int_equal(build(TR_CHAT, TR_SRC_OLLAMA,
                           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                           "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"none\","
                           "\"reasoning_effort\":\"none\",\"options\":{\"num_ctx\":8192}}"),
                     0);
    assert_json(out.data, "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                          "\"stream\":false,\"think\":false,\"options\":{\"num_ctx\":8192}}");
}

static void expect_400(tr_kind k, tr_source s, const char *body, const char *param, const char *msg_part)
{
    assert_int_equal(build(k, s, body), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.type, "invalid_request_error");
    assert_string_equal(err.param, param);
    if (!strstr(err.message, msg_part))
        fail_msg("message '%s' lacks '%s'", err.message, msg_part);
}

static void test_chat_errors(void **st)
{
    (void)st;
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"secret", "",
               "not valid JSON");
    assert_null(strstr(err.message, "secret")); /* never echo prompt text */
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "[1]", "", "JSON object");
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "{\"messages\":[]}", "model", "model");
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "{\"model\":3,\"messages\":[]}", "model", "string");
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "{\"model\":\"m\"}", "messages", "messages");
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "{\"model\":\"m\",\"messages\":[]}", "messages", "non-empty");
    expect_400(TR_CHAT, TR_SRC_OLLAMA, "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "messages",
               "messages[0].role");
    const char *pre = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
    char b[512];
    snprintf(b, sizeof b, "%s\"temperature\":\"hot\"}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "temperature", "temperature must be a number");
    snprintf(b, sizeof b, "%s\"n\":2}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "n", "n > 1");
    snprintf(b, sizeof b, "%s\"stop\":5}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "stop", "stop");
    snprintf(b, sizeof b, "%s\"max_tokens\":-1}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "max_tokens", "max_tokens");
    snprintf(b, sizeof b, "%s\"stream\":\"yes\"}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "stream", "boolean");
    snprintf(b, sizeof b, "%s\"response_format\":{\"type\":\"xml\"}}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "response_format", "response_format");
    snprintf(b, sizeof b, "%s\"reasoning_effort\":\"huge\"}", pre);
    expect_400(TR_CHAT, TR_SRC_OLLAMA, b, "reasoning_effort", "reasoning_effort");
    expect_400(TR_CHAT, TR_SRC_OLLAMA,
               "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
               "\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}]}",
               "messages", "base64 data: URL");
    expect_400(TR_CHAT, TR_SRC_OLLAMA,
               "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}",
               "messages", "input_audio");
    expect_400(TR_CHAT, TR_SRC_OLLAMA,
               "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
               "{\"name\":\"f\",\"arguments\":\"{not json\"}}]}]}",
               "messages", "tool_calls[0]");
}

static void test_completion_mapping(void **st)
{
    (void)st;
    assert_int_equal(build(TR_COMPLETION, TR_SRC_OLLAMA,
                           "{\"model\":\"m\",\"prompt\":[\"Once upon\"],\"suffix\":\"end\",\"max_tokens\":16,"
                           "\"stream\":true,\"logprobs\":2,\"best_of\":1}"),
                     0);
    assert_json(out.data, "{\"model\":\"llama3.2:3b\",\"prompt\":\"Once upon\",\"suffix\":\"end\",\"stream\":true,"
                          "\"options\":{\"num_predict\":16}}");
    assert_true(info.stream);
    assert_false(info.include_usage);
    assert_int_equal(info.prompt_tokens_estimate, 2);
    assert_string_equal(tr_upstream_path(TR_COMPLETION, TR_SRC_OLLAMA), "/api/generate");
    expect_400(TR_COMPLETION, TR_SRC_OLLAMA, "{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}", "prompt", "batches");
    expect_400(TR_COMPLETION, TR_SRC_OLLAMA, "{\"model\":\"m\",\"prompt\":[1,2]}", "prompt", "token arrays");
    expect_400(TR_COMPLETION, TR_SRC_OLLAMA, "{\"model\":\"m\"}", "prompt", "prompt");
    expect_400(TR_COMPLETION, TR_SRC_OLLAMA, "{\"model\":\"m\",\"prompt\":\"x\",\"echo\":true}", "echo", "echo");
    expect_400(TR_COMPLETION, TR_SRC_OLLAMA, "{\"model\":\"m\",\"prompt\":\"x\",\"best_of\":3}", "best_of", "best_of");
}

static void test_embedding_mapping(void **st)
{
    (void)st;
    assert_int_equal(build(TR_EMBEDDING, TR_SRC_OLLAMA,
                           "{\"model\":\"m\",\"input\":[\"a b\",\"c\"],\"dimensions\":256,\"encoding_format\":\"base64\","
                           "\"user\":\"x\"}"),
                     0);
    assert_json(out.data, "{\"model\":\"llama3.2:3b\",\"input\":[\"a b\",\"c\"],\"dimensions\":256}");
    assert_true(info.embed_base64);
    assert_false(info.stream);
    assert_int_equal(info.prompt_tokens_estimate, 3);
    assert_int_equal(build(TR_EMBEDDING, TR_SRC_OLLAMA, "{\"model\":\"m\",\"input\":\"hello\"}"), 0);
    assert_json(out.data, "{\"model\":\"llama3.2:3b\",\"input\":\"hello\"}");
    assert_false(info.embed_base64);
    expect_400(TR_EMBEDDING, TR_SRC_OLLAMA, "{\"model\":\"m\",\"input\":[[1,2]]}", "input", "token arrays");
    expect_400(TR_EMBEDDING, TR_SRC_OLLAMA, "{\"model\":\"m\",\"input\":[]}", "input", "non-empty");
    expect_400(TR_EMBEDDING, TR_SRC_OLLAMA, "{\"model\":\"m\"}", "input", "input");
    expect_400(TR_EMBEDDING, TR_SRC_OLLAMA, "{\"model\":\"m\",\"input\":\"x\",\"encoding_format\":\"hex\"}",
               "encoding_format", "encoding_format");
}

static void test_openai_passthrough(void **st)
{
    (void)st;
    assert_int_equal(build(TR_CHAT, TR_SRC_OPENAI,
                           "{\"model\":\"alias\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                           "\"temperature\":0.7,\"stream\":true,\"n\":2,\"x_custom\":[1,2.5]}"),
                     0);
    assert_string_equal(out.data, "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                  "\"temperature\":0.7,\"stream\":true,\"n\":2,\"x_custom\":[1,2.5],"
                                  "\"stream_options\":{\"include_usage\":true}}");
    assert_true(info.stream);
    assert_false(info.include_usage); /* the client did not ask: the chunk will be removed */
    assert_int_equal(build(TR_CHAT, TR_SRC_OPENAI,
                           "{\"model\":\"alias\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                           "\"stream\":true,\"stream_options\":{\"include_usage\":true}}"),
                     0);
    assert_true(info.include_usage);
    assert_int_equal(build(TR_EMBEDDING, TR_SRC_OPENAI, "{\"model\":\"a\",\"input\":\"x\"}"), 0);
    assert_string_equal(out.data, "{\"model\":\"llama3.2:3b\",\"input\":\"x\"}");
    assert_int_equal(build(TR_COMPLETION, TR_SRC_OPENAI, "{\"model\":\"a\",\"prompt\":\"x\",\"stream\":false}"), 0);
    assert_string_equal(out.data, "{\"model\":\"llama3.2:3b\",\"prompt\":\"x\",\"stream\":false}");
    expect_400(TR_CHAT, TR_SRC_OPENAI, "{\"model\":\"a\"}", "messages", "messages");
    expect_400(TR_EMBEDDING, TR_SRC_OPENAI, "{\"model\":\"a\"}", "input", "input");
}

static void test_paths(void **st)
{
    (void)st;
    assert_string_equal(tr_upstream_path(TR_CHAT, TR_SRC_OLLAMA), "/api/chat");
    assert_string_equal(tr_upstream_path(TR_EMBEDDING, TR_SRC_OLLAMA), "/api/embed");
    assert_string_equal(tr_upstream_path(TR_CHAT, TR_SRC_OPENAI), "/chat/completions");
    assert_string_equal(tr_upstream_path(TR_COMPLETION, TR_SRC_OPENAI), "/completions");
    assert_string_equal(tr_upstream_path(TR_EMBEDDING, TR_SRC_OPENAI), "/embeddings");
}

static void test_token_estimate_rule(void **st)
{
    (void)st;
    /* Hello , world ! -> 4; 12345 -> ceil(5/3) = 2 */
    assert_int_equal(tr_count_tokens_estimate("Hello, world! 12345", 19), 6);
    assert_int_equal(tr_count_tokens_estimate("internationalization", 20), 3);
    assert_int_equal(tr_count_tokens_estimate("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);
    assert_int_equal(tr_count_tokens_estimate(" \n\t", 3), 0);
    assert_int_equal(tr_count_tokens_estimate("", 0), 0);
}

int main(void)
{
    buf_init(&out);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_full_mapping),  cmocka_unit_test(test_chat_variants),
        cmocka_unit_test(test_chat_errors),        cmocka_unit_test(test_completion_mapping),
        cmocka_unit_test(test_embedding_mapping),  cmocka_unit_test(test_openai_passthrough),
        cmocka_unit_test(test_paths),              cmocka_unit_test(test_token_estimate_rule),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    buf_free(&out);
    return rc;
}
