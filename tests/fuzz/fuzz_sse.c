/* libFuzzer: SSE parser. The input is fed whole and in random splits; both
 * runs must produce the same events (the parser never assumes a boundary). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/sse.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int record(void *ud, const sse_event *ev)
{
    buf *b = ud;
    buf_append(b, ev->type, ev->type_len);
    buf_putc(b, 0);
    buf_append(b, ev->id, ev->id_len);
    buf_putc(b, 0);
    buf_append(b, ev->data, ev->data_len);
    buf_putc(b, 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned seed = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    buf a, b;
    buf_init(&a);
    buf_init(&b);
    sse_parser *p = sse_new(4096, record, &a);
    int rc1 = sse_feed(p, s, n);
    int f1 = rc1 ? rc1 : sse_finish(p);
    sse_free(p);
    p = sse_new(4096, record, &b);
    int rc2 = 0;
    for (size_t i = 0; i < n && !rc2;) {
        seed = seed * 1103515245u + 12345u;
        size_t step = 1 + (seed >> 16) % 17;
        if (step > n - i)
            step = n - i;
        rc2 = sse_feed(p, s + i, step);
        i += step;
    }
    int f2 = rc2 ? rc2 : sse_finish(p);
    sse_free(p);
    if (!rc1 && !rc2 && (f1 != f2 || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len))))
        abort();
    buf_free(&a);
    buf_free(&b);
    return 0;
}
