/* Incremental Server-Sent Events parser (WHATWG "event stream" rules).
 *
 * Feed the bytes of a text/event-stream body in any split; the callback runs
 * once per dispatched event. Lines end with "\n", "\r\n" or "\r" (a "\r" at
 * the end of one feed followed by "\n" at the start of the next is one line
 * end). "data:" lines are joined with "\n"; one space after the colon is
 * stripped; lines starting with ':' are comments; a blank line dispatches.
 * An event with no data field is not dispatched (WHATWG). A UTF-8 BOM at the
 * start of the stream is skipped. Unknown fields are ignored.
 *
 * Memory: one line buffer and one data buffer per parser, reused; complete
 * lines inside one feed are parsed in place without copying. The pointers in
 * sse_event are valid only during the callback. */
#ifndef TOLLGATE_PARSE_SSE_H
#define TOLLGATE_PARSE_SSE_H

#include <stddef.h>

enum {
    SSE_OK = 0,
    SSE_E_TOO_BIG = -1,   /* an event (or line) grew past max_event bytes */
    SSE_E_TRUNCATED = -2, /* sse_finish: the stream ended inside an event */
};

typedef struct {
    const char *type; /* "message" when no event: field was given */
    size_t type_len;
    const char *data; /* data lines joined by "\n", no trailing newline */
    size_t data_len;
    const char *id; /* last event id seen on the stream ("" if none) */
    size_t id_len;
} sse_event;

/* Return 0 to go on; any other value stops the feed, which returns it. */
typedef int (*sse_event_cb)(void *ud, const sse_event *ev);

typedef struct sse_parser sse_parser;

/* max_event bounds the bytes buffered for one event (its data plus the
 * current line). Returns NULL on allocation failure. */
sse_parser *sse_new(size_t max_event, sse_event_cb cb, void *ud);
void sse_free(sse_parser *p);
/* Forget any partial event and the last event id; keeps the buffers. */
void sse_reset(sse_parser *p);

/* Returns SSE_OK, SSE_E_TOO_BIG (sticky: later feeds return it too), or the
 * callback's non-zero value. */
int sse_feed(sse_parser *p, const char *data, size_t len);

/* End of the stream. A partial event is discarded, as WHATWG requires, and
 * reported: SSE_E_TRUNCATED when bytes of an undispatched event or line were
 * pending, SSE_OK when the stream ended on an event boundary. */
int sse_finish(sse_parser *p);

#endif
