/* libFuzzer: HTTP request heads (and the incremental search for their end)
 * and chunked bodies. */
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
    /* The incremental scan, fed in growing prefixes, agrees with it. */
    http_head_scan sc;
    http_head_scan_init(&sc);
    size_t hl = 0;
    for (size_t len = 0; len <= size && !hl; len += 1 + len % 7)
        hl = http_head_scan_feed(&sc, (const char *)data, len);
    if (!hl)
        hl = http_head_scan_feed(&sc, (const char *)data, size);
    if (n > 0 && hl != (size_t)n)
        abort();
    if (hl > 0 && hl <= 4096 && http_parse_request((const char *)data, hl, 4096, &r) != n && n != HTTP_E_TOO_LARGE)
        abort();
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
