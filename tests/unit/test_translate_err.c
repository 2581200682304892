/* Error mapping: upstream statuses/bodies -> OpenAI bodies and classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "translate/translate.h"
#include "translate_helpers.h"

static const char *map(tr_source src, const char *provider, int status, const char *body, buf *out)
{
    buf_reset(out);
    const char *cls = tr_upstream_error(src, provider, status, body, body ? strlen(body) : 0, out);
    buf_cstr(out);
    return cls;
}

static void test_ollama_statuses(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama", 404, "{\"error\":\"model 'foo' not found\"}", &b),
                        "Ollama.NotFoundError");
    assert_string_equal(b.data, "{\"error\":{\"message\":\"model 'foo' not found\",\"type\":\"not_found_error\","
                                "\"param\":null,\"code\":\"404\"}}");
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama_chat", 400, "{\"error\":\"model is required\"}", &b),
                        "Ollama.BadRequestError");
    assert_true(json_text_equal(b.data, "{\"error\":{\"message\":\"model is required\",\"type\":"
                                        "\"invalid_request_error\",\"param\":null,\"code\":\"400\"}}"));
    assert_string_equal(
        map(TR_SRC_OLLAMA, "ollama", 503,
            "{\"error\":\"server busy, please try again.  maximum pending requests exceeded\"}", &b),
        "Ollama.ServiceUnavailableError");
    assert_true(json_text_equal(b.data, "{\"error\":{\"message\":\"server busy, please try again.  maximum pending "
                                        "requests exceeded\",\"type\":\"api_error\",\"param\":null,\"code\":\"503\"}}"));
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama", 500,
                            "{\"error\":\"llama-server process has terminated: exit status 2: oom\"}", &b),
                        "Ollama.InternalServerError");
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama", 429, "{\"error\":\"slow down\"}", &b), "Ollama.RateLimitError");
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama", 404, "404 page not found", &b), "Ollama.NotFoundError");
    assert_true(json_text_equal(b.data, "{\"error\":{\"message\":\"404 page not found\",\"type\":\"not_found_error\","
                                        "\"param\":null,\"code\":\"404\"}}"));
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama", 400,
                            "{\"error\":\"the input length exceeds the context length\"}", &b),
                        "Ollama.ContextWindowExceededError");
    assert_string_equal(map(TR_SRC_OLLAMA, "ollama", 403, "", &b), "Ollama.PermissionDeniedError");
    assert_non_null(strstr(b.data, "upstream answered HTTP 403"));
    buf_free(&b);
}

static void test_connection_failure(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    assert_string_equal(map(TR_SRC_OLLAMA, NULL, 0, "Connection refused", &b), "Ollama.APIConnectionError");
    assert_true(json_text_equal(b.data, "{\"error\":{\"message\":\"could not connect to the upstream: Connection "
                                        "refused\",\"type\":\"api_error\",\"param\":null,\"code\":\"500\"}}"));
    assert_int_equal(tr_client_status(0), 500);
    assert_int_equal(tr_client_status(-7), 500);
    assert_int_equal(tr_client_status(404), 404);
    assert_int_equal(tr_client_status(200), 500); /* not an error status: the gateway's fault */
    assert_string_equal(tr_exception_class("hosted_vllm", -1), "Hosted_vllm.APIConnectionError");
    assert_string_equal(tr_exception_class("openai", 408), "Openai.Timeout");
    assert_string_equal(tr_exception_class("openai", 401), "Openai.AuthenticationError");
    assert_string_equal(tr_exception_class("openai", 422), "Openai.UnprocessableEntityError");
    assert_string_equal(tr_exception_class("openai", 418), "Openai.APIError");
    assert_string_equal(tr_exception_class("somebackend", 502), "Openai.InternalServerError");
    /* Static strings: the same pointer every time. */
    assert_ptr_equal(tr_exception_class("ollama", 404), tr_exception_class("ollama", 404));
    buf_free(&b);
}

static void test_openai_shape_kept(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    assert_string_equal(map(TR_SRC_OPENAI, "openai", 429,
                            "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,"
                            "\"code\":\"rate_limit_exceeded\"}}",
                            &b),
                        "Openai.RateLimitError");
    assert_true(json_text_equal(b.data, "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
                                        "\"param\":null,\"code\":\"rate_limit_exceeded\"}}"));
    /* Ollama /v1 shape. */
    assert_string_equal(map(TR_SRC_OPENAI, "openai", 404,
                            "{\"error\":{\"message\":\"model 'x' not found\",\"type\":\"not_found_error\","
                            "\"param\":null,\"code\":null}}\n",
                            &b),
                        "Openai.NotFoundError");
    assert_true(json_text_equal(b.data, "{\"error\":{\"message\":\"model 'x' not found\",\"type\":\"not_found_error\","
                                        "\"param\":null,\"code\":\"404\"}}"));
    /* vLLM / FastAPI style. */
    assert_string_equal(map(TR_SRC_OPENAI, "hosted_vllm", 400, "{\"detail\":\"bad things\"}", &b),
                        "Hosted_vllm.BadRequestError");
    assert_non_null(strstr(b.data, "\"message\":\"bad things\""));
    buf_free(&b);
}

static void test_error_body(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    tr_error e = {.status = 401};
    strcpy(e.message, "No api key passed in. \"quoted\"");
    tr_error_body(&e, &b);
    assert_string_equal(buf_cstr(&b), "{\"error\":{\"message\":\"No api key passed in. \\\"quoted\\\"\",\"type\":"
                                      "\"authentication_error\",\"param\":null,\"code\":null}}");
    buf_reset(&b);
    tr_error e2 = {.status = 400};
    strcpy(e2.message, "m");
    strcpy(e2.type, "invalid_request_error");
    strcpy(e2.param, "model");
    strcpy(e2.code, "400");
    tr_error_body(&e2, &b);
    assert_string_equal(buf_cstr(&b), "{\"error\":{\"message\":\"m\",\"type\":\"invalid_request_error\",\"param\":"
                                      "\"model\",\"code\":\"400\"}}");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ollama_statuses),
        cmocka_unit_test(test_connection_failure),
        cmocka_unit_test(test_openai_shape_kept),
        cmocka_unit_test(test_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
