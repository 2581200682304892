/* libFuzzer: the byte-level JSON scanners (src/parse/json_scan.c) against
 * jansson. jscan_valid may decline, but what it accepts jansson must accept;
 * jscan_string must agree with jansson on every string literal; the readers
 * must stay in bounds on any text jansson accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "parse/json_scan.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_elem(void *ud, size_t i, jscan_span el)
{
    (void)i;
    if (!el.p)
        abort();
    (*(size_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t n = size;
    for (int nul = 0; nul < 2; nul++)
        if (jscan_valid(s, n, nul)) {
            json_t *j = json_loadb(s, n, nul ? JSON_ALLOW_NUL : 0, NULL);
            if (!j)
                abort();
            json_decref(j);
        }
    if (n && s[0] == '"' && s[n - 1] == '"') {
        buf d;
        buf_init(&d);
        bool ok = jscan_string((jscan_span){s, n}, &d);
        json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (ok != (j != NULL))
            abort();
        if (j && (json_string_length(j) != d.len || (d.len && memcmp(json_string_value(j), d.data, d.len))))
            abort();
        json_decref(j);
        buf_free(&d);
    }
    /* The readers over text jansson accepted: a member found must be one
     * jansson sees (the scanners compare raw key bytes, so an escaped key
     * may be missed, never invented). */
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, NULL);
    if (json_is_object(j)) {
        static const char *const keys[] = {"model", "a", ""};
        jscan_span v[3], val, mem;
        if (jscan_object(s, s + n, keys, 3, v))
            for (int i = 0; i < 3; i++)
                if (v[i].p && !json_object_get(j, keys[i]))
                    abort();
        if (jscan_find(s, s + n, "model", &val, &mem) && (!val.p || mem.n < val.n))
            abort();
    } else if (json_is_array(j)) {
        size_t count = 0;
        if (jscan_array_each(s, s + n, count_elem, &count) && count != json_array_size(j))
            abort();
    }
    json_decref(j);
    return 0;
}
