/* Everything src/otel parses from outside: traceparent/tracestate headers
 * (otel_start), OTEL_*_HEADERS / OTEL_RESOURCE_ATTRIBUTES lists, endpoint
 * URLs, and the encoders fed the resulting span. Input: the bytes are split
 * at the first two NULs into traceparent, tracestate and an env value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otel/otel_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *nul1 = memchr(p, 0, size);
    const char *ts = nul1 ? nul1 + 1 : end;
    const char *nul2 = nul1 ? memchr(ts, 0, (size_t)(end - ts)) : NULL;
    const char *envv = nul2 ? nul2 + 1 : end;
    size_t tp_len = (size_t)((nul1 ? nul1 : end) - p);
    size_t ts_len = (size_t)((nul2 ? nul2 : end) - ts);

    otel_span sp;
    otel_traceparent tp;
    if (otel_traceparent_parse(p, tp_len, &tp) == 0) {
        char out[OTEL_TRACEPARENT_LEN + 1];
        otel_traceparent_format(tp.trace_id, tp.span_id, tp.flags, out);
        otel_traceparent back;
        if (otel_traceparent_parse(out, OTEL_TRACEPARENT_LEN, &back) != 0 || memcmp(back.trace_id, tp.trace_id, 16))
            abort();
    }
    otel_start(NULL, p, tp_len, ts, ts_len, true, 1, &sp);
    if (strlen(sp.tracestate) > OTEL_TRACESTATE_MAX)
        abort();

    char *e = malloc((size_t)(end - envv) + 1);
    if (!e)
        return 0;
    memcpy(e, envv, (size_t)(end - envv));
    e[end - envv] = '\0';
    static otel_kv kv[OTEL_MAX_HEADERS];
    int n = 0;
    buf warn;
    buf_init(&warn);
    otel_kv_parse(e, true, kv, &n, OTEL_MAX_HEADERS, &warn);
    for (int i = 0; i < n; i++)
        for (const char *c = kv[i].value; *c; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                abort(); /* header injection */
    otel_url_check(e);

    /* the env value as a model name, through both encoders */
    otel_span_str(sp.request_model, sizeof sp.request_model, e, strlen(e));
    otel_utf8_clean(sp.request_model);
    static otel_config c;
    buf b;
    buf_init(&b);
    otel_pb_traces(&b, &c, &sp, 1);
    buf_reset(&b);
    otel_json_traces(&b, &c, &sp, 1);
    buf_free(&b);
    buf_free(&warn);
    free(e);
    return 0;
}
