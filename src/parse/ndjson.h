/* Incremental newline-delimited JSON line splitter (Ollama's native
 * streaming format, application/x-ndjson).
 *
 * Feed body bytes in any split; the callback runs once per complete line,
 * without the "\n" (and without any "\r" before it). Blank lines are skipped.
 * The splitter does not parse JSON: that is the caller's job.
 *
 * Memory: one buffer per splitter, reused, holds only a line that is split
 * across feeds; complete lines inside one feed are passed in place. The line
 * pointer is valid only during the callback. */
#ifndef TOLLGATE_PARSE_NDJSON_H
#define TOLLGATE_PARSE_NDJSON_H

#include <stddef.h>

enum {
    NDJSON_OK = 0,
    NDJSON_E_TOO_LONG = -1, /* a line grew past max_line bytes (sticky) */
};

/* Return 0 to go on; any other value stops the feed, which returns it. */
typedef int (*ndjson_line_cb)(void *ud, const char *line, size_t len);

typedef struct ndjson ndjson;

ndjson *ndjson_new(size_t max_line, ndjson_line_cb cb, void *ud);
void ndjson_free(ndjson *p);
void ndjson_reset(ndjson *p);

/* Returns NDJSON_OK, NDJSON_E_TOO_LONG, or the callback's non-zero value. */
int ndjson_feed(ndjson *p, const char *data, size_t len);

/* End of the body. When bytes after the last "\n" are pending (a final line
 * without its newline, e.g. Ollama's non-streaming bodies, or a truncated
 * stream), returns 1 and points *line and *len at them (valid until the next
 * call on p); the splitter is then empty. Returns 0 when nothing is pending,
 * or NDJSON_E_TOO_LONG after an overflow. */
int ndjson_finish(ndjson *p, const char **line, size_t *len);

#endif
