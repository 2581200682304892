/* libFuzzer: NDJSON splitter; whole and split feeds must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/ndjson.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int record(void *ud, const char *line, size_t len)
{
    buf *b = ud;
    if (len == 0 || line[len - 1] == '\r' || memchr(line, '\n', len))
        abort(); /* contract: no blank lines, no line ends inside */
    buf_append(b, line, len);
    buf_putc(b, '\n');
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
    const char *l1, *l2;
    size_t n1, n2;
    ndjson *p = ndjson_new(512, record, &a);
    int rc1 = ndjson_feed(p, s, n);
    int t1 = ndjson_finish(p, &l1, &n1);
    if (t1 == 1)
        buf_append(&a, l1, n1);
    ndjson_free(p);
    p = ndjson_new(512, record, &b);
    int rc2 = 0;
    for (size_t i = 0; i < n && !rc2;) {
        seed = seed * 1103515245u + 12345u;
        size_t step = 1 + (seed >> 16) % 23;
        if (step > n - i)
            step = n - i;
        rc2 = ndjson_feed(p, s + i, step);
        i += step;
    }
    int t2 = ndjson_finish(p, &l2, &n2);
    if (t2 == 1)
        buf_append(&b, l2, n2);
    ndjson_free(p);
    if (rc1 != rc2 || t1 != t2 || (!rc1 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))))
        abort();
    buf_free(&a);
    buf_free(&b);
    return 0;
}
