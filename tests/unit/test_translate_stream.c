/* tr_stream_*: upstream bodies -> exact client bytes, and the stats tap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "translate/translate.h"
#include "translate_helpers.h"

#define L1 "{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:00.104217Z\",\"message\":{\"role\":\"assistant\",\"content\":\"The\"},\"done\":false}\n"
#define L2 "{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:00.116031Z\",\"message\":{\"role\":\"assistant\",\"content\":\" sky\"},\"done\":false}\n"
#define LDONE "{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:01.530912Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":1532101000,\"load_duration\":2873125,\"prompt_eval_count\":31,\"prompt_eval_duration\":40219000,\"eval_count\":98,\"eval_duration\":1480000000}\n"

#define PRE "data: {\"id\":\"chatcmpl-ID\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"my-llama\",\"choices\":["
#define CHUNK_THE PRE "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"The\"},\"finish_reason\":null}]}\n\n"
#define CHUNK_SKY PRE "{\"index\":0,\"delta\":{\"content\":\" sky\"},\"finish_reason\":null}]}\n\n"
#define CHUNK_STOP PRE "{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
#define CHUNK_USAGE PRE "],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":98,\"total_tokens\":129}}\n\n"
#define DONE "data: [DONE]\n\n"

typedef struct {
    buf out;     /* everything sent to the client, normalized */
    int feed_rc; /* -1 if any feed failed */
    int finish_rc;
    tr_stats st;
    int first_token_feeds; /* number of feeds that reported TR_EV_FIRST_TOKEN */
    size_t first_token_at; /* byte offset of the feed that raised it */
} result;

/* Feeds body split at a and b, then finishes. */
static void run(tr_kind k, tr_source s, bool stream, bool usage, bool b64, const char *body, size_t a, size_t b,
                result *r)
{
    tr_request_info info = {.stream = stream, .include_usage = usage, .prompt_tokens_estimate = 5, .embed_base64 = b64};
    tr_stream *t = tr_stream_new(k, s, &info, "my-llama");
    assert_non_null(t);
    size_t n = strlen(body);
    size_t cut[4] = {0, a, b, n};
    buf raw;
    buf_init(&raw);
    buf_init(&r->out);
    r->feed_rc = 0;
    r->first_token_feeds = 0;
    for (int i = 0; i < 3; i++) {
        int ev = tr_stream_feed(t, body + cut[i], cut[i + 1] - cut[i], &raw);
        if (ev < 0)
            r->feed_rc = -1;
        else if (ev & TR_EV_FIRST_TOKEN) {
            r->first_token_feeds++;
            r->first_token_at = cut[i];
        }
    }
    r->finish_rc = tr_stream_finish(t, &raw);
    r->st = *tr_stream_stats(t);
    normalize(buf_cstr(&raw), &r->out);
    buf_free(&raw);
    tr_stream_free(t);
}

/* The same output for many splits of the body. */
static void check_all_splits(tr_kind k, tr_source s, bool stream, bool usage, const char *body, const char *want,
                             int want_rc)
{
    size_t n = strlen(body);
    for (size_t a = 0; a <= n; a += 7) {
        for (size_t b = a; b <= n; b += 31) {
            result r;
            run(k, s, stream, usage, false, body, a, b, &r);
            if (strcmp(r.out.data, want))
                fail_msg("split %zu/%zu\n got: %s\nwant: %s", a, b, r.out.data, want);
            assert_int_equal(r.finish_rc, want_rc);
            buf_free(&r.out);
        }
    }
}

static void test_ollama_chat_stream_with_usage(void **st)
{
    (void)st;
    const char *body = L1 L2 LDONE;
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, true, body, CHUNK_THE CHUNK_SKY CHUNK_STOP CHUNK_USAGE DONE, 0);
    result r;
    run(TR_CHAT, TR_SRC_OLLAMA, true, true, false, body, strlen(L1) - 3, strlen(L1 L2), &r);
    assert_true(r.st.done);
    assert_false(r.st.failed);
    assert_true(r.st.have_usage);
    assert_int_equal(r.st.prompt_tokens, 31);
    assert_int_equal(r.st.completion_tokens, 98); /* eval_count as-is (EOS included) */
    assert_int_equal(r.st.load_ns, 2873125);
    assert_int_equal(r.st.prompt_eval_ns, 40219000);
    assert_int_equal(r.st.eval_ns, 1480000000);
    assert_int_equal(r.st.total_ns, 1532101000);
    assert_string_equal(r.st.finish_reason, "stop");
    /* The first line was split: the token shows up in the second feed. */
    assert_int_equal(r.first_token_feeds, 1);
    assert_int_equal(r.first_token_at, strlen(L1) - 3);
    buf_free(&r.out);
}

