/* Growable byte buffer for building responses and exposition text.
 * buf_init/buf_free for embedded use; allocation failure is sticky
 * (buf->oom) so callers check once at the end instead of after each append. */
#ifndef TOLLGATE_UTIL_BUF_H
#define TOLLGATE_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data; /* always NUL-terminated when len > 0 or after buf_cstr */
    size_t len;
    size_t cap;
    bool oom;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b); /* len = 0, keeps the memory */
bool buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal with quotes and escapes. */
void buf_json_str(buf *b, const char *s, size_t len);
/* Appends a double the way Prometheus text format expects ("+Inf", "NaN",
 * shortest round-trip otherwise). */
void buf_prom_double(buf *b, double v);
const char *buf_cstr(buf *b);

#endif
