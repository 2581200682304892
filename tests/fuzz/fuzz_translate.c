/* libFuzzer: translation. The first byte picks kind, source and client
 * options; the rest is used twice: as a client request body for
 * tr_build_request, and as an upstream response body fed in random splits
 * to a tr_stream (and to tr_upstream_error). Nothing may crash or leak,
 * and a stream must end either done or failed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "serve/translate.h"
#include "serve/translate_int.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sel = data[0], seed = data[1];
    const char *s = (const char *)data + 2;
    size_t n = size - 2;
    /* Differential: the fast path's string decoder against jansson's. */
    if (n && s[0] == '"' && s[n - 1] == '"') {
        buf d;
        buf_init(&d);
        bool ok = tj_string((tj_span){s, n}, &d);
        json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (ok != (j != NULL))
            abort();
        if (j && (json_string_length(j) != d.len || (d.len && memcmp(json_string_value(j), d.data, d.len))))
            abort();
        json_decref(j);
        buf_free(&d);
    }
    tr_kind kind = (tr_kind)(sel % 3);
    tr_source src = (sel >> 2) & 1 ? TR_SRC_OPENAI : TR_SRC_OLLAMA;

    buf out;
    buf_init(&out);
    tr_request_info info;
    tr_error err;
    if (tr_build_request(kind, src, s, n, "m", &out, &info, &err) != 0) {
        if (err.status < 400 || !err.message[0])
            abort();
    }
    buf_free(&out);

    info.stream = (sel >> 3) & 1;
    info.include_usage = (sel >> 4) & 1;
    info.embed_base64 = (sel >> 5) & 1;
    tr_stream *t = tr_stream_new(kind, src, &info, "alias");
    if (!t)
        return 0;
    buf_init(&out);
    for (size_t i = 0; i < n;) {
        seed = seed * 1103515245u + 12345u;
        size_t step = 1 + (seed >> 16) % 97;
        if (step > n - i)
            step = n - i;
        (void)tr_stream_feed(t, s + i, step, &out);
        i += step;
    }
    int rc = tr_stream_finish(t, &out);
    tr_stats *st = tr_stream_stats(t);
    if ((rc == 0) != (st->done && !st->failed))
        abort();
    tr_stream_free(t);
    buf_reset(&out);
    (void)tr_upstream_error(src, (sel >> 6) & 1 ? "ollama" : NULL, (int)(seed % 600), s, n, &out);
    buf_free(&out);
    return 0;
}
