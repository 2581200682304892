/* libFuzzer: the API key a request presents (Authorization: Bearer,
 * x-litellm-api-key, api-key), from whole request heads and from arbitrary
 * Authorization values. The key must lie inside the request's bytes, be
 * non-empty, and never start with a blank. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *buf, size_t len)
{
    http_request r;
    if (http_parse_request(buf, len, 8192, &r) <= 0)
        return;
    const char *k = NULL;
    size_t kl = 0;
    if (!http_request_api_key(&r, &k, &kl))
        return;
    if (kl == 0 || k < buf || k + kl > buf + len || k[0] == ' ' || k[0] == '\t' || memchr(k, '\n', kl))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size);
    static const char pre[] = "POST /v1/chat/completions HTTP/1.1\r\nAuthorization: ";
    char *buf = malloc(sizeof pre + size + 8);
    if (!buf)
        return 0;
    memcpy(buf, pre, sizeof pre - 1);
    memcpy(buf + sizeof pre - 1, data, size);
    memcpy(buf + sizeof pre - 1 + size, "\r\n\r\n", 4);
    check(buf, sizeof pre - 1 + size + 4);
    free(buf);
    return 0;
}