static void test_ollama_chat_stream_without_usage(void **st)
{
    (void)st;
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, L1 L2 LDONE, CHUNK_THE CHUNK_SKY CHUNK_STOP DONE, 0);
}

static void test_ollama_length_and_bytes_after_done(void **st)
{
    (void)st;
    const char *body = L1 "{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
                          "\"done\":true,\"done_reason\":\"length\",\"prompt_eval_count\":3,\"eval_count\":1}\n"
                          "{\"garbage after done\n";
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, body,
                     CHUNK_THE PRE "{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n" DONE, 0);
}

static void test_ollama_tool_calls(void **st)
{
    (void)st;
    const char *body =
        "{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":"
        "[{\"id\":\"call_ab12cd34\",\"function\":{\"index\":0,\"name\":\"get_weather\",\"arguments\":{\"city\":"
        "\"Tokyo\",\"days\":2}}}]},\"done\":false}\n"
        "{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
        "\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":20}\n";
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, body,
                     PRE "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"index\":0,"
                         "\"id\":\"call_ab12cd34\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                         "\"arguments\":\"{\\\"city\\\":\\\"Tokyo\\\",\\\"days\\\":2}\"}}]},\"finish_reason\":null}]}\n\n" PRE
                         "{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n" DONE,
                     0);
    /* Non-streaming: the same calls in the message, content null. */
    result r;
    run(TR_CHAT, TR_SRC_OLLAMA, false, false, false, body, 0, 0, &r);
    assert_int_equal(r.finish_rc, 0);
    assert_string_equal(r.out.data,
                        "{\"id\":\"chatcmpl-ID\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"my-llama\","
                        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
                        "[{\"id\":\"call_ab12cd34\",\"type\":\"function\",\"function\":{\"name\":"
                        "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Tokyo\\\",\\\"days\\\":2}\"}}]},"
                        "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,"
                        "\"total_tokens\":30}}");
    buf_free(&r.out);
}

static void test_ollama_thinking_and_empty_completion(void **st)
{
    (void)st;
    const char *body = "{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\","
                       "\"thinking\":\"Hmm\"},\"done\":false}\n" LDONE;
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, body,
                     PRE "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning_content\":\"Hmm\"},"
                         "\"finish_reason\":null}]}\n\n" CHUNK_STOP DONE,
                     0);
    /* Nothing generated at all: a role chunk still goes out. */
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, LDONE,
                     PRE "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
                         CHUNK_STOP DONE,
                     0);
}

#define ERR_EVENT(msg) "data: {\"error\":{\"message\":\"" msg "\",\"type\":\"api_error\",\"param\":null,\"code\":\"500\"}}\n\n"

static void test_ollama_mid_stream_error(void **st)
{
    (void)st;
    const char *body = L1 "{\"error\":\"an error was encountered while running the model: boom\"}\n";
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, true, body,
                     CHUNK_THE ERR_EVENT("an error was encountered while running the model: boom"), -1);
    result r;
    run(TR_CHAT, TR_SRC_OLLAMA, true, true, false, body, 0, 0, &r);
    assert_int_equal(r.feed_rc, -1);
    assert_true(r.st.failed);
    assert_false(r.st.done);
    assert_string_equal(r.st.error, "an error was encountered while running the model: boom");
    assert_string_equal(r.st.error_class, "Ollama.InternalServerError");
    assert_null(strstr(r.out.data, "[DONE]"));
    buf_free(&r.out);
}

static void test_ollama_truncated_and_malformed(void **st)
{
    (void)st;
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, L1 L2,
                     CHUNK_THE CHUNK_SKY ERR_EVENT("the upstream ended the response before its final chunk"), -1);
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, L1 "{\"model\":\"m\",\"done\":fal\n",
                     CHUNK_THE ERR_EVENT("malformed line from the upstream (not a JSON object)"), -1);
    result r;
    run(TR_CHAT, TR_SRC_OLLAMA, true, false, false, L1 L2, 0, 0, &r);
    assert_true(r.st.failed);
    assert_string_equal(r.st.error_class, "Ollama.APIConnectionError");
    buf_free(&r.out);
    /* Non-streaming client: an error body to send with error_status. */
    run(TR_CHAT, TR_SRC_OLLAMA, false, false, false, L1, 0, 0, &r);
    assert_int_equal(r.finish_rc, -1);
    assert_int_equal(r.st.error_status, 500);
    assert_string_equal(r.out.data, "{\"error\":{\"message\":\"the upstream ended the response before its final "
                                    "chunk\",\"type\":\"api_error\",\"param\":null,\"code\":\"500\"}}");
    buf_free(&r.out);
}

