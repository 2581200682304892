#include "parse/ndjson.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct ndjson {
    ndjson_line_cb cb;
    void *ud;
    size_t max;
    buf line; /* a line split across feeds */
    buf last; /* the partial line handed out by ndjson_finish */
    int err;
};

ndjson *ndjson_new(size_t max_line, ndjson_line_cb cb, void *ud)
{
    ndjson *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cb = cb;
    p->ud = ud;
    p->max = max_line;
    return p;
}

void ndjson_free(ndjson *p)
{
    if (!p)
        return;
    buf_free(&p->line);
    buf_free(&p->last);
    free(p);
}

void ndjson_reset(ndjson *p)
{
    buf_reset(&p->line);
    buf_reset(&p->last);
    p->err = 0;
}

static int emit(ndjson *p, const char *s, size_t n)
{
    while (n && s[n - 1] == '\r')
        n--;
    if (n == 0 || !p->cb)
        return 0;
    return p->cb(p->ud, s, n);
}

int ndjson_feed(ndjson *p, const char *data, size_t len)
{
    if (p->err)
        return p->err;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t j = nl ? (size_t)(nl - data) : len;
        if (p->line.len + (j - i) > p->max) {
            p->err = NDJSON_E_TOO_LONG;
            return p->err;
        }
        if (!nl) {
            buf_append(&p->line, data + i, len - i);
            if (p->line.oom) {
                p->err = NDJSON_E_TOO_LONG;
                return p->err;
            }
            break;
        }
        int rc;
        if (p->line.len) {
            buf_append(&p->line, data + i, j - i);
            if (p->line.oom) {
                p->err = NDJSON_E_TOO_LONG;
                return p->err;
            }
            rc = emit(p, p->line.data, p->line.len);
            buf_reset(&p->line);
        } else {
            rc = emit(p, data + i, j - i);
        }
        i = j + 1;
        if (rc)
            return rc;
    }
    return NDJSON_OK;
}

int ndjson_finish(ndjson *p, const char **line, size_t *len)
{
    *line = NULL;
    *len = 0;
    if (p->err)
        return p->err;
    size_t n = p->line.len;
    while (n && (p->line.data[n - 1] == '\r' || p->line.data[n - 1] == ' ' || p->line.data[n - 1] == '\t'))
        n--;
    size_t k = 0;
    while (k < n && (p->line.data[k] == ' ' || p->line.data[k] == '\t'))
        k++;
    if (k == n) {
        buf_reset(&p->line);
        return 0;
    }
    /* Swap so the caller's pointer survives until the next call. */
    buf t = p->last;
    p->last = p->line;
    p->line = t;
    buf_reset(&p->line);
    *line = p->last.data + k;
    *len = n - k;
    return 1;
}
