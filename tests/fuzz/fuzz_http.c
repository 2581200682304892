/* libFuzzer: HTTP request heads and chunked bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_response resp;
    (void)http_parse_response((const char *)data, size, 4096, &resp);
    http_request r;
    int n = http_parse_request((const char *)data, size, 4096, &r);
    if (n > 0) {
        (void)http_find_header(&r, "content-length");
        /* Treat whatever follows the head as a chunked body, fed in two
         * pieces to exercise the state carried across calls. */
        size_t rest = size - (size_t)n;
        char *buf = malloc(rest + 1);
        memcpy(buf, data + n, rest);
        http_chunked d;
        http_chunked_init(&d);
        size_t half = rest / 2, len = half, used = 0;
        int rc = http_chunked_decode(&d, buf, &len, &used);
        if (rc == 0 && used == half) {
            len = rest - half;
            memmove(buf, data + n + half, len);
            (void)http_chunked_decode(&d, buf, &len, &used);
        }
        free(buf);
    }
    return 0;
}
