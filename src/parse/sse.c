#include "parse/sse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct sse_parser {
    sse_event_cb cb;
    void *ud;
    size_t max;
    buf line;  /* a line split across feeds */
    buf data;  /* data field values, each followed by "\n" */
    buf type;  /* event type buffer */
    buf id;    /* last event id buffer (persists across events) */
    bool have_data;  /* a data field was seen (its value may be empty) */
    bool cr_pending; /* the last feed ended on "\r": skip a leading "\n" */
    bool started;    /* the first line was processed (BOM check done) */
    bool pending;    /* any byte of an undispatched event was seen */
    int err;
};

sse_parser *sse_new(size_t max_event, sse_event_cb cb, void *ud)
{
    sse_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cb = cb;
    p->ud = ud;
    p->max = max_event;
    return p;
}

void sse_free(sse_parser *p)
{
    if (!p)
        return;
    buf_free(&p->line);
    buf_free(&p->data);
    buf_free(&p->type);
    buf_free(&p->id);
    free(p);
}

void sse_reset(sse_parser *p)
{
    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    buf_reset(&p->id);
    p->have_data = p->cr_pending = p->started = p->pending = false;
    p->err = 0;
}

static int dispatch(sse_parser *p)
{
    bool had = p->have_data;
    p->pending = false;
    p->have_data = false;
    if (!had) {
        buf_reset(&p->type);
        return 0;
    }
    if (p->data.oom || p->type.oom || p->id.oom)
        return SSE_E_TOO_BIG; /* out of memory: treat like an oversized event */
    sse_event ev;
    ev.data = p->data.len ? p->data.data : "";
    ev.data_len = p->data.len ? p->data.len - 1 : 0; /* drop the last "\n" */
    if (p->type.len) {
        ev.type = p->type.data;
        ev.type_len = p->type.len;
    } else {
        ev.type = "message";
        ev.type_len = 7;
    }
    ev.id = p->id.len ? p->id.data : "";
    ev.id_len = p->id.len;
    int rc = p->cb ? p->cb(p->ud, &ev) : 0;
    buf_reset(&p->data);
    buf_reset(&p->type);
    return rc;
}

static bool field_is(const char *f, size_t n, const char *name)
{
    size_t m = strlen(name);
    return n == m && memcmp(f, name, m) == 0;
}

static int process_line(sse_parser *p, const char *s, size_t n)
{
    if (!p->started) {
        p->started = true;
        if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF) {
            s += 3;
            n -= 3;
        }
    }
    if (n == 0)
        return dispatch(p);
    if (s[0] == ':')
        return 0; /* comment: not part of any event */
    p->pending = true;
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = (size_t)(s + n - v);
    if (vlen && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (field_is(s, flen, "data")) {
        if (p->data.len + vlen + 1 > p->max)
            return SSE_E_TOO_BIG;
        buf_append(&p->data, v, vlen);
        buf_putc(&p->data, '\n');
        p->have_data = true;
    } else if (field_is(s, flen, "event")) {
        buf_reset(&p->type);
        buf_append(&p->type, v, vlen);
    } else if (field_is(s, flen, "id")) {
        if (!memchr(v, '\0', vlen)) { /* WHATWG: ids containing NUL are ignored */
            buf_reset(&p->id);
            buf_append(&p->id, v, vlen);
        }
    }
    /* "retry" and unknown fields: ignored (a proxy has no reconnect logic). */
    return 0;
}

int sse_feed(sse_parser *p, const char *data, size_t len)
{
    if (p->err)
        return p->err;
    size_t i = 0;
    if (p->cr_pending && len) {
        p->cr_pending = false;
        if (data[0] == '\n')
            i = 1;
    }
    while (i < len) {
        size_t j = i;
        while (j < len && data[j] != '\n' && data[j] != '\r')
            j++;
        if (j == len) {
            /* No line end in this feed: keep the partial line. */
            if (p->line.len + (len - i) + p->data.len > p->max) {
                p->err = SSE_E_TOO_BIG;
                return p->err;
            }
            buf_append(&p->line, data + i, len - i);
            break;
        }
        int rc;
        if (p->line.len) {
            if (p->line.len + (j - i) + p->data.len > p->max) {
                p->err = SSE_E_TOO_BIG;
                return p->err;
            }
            buf_append(&p->line, data + i, j - i);
            if (p->line.oom) {
                p->err = SSE_E_TOO_BIG;
                return p->err;
            }
            rc = process_line(p, p->line.data, p->line.len);
            buf_reset(&p->line);
        } else {
            if ((j - i) + p->data.len > p->max) {
                p->err = SSE_E_TOO_BIG;
                return p->err;
            }
            rc = process_line(p, data + i, j - i);
        }
        if (data[j] == '\r') {
            if (j + 1 < len) {
                if (data[j + 1] == '\n')
                    j++;
            } else {
                p->cr_pending = true;
            }
        }
        i = j + 1;
        if (rc == SSE_E_TOO_BIG) {
            p->err = rc;
            return rc;
        }
        if (rc)
            return rc;
    }
    return SSE_OK;
}

int sse_finish(sse_parser *p)
{
    if (p->err)
        return p->err;
    /* A trailing partial comment line is not part of any event. */
    bool truncated = p->pending || (p->line.len > 0 && p->line.data[0] != ':');
    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    p->have_data = p->pending = p->cr_pending = false;
    return truncated ? SSE_E_TRUNCATED : SSE_OK;
}