static void test_ollama_non_stream_chat(void **st)
{
    (void)st;
    /* Ollama's stream:false body: one object, no trailing newline. */
    const char *body = "{\"model\":\"llama3.2\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":"
                       "\"Hello! How can I help?\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":5,"
                       "\"load_duration\":1,\"prompt_eval_count\":26,\"prompt_eval_duration\":2,\"eval_count\":8,"
                       "\"eval_duration\":2}";
    const char *want = "{\"id\":\"chatcmpl-ID\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"my-llama\","
                       "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello! How can I "
                       "help?\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":8,"
                       "\"total_tokens\":34}}";
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, false, false, body, want, 0);
    /* Streamed upstream for a non-streaming client: same object. */
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, false, false, L1 L2 LDONE,
                     "{\"id\":\"chatcmpl-ID\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"my-llama\","
                     "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The sky\"},"
                     "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":98,"
                     "\"total_tokens\":129}}",
                     0);
}

static void test_ollama_no_counts_uses_estimate(void **st)
{
    (void)st;
    result r;
    run(TR_CHAT, TR_SRC_OLLAMA, false, false, false,
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hi there, friend\"},\"done\":true}", 0, 0, &r);
    assert_int_equal(r.finish_rc, 0);
    assert_false(r.st.have_usage);
    assert_int_equal(r.st.completion_tokens_estimate, 4);
    assert_non_null(strstr(r.out.data, "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}"));
    buf_free(&r.out);
}

#define GPRE "data: {\"id\":\"cmpl-ID\",\"object\":\"text_completion\",\"created\":0,\"model\":\"my-llama\",\"choices\":["

static void test_ollama_generate(void **st)
{
    (void)st;
    const char *body =
        "{\"model\":\"llama3.2\",\"created_at\":\"x\",\"response\":\"The\",\"done\":false}\n"
        "{\"model\":\"llama3.2\",\"created_at\":\"x\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\","
        "\"context\":[1,2,3],\"total_duration\":10,\"load_duration\":2,\"prompt_eval_count\":26,"
        "\"prompt_eval_duration\":3,\"eval_count\":2,\"eval_duration\":4}\n";
    check_all_splits(TR_COMPLETION, TR_SRC_OLLAMA, true, true, body,
                     GPRE "{\"index\":0,\"text\":\"The\",\"logprobs\":null,\"finish_reason\":null}]}\n\n" GPRE
                          "{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n" GPRE
                          "],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":2,\"total_tokens\":28}}\n\n" DONE,
                     0);
    check_all_splits(TR_COMPLETION, TR_SRC_OLLAMA, false, false, body,
                     "{\"id\":\"cmpl-ID\",\"object\":\"text_completion\",\"created\":0,\"model\":\"my-llama\","
                     "\"choices\":[{\"index\":0,\"text\":\"The\",\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                     "\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":2,\"total_tokens\":28}}",
                     0);
}

static void test_ollama_embeddings(void **st)
{
    (void)st;
    const char *body = "{\"model\":\"all-minilm\",\"embeddings\":[[0.010071029,-0.0017594862],[1.0,-2]],"
                       "\"total_duration\":14143917,\"load_duration\":1019500,\"prompt_eval_count\":8}";
    check_all_splits(TR_EMBEDDING, TR_SRC_OLLAMA, false, false, body,
                     "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":"
                     "[0.010071029,-0.0017594862]},{\"object\":\"embedding\",\"index\":1,\"embedding\":[1.0,-2]}],"
                     "\"model\":\"my-llama\",\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}",
                     0);
    result r;
    run(TR_EMBEDDING, TR_SRC_OLLAMA, false, false, true, "{\"embeddings\":[[1.0,-2.0]],\"prompt_eval_count\":2}", 3, 9,
        &r);
    assert_int_equal(r.finish_rc, 0);
    /* float32 LE: 00 00 80 3f | 00 00 00 c0 */
    assert_string_equal(r.out.data, "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":"
                                    "\"AACAPwAAAMA=\"}],\"model\":\"my-llama\",\"usage\":{\"prompt_tokens\":2,"
                                    "\"total_tokens\":2}}");
    assert_int_equal(r.st.prompt_tokens, 2);
    assert_true(r.st.done);
    buf_free(&r.out);
    run(TR_EMBEDDING, TR_SRC_OLLAMA, false, false, false, "{\"embeddings\":[[\"x\"]]}", 0, 0, &r);
    assert_int_equal(r.finish_rc, -1);
    assert_true(r.st.failed);
    buf_free(&r.out);
}

/* OpenAI-compatible upstream (e.g. Ollama /v1 or vLLM) with usage forced. */
#define OPRE "data: {\"id\":\"chatcmpl-271\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"
#define OEV1 "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}"
#define OEV2 "{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"
#define OUSAGE "],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":3,\"total_tokens\":29}}"
static const char OPENAI_BODY[] =
    OPRE "\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OEV1 "\n\n" OPRE
         "\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OEV2 "\r\n\r\n: keepalive\n\n" OPRE
         "\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OUSAGE "\n\n"
         "data: [DONE]\n\n";

static void test_openai_passthrough_stream(void **st)
{
    (void)st;
    const char *kept = OPRE "\"my-llama\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OEV1 "\n\n" OPRE
                            "\"my-llama\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OEV2 "\n\n" OPRE
                            "\"my-llama\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OUSAGE "\n\n" DONE;
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, true, OPENAI_BODY, kept, 0);
    const char *dropped = OPRE "\"my-llama\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OEV1 "\n\n" OPRE
                               "\"my-llama\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[" OEV2 "\n\n" DONE;
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, false, OPENAI_BODY, dropped, 0);
    result r;
    run(TR_CHAT, TR_SRC_OPENAI, true, false, false, OPENAI_BODY, 10, 200, &r);
    assert_true(r.st.done);
    assert_true(r.st.have_usage);
    assert_int_equal(r.st.prompt_tokens, 26);
    assert_int_equal(r.st.completion_tokens, 3);
    assert_string_equal(r.st.finish_reason, "stop");
    assert_int_equal(r.first_token_feeds, 1);
    assert_string_equal(r.st.error_class ? r.st.error_class : "", "");
    buf_free(&r.out);
}

static void test_openai_usage_null_stripped(void **st)
{
    (void)st;
    const char *body = "data: {\"id\":\"c\",\"usage\":null,\"model\":\"x\",\"choices\":[{\"index\":0,\"delta\":"
                       "{\"content\":\"a\"},\"finish_reason\":null}]}\n\n"
                       "data: {\"id\":\"c\",\"model\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
                       "\"length\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n"
                       "data: [DONE]\n\n";
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, false, body,
                     "data: {\"id\":\"c\",\"model\":\"my-llama\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
                     "\"finish_reason\":null}]}\n\n"
                     "data: {\"id\":\"c\",\"model\":\"my-llama\",\"choices\":[{\"index\":0,\"delta\":{},"
                     "\"finish_reason\":\"length\"}]}\n\n" DONE,
                     0);
}

static void test_openai_truncated_and_errors(void **st)
{
    (void)st;
    /* Ollama /v1 after a mid-stream failure: an empty chunk, then EOF. */
    const char *trunc = OPRE "\"llama3.2\",\"choices\":[" OEV1 "\n\n" OPRE
                             "\"\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":null}]}\n\n";
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, false, trunc,
                     OPRE "\"my-llama\",\"choices\":[" OEV1 "\n\n" OPRE
                          "\"my-llama\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":null}]}"
                          "\n\n" ERR_EVENT("the upstream ended the response before its final chunk"),
                     -1);
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, false,
                     "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
                     ERR_EVENT("overloaded"), -1);
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, false, "data: not json\n\n",
                     ERR_EVENT("malformed event from the upstream (not a JSON object)"), -1);
    /* A finish chunk then EOF without [DONE] is tolerated. */
    check_all_splits(TR_CHAT, TR_SRC_OPENAI, true, false,
                     "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                     "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" DONE, 0);
}

static void test_openai_non_stream(void **st)
{
    (void)st;
    const char *body = "{\"id\":\"chatcmpl-312\",\"object\":\"chat.completion\",\"created\":1755800000,\"model\":"
                       "\"llama3.2\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},"
                       "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":8,"
                       "\"total_tokens\":34}}\n";
    result r;
    run(TR_CHAT, TR_SRC_OPENAI, false, false, false, body, 5, 50, &r);
    assert_int_equal(r.finish_rc, 0);
    assert_string_equal(r.out.data, "{\"id\":\"chatcmpl-312\",\"object\":\"chat.completion\",\"created\":0,\"model\":"
                                    "\"my-llama\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                                    "\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":26,"
                                    "\"completion_tokens\":8,\"total_tokens\":34}}\n");
    assert_true(r.st.have_usage);
    assert_int_equal(r.st.completion_tokens, 8);
    assert_string_equal(r.st.finish_reason, "stop");
    buf_free(&r.out);
    run(TR_EMBEDDING, TR_SRC_OPENAI, false, false, false,
        "{\"object\":\"list\",\"data\":[],\"model\":\"e\",\"usage\":{\"prompt_tokens\":4,\"total_tokens\":4}}", 0, 0,
        &r);
    assert_int_equal(r.finish_rc, 0);
    assert_int_equal(r.st.prompt_tokens, 4);
    assert_non_null(strstr(r.out.data, "\"model\":\"my-llama\""));
    buf_free(&r.out);
    run(TR_CHAT, TR_SRC_OPENAI, false, false, false, "{\"choices\":[", 0, 0, &r);
    assert_int_equal(r.finish_rc, -1);
    assert_true(json_text_equal(r.out.data, "{\"error\":{\"message\":\"malformed response from the upstream (not a "
                                            "JSON object)\",\"type\":\"api_error\",\"param\":null,\"code\":\"500\"}}"));
    buf_free(&r.out);
}


/* Token lines take a byte-scanning fast path; escapes, surrogate pairs and
 * UTF-8 must come out exactly as through jansson, and anything the fast
 * path does not accept must still be judged by jansson. */
static void test_fast_path_matches_jansson(void **st)
{
    (void)st;
    const char *body =
        "{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"a\\n\\u003cb\\u003e "
        "\\ud83d\\ude00 \xc3\xa9\\\"\\\\\\/\\t\"},\"done\":false}\n"
        /* same text, but a key order and a duplicate-free layout the scanner must also handle */
        "{ \"done\" : false , \"message\" : { \"content\" : \"!\" , \"role\" : \"assistant\" } }\n" LDONE;
    check_all_splits(TR_CHAT, TR_SRC_OLLAMA, true, false, body,
                     PRE "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"a\\n<b> \xf0\x9f\x98\x80 "
                         "\xc3\xa9\\\"\\\\/\\t\"},\"finish_reason\":null}]}\n\n" PRE
                         "{\"index\":0,\"delta\":{\"content\":\"!\"},\"finish_reason\":null}]}\n\n" CHUNK_STOP DONE,
                     0);
    static const char *const bad[] = {
        "{\"message\":{\"content\":\"\x01\"},\"done\":false}\n",         /* raw control character */
        "{\"message\":{\"content\":\"\\ud800\"},\"done\":false}\n",      /* lone surrogate */
        "{\"message\":{\"content\":\"\xc3\x28\"},\"done\":false}\n",     /* invalid UTF-8 */
        "{\"message\":{\"content\":\"\\x\"},\"done\":false}\n",          /* bad escape */
        "{\"message\":{\"content\":\"ok\"},\"done\":false} x\n",         /* trailing bytes */
        "{\"message\":{\"content\":\"ok\"},\"done\":false,}\n",          /* trailing comma */
        "{\"message\":{\"content\":\"ok\"},\"done\":fals}\n",            /* not a boolean */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        result r;
        run(TR_CHAT, TR_SRC_OLLAMA, true, false, false, bad[i], 0, 0, &r);
        if (r.finish_rc != -1 || !r.st.failed)
            fail_msg("accepted bad line %zu", i);
        assert_null(strstr(r.out.data, "chat.completion.chunk"));
        buf_free(&r.out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ollama_chat_stream_with_usage),
        cmocka_unit_test(test_ollama_chat_stream_without_usage),
        cmocka_unit_test(test_ollama_length_and_bytes_after_done),
        cmocka_unit_test(test_ollama_tool_calls),
        cmocka_unit_test(test_ollama_thinking_and_empty_completion),
        cmocka_unit_test(test_ollama_mid_stream_error),
        cmocka_unit_test(test_ollama_truncated_and_malformed),
        cmocka_unit_test(test_ollama_non_stream_chat),
        cmocka_unit_test(test_ollama_no_counts_uses_estimate),
        cmocka_unit_test(test_ollama_generate),
        cmocka_unit_test(test_ollama_embeddings),
        cmocka_unit_test(test_openai_passthrough_stream),
        cmocka_unit_test(test_openai_usage_null_stripped),
        cmocka_unit_test(test_openai_truncated_and_errors),
        cmocka_unit_test(test_openai_non_stream),
        cmocka_unit_test(test_fast_path_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
